//! The server driven through its router (`tower::ServiceExt::oneshot`), on
//! SQLite and, when `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use vigil_domain::{NewIdentifier, NewPerson, Release};
use vigil_store::Store;

use crate::common::{self, PW, Reply, form, get, hidden_csrf, post_json, send};

struct World {
    name: &'static str,
    app: Router,
    store: Store,
    /// Agency A's investigator's API token.
    token_a: String,
    /// Agency B's investigator's API token.
    token_b: String,
    case_a: i64,
    person_a: i64,
    _dir: Option<tempfile::TempDir>,
}

async fn world(b: common::Backend) -> World {
    let store = b.store;
    let people = common::two_agencies(&store, "investigator").await;
    let alice = &people.alice;
    let case = store
        .create_case(
            alice,
            "Room Nightjar",
            Some("Op Heron"),
            &Release::Agency,
            "test",
        )
        .await
        .unwrap();
    let person = store
        .add_person(
            alice,
            case.id,
            &NewPerson::parse("suspect", "g0d_1").unwrap(),
            "test",
        )
        .await
        .unwrap();
    store
        .add_identifier(
            alice,
            person.id,
            &NewIdentifier::parse("email", "g0d@example.net").unwrap(),
            "test",
        )
        .await
        .unwrap();
    for i in 0..7 {
        store
            .create_case(
                alice,
                &format!("Filler {i}"),
                None,
                &Release::Agency,
                "test",
            )
            .await
            .unwrap();
    }
    World {
        name: b.name,
        app: common::app(&store, None),
        token_a: common::token(&store, alice).await,
        token_b: common::token(&store, &people.bob).await,
        store,
        case_a: case.id,
        person_a: person.id,
        _dir: b.dir,
    }
}

async fn worlds() -> Vec<World> {
    let mut v = Vec::new();
    for b in common::backends().await {
        v.push(world(b).await);
    }
    v
}

