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
#[openapi(
    paths(graph, export_graph, key_players, graph_path, communities),
    components(schemas(KeyPlayersOut, PathOut, CommunitiesOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/graph", graph)
        .get("/api/graph/export", export_graph)
        .get("/api/graph/key-players", key_players)
        .get("/api/graph/path", graph_path)
        .get("/api/graph/communities", communities)
}

/// Which cases a graph covers, as `vigil graph --operation|--case`;
/// neither means every case the caller may read.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// Operation name (or id).
    pub operation: Option<String>,
    /// Case id (ignored when `operation` is given).
    pub case: Option<i64>,
}

impl ScopeParams {
    fn scope(&self) -> GraphScope {
        GraphParams {
            operation: self.operation.clone(),
            case: self.case,
            ..GraphParams::default()
        }
        .scope()
    }
}

/// `GET /api/graph/export` query.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// graphml, gexf, gexf-dynamic, cytoscape or csv.
    pub format: String,
    /// With `csv`: `nodes` (default; with centralities and community) or
    /// `edges` (with evidence counts and times).
    pub part: Option<String>,
}

/// `GET /api/graph/key-players` and `/communities` query.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopParams {
    /// Entries per list (1–100; key players 10, communities 5 by default).
    pub top: Option<usize>,
}

/// `GET /api/graph/path` query.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathParams {
    /// Person id.
    pub from: i64,
    /// Person id.
    pub to: i64,
    /// Most evidence instead of fewest hops.
    pub strongest: Option<bool>,
}

/// The key-players report (`vigil graph key-players`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyPlayersOut {
    pub scope: String,
    pub cases: Vec<i64>,
    pub nodes: usize,
    pub edges: usize,
    /// Ranking (with reasons), hosts, administrators (and who appointed
    /// them), distributors by files and by recipients, brokers, newcomers.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

/// A path between two persons (`vigil graph path`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PathOut {
    pub scope: String,
    /// Graph keys of the two persons.
    pub from: String,
    pub to: String,
    /// `shortest` or `strongest`.
    pub kind: String,
    /// Nodes, hops with their evidence, cost; null when not connected.
    #[schema(value_type = Object, nullable)]
    pub path: Option<serde_json::Value>,
}

/// Communities (Louvain) with their central members (`vigil graph
/// communities`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommunitiesOut {
    pub scope: String,
    pub nodes: usize,
    pub edges: usize,
    pub count: usize,
    pub modularity: f64,
    #[schema(value_type = Vec<Object>)]
    pub communities: Vec<serde_json::Value>,
}

fn top_of(t: &TopParams, default: usize) -> Result<usize, Problem> {
    let top = t.top.unwrap_or(default);
    if !(1..=100).contains(&top) {
        return Err(Problem::bad_request("top must be between 1 and 100"));
    }
    Ok(top)
}

