//! GraphML (<http://graphml.graphdrawing.org/>): every column is declared
//! as a typed `<key>` (`string`, `boolean`, `int`, `long`, `double`) so that
//! readers such as networkx, yEd, Gephi and Cytoscape get numbers as numbers.
//! The graph is directed; parallel edges of different kinds are kept.

use std::io::Write;

use super::{Annotations, Prepared, edge_weight, held_by, ts, xml};
use crate::GraphError;
use crate::model::OffenderGraph;

/// Write `g` as GraphML, with metrics if `ann` is given.
pub fn write_graphml<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    let mut w = std::io::BufWriter::new(w);
    let p = Prepared::new(g, ann)?;
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">"#
    )?;
    let mut node_keys: Vec<(&str, &str, &str)> = vec![
        ("n_kind", "kind", "string"),
        ("n_label", "label", "string"),
        ("n_blind", "blind_hit", "boolean"),
        ("n_held", "held_by", "string"),
        ("n_first", "first_seen", "string"),
        ("n_last", "last_seen", "string"),
    ];
    if p.metrics.is_some() {
        node_keys.extend([
            ("n_degree", "degree", "int"),
            ("n_betw", "betweenness", "double"),
            ("n_pr", "pagerank", "double"),
            ("n_comm", "community", "int"),
        ]);
    }
    for (id, name, ty) in &node_keys {
        writeln!(
            w,
            r#"  <key id="{id}" for="node" attr.name="{name}" attr.type="{ty}"/>"#
        )?;
    }
    let user: Vec<(String, &str, &str)> = p
        .attrs
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| (format!("n_u{i}"), *name, *ty))
        .collect();
    for (id, name, ty) in &user {
        writeln!(
            w,
            r#"  <key id="{id}" for="node" attr.name="{}" attr.type="{ty}"/>"#,
            xml(name)
        )?;
    }
    for (id, name, ty) in [
        ("e_kind", "kind", "string"),
        ("e_count", "count", "long"),
        ("e_first", "first_seen", "string"),
        ("e_last", "last_seen", "string"),
        ("e_granted", "granted_by", "string"),
        ("e_status", "same_as_status", "string"),
        ("e_score", "same_as_score", "double"),
        ("e_cand", "candidate", "boolean"),
        ("e_weight", "weight", "double"),
    ] {
        writeln!(
            w,
            r#"  <key id="{id}" for="edge" attr.name="{name}" attr.type="{ty}"/>"#
        )?;
    }
    writeln!(w, r#"  <graph id="vigil" edgedefault="directed">"#)?;
    for (i, n) in g.nodes().iter().enumerate() {
        writeln!(w, r#"    <node id="{}">"#, xml(n.key()))?;
        let mut data = |k: &str, v: &str| writeln!(w, r#"      <data key="{k}">{}</data>"#, xml(v));
        data("n_kind", n.kind().as_str())?;
        data("n_label", n.label())?;
        data(
            "n_blind",
            if n.blind_hit().is_some() {
                "true"
            } else {
                "false"
            },
        )?;
        if n.blind_hit().is_some() {
            data("n_held", held_by(n))?;
        }
        if let Some((f, l)) = p.span[i] {
            data("n_first", &ts(f))?;
            data("n_last", &ts(l))?;
        }
        if let Some(m) = p.metrics.as_ref().map(|m| m[i]) {
            data("n_degree", &m.degree.to_string())?;
            data("n_betw", &m.betweenness.to_string())?;
            data("n_pr", &m.pagerank.to_string())?;
            data("n_comm", &m.community.to_string())?;
        }
        for (id, name, _) in &user {
            if let Some(v) = n.attributes().get(*name) {
                data(id, &super::attr_text(v))?;
            }
        }
        writeln!(w, "    </node>")?;
    }
    for (i, e) in g.edges().iter().enumerate() {
        writeln!(
            w,
            r#"    <edge id="e{i}" source="{}" target="{}">"#,
            xml(p.key(e.source())),
            xml(p.key(e.target()))
        )?;
        let mut data = |k: &str, v: &str| writeln!(w, r#"      <data key="{k}">{}</data>"#, xml(v));
        data("e_kind", e.kind().as_str())?;
        data("e_count", &e.count().to_string())?;
        data("e_first", &ts(e.first_seen()))?;
        data("e_last", &ts(e.last_seen()))?;
        if let Some(gb) = e.granted_by() {
            data("e_granted", p.key(gb))?;
        }
        if let Some(s) = e.same_as() {
            data("e_status", s.status.as_str())?;
            data("e_score", &s.score.to_string())?;
        }
        data("e_cand", if e.is_candidate() { "true" } else { "false" })?;
        data("e_weight", &edge_weight(e).to_string())?;
        writeln!(w, "    </edge>")?;
    }
    writeln!(w, "  </graph>")?;
    writeln!(w, "</graphml>")?;
    w.flush()?;
    Ok(())
}
