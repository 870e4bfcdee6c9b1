//! The dissemination page: an operation's suspects attributed to countries
//! (table and bar chart, with the geolocation databases used), the packages
//! and their states, and the registered partner keys.
//!
//! Packages and keys need the packages capability (liaison officers); for
//! other officers those sections say so instead of failing the page.

use askama::Template;

use super::PageRouter;
use axum::extract::Query;
use serde::Deserialize;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, charts, fail, render};
use crate::api::dissemination::{
    AttributedPersonOut, CountryCountOut, GeoDatabaseOut, attribution,
};
use crate::auth::WebCaller;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/dissemination", show)
}

#[derive(Deserialize, Default)]
struct Params {
    operation: Option<String>,
}

#[derive(Template)]
#[template(path = "dissemination.html")]
struct DisseminationPage {
    chrome: Chrome,
    operations: Vec<String>,
    operation: String,
    databases: Vec<GeoDatabaseOut>,
    by_country: Vec<CountryCountOut>,
    persons: Vec<AttributedPersonOut>,
    chart: String,
    packages: Option<Vec<vigil_store::PackageRecord>>,
    keys: Option<vigil_store::KeyList>,
}

async fn show(
    c: WebCaller,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let q = q.map(|q| q.0).unwrap_or_default();
    let cases = c.store.list_cases(&c.principal).await.map_err(fail)?;
    let mut operations: Vec<String> = cases.iter().filter_map(|c| c.operation.clone()).collect();
    operations.sort();
    operations.dedup();
    let operation = q
        .operation
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .or_else(|| operations.first().cloned())
        .unwrap_or_default();
    let (databases, by_country, persons) = if operation.is_empty() {
        Default::default()
    } else {
        attribution(&c.store, &c.principal, &operation)
            .await
            .map_err(fail)?
    };
    let chart = charts::bars(
        "Suspects per attributed country",
        &by_country
            .iter()
            .map(|x| (x.country.clone(), x.suspects))
            .collect::<Vec<_>>(),
    );
    let can_share = c.principal.can(vigil_domain::Capability::Packages);
    let packages = if can_share {
        Some(c.store.list_packages(&c.principal).await.map_err(fail)?)
    } else {
        None
    };
    let keys = if can_share || c.principal.can(vigil_domain::Capability::ManageUsers) {
        Some(c.store.list_keys(&c.principal).await.map_err(fail)?)
    } else {
        None
    };
    Ok(render(&DisseminationPage {
        chrome: Chrome::new(&c, "dissemination"),
        operations,
        operation,
        databases,
        by_country,
        persons,
        chart,
        packages,
        keys,
    }))
}
