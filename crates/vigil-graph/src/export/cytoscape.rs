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
