//! `/graph`: the offender network of an operation or case. The chart is
//! drawn in the browser by the vendored Cytoscape.js (`static/graph.js`
//! fetches `/api/graph`); beside it the key players and every node are
//! server-rendered tables, so the page is complete without JavaScript.

use askama::Template;

use super::PageRouter;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{Chrome, PageResult, fail, render};
use crate::api::graph::GraphParams;
use crate::auth::WebCaller;

/// Cytoscape.js, pinned; its licence is `static/vendor/cytoscape-3.35.0.LICENSE`.
pub const CYTOSCAPE_JS: &str = include_str!("../../static/vendor/cytoscape-3.35.0.min.js");
/// The page's own script: fetch, render, colour and size.
pub const GRAPH_JS: &str = include_str!("../../static/graph.js");

/// Nodes listed on the page; the export and the API carry all of them.
const NODE_LIST_MAX: usize = 1000;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/graph", graph_page)
        .get("/static/vendor/cytoscape-3.35.0.min.js", cytoscape)
        .get("/static/graph.js", graph_js)
}

fn script(body: &'static str, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

async fn cytoscape() -> Response {
    // The file name carries the version, so it can be cached for a year.
    script(CYTOSCAPE_JS, "public, max-age=31536000, immutable")
}

async fn graph_js() -> Response {
    script(GRAPH_JS, "public, max-age=3600")
}

/// One row of a key-player table.
struct Row {
    who: String,
    detail: String,
    extra: String,
}

/// One node in the accessible list.
struct NodeRow {
    label: String,
    kind: String,
    community: String,
    degree: String,
    key: String,
}

#[derive(Template)]
#[template(path = "graph.html")]
struct GraphPage {
    chrome: Chrome,
    operations: Vec<String>,
    operation: String,
    case: String,
    scope: String,
    api: String,
    nodes: usize,
    edges: usize,
    communities: usize,
    ranking: Vec<Row>,
    hosts: Vec<Row>,
    admins: Vec<Row>,
    distributors: Vec<Row>,
    brokers: Vec<Row>,
    node_rows: Vec<NodeRow>,
    truncated: bool,
}

fn who(n: &vigil_graph::paths::PathNode) -> String {
    if n.aliases.is_empty() {
        n.label.clone()
    } else {
        format!("{} (aka {})", n.label, n.aliases.join(", "))
    }
}

async fn graph_page(
    c: WebCaller,
    q: Result<Query<GraphParams>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let q = q.map(|q| q.0).unwrap_or_default();
    let cases = c.store.list_cases(&c.principal).await.map_err(fail)?;
    let mut operations: Vec<String> = cases.iter().filter_map(|c| c.operation.clone()).collect();
    operations.sort();
    operations.dedup();
    let sg = c
        .store
        .offender_graph(&c.principal, &q.scope())
        .await
        .map_err(fail)?;
    let an = sg.analyse();
    let r = an
        .key_players(&sg, 10)
        .map_err(|e| fail(crate::api::graph::internal_problem(e)))?;
    let view_of = |id: vigil_graph::NodeId| an.view.view_node(id);
    let mut node_rows: Vec<NodeRow> = sg
        .graph
        .nodes()
        .iter()
        .take(NODE_LIST_MAX)
        .map(|n| {
            let v = sg.graph.node_id(n.key()).and_then(view_of);
            NodeRow {
                label: n.label().to_string(),
                kind: n.kind().as_str().replace('_', " "),
                community: v
                    .and_then(|v| an.metrics.communities.membership.get(v))
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                degree: v
                    .and_then(|v| an.metrics.degree.get(v))
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                key: n.key().to_string(),
            }
        })
        .collect();
    node_rows.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.label.cmp(&b.label)));
    let mut api = String::from("/api/graph");
    let mut params = Vec::new();
    let operation = q.operation.clone().unwrap_or_default();
    if !operation.trim().is_empty() {
        params.push(("operation", operation.trim().to_string()));
    } else if let Some(c) = q.case {
        params.push(("case", c.to_string()));
    }
    if !params.is_empty() {
        api.push('?');
        api.push_str(&serde_urlencoded::to_string(&params).unwrap_or_default());
    }
    let page = GraphPage {
        chrome: Chrome::new(&c, "graph"),
        operations,
        operation,
        case: q.case.map(|c| c.to_string()).unwrap_or_default(),
        scope: sg.scope.clone(),
        api,
        nodes: sg.graph.node_count(),
        edges: sg.graph.edge_count(),
        communities: an.metrics.communities.count,
        ranking: r
            .ranking
            .iter()
            .map(|x| Row {
                who: who(&x.player),
                detail: format!("{:.3}", x.score),
                extra: x.reasons.join("; "),
            })
            .collect(),
        hosts: r
            .hosts
            .iter()
            .map(|h| Row {
                who: who(&h.player),
                detail: h.rooms.join(", "),
                extra: h.since.date().to_string(),
            })
            .collect(),
        admins: r
            .administrators
            .iter()
            .map(|a| Row {
                who: format!("{} as {}", who(&a.player), a.as_handle),
                detail: a.room.clone(),
                extra: a
                    .appointed_by
                    .as_ref()
                    .map(who)
                    .unwrap_or_else(|| "unknown".into()),
            })
            .collect(),
        distributors: r
            .distributors_by_files
            .iter()
            .map(|d| Row {
                who: who(&d.player),
                detail: d.files_supplied.to_string(),
                extra: d.recipients.to_string(),
            })
            .collect(),
        brokers: r
            .brokers
            .iter()
            .map(|b| Row {
                who: who(&b.player),
                detail: format!("{:.4}", b.betweenness),
                extra: b.communities_bridged.to_string(),
            })
            .collect(),
        truncated: sg.graph.node_count() > NODE_LIST_MAX,
        node_rows,
    };
    Ok::<Response, Response>(render(&page))
}
