//! What the server's test files share: the backends every test runs on
//! (SQLite always; PostgreSQL when `VIGIL_TEST_DATABASE_URL` is set), the
//! two-agency seed most worlds start from, the router, and requests and
//! replies driven in-process through `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;
use vigil_server::Config;
use vigil_store::{Principal, Store};

/// Every seeded user's password.
pub const PW: &str = "correct horse battery";

/// One database the tests run against.
pub struct Backend {
    /// `sqlite` or `postgres`, for assertion messages.
    pub name: &'static str,
    pub store: Store,
    /// The SQLite file's directory (kept alive as long as the store).
    pub dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite database and, when `VIGIL_TEST_DATABASE_URL` is set, a
/// fresh PostgreSQL one.
pub async fn backends() -> Vec<Backend> {
    let dir = vigil_testkit::tempdir();
    let store = Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    let mut v = vec![Backend {
        name: "sqlite",
        store,
        dir: Some(dir),
    }];
    if let Some(url) = vigil_testkit::fresh_postgres_url().await {
        v.push(Backend {
            name: "postgres",
            store: Store::open_postgres(&url).await.unwrap(),
            dir: None,
        });
    }
    v
}

/// The whole application (API and pages) over `store`, with secure cookies.
pub fn app(store: &Store, search_dir: Option<PathBuf>) -> Router {
    vigil_server::router(
        store.clone(),
        Config {
            secure_cookies: true,
            session_ttl_seconds: 600,
            search_dir,
        },
    )
}

/// The users of [`two_agencies`].
pub struct People {
    /// Agency A's administrator `admin` (agency A hosts the instance).
    pub admin: Principal,
    /// Agency A's `alice`.
    pub alice: Principal,
    /// Agency B's investigator `bob`.
    pub bob: Principal,
    /// Agency B's id.
    pub agency_b: i64,
}

/// Agency A (CA, hosting the instance) with its administrator `admin` and
/// `alice` (with `alice_roles`), and agency B (GB) with the investigator
/// `bob`; everyone's password is [`PW`].
pub async fn two_agencies(store: &Store, alice_roles: &str) -> People {
    let admin = store
        .init("Agency A", "CA", Some("desk-a@example.org"), "admin", PW)
        .await
        .unwrap();
    let b = store
        .add_agency(&admin, "Agency B", "GB", Some("desk-b@example.org"))
        .await
        .unwrap();
    store
        .add_user(&admin, "alice", None, alice_roles, Some(PW))
        .await
        .unwrap();
    store
        .add_user(&admin, "bob", Some("Agency B"), "investigator", Some(PW))
        .await
        .unwrap();
    People {
        admin,
        alice: store.principal("alice").await.unwrap(),
        bob: store.principal("bob").await.unwrap(),
        agency_b: b.id,
    }
}

/// A new API token of `p` (the secret).
pub async fn token(store: &Store, p: &Principal) -> String {
    store.create_api_token(p, "ci", None).await.unwrap().1
}

/// An answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The value of the cookie `name` set by this answer.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            c.split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn bearer(method: &str, uri: &str, token: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
}

pub fn get(uri: &str, token: &str) -> Request<Body> {
    bearer("GET", uri, token).body(Body::empty()).unwrap()
}

pub fn delete(uri: &str, token: &str) -> Request<Body> {
    bearer("DELETE", uri, token).body(Body::empty()).unwrap()
}

/// A JSON request with a bearer token (`POST`, `PATCH`, …).
pub fn json_request(method: &str, uri: &str, token: &str, body: &Value) -> Request<Body> {
    bearer(method, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

pub fn post_json(uri: &str, token: &str, body: Value) -> Request<Body> {
    json_request("POST", uri, token, &body)
}

pub fn patch_json(uri: &str, token: &str, body: Value) -> Request<Body> {
    json_request("PATCH", uri, token, &body)
}

pub fn post_text(uri: &str, token: &str, body: &str) -> Request<Body> {
    bearer("POST", uri, token)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A page request with the session cookie (`Cookie` header value).
pub fn page(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// A form post with the session cookie.
pub fn form(uri: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The CSRF field of the first form on a page.
pub fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Submits the sign-in form as a browser does; returns the answer.
pub async fn sign_in_reply(app: &Router, user: &str, password: &str) -> Reply {
    let page = send(app, Request::get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    let login_cookie = page.cookie("vigil_login").expect("login cookie");
    let csrf = hidden_csrf(&page.text());
    send(
        app,
        form(
            "/login",
            &format!("vigil_login={login_cookie}"),
            &format!(
                "user={user}&password={}&csrf={csrf}",
                password.replace(' ', "+")
            ),
        ),
    )
    .await
}

/// Signs in with [`PW`]; returns the `Cookie` header value of the session.
pub async fn sign_in(app: &Router, user: &str) -> String {
    let r = sign_in_reply(app, user, PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{user} signs in");
    format!("vigil_session={}", r.cookie("vigil_session").unwrap())
}
