//! Shortest and strongest paths between two nodes (usually two persons) on
//! an [`AnalysisGraph`], returned with the evidence behind every hop.
//!
//! * **Shortest**: fewest hops (every collapsed edge costs 1).
//! * **Strongest**: most evidence. Each collapsed edge has weight
//!   `w = Σ ln(1+count)`; its cost is `−ln(w / w_max)`, so the path found
//!   maximises the product of normalised weights (the "most probable chain
//!   of association" of CrimeLink-style analysis). A tiny per-hop cost
//!   (1e−9) prefers the shorter of two equally strong paths.
//!
//! Both run rustworkx-core's Dijkstra with the goal set (it stops as soon as
//! the target is settled). Ties go to the path found first, which depends
//! only on the graph's construction order: deterministic.

use serde::Serialize;
use time::OffsetDateTime;

use crate::GraphError;
use crate::model::{EdgeKind, NodeKind, OffenderGraph, SameAs};
use crate::view::AnalysisGraph;

/// Which path to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// Fewest hops.
    Shortest,
    /// Most evidence (see module docs).
    Strongest,
}

/// A node on a path: the representative model node and what it folds in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathNode {
    /// Representative key.
    pub key: String,
    /// Representative label.
    pub label: String,
    /// Representative kind.
    pub kind: NodeKind,
    /// Labels of the other model nodes folded into it (aliases, devices).
    pub aliases: Vec<String>,
}

/// One model edge behind a hop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EdgeEvidence {
    /// Source key (model level: the actual handle, not the person).
    pub source: String,
    /// Target key.
    pub target: String,
    /// Kind.
    pub kind: EdgeKind,
    /// Evidence count.
    pub count: u64,
    /// First observation (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// Last observation (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Granter key, for operator-of.
    pub granted_by: Option<String>,
    /// Status and score, for same-as.
    pub same_as: Option<SameAs>,
}

/// A hop between two consecutive path nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathHop {
    /// Key of the node the hop leaves.
    pub from: String,
    /// Key of the node the hop reaches.
    pub to: String,
    /// Collapsed weight `Σ ln(1+count)`.
    pub weight: f64,
    /// Every model edge behind this hop.
    pub evidence: Vec<EdgeEvidence>,
}

/// A path: `nodes.len() == hops.len() + 1`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Path {
    /// Shortest or strongest.
    pub kind: PathKind,
    /// Total cost (hops, or `Σ −ln(w/w_max)`).
    pub cost: f64,
    /// Nodes from start to end.
    pub nodes: Vec<PathNode>,
    /// Hops between them, with evidence.
    pub hops: Vec<PathHop>,
}

pub(crate) fn path_node(g: &OffenderGraph, ag: &AnalysisGraph, v: usize) -> PathNode {
    let members = ag.members(v);
    match members.split_first() {
        Some((rep, rest)) => {
            let r = g.n(*rep);
            PathNode {
                key: r.key().to_owned(),
                label: r.label().to_owned(),
                kind: r.kind(),
                aliases: rest.iter().map(|m| g.n(*m).label().to_owned()).collect(),
            }
        }
        None => PathNode {
            key: v.to_string(),
            label: v.to_string(),
            kind: NodeKind::Person,
            aliases: Vec::new(),
        },
    }
}

pub(crate) fn edge_evidence(g: &OffenderGraph, ag: &AnalysisGraph, e: usize) -> Vec<EdgeEvidence> {
    ag.evidence(e)
        .iter()
        .map(|&id| {
            let x = &g.edges[id.index()];
            EdgeEvidence {
                source: g.n(x.source).key().to_owned(),
                target: g.n(x.target).key().to_owned(),
                kind: x.kind,
                count: x.count,
                first_seen: x.first_seen,
                last_seen: x.last_seen,
                granted_by: x.granted_by.map(|n| g.n(n).key().to_owned()),
                same_as: x.same_as,
            }
        })
        .collect()
}

/// Find a path between the analysis nodes holding model nodes `from` and
/// `to`. `Ok(None)` if they are not connected; an error if a key is unknown
/// or `ag` was not derived from `g`.
pub fn find_path(
    g: &OffenderGraph,
    ag: &AnalysisGraph,
    from: &str,
    to: &str,
    kind: PathKind,
) -> Result<Option<Path>, GraphError> {
    if !ag.belongs_to(g) {
        return Err(GraphError::MetricsMismatch);
    }
    let vid = |k: &str| -> Result<usize, GraphError> {
        let id = g
            .node_id(k)
            .ok_or_else(|| GraphError::UnknownNode(k.to_owned()))?;
        ag.view_node(id)
            .ok_or_else(|| GraphError::NotInView(k.to_owned()))
    };
    let (s, t) = (vid(from)?, vid(to)?);
    let pg = ag.to_petgraph();
    let w_max = (0..ag.edge_count())
        .map(|e| ag.weight(e))
        .fold(0.0f64, f64::max);
    let cost = |e: usize| -> f64 {
        match kind {
            PathKind::Shortest => 1.0,
            PathKind::Strongest => {
                let w = ag.weight(e);
                if w_max > 0.0 && w > 0.0 {
                    (-(w / w_max).ln()).max(0.0) + 1e-9
                } else {
                    1e9
                }
            }
        }
    };
    use petgraph::graph::NodeIndex;
    let mut paths = rustworkx_core::dictmap::DictMap::default();
    let dist: rustworkx_core::dictmap::DictMap<NodeIndex, f64> =
        rustworkx_core::shortest_path::dijkstra(
            &pg,
            NodeIndex::new(s),
            Some(NodeIndex::new(t)),
            |er| -> Result<f64, std::convert::Infallible> { Ok(cost(*er.weight() as usize)) },
            Some(&mut paths),
        )
        .unwrap_or_default();
    let Some(seq) = paths.get(&NodeIndex::new(t)) else {
        return Ok(None);
    };
    let total = dist.get(&NodeIndex::new(t)).copied().unwrap_or(0.0);
    let nodes: Vec<PathNode> = seq.iter().map(|n| path_node(g, ag, n.index())).collect();
    let mut hops = Vec::with_capacity(seq.len().saturating_sub(1));
    for w in seq.windows(2) {
        let (a, b) = (w[0].index(), w[1].index());
        // The collapsed edge between consecutive nodes (simple graph: one).
        let (nb, es) = ag.neighbors(a);
        let Some(e) = nb
            .iter()
            .zip(es)
            .find(|(x, _)| **x as usize == b)
            .map(|(_, e)| *e as usize)
        else {
            continue;
        };
        hops.push(PathHop {
            from: nodes[hops.len()].key.clone(),
            to: nodes[hops.len() + 1].key.clone(),
            weight: ag.weight(e),
            evidence: edge_evidence(g, ag, e),
        });
    }
    Ok(Some(Path {
        kind,
        cost: total,
        nodes,
        hops,
    }))
}
