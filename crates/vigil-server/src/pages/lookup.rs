//! Identifier lookup, with blind hits ("also held by agency X — contact …").

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::Query;
use serde::Deserialize;
use vigil_domain::IdentifierKind;

use super::{Chrome, PageResult, fail, render};
use crate::api::identifiers::LookupOut;
use crate::auth::WebCaller;
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/lookup", lookup)
}

#[derive(Deserialize, Default)]
struct Params {
    value: Option<String>,
    kind: Option<String>,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    chrome: Chrome,
    value: String,
    kind: String,
    kinds: Vec<&'static str>,
    result: Option<LookupOut>,
}

async fn lookup(
    c: WebCaller,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let q = q.map(|q| q.0).unwrap_or_default();
    let value = q.value.unwrap_or_default();
    let kind = q.kind.unwrap_or_default();
    let result = if value.trim().is_empty() {
        None
    } else {
        let k = match kind.trim() {
            "" => None,
            k => Some(IdentifierKind::parse(k).ok_or_else(|| {
                fail(Problem::from(vigil_domain::ValidationError::new(
                    "kind",
                    k,
                    "unknown identifier kind",
                )))
            })?),
        };
        Some(
            c.store
                .lookup_identifier(&c.principal, &value, k)
                .await
                .map_err(fail)?
                .into(),
        )
    };
    Ok(render(&LookupPage {
        chrome: Chrome::new(&c, "lookup"),
        value,
        kind,
        kinds: IdentifierKind::ALL.iter().map(|k| k.as_str()).collect(),
        result,
    }))
}
