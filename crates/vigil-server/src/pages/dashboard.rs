//! The outcomes dashboard: per operation, country and agency — suspects
//! identified, arrested, charged, convicted, pending, deceased, children
//! safeguarded — with charts by country and over time and the numbers
//! behind them in tables. Outcomes partner agencies reported back through
//! outcome packages count like our own.

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::Query;
use axum::response::Response;

use super::{Chrome, PageResult, charts, fail, render};
use crate::api::dashboard::{DashboardOut, DashboardParams, build};
use crate::auth::WebCaller;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/", dashboard)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    d: DashboardOut,
    operation: String,
    country: String,
    agency: String,
    country_chart: String,
    month_chart: String,
    safeguarded_chart: String,
}

async fn dashboard(
    c: WebCaller,
    q: Result<Query<DashboardParams>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let q = q.map(|q| q.0).unwrap_or_default();
    let d = build(&c.store, &c.principal, &q).await.map_err(fail)?;
    let series = |rows: &[crate::api::dashboard::OutcomeRow],
                  f: fn(&crate::api::dashboard::Outcomes) -> i64| {
        rows.iter()
            .map(|r| (r.key.clone(), f(&r.outcomes)))
            .collect::<Vec<_>>()
    };
    let page = DashboardPage {
        chrome: Chrome::new(&c, "dashboard"),
        country_chart: charts::bars(
            "Suspects identified per country",
            &series(&d.by_country, |o| o.suspects_identified),
        ),
        month_chart: charts::line("Arrests per month", &series(&d.by_month, |o| o.arrested)),
        safeguarded_chart: charts::line(
            "Children safeguarded per month",
            &series(&d.by_month, |o| o.children_safeguarded),
        ),
        operation: d.operation.clone().unwrap_or_default(),
        country: d.country.clone().unwrap_or_default(),
        agency: d.agency.clone().unwrap_or_default(),
        d,
    };
    Ok::<Response, Response>(render(&page))
}
