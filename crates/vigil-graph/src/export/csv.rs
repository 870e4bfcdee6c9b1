//! CSV node and edge lists (one writer each), with a header row. Columns as
//! in the module docs of [`crate::export`]; empty cells for absent values.
//! These load directly into Gephi's spreadsheet import, i2 and R/pandas.

use std::io::Write;

use super::{Annotations, Prepared, edge_weight, held_by, ts};
use crate::GraphError;
use crate::model::OffenderGraph;

/// Write the node list.
pub fn write_nodes_csv<W: Write>(
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    let p = Prepared::new(g, ann)?;
    let mut c = ::csv::Writer::from_writer(w);
    let mut header: Vec<&str> = vec![
        "id",
        "kind",
        "label",
        "blind_hit",
        "held_by",
        "first_seen",
        "last_seen",
    ];
    if p.metrics.is_some() {
        header.extend(["degree", "betweenness", "pagerank", "community"]);
    }
    header.extend(p.attrs.keys().copied());
    c.write_record(&header)?;
    for (i, n) in g.nodes().iter().enumerate() {
        let (f, l) = p.span[i].map_or((String::new(), String::new()), |(f, l)| (ts(f), ts(l)));
        let mut row: Vec<String> = vec![
            n.key().to_owned(),
            n.kind().as_str().to_owned(),
            n.label().to_owned(),
            n.blind_hit().is_some().to_string(),
            held_by(n).to_owned(),
            f,
            l,
        ];
        if let Some(m) = p.metrics.as_ref().map(|m| m[i]) {
            row.extend([
                m.degree.to_string(),
                m.betweenness.to_string(),
                m.pagerank.to_string(),
                m.community.to_string(),
            ]);
        }
        for name in p.attrs.keys() {
            row.push(
                n.attributes()
                    .get(*name)
                    .map(super::attr_text)
                    .unwrap_or_default(),
            );
        }
        c.write_record(&row)?;
    }
    c.flush()?;
    Ok(())
}

/// Write the edge list.
pub fn write_edges_csv<W: Write>(w: W, g: &OffenderGraph) -> Result<(), GraphError> {
    let mut c = ::csv::Writer::from_writer(w);
    c.write_record([
        "id",
        "source",
        "target",
        "kind",
        "count",
        "first_seen",
        "last_seen",
        "granted_by",
        "same_as_status",
        "same_as_score",
        "candidate",
        "weight",
    ])?;
    for (i, e) in g.edges().iter().enumerate() {
        c.write_record([
            format!("e{i}"),
            g.n(e.source()).key().to_owned(),
            g.n(e.target()).key().to_owned(),
            e.kind().as_str().to_owned(),
            e.count().to_string(),
            ts(e.first_seen()),
            ts(e.last_seen()),
            e.granted_by()
                .map(|x| g.n(x).key().to_owned())
                .unwrap_or_default(),
            e.same_as()
                .map(|s| s.status.as_str().to_owned())
                .unwrap_or_default(),
            e.same_as().map(|s| s.score.to_string()).unwrap_or_default(),
            e.is_candidate().to_string(),
            edge_weight(e).to_string(),
        ])?;
    }
    c.flush()?;
    Ok(())
}
