//! The operation dashboard: outcomes, persons by role, events by kind, and
//! charts per country and over time (numbers in tables beside them).

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, PageResult, charts, fail, render};
use crate::api::dashboard::{DashboardOut, build};
use crate::auth::WebCaller;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/", dashboard)
}

#[derive(Deserialize)]
struct Params {
    operation: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    d: DashboardOut,
    operations: Vec<String>,
    operation: String,
    by_country: Vec<(String, i64)>,
    by_month: Vec<(String, i64)>,
    country_chart: String,
    month_chart: String,
}

async fn dashboard(
    c: WebCaller,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let operation = q.ok().and_then(|q| q.0.operation).unwrap_or_default();
    let cases = c.store.list_cases(&c.principal).await.map_err(fail)?;
    let mut operations: Vec<String> = cases.iter().filter_map(|c| c.operation.clone()).collect();
    operations.sort();
    operations.dedup();
    let op = Some(operation.as_str()).filter(|o| !o.is_empty());
    let d = build(&c.store, &c.principal, op).await.map_err(fail)?;
    let mut by_country: std::collections::BTreeMap<String, i64> = Default::default();
    for x in &d.events_by_country {
        *by_country.entry(x.country.clone()).or_default() += x.count;
    }
    let by_country: Vec<(String, i64)> = by_country.into_iter().collect();
    let by_month: Vec<(String, i64)> = d
        .events_by_month
        .iter()
        .map(|x| (x.key.clone(), x.count))
        .collect();
    let page = DashboardPage {
        chrome: Chrome::new(&c, "dashboard"),
        country_chart: charts::bars("Events per country", &by_country),
        month_chart: charts::line("Events per month", &by_month),
        by_country,
        by_month,
        d,
        operations,
        operation,
    };
    Ok::<Response, Response>(render(&page))
}
