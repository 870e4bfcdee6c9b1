//! Scan results: the list, and per scan the triage summary (counts by
//! category with a server-side bar chart, near-duplicate distances, series)
//! and the evidence items as hashes and metadata. Never an image, never a
//! thumbnail, never a link to file content.

use askama::Template;

use super::PageRouter;
use axum::extract::{Path, Query};
use serde::Deserialize;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, charts, fail, render};
use crate::api::PageParams;
use crate::api::scans::{EvidenceItemPage, ScanDetailOut, detail, items};
use crate::auth::WebCaller;
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/scans", list).get("/scans/{id}", show)
}

/// Items per page on a scan page.
const ITEMS: u32 = 100;

#[derive(Deserialize, Default)]
struct ListQuery {
    case_id: Option<String>,
}

#[derive(Template)]
#[template(path = "scans.html")]
struct ScansPage {
    chrome: Chrome,
    scans: Vec<vigil_store::Scan>,
}

async fn list(
    c: WebCaller,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let case = q
        .ok()
        .and_then(|q| q.0.case_id)
        .and_then(|s| s.trim().parse::<i64>().ok());
    let scans = c.store.list_scans(&c.principal, case).await.map_err(fail)?;
    Ok(render(&ScansPage {
        chrome: Chrome::new(&c, "scans"),
        scans,
    }))
}

#[derive(Deserialize, Default)]
struct ItemsQuery {
    offset: Option<i64>,
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage {
    chrome: Chrome,
    d: ScanDetailOut,
    /// (category, exact, near-duplicate, min distance, max distance).
    rows: Vec<(String, i64, i64, String)>,
    chart: String,
    items: EvidenceItemPage,
    first: u64,
    last: u64,
    prev: Option<u64>,
    next: Option<u64>,
}

async fn show(
    c: WebCaller,
    id: Option<Path<i64>>,
    q: Result<Query<ItemsQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such scan")));
    };
    let offset = q.ok().and_then(|q| q.0.offset).unwrap_or(0).max(0);
    let d = detail(&c.store, &c.principal, id).await.map_err(fail)?;
    let page = items(
        &c.store,
        &c.principal,
        id,
        &PageParams {
            limit: Some(ITEMS),
            offset: Some(offset),
        },
    )
    .await
    .map_err(fail)?;
    let t = &d.triage;
    let mut cats: Vec<String> = t
        .known
        .keys()
        .chain(t.near_duplicates.keys())
        .cloned()
        .collect();
    cats.sort();
    cats.dedup();
    let rows: Vec<(String, i64, i64, String)> = cats
        .iter()
        .map(|k| {
            let dist = t
                .near_duplicate_distances
                .get(k)
                .map(|s| {
                    if s.min == s.max {
                        s.min.to_string()
                    } else {
                        format!("{}–{}", s.min, s.max)
                    }
                })
                .unwrap_or_else(|| "—".into());
            (
                k.clone(),
                t.known.get(k).copied().unwrap_or(0),
                t.near_duplicates.get(k).copied().unwrap_or(0),
                dist,
            )
        })
        .collect();
    let mut bars: Vec<(String, i64)> = rows.iter().map(|(k, e, n, _)| (k.clone(), e + n)).collect();
    bars.push(("unknown".into(), t.unknown_images));
    let chart = charts::bars("Items by category", &bars);
    let offset = offset as u64;
    let last = offset + page.items.len() as u64;
    let next = page.page.next.as_ref().map(|_| last);
    Ok(render(&ScanPage {
        chrome: Chrome::new(&c, "scans"),
        first: offset + 1,
        last,
        prev: (offset > 0).then(|| offset.saturating_sub(u64::from(ITEMS))),
        next,
        d,
        rows,
        chart,
        items: page,
    }))
}
