//! The alerts page: de-confliction alerts of the officer's agency. A blind
//! hit names only the other agency and whom to call, never its record.

use askama::Template;

use super::PageRouter;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, fail, render};
use crate::auth::{CsrfForm, WebCaller};
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/alerts", list).post("/alerts/{id}/read", mark_read)
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    alerts: Vec<vigil_store::Alert>,
    unread: usize,
}

async fn list(c: WebCaller) -> PageResult {
    let mut alerts = c.store.alerts(&c.principal, false).await.map_err(fail)?;
    // Newest first: the latest hit is what an officer acts on.
    alerts.reverse();
    let unread = alerts.iter().filter(|a| !a.read).count();
    Ok(render(&AlertsPage {
        chrome: Chrome::new(&c, "alerts"),
        alerts,
        unread,
    }))
}

#[derive(Deserialize)]
struct Empty {}

async fn mark_read(id: Option<Path<i64>>, f: CsrfForm<Empty>) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such alert")));
    };
    let c = &f.caller;
    c.store.read_alert(&c.principal, id).await.map_err(fail)?;
    Ok(Redirect::to("/alerts").into_response())
}
