//! The officers' web application: server-rendered pages (askama templates
//! in `templates/`), plain HTML forms, no inline scripts (the network page
//! alone loads the vendored Cytoscape.js and `static/graph.js` from this
//! origin, and works without them). Every page goes through
//! the store's authorised methods as the signed-in officer; every form
//! carries the session's CSRF token ([`crate::auth::CsrfForm`]).
//!
//! No page ever renders, links to or embeds media content: scans appear as
//! hashes and metadata only.
//!
//! Each feature is one module with `routes(PageRouter) -> PageRouter`,
//! registered in [`page_router`]. The router records every `(method, path)`
//! so the authorisation matrix test can enumerate the pages and fail for one
//! it has no expectation for.

pub mod alerts;
pub mod audit;
pub mod cases;
pub mod charts;
pub mod chat;
pub mod dashboard;
pub mod dissemination;
pub mod graph;
pub mod hashsets;
pub mod login;
pub mod lookup;
pub mod persons;
pub mod scans;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::auth::WebCaller;
use crate::problem::Problem;

/// Pages are added through the same recording router as the API.
pub type PageRouter = crate::api::ApiRouter;

/// Every page module, recorded. Add yours here (one line).
pub fn page_router() -> PageRouter {
    let r = PageRouter::new().get("/static/vigil.css", crate::stylesheet);
    let r = login::routes(r);
    let r = dashboard::routes(r);
    let r = cases::routes(r);
    let r = persons::routes(r);
    let r = lookup::routes(r);
    let r = graph::routes(r);
    let r = alerts::routes(r);
    let r = dissemination::routes(r);
    let r = chat::routes(r);
    let r = scans::routes(r);
    let r = hashsets::routes(r);
    audit::routes(r)
}

/// The pages as an axum router.
pub fn router() -> Router<AppState> {
    page_router().into_router()
}

/// What the layout needs: who is signed in, the CSRF token for the sign-out
/// form, and which navigation entry is current.
pub struct Chrome {
    pub user: String,
    pub agency: String,
    pub csrf: String,
    pub nav: &'static str,
    pub can_audit: bool,
}

impl Chrome {
    pub fn new(c: &WebCaller, nav: &'static str) -> Self {
        Chrome {
            user: c.principal.user_name.clone(),
            agency: c.principal.agency_name.clone(),
            csrf: c.csrf.clone(),
            nav,
            can_audit: c.principal.can(vigil_domain::Capability::ReadAudit),
        }
    }

    /// `aria-current` for a navigation link.
    pub fn current(&self, nav: &str) -> &'static str {
        if self.nav == nav { "page" } else { "false" }
    }
}

/// Renders a template as a page, or the error page if rendering fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            eprintln!("vigil serve: template error: {e}");
            error_page(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the page could not be rendered",
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    detail: String,
}

/// An error as a page with the problem's status.
pub fn error_page(p: Problem) -> Response {
    let page = ErrorPage {
        status: p.status,
        title: p.title.clone(),
        detail: p.detail.clone().unwrap_or_default(),
    };
    let body = page
        .render()
        .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".into());
    (p.status_code(), Html(body)).into_response()
}

/// A page handler's result: the page, or the error as a page.
pub type PageResult = Result<Response, Response>;

/// Turns a store error into an error page.
pub fn fail(e: impl Into<Problem>) -> Response {
    error_page(e.into())
}

/// Short forms of the store's RFC 3339 times for display (templates call
/// these as methods).
pub trait Times {
    fn day(&self) -> &str;
    fn minute(&self) -> &str;
    fn second(&self) -> &str;
    fn head16(&self) -> &str;
}

impl Times for str {
    fn day(&self) -> &str {
        self.get(..10).unwrap_or(self)
    }
    fn minute(&self) -> &str {
        self.get(..16).map_or(self, |s| s)
    }
    fn second(&self) -> &str {
        self.get(..19).unwrap_or(self)
    }
    fn head16(&self) -> &str {
        self.get(..16).unwrap_or(self)
    }
}

impl Times for String {
    fn day(&self) -> &str {
        self.as_str().day()
    }
    fn minute(&self) -> &str {
        self.as_str().minute()
    }
    fn second(&self) -> &str {
        self.as_str().second()
    }
    fn head16(&self) -> &str {
        self.as_str().head16()
    }
}
