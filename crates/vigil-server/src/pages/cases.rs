//! The cases list and the case page.

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::Path;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, fail, render};
use crate::auth::WebCaller;
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/cases", list).get("/cases/{id}", show)
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    cases: Vec<vigil_store::Case>,
}

async fn list(c: WebCaller) -> PageResult {
    let cases = c.store.list_cases(&c.principal).await.map_err(fail)?;
    Ok(render(&CasesPage {
        chrome: Chrome::new(&c, "cases"),
        cases,
    }))
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    d: vigil_store::CaseDetail,
}

async fn show(c: WebCaller, id: Option<Path<i64>>) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such case")));
    };
    let d = c.store.show_case(&c.principal, id).await.map_err(fail)?;
    Ok(render(&CasePage {
        chrome: Chrome::new(&c, "cases"),
        d,
    }))
}