/// The graph as a file for Gephi, networkx, Cytoscape or a spreadsheet, the
/// same bytes `vigil graph export` writes; nodes carry centralities and
/// community. CSV comes as two lists: `part=nodes` or `part=edges`.
#[utoipa::path(get, path = "/api/graph/export", tag = "graph", params(ScopeParams, ExportParams),
    responses((status = 200, description = "the graph file, as an attachment",
                content(("application/xml"), ("application/json"), ("text/csv"))),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn export_graph(
    c: ApiCaller,
    ApiQuery(s): ApiQuery<ScopeParams>,
    ApiQuery(q): ApiQuery<ExportParams>,
) -> Result<axum::response::Response, Problem> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    use vigil_graph::export::ExportFormat;
    let format = match (
        q.format.trim().to_ascii_lowercase().as_str(),
        q.part.as_deref(),
    ) {
        ("csv", None | Some("nodes")) => ExportFormat::NodesCsv,
        ("csv", Some("edges")) => ExportFormat::EdgesCsv,
        ("csv", Some(other)) => {
            return Err(Problem::bad_request(format!(
                "part {other:?}: nodes or edges"
            )));
        }
        (f, _) => f.parse::<ExportFormat>().map_err(|_| {
            Problem::bad_request(format!(
                "unknown format {f:?}: graphml, gexf, gexf-dynamic, cytoscape or csv"
            ))
        })?,
    };
    let sg = c.store.offender_graph(&c.principal, &s.scope()).await?;
    let an = sg.analyse();
    let mut bytes = Vec::new();
    vigil_graph::export::write(format, &mut bytes, &sg.graph, Some(an.annotations()))
        .map_err(internal)?;
    let stem: String = sg
        .scope
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let part = match format {
        ExportFormat::NodesCsv => "-nodes",
        ExportFormat::EdgesCsv => "-edges",
        _ => "",
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{stem}{part}.{}\"",
        format.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Hosts, administrators (and who appointed them), distributors, brokers
/// and newcomers, with a ranking that says why.
#[utoipa::path(get, path = "/api/graph/key-players", tag = "graph", params(ScopeParams, TopParams),
    responses((status = 200, body = KeyPlayersOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn key_players(
    c: ApiCaller,
    ApiQuery(s): ApiQuery<ScopeParams>,
    ApiQuery(t): ApiQuery<TopParams>,
) -> ApiResult<KeyPlayersOut> {
    let top = top_of(&t, 10)?;
    let sg = c.store.offender_graph(&c.principal, &s.scope()).await?;
    let an = sg.analyse();
    let report = an.key_players(&sg, top).map_err(internal)?;
    Ok(axum::Json(KeyPlayersOut {
        scope: sg.scope.clone(),
        cases: sg.cases.clone(),
        nodes: sg.graph.node_count(),
        edges: sg.graph.edge_count(),
        report: serde_json::to_value(&report).map_err(internal)?,
    }))
}

/// The shortest (fewest hops) or strongest (most evidence) path between
/// two persons, each hop with its evidence.
#[utoipa::path(get, path = "/api/graph/path", tag = "graph", params(ScopeParams, PathParams),
    responses((status = 200, body = PathOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn graph_path(
    c: ApiCaller,
    ApiQuery(s): ApiQuery<ScopeParams>,
    ApiQuery(q): ApiQuery<PathParams>,
) -> ApiResult<PathOut> {
    let sg = c.store.offender_graph(&c.principal, &s.scope()).await?;
    let key = |id: i64| {
        sg.person_key(id).ok_or_else(|| {
            Problem::not_found(format!(
                "person {id} not found in your graph of {}",
                sg.scope
            ))
        })
    };
    let (from, to) = (key(q.from)?, key(q.to)?);
    let strongest = q.strongest.unwrap_or(false);
    let kind = if strongest {
        vigil_graph::PathKind::Strongest
    } else {
        vigil_graph::PathKind::Shortest
    };
    let an = sg.analyse();
    let path = vigil_graph::find_path(&sg.graph, &an.view, &from, &to, kind).map_err(internal)?;
    Ok(axum::Json(PathOut {
        scope: sg.scope.clone(),
        from,
        to,
        kind: if strongest { "strongest" } else { "shortest" }.into(),
        path: path
            .map(|p| serde_json::to_value(p).map_err(internal))
            .transpose()?,
    }))
}

/// Communities (Louvain) with their size, rooms and central members.
#[utoipa::path(get, path = "/api/graph/communities", tag = "graph", params(ScopeParams, TopParams),
    responses((status = 200, body = CommunitiesOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn communities(
    c: ApiCaller,
    ApiQuery(s): ApiQuery<ScopeParams>,
    ApiQuery(t): ApiQuery<TopParams>,
) -> ApiResult<CommunitiesOut> {
    let top = top_of(&t, 5)?;
    let sg = c.store.offender_graph(&c.principal, &s.scope()).await?;
    let an = sg.analyse();
    let list =
        vigil_graph::communities_report(&sg.graph, &an.view, &an.metrics, top).map_err(internal)?;
    Ok(axum::Json(CommunitiesOut {
        scope: sg.scope.clone(),
        nodes: sg.graph.node_count(),
        edges: sg.graph.edge_count(),
        count: an.metrics.communities.count,
        modularity: an.metrics.communities.modularity,
        communities: list
            .iter()
            .map(|c| serde_json::to_value(c).map_err(internal))
            .collect::<Result<_, _>>()?,
    }))
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
