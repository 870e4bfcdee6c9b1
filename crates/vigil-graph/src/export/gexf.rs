//! GEXF 1.2 (<https://gexf.net/>), the format Gephi reads natively.
//!
//! Written as `1.2draft` (namespace `http://www.gexf.net/1.2draft`), the
//! version Gephi and networkx both read. Node and edge columns are declared
//! in `<attributes>` with GEXF types (`string`, `boolean`, `integer`, `long`,
//! `double`); the node label is GEXF's own `label`, the edge kind is also the
//! edge `label`, and the edge `weight` is `ln(1+count)`. The graph is static
//! and directed; the first/last times are attributes (RFC 3339 strings) so
//! that every reader keeps them.

use std::io::Write;

use super::{Annotations, Prepared, edge_weight, held_by, ts, xml};
use crate::GraphError;
use crate::model::OffenderGraph;

/// Write `g` as GEXF, with metrics if `ann` is given.
pub fn write_gexf<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    let mut w = std::io::BufWriter::new(w);
    let p = Prepared::new(g, ann)?;
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">"#
    )?;
    writeln!(w, "  <meta><creator>Vigil</creator></meta>")?;
    writeln!(w, r#"  <graph mode="static" defaultedgetype="directed">"#)?;
    let mut node_attrs: Vec<(String, &str, &str)> = vec![
        ("kind".into(), "kind", "string"),
        ("blind_hit".into(), "blind_hit", "boolean"),
        ("held_by".into(), "held_by", "string"),
        ("first_seen".into(), "first_seen", "string"),
        ("last_seen".into(), "last_seen", "string"),
    ];
    if p.metrics.is_some() {
        node_attrs.extend([
            ("degree".into(), "degree", "integer"),
            ("betweenness".into(), "betweenness", "double"),
            ("pagerank".into(), "pagerank", "double"),
            ("community".into(), "community", "integer"),
        ]);
    }
    let user: Vec<(String, &str, &str)> = p
        .attrs
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| (format!("u{i}"), *name, *ty))
        .collect();
    writeln!(w, r#"    <attributes class="node">"#)?;
    for (id, title, ty) in node_attrs.iter().chain(&user) {
        writeln!(
            w,
            r#"      <attribute id="{}" title="{}" type="{ty}"/>"#,
            xml(id),
            xml(title)
        )?;
    }
    writeln!(w, "    </attributes>")?;
    writeln!(w, r#"    <attributes class="edge">"#)?;
    for (id, ty) in [
        ("kind", "string"),
        ("count", "long"),
        ("first_seen", "string"),
        ("last_seen", "string"),
        ("granted_by", "string"),
        ("same_as_status", "string"),
        ("same_as_score", "double"),
        ("candidate", "boolean"),
    ] {
        writeln!(
            w,
            r#"      <attribute id="{id}" title="{id}" type="{ty}"/>"#
        )?;
    }
    writeln!(w, "    </attributes>")?;
    writeln!(w, "    <nodes>")?;
    for (i, n) in g.nodes().iter().enumerate() {
        writeln!(
            w,
            r#"      <node id="{}" label="{}">"#,
            xml(n.key()),
            xml(n.label())
        )?;
        writeln!(w, "        <attvalues>")?;
        let mut av = |k: &str, v: &str| {
            writeln!(
                w,
                r#"          <attvalue for="{}" value="{}"/>"#,
                xml(k),
                xml(v)
            )
        };
        av("kind", n.kind().as_str())?;
        av(
            "blind_hit",
            if n.blind_hit().is_some() {
                "true"
            } else {
                "false"
            },
        )?;
        if n.blind_hit().is_some() {
            av("held_by", held_by(n))?;
        }
        if let Some((f, l)) = p.span[i] {
            av("first_seen", &ts(f))?;
            av("last_seen", &ts(l))?;
        }
        if let Some(m) = p.metrics.as_ref().map(|m| m[i]) {
            av("degree", &m.degree.to_string())?;
            av("betweenness", &m.betweenness.to_string())?;
            av("pagerank", &m.pagerank.to_string())?;
            av("community", &m.community.to_string())?;
        }
        for (id, name, _) in &user {
            if let Some(v) = n.attributes().get(*name) {
                av(id, &super::attr_text(v))?;
            }
        }
        writeln!(w, "        </attvalues>")?;
        writeln!(w, "      </node>")?;
    }
    writeln!(w, "    </nodes>")?;
    writeln!(w, "    <edges>")?;
    for (i, e) in g.edges().iter().enumerate() {
        writeln!(
            w,
            r#"      <edge id="e{i}" source="{}" target="{}" label="{}" weight="{}">"#,
            xml(p.key(e.source())),
            xml(p.key(e.target())),
            e.kind().as_str(),
            edge_weight(e)
        )?;
        writeln!(w, "        <attvalues>")?;
        let mut av =
            |k: &str, v: &str| writeln!(w, r#"          <attvalue for="{k}" value="{}"/>"#, xml(v));
        av("kind", e.kind().as_str())?;
        av("count", &e.count().to_string())?;
        av("first_seen", &ts(e.first_seen()))?;
        av("last_seen", &ts(e.last_seen()))?;
        if let Some(gb) = e.granted_by() {
            av("granted_by", p.key(gb))?;
        }
        if let Some(s) = e.same_as() {
            av("same_as_status", s.status.as_str())?;
            av("same_as_score", &s.score.to_string())?;
        }
        av("candidate", if e.is_candidate() { "true" } else { "false" })?;
        writeln!(w, "        </attvalues>")?;
        writeln!(w, "      </edge>")?;
    }
    writeln!(w, "    </edges>")?;
    writeln!(w, "  </graph>")?;
    writeln!(w, "</gexf>")?;
    w.flush()?;
    Ok(())
}
