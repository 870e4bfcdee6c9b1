//! Cytoscape.js JSON for the web view:
//! `{"elements": {"nodes": [{"data": {"id", "label", "kind", ...}, "classes"}],
//! "edges": [{"data": {"id", "source", "target", "kind", "count", ...}, "classes"}]}}`.
//!
//! `classes` carries the node/edge kind plus `blind-hit` and `candidate`, so
//! the page can style blind hits and draw candidate same-as links dashed
//! with a selector instead of inspecting data. Times are RFC 3339 strings.

use std::io::Write;

use serde_json::{Map, Value, json};

use super::{Annotations, Prepared, edge_weight, ts};
use crate::GraphError;
use crate::model::{AttrValue, OffenderGraph};

/// Build the Cytoscape.js value.
pub fn cytoscape_json(
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<Value, GraphError> {
    let p = Prepared::new(g, ann)?;
    let mut nodes = Vec::with_capacity(g.node_count());
    for (i, n) in g.nodes().iter().enumerate() {
        let mut d = Map::new();
        d.insert("id".into(), n.key().into());
        d.insert("label".into(), n.label().into());
        d.insert("kind".into(), n.kind().as_str().into());
        d.insert("blind_hit".into(), n.blind_hit().is_some().into());
        if let Some(a) = n.blind_hit() {
            d.insert("held_by".into(), a.into());
        }
        if let Some((f, l)) = p.span[i] {
            d.insert("first_seen".into(), ts(f).into());
            d.insert("last_seen".into(), ts(l).into());
        }
        if let Some(m) = p.metrics.as_ref().map(|m| m[i]) {
            d.insert("degree".into(), m.degree.into());
            d.insert("betweenness".into(), json!(m.betweenness));
            d.insert("pagerank".into(), json!(m.pagerank));
            d.insert("community".into(), m.community.into());
        }
        for (k, v) in n.attributes() {
            let v = match v {
                AttrValue::Bool(b) => json!(b),
                AttrValue::Int(x) => json!(x),
                AttrValue::Float(x) => json!(x),
                AttrValue::Text(s) => json!(s),
            };
            d.insert(k.clone(), v);
        }
        let mut classes = n.kind().as_str().to_owned();
        if n.blind_hit().is_some() {
            classes.push_str(" blind-hit");
        }
        nodes.push(json!({"data": d, "classes": classes}));
    }
    let mut edges = Vec::with_capacity(g.edge_count());
    for (i, e) in g.edges().iter().enumerate() {
        let mut d = Map::new();
        d.insert("id".into(), format!("e{i}").into());
        d.insert("source".into(), p.key(e.source()).into());
        d.insert("target".into(), p.key(e.target()).into());
        d.insert("kind".into(), e.kind().as_str().into());
        d.insert("count".into(), e.count().into());
        d.insert("first_seen".into(), ts(e.first_seen()).into());
        d.insert("last_seen".into(), ts(e.last_seen()).into());
        d.insert("weight".into(), json!(edge_weight(e)));
        if let Some(gb) = e.granted_by() {
            d.insert("granted_by".into(), p.key(gb).into());
        }
        if let Some(s) = e.same_as() {
            d.insert("same_as_status".into(), s.status.as_str().into());
            d.insert("same_as_score".into(), json!(s.score));
        }
        let mut classes = e.kind().as_str().to_owned();
        if e.is_candidate() {
            classes.push_str(" candidate");
        }
        edges.push(json!({"data": d, "classes": classes}));
    }
    Ok(json!({"elements": {"nodes": nodes, "edges": edges}}))
}

/// Write the Cytoscape.js JSON.
pub fn write_cytoscape<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    let v = cytoscape_json(g, ann)?;
    let mut w = std::io::BufWriter::new(w);
    serde_json::to_writer(&mut w, &v)?;
    w.flush()?;
    Ok(())
}

/// Cytoscape.js JSON of an analysis graph (typically the person view): one
/// node per person (or unattached identifier, room, ...) with its aliases,
/// one edge per associated pair with the summed evidence count, the kinds
/// of evidence, the time span and the number of model edges behind it.
/// This is the chart an analyst reads first; the raw export
/// ([`cytoscape_json`]) is the one to drill into.
pub fn cytoscape_view_json(
    g: &OffenderGraph,
    ag: &crate::view::AnalysisGraph,
    metrics: Option<&crate::metrics::Metrics>,
) -> Result<Value, GraphError> {
    if !ag.belongs_to(g) {
        return Err(GraphError::MetricsMismatch);
    }
    if let Some(m) = metrics
        && !m.fits(ag)
    {
        return Err(GraphError::MetricsMismatch);
    }
    let rep_key = |v: usize| {
        ag.representative(v)
            .map(|r| g.n(r).key().to_owned())
            .unwrap_or_default()
    };
    let mut nodes = Vec::with_capacity(ag.node_count());
    for v in 0..ag.node_count() {
        let pn = crate::paths::path_node(g, ag, v);
        let mut d = Map::new();
        d.insert("id".into(), pn.key.clone().into());
        d.insert("label".into(), pn.label.into());
        d.insert("kind".into(), pn.kind.as_str().into());
        let blind = ag.representative(v).and_then(|r| g.n(r).blind_hit());
        d.insert("blind_hit".into(), blind.is_some().into());
        if let Some(a) = blind {
            d.insert("held_by".into(), a.into());
        }
        if !pn.aliases.is_empty() {
            d.insert("aliases".into(), json!(pn.aliases));
        }
        if let Some(m) = metrics {
            d.insert("degree".into(), m.degree[v].into());
            d.insert("betweenness".into(), json!(m.betweenness[v]));
            d.insert("pagerank".into(), json!(m.pagerank[v]));
            d.insert("community".into(), m.communities.membership[v].into());
        }
        let mut classes = pn.kind.as_str().to_owned();
        if blind.is_some() {
            classes.push_str(" blind-hit");
        }
        nodes.push(json!({"data": d, "classes": classes}));
    }
    let mut edges = Vec::with_capacity(ag.edge_count());
    for e in 0..ag.edge_count() {
        let (a, b) = ag.ends(e);
        let ev = ag.evidence(e);
        let mut kinds: Vec<&str> = ev
            .iter()
            .map(|x| g.edges[x.index()].kind.as_str())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let count: u64 = ev.iter().map(|x| g.edges[x.index()].count).sum();
        let first = ev.iter().map(|x| g.edges[x.index()].first_seen).min();
        let last = ev.iter().map(|x| g.edges[x.index()].last_seen).max();
        let candidate = !ev.is_empty() && ev.iter().all(|x| g.edges[x.index()].is_candidate());
        let mut d = Map::new();
        d.insert("id".into(), format!("v{e}").into());
        d.insert("source".into(), rep_key(a as usize).into());
        d.insert("target".into(), rep_key(b as usize).into());
        d.insert("kinds".into(), json!(kinds));
        d.insert("count".into(), count.into());
        d.insert("weight".into(), json!(ag.weight(e)));
        d.insert("evidence_edges".into(), ev.len().into());
        if let (Some(f), Some(l)) = (first, last) {
            d.insert("first_seen".into(), ts(f).into());
            d.insert("last_seen".into(), ts(l).into());
        }
        let mut classes = kinds.join(" ");
        if candidate {
            classes.push_str(" candidate");
        }
        edges.push(json!({"data": d, "classes": classes}));
    }
    Ok(json!({"elements": {"nodes": nodes, "edges": edges}}))
}
