//! Sign-in and sign-out.

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use vigil_store::{Origin, StoreError};

use super::render;
use crate::AppState;
use crate::auth::{CsrfForm, LOGIN_COOKIE, SESSION_COOKIE, cookie, csrf_token, same, set_cookie};

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/login", login_form)
        .post("/login", login)
        .post("/logout", logout)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    user: String,
    error: Option<String>,
}

fn random_hex() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The sign-in form, with a fresh double-submit cookie for its CSRF field.
fn form_page(
    state: &AppState,
    status: StatusCode,
    user: String,
    error: Option<String>,
) -> Response {
    let secret = random_hex();
    let page = LoginPage {
        csrf: csrf_token(&secret),
        user,
        error,
    };
    let mut res = render(&page);
    *res.status_mut() = status;
    if let Ok(v) = set_cookie(LOGIN_COOKIE, &secret, 3600, state.config.secure_cookies).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn login_form(State(state): State<AppState>) -> Response {
    form_page(&state, StatusCode::OK, String::new(), None)
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    crate::auth::Peer(address): crate::auth::Peer,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let cookie_secret = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if cookie_secret.is_empty() || !same(&form.csrf, &csrf_token(&cookie_secret)) {
        return form_page(
            &state,
            StatusCode::FORBIDDEN,
            form.user,
            Some("The form expired. Please sign in again.".into()),
        );
    }
    let store = state.store.with_origin(Origin {
        interface: "web",
        address,
    });
    match store.login(&form.user, &form.password).await {
        Ok(p) => match store
            .create_session(&p, state.config.session_ttl_seconds)
            .await
        {
            Ok(s) => {
                let mut res = Redirect::to("/").into_response();
                let secure = state.config.secure_cookies;
                for c in [
                    set_cookie(
                        SESSION_COOKIE,
                        &s.token,
                        state.config.session_ttl_seconds,
                        secure,
                    ),
                    set_cookie(LOGIN_COOKIE, "", 0, secure),
                ] {
                    if let Ok(v) = c.parse() {
                        res.headers_mut().append(header::SET_COOKIE, v);
                    }
                }
                res
            }
            Err(e) => super::fail(e),
        },
        Err(StoreError::Denied(msg)) => form_page(
            &state,
            StatusCode::UNAUTHORIZED,
            form.user,
            Some(capitalise(&msg)),
        ),
        Err(StoreError::Invalid(_)) | Err(StoreError::NotFound { .. }) => form_page(
            &state,
            StatusCode::UNAUTHORIZED,
            form.user,
            Some(capitalise(vigil_store::LOGIN_REFUSED)),
        ),
        Err(e) => super::fail(e),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, headers: HeaderMap, f: CsrfForm<Empty>) -> Response {
    let _ = f.form;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = f.caller.store.revoke_session(&secret).await
    {
        return super::fail(e);
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