/// Signs in through the form with `password`; returns the answer.
async fn sign_in(app: &Router, user: &str, password: &str) -> Reply {
    common::sign_in_reply(app, user, password).await
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_opens_the_pages() {
    for w in worlds().await {
        let r = sign_in(&w.app, "alice", PW).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", w.name);
        let set = r
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("vigil_session="))
            .expect("session cookie");
        for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(set.contains(flag), "{}: {flag} missing in {set}", w.name);
        }
        let session = r.cookie("vigil_session").unwrap();
        assert_eq!(session.len(), 64, "256 random bits in hex");
        // The database holds only the hash of the cookie.
        let raw: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM web_sessions")
            .fetch_all(&w.store.raw_pool_for_tests())
            .await
            .unwrap();
        assert!(raw.iter().all(|(h,)| *h != session));
        assert!(
            raw.iter()
                .any(|(h,)| *h == vigil_store::secret_hash(&session))
        );

        let cookie = format!("vigil_session={session}");
        for path in [
            "/".to_string(),
            "/cases".into(),
            format!("/cases/{}", w.case_a),
            format!("/persons/{}", w.person_a),
            "/lookup?value=G0D%40example.net".into(),
        ] {
            let page = send(
                &w.app,
                Request::get(path.as_str())
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{}: {path}: {}",
                w.name,
                page.text()
            );
            assert!(page.text().contains("<main"), "{path}");
            assert!(!page.text().contains("<img"), "no images on any page");
        }
        let dash = send(
            &w.app,
            Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(dash.text().contains("Room Nightjar"));
        assert!(dash.text().contains("<svg"), "server-side charts");
        let lookup = send(
            &w.app,
            Request::get("/lookup?value=G0D%40example.net")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(lookup.text().contains("g0d_1"), "{}", lookup.text());

        // Without a session: to the sign-in page.
        let anon = send(&w.app, Request::get("/cases").body(Body::empty()).unwrap()).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER);
        assert_eq!(anon.headers.get(header::LOCATION).unwrap(), "/login");

        // The sign-in was audited with the web interface.
        let admin = w.store.principal("admin").await.unwrap();
        let log = w
            .store
            .audit_log(&admin, &Default::default())
            .await
            .unwrap();
        assert!(
            log.iter().any(|e| e.action == "auth.login"
                && e.outcome == "allowed"
                && e.origin.starts_with("web")),
            "{}",
            w.name
        );
        assert!(
            !log.iter().any(|e| e.detail.contains(PW)),
            "no password in the log"
        );

        // Sign-out revokes the session.
        let csrf = hidden_csrf(&dash.text());
        let out = send(&w.app, form("/logout", &cookie, &format!("csrf={csrf}"))).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let after = send(
            &w.app,
            Request::get("/cases")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            after.status,
            StatusCode::SEE_OTHER,
            "revoked session no longer works"
        );
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    for w in worlds().await {
        let r = sign_in(&w.app, "alice", PW).await;
        let cookie = format!("vigil_session={}", r.cookie("vigil_session").unwrap());
        let uri = format!("/persons/{}/notes", w.person_a);
        let missing = send(&w.app, form(&uri, &cookie, "body=hello")).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{}", w.name);
        let wrong = send(
            &w.app,
            form(
                &uri,
                &cookie,
                &format!("body=hello&csrf={}", "0".repeat(64)),
            ),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let page = send(
            &w.app,
            Request::get(format!("/persons/{}", w.person_a).as_str())
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let csrf = hidden_csrf(&page.text());
        let ok = send(
            &w.app,
            form(&uri, &cookie, &format!("body=Seen+in+room&csrf={csrf}")),
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
        let alice = w.store.principal("alice").await.unwrap();
        let d = w.store.show_person(&alice, w.person_a).await.unwrap();
        assert_eq!(d.notes.len(), 1, "only the form with the token wrote");

        // The login form itself needs its double-submit token.
        let bad_login = send(
            &w.app,
            form(
                "/login",
                "vigil_login=abc",
                &format!("user=alice&password={}&csrf=nope", PW.replace(' ', "+")),
            ),
        )
        .await;
        assert_eq!(bad_login.status, StatusCode::FORBIDDEN);
        assert!(bad_login.cookie("vigil_session").is_none());

        // Cookie-authenticated API writes need X-CSRF-Token.
        let no_header = send(
            &w.app,
            Request::post("/api/cases")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"title":"X"}"#))
                .unwrap(),
        )
        .await;
        assert_eq!(no_header.status, StatusCode::FORBIDDEN);
        let with_header = send(
            &w.app,
            Request::post("/api/cases")
                .header(header::COOKIE, &cookie)
                .header("x-csrf-token", &csrf)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"title":"X"}"#))
                .unwrap(),
        )
        .await;
        assert_eq!(
            with_header.status,
            StatusCode::CREATED,
            "{}",
            with_header.text()
        );
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    for w in worlds().await {
        for i in 0..vigil_store::LOCKOUT_THRESHOLD {
            let r = sign_in(&w.app, "alice", "wrong password!").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{} attempt {i}", w.name);
            assert!(r.cookie("vigil_session").is_none());
            assert!(!r.text().contains("wrong password!"), "password not echoed");
        }
        // Now even the right password is refused, with the same message.
        let r = sign_in(&w.app, "alice", PW).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", w.name);
        assert!(r.cookie("vigil_session").is_none());
        let admin = w.store.principal("admin").await.unwrap();
        let log = w
            .store
            .audit_log(&admin, &Default::default())
            .await
            .unwrap();
        assert!(log.iter().any(|e| e.action == "auth.lockout"), "{}", w.name);
        // Bob is unaffected.
        assert_eq!(
            sign_in(&w.app, "bob", PW).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn api_tokens_authenticate_and_revoked_ones_do_not() {
    for w in worlds().await {
        let me = send(&w.app, get("/api/me", &w.token_a)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", w.name);
        assert_eq!(me.json()["user_name"], "alice");
        let anon = send(
            &w.app,
            Request::get("/api/cases").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anon.content_type(), "application/problem+json");
        let bogus = send(&w.app, get("/api/cases", "vgl_0000")).await;
        assert_eq!(bogus.status, StatusCode::UNAUTHORIZED);
        let alice = w.store.principal("alice").await.unwrap();
        let t = w.store.list_api_tokens(&alice).await.unwrap();
        assert!(t[0].last_used_at.is_some(), "use recorded");
        w.store.revoke_api_token(&alice, t[0].id).await.unwrap();
        let after = send(&w.app, get("/api/me", &w.token_a)).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", w.name);
        // Only hashes in the database.
        let raw: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
            .fetch_all(&w.store.raw_pool_for_tests())
            .await
            .unwrap();
        assert!(
            raw.iter()
                .all(|(h,)| *h != w.token_a && !w.token_a.contains(h.as_str()))
        );
    }
}

#[tokio::test]
async fn errors_are_problem_json_and_lists_paginate() {
    for w in worlds().await {
        let p1 = send(&w.app, get("/api/cases?limit=3", &w.token_a)).await;
        assert_eq!(p1.status, StatusCode::OK);
        let j = p1.json();
        assert_eq!(j["items"].as_array().unwrap().len(), 3);
        assert_eq!(j["page"]["total"], 8);
        assert_eq!(j["page"]["next"], "?limit=3&offset=3");
        let last = send(&w.app, get("/api/cases?limit=3&offset=6", &w.token_a))
            .await
            .json();
        assert_eq!(last["items"].as_array().unwrap().len(), 2);
        assert!(last["page"]["next"].is_null());

        for (uri, status) in [
            ("/api/cases?limit=0", StatusCode::BAD_REQUEST),
            ("/api/cases?limit=abc", StatusCode::BAD_REQUEST),
            ("/api/cases/999999", StatusCode::NOT_FOUND),
            ("/api/cases/notanumber", StatusCode::BAD_REQUEST),
            ("/api/no/such/thing", StatusCode::NOT_FOUND),
            ("/api/users", StatusCode::FORBIDDEN),
            (
                "/api/identifiers/lookup?value=x&kind=bogus",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            let r = send(&w.app, get(uri, &w.token_a)).await;
            assert_eq!(r.status, status, "{}: {uri}: {}", w.name, r.text());
            assert_eq!(r.content_type(), "application/problem+json", "{uri}");
            let p = r.json();
            assert_eq!(p["status"], status.as_u16());
            assert!(p["type"].is_string() && p["title"].is_string() && p["detail"].is_string());
        }
        let invalid = send(
            &w.app,
            post_json(
                &format!("/api/cases/{}/persons", w.case_a),
                &w.token_a,
                serde_json::json!({"role": "witness", "label": "x"}),
            ),
        )
        .await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(invalid.json()["detail"].as_str().unwrap().contains("role"));
        let malformed = send(
            &w.app,
            post_json("/api/cases", &w.token_a, serde_json::json!({"nope": 1})),
        )
        .await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert_eq!(malformed.content_type(), "application/problem+json");
        let created = send(
            &w.app,
            post_json(
                &format!("/api/persons/{}/events", w.person_a),
                &w.token_a,
                serde_json::json!({"kind": "arrest", "date": "2026-03-02", "country": "CA"}),
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let dash = send(&w.app, get("/api/dashboard?operation=Op+Heron", &w.token_a))
            .await
            .json();
        assert_eq!(dash["outcomes"]["arrested"], 1);
        assert_eq!(dash["outcomes"]["suspects_identified"], 1);
    }
}

#[tokio::test]
async fn another_agency_gets_not_found_for_unreleased_records() {
    for w in worlds().await {
        let r = send(&w.app, get(&format!("/api/cases/{}", w.case_a), &w.token_b)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", w.name);
        let missing = send(&w.app, get("/api/cases/999999", &w.token_b)).await;
        assert_eq!(
            r.json()["title"],
            missing.json()["title"],
            "indistinguishable from missing"
        );
        let p = send(
            &w.app,
            get(&format!("/api/persons/{}", w.person_a), &w.token_b),
        )
        .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        let list = send(&w.app, get("/api/cases", &w.token_b)).await.json();
        assert_eq!(list["page"]["total"], 0);
        // Blind hit on lookup: who to call, nothing else.
        let l = send(
            &w.app,
            get(
                "/api/identifiers/lookup?value=g0d%40example.net",
                &w.token_b,
            ),
        )
        .await
        .json();
        assert_eq!(l["hits"].as_array().unwrap().len(), 0);
        assert_eq!(l["blind_hits"][0]["agency"], "Agency A");
        assert_eq!(l["blind_hits"][0]["contact"], "desk-a@example.org");

        // And on the web.
        let s = sign_in(&w.app, "bob", PW).await;
        let cookie = format!("vigil_session={}", s.cookie("vigil_session").unwrap());
        let page = send(
            &w.app,
            Request::get(format!("/cases/{}", w.case_a).as_str())
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", w.name);
        assert!(!page.text().contains("Room Nightjar"));
        let lookup = send(
            &w.app,
            Request::get("/lookup?value=g0d%40example.net")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            lookup.text().contains("Also held by Agency A"),
            "{}",
            lookup.text()
        );
        assert!(!lookup.text().contains("g0d_1"));
    }
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let doc: Value = serde_json::to_value(vigil_server::api::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), p.clone()))
        })
        .collect();
    let mut routed: Vec<(String, String)> = vigil_server::api::api_router()
        .routes()
        .iter()
        .map(|(m, p)| (m.to_string(), p.clone()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(
        routed, documented,
        "every API route documented, and nothing more"
    );
    assert!(routed.len() >= 15);

    // And the served document is the same one, anonymously.
    let dir = vigil_testkit::tempdir();
    let store = Store::open_sqlite(&dir.path().join("v.db")).await.unwrap();
    let app = vigil_server::router(store, vigil_server::Config::default());
    let r = send(
        &app,
        Request::get("/api/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), doc);
    let css = send(
        &app,
        Request::get("/static/vigil.css")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type().starts_with("text/css"));
}
