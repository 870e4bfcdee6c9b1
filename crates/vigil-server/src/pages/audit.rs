//! The audit log (supervisors) with the chain's verification status.

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::Query;
use serde::Deserialize;
use vigil_store::{AuditEntry, AuditFilter, AuditVerification};

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, fail, render};
use crate::auth::WebCaller;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/audit", audit)
}

#[derive(Deserialize, Default)]
struct Params {
    user: Option<String>,
    case_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditEntry>,
    total: usize,
    verification: AuditVerification,
    user: String,
    case_id: String,
}

/// Newest entries shown on the page; the API pages through all of them.
const SHOWN: usize = 200;

async fn audit(
    c: WebCaller,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let q = q.map(|q| q.0).unwrap_or_default();
    let user = q.user.filter(|u| !u.trim().is_empty());
    let filter = AuditFilter {
        case_id: q.case_id,
        user_name: user.clone(),
        since: None,
        limit: None,
    };
    let mut entries = c
        .store
        .audit_log(&c.principal, &filter)
        .await
        .map_err(fail)?;
    let verification = c.store.verify_audit().await.map_err(fail)?;
    let total = entries.len();
    entries.reverse();
    entries.truncate(SHOWN);
    Ok(render(&AuditPage {
        chrome: Chrome::new(&c, "audit"),
        entries,
        total,
        verification,
        user: user.unwrap_or_default(),
        case_id: q.case_id.map(|c| c.to_string()).unwrap_or_default(),
    }))
}
