//! Hash sets: the agency's sets, and per set its provenance, scheme and
//! counts by category (with a server-side bar chart).

use askama::Template;

use super::PageRouter;
use axum::extract::Path;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, charts, fail, render};
use crate::auth::WebCaller;
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/hashsets", list).get("/hashsets/{name}", show)
}

#[derive(Template)]
#[template(path = "hashsets.html")]
struct HashSetsPage {
    chrome: Chrome,
    sets: Vec<vigil_store::HashSetInfo>,
}

async fn list(c: WebCaller) -> PageResult {
    let sets = c.store.list_hash_sets(&c.principal).await.map_err(fail)?;
    Ok(render(&HashSetsPage {
        chrome: Chrome::new(&c, "hashsets"),
        sets,
    }))
}

#[derive(Template)]
#[template(path = "hashset.html")]
struct HashSetPage {
    chrome: Chrome,
    d: vigil_store::HashSetDetail,
    chart: String,
}

async fn show(c: WebCaller, name: Option<Path<String>>) -> PageResult {
    let Some(Path(name)) = name else {
        return Err(fail(Problem::not_found("no such hash set")));
    };
    let d = c
        .store
        .show_hash_set(&c.principal, &name)
        .await
        .map_err(fail)?;
    let data: Vec<(String, i64)> = d.categories.iter().map(|(k, v)| (k.clone(), *v)).collect();
    Ok(render(&HashSetPage {
        chrome: Chrome::new(&c, "hashsets"),
        chart: charts::bars("Entries by category", &data),
        d,
    }))
}
