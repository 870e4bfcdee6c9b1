//! Who is calling: session cookies for the web pages, bearer tokens (or the
//! session cookie) for the API, and CSRF protection for every form.
//!
//! The session cookie holds 256 random bits; the store keeps only their
//! SHA-256. The cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` unless
//! the operator turned that off for plain-HTTP localhost. Every form carries
//! a CSRF token derived from the session secret (SHA-256 of a label and the
//! secret), which a cross-site page can neither read nor compute; the check
//! lives in the [`CsrfForm`] extractor, so a POST handler cannot receive
//! form data without it. API calls authenticated by the cookie rather than a
//! token must send the same value in `X-CSRF-Token` when they write.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use vigil_store::{Origin, Principal, Store};

use crate::AppState;
use crate::problem::Problem;

pub const SESSION_COOKIE: &str = "vigil_session";
/// Double-submit cookie protecting the sign-in form itself (there is no
/// session yet to derive a token from).
pub const LOGIN_COOKIE: &str = "vigil_login";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";

/// The value of one cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value with Vigil's flags.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The CSRF token of a session (or of a sign-in form's cookie).
pub fn csrf_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"vigil-csrf\0");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Compares in time independent of where the strings differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The peer address, when the server runs with connection info (tests
/// driving the router directly have none).
pub fn peer(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// The peer address as an extractor (never fails).
pub struct Peer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer(parts)))
    }
}

/// A store handle that records the interface and peer in the audit log.
pub fn store_for(state: &AppState, parts: &Parts, interface: &'static str) -> Store {
    state.store.with_origin(Origin {
        interface,
        address: peer(parts),
    })
}

/// An authenticated API caller.
pub struct ApiCaller {
    pub principal: Principal,
    pub store: Store,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string());
        if let Some(token) = bearer {
            let store = store_for(state, parts, "api");
            return match store.token_principal(&token).await {
                Ok(principal) => Ok(ApiCaller { principal, store }),
                Err(vigil_store::StoreError::Denied(_)) => Err(Problem::unauthorized()),
                Err(e) => Err(e.into()),
            };
        }
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            let store = store_for(state, parts, "web");
            if let Some(s) = store.session(&secret).await? {
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                if !safe {
                    let sent = parts
                        .headers
                        .get(CSRF_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if !same(sent, &csrf_token(&secret)) {
                        return Err(Problem::new(
                            StatusCode::FORBIDDEN,
                            "csrf",
                            "missing or wrong X-CSRF-Token for a cookie-authenticated write",
                        ));
                    }
                }
                return Ok(ApiCaller {
                    principal: s.principal,
                    store,
                });
            }
        }
        Err(Problem::unauthorized())
    }
}

/// A signed-in officer on the web pages.
pub struct WebCaller {
    pub principal: Principal,
    pub store: Store,
    /// The CSRF token every form on the page must carry.
    pub csrf: String,
}

/// Not signed in: to the sign-in page.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for WebCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ToLogin.into_response());
        };
        let store = store_for(state, parts, "web");
        match store.session(&secret).await {
            Ok(Some(s)) => Ok(WebCaller {
                principal: s.principal,
                store,
                csrf: csrf_token(&secret),
            }),
            Ok(None) => Err(ToLogin.into_response()),
            Err(e) => Err(crate::pages::error_page(e.into())),
        }
    }
}

/// A form posted by a signed-in officer whose CSRF field matched. Web POST
/// handlers take this instead of `Form`, so none can skip the check.
pub struct CsrfForm<T> {
    pub caller: WebCaller,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    csrf: Option<String>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let caller = WebCaller::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|_| forbidden_page("The form was too large."))?;
        let sent: CsrfOnly = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| forbidden_page("The form could not be read."))?;
        if !sent.csrf.as_deref().is_some_and(|c| same(c, &caller.csrf)) {
            return Err(forbidden_page(
                "The form's security token did not match your session. Reload the page and try again.",
            ));
        }
        let form: T = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            crate::pages::error_page(Problem::bad_request(format!("bad form: {e}")))
        })?;
        Ok(CsrfForm { caller, form })
    }
}

fn forbidden_page(detail: &str) -> Response {
    crate::pages::error_page(Problem::new(StatusCode::FORBIDDEN, "csrf", detail))
}
