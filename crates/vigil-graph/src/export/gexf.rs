//! GEXF 1.2 (<https://gexf.net/>), the format Gephi reads natively.
//!
//! Written as `1.2draft` (namespace `http://www.gexf.net/1.2draft`), the
//! version Gephi and networkx both read. Node and edge columns are declared
//! in `<attributes>` with GEXF types (`string`, `boolean`, `integer`, `long`,
//! `double`); the node label is GEXF's own `label`, the edge kind is also the
//! edge `label`, and the edge `weight` is `ln(1+count)`. The graph is
//! directed; the first/last times are always attributes (RFC 3339 strings) so
//! that every reader keeps them.
//!
//! [`write_gexf`] writes a static graph, which every reader accepts.
//! [`write_gexf_dynamic`] additionally sets `mode="dynamic"`,
//! `timeformat="dateTime"` and `start`/`end` on nodes and edges from their
//! first/last evidence, so Gephi's timeline can replay how the network grew.
//! (networkx cannot read `dateTime` time formats; use the static form there.)

use std::io::Write;

use super::{Annotations, Prepared, edge_weight, held_by, ts, xml};
use crate::GraphError;
use crate::model::OffenderGraph;

/// Write `g` as a static GEXF graph, with metrics if `ann` is given.
pub fn write_gexf<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    gexf(w, g, ann, false)
}

/// Write `g` as a dynamic GEXF graph (time intervals for Gephi's timeline).
pub fn write_gexf_dynamic<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    gexf(w, g, ann, true)
}

fn gexf<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
    dynamic: bool,
) -> Result<(), GraphError> {
    let mut w = std::io::BufWriter::new(w);
    let p = Prepared::new(g, ann)?;
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">"#
    )?;
    writeln!(w, "  <meta><creator>Vigil</creator></meta>")?;
    if dynamic {
        writeln!(
            w,
            r#"  <graph mode="dynamic" defaultedgetype="directed" timeformat="dateTime">"#
        )?;
    } else {
        writeln!(w, r#"  <graph mode="static" defaultedgetype="directed">"#)?;
    }
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
        let interval = match (dynamic, p.span[i]) {
            (true, Some((f, l))) => format!(r#" start="{}" end="{}""#, ts(f), ts(l)),
            _ => String::new(),
        };
        writeln!(
            w,
            r#"      <node id="{}" label="{}"{interval}>"#,
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
        let interval = if dynamic {
            format!(
                r#" start="{}" end="{}""#,
                ts(e.first_seen()),
                ts(e.last_seen())
            )
        } else {
            String::new()
        };
        writeln!(
            w,
            r#"      <edge id="e{i}" source="{}" target="{}" label="{}" weight="{}"{interval}>"#,
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
