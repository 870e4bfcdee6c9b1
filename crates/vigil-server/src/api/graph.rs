//! The offender graph of an operation or case as Cytoscape.js elements,
//! with the key-players report and, when asked, a path between two persons.
//!
//! The shape is what Cytoscape.js takes directly (`cy.add(body.elements)`):
//! `elements.nodes[].data` carries `id`, `label`, `kind`, centralities
//! (`degree`, `betweenness`, `pagerank`) and `community` of the person the
//! node belongs to; `elements.edges[].data` carries `source`, `target`,
//! `kind`, `count`, `first_seen`, `last_seen`, `granted_by` and same-as
//! status. Only records the caller may read are in it; the read is audited.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_store::{GraphScope, Principal, Store};

use super::{ApiQuery, ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GraphParams {
    /// Operation name (or id).
    pub operation: Option<String>,
    /// Case id (ignored when `operation` is given).
    pub case: Option<i64>,
    /// Person id: with `to`, the path between the two is returned.
    pub from: Option<i64>,
    /// Person id.
    pub to: Option<i64>,
    /// Strongest (most evidence) instead of shortest path.
    pub strongest: Option<bool>,
    /// Entries per key-player list (1–100, default 10).
    pub top: Option<usize>,
}

impl GraphParams {
    pub fn scope(&self) -> GraphScope {
        match (
            self.operation
                .as_deref()
                .map(str::trim)
                .filter(|o| !o.is_empty()),
            self.case,
        ) {
            (Some(o), _) => GraphScope::Operation(o.to_string()),
            (None, Some(c)) => GraphScope::Case(c),
            (None, None) => GraphScope::All,
        }
    }
}

/// The graph, ready for Cytoscape.js, and its analysis.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GraphOut {
    /// `operation:NAME`, `case:ID` or `graph:all`.
    pub scope: String,
    /// Cases that went in.
    pub cases: Vec<i64>,
    pub node_count: usize,
    pub edge_count: usize,
    pub communities: usize,
    pub modularity: f64,
    /// `{"nodes": [{"data": {...}, "classes": "..."}], "edges": [...]}`.
    #[schema(value_type = Object)]
    pub elements: serde_json::Value,
    /// Ranking, hosts, administrators (with who appointed them),
    /// distributors, brokers, newcomers.
    #[schema(value_type = Object)]
    pub key_players: serde_json::Value,
    /// The path between `from` and `to` (null when not connected or not asked).
    #[schema(value_type = Object, nullable)]
    pub path: Option<serde_json::Value>,
}

fn internal(e: impl std::fmt::Display) -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

/// Builds the graph response through the store's authorised read.
pub async fn build(store: &Store, p: &Principal, q: &GraphParams) -> Result<GraphOut, Problem> {
    let top = q.top.unwrap_or(10);
    if !(1..=100).contains(&top) {
        return Err(Problem::bad_request("top must be between 1 and 100"));
    }
    if q.from.is_some() != q.to.is_some() {
        return Err(Problem::bad_request("give both from and to, or neither"));
    }
    let sg = store.offender_graph(p, &q.scope()).await?;
    let an = sg.analyse();
    let elements =
        vigil_graph::export::cytoscape_json(&sg.graph, Some(an.annotations())).map_err(internal)?;
    let elements = elements
        .get("elements")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let report = an.key_players(&sg, top).map_err(internal)?;
    let path = match (q.from, q.to) {
        (Some(a), Some(b)) => {
            let key = |id: i64| {
                sg.person_key(id)
                    .ok_or_else(|| Problem::not_found(format!("person {id} not found")))
            };
            let kind = if q.strongest.unwrap_or(false) {
                vigil_graph::PathKind::Strongest
            } else {
                vigil_graph::PathKind::Shortest
            };
            let found = vigil_graph::find_path(&sg.graph, &an.view, &key(a)?, &key(b)?, kind)
                .map_err(internal)?;
            found
                .map(|p| serde_json::to_value(p).map_err(internal))
                .transpose()?
        }
        _ => None,
    };
    Ok(GraphOut {
        scope: sg.scope.clone(),
        cases: sg.cases.clone(),
        node_count: sg.graph.node_count(),
        edge_count: sg.graph.edge_count(),
        communities: an.metrics.communities.count,
        modularity: an.metrics.communities.modularity,
        elements,
        key_players: serde_json::to_value(&report).map_err(internal)?,
        path,
    })
}

#[derive(OpenApi)]
#[openapi(paths(graph), components(schemas(GraphOut)))]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/graph", graph)
}

/// The offender graph of an operation, a case, or every readable case, as
/// Cytoscape.js elements with centralities and communities, plus the
/// key-players report and optionally a path between two persons.
#[utoipa::path(get, path = "/api/graph", tag = "graph", params(GraphParams),
    responses((status = 200, body = GraphOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn graph(c: ApiCaller, ApiQuery(q): ApiQuery<GraphParams>) -> ApiResult<GraphOut> {
    Ok(axum::Json(build(&c.store, &c.principal, &q).await?))
}

/// A graph error as the problem the pages show.
pub fn internal_problem(e: impl std::fmt::Display) -> Problem {
    internal(e)
}
