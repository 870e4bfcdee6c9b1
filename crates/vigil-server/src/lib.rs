//! `vigil serve`: the REST API under `/api/` and the officers' web pages.
//!
//! The server is a thin shell over [`vigil_store::Store`]: every handler
//! resolves the caller to a [`vigil_store::Principal`] (session cookie or
//! API token, see [`auth`]) and calls the store's authorised methods, which
//! decide, audit and then act. The server never runs SQL of its own, so the
//! web and the API cannot see more than the CLI would.
//!
//! Adding a capability is one API module (`src/api/<feature>.rs`, with
//! `routes()` and `doc()`, registered in [`api::router`]) and one page module
//! (`src/pages/<feature>.rs`, registered in [`pages::router`]). The OpenAPI
//! document is generated from the handlers' `#[utoipa::path]` attributes and
//! a test compares it with the router's routes, so the two cannot drift.

pub mod api;
pub mod auth;
pub mod chat_index;
pub mod pages;
pub mod problem;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use vigil_store::Store;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (sent over HTTPS only). Turn off only for plain
    /// HTTP on localhost, e.g. behind a TLS-terminating proxy on the same
    /// host or in development.
    pub secure_cookies: bool,
    /// How long a web session lasts, in seconds.
    pub session_ttl_seconds: i64,
    /// The chat messages' full-text index (the directory `vigil chat
    /// import` writes). `None`: chat search and import over HTTP answer
    /// 503, everything else works.
    pub search_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: true,
            session_ttl_seconds: 8 * 3600,
            search_dir: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
}

/// The whole application: API, pages and the stylesheet.
pub fn router(store: Store, config: Config) -> Router {
    let state = AppState {
        store,
        config: Arc::new(config),
    };
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// One small stylesheet, compiled in: nothing is fetched from elsewhere.
pub const STYLESHEET: &str = include_str!("../static/vigil.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// Headers on every response: no framing, no sniffing, no referrer leaks,
/// and a content security policy that allows only this origin's styles and
/// scripts (the vendored Cytoscape.js and `graph.js`; never inline), fetches
/// to this origin only, images from data: only (server-side SVG charts are
/// inline).
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
             img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves until Ctrl-C (or SIGTERM), then finishes in-flight requests.
pub async fn serve(
    store: Store,
    config: Config,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let app = router(store, config);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
