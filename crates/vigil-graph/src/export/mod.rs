//! Exports of the model graph: GraphML, GEXF, CSV node/edge lists and
//! Cytoscape.js JSON, all written to any `impl Write`.
//!
//! Every export writes the same columns, so a user can move between tools
//! without losing anything:
//! * nodes: `id` (the stable key), `kind`, `label`, `blind_hit`, `held_by`,
//!   `first_seen`/`last_seen` (span of incident edges), and when annotated
//!   with metrics `degree`, `betweenness`, `pagerank`, `community`, then the
//!   user attributes;
//! * edges: `id` (`e<index>`), `source`, `target`, `kind`, `count`,
//!   `first_seen`, `last_seen`, `granted_by`, `same_as_status`,
//!   `same_as_score`, `candidate`, `weight` (= `ln(1+count)`, what Gephi draws
//!   as thickness).
//!
//! Metrics computed on the person view annotate each model node with the
//! values of the person it is folded into (a handle shows its person's
//! community), which is what an analyst colouring a raw chart by community
//! expects.
//!
//! Text is made safe for XML 1.0: markup characters are escaped and
//! characters XML cannot carry at all (control codes such as mIRC colour
//! codes in a nickname) become U+FFFD, so every third-party reader can load
//! the file.

pub mod csv;
pub mod cytoscape;
pub mod gexf;
pub mod graphml;

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::GraphError;
use crate::metrics::Metrics;
use crate::model::{AttrValue, Edge, Node, OffenderGraph};
use crate::view::AnalysisGraph;

pub use self::csv::{write_edges_csv, write_nodes_csv};
pub use cytoscape::{cytoscape_json, cytoscape_view_json, write_cytoscape};
pub use gexf::{write_gexf, write_gexf_dynamic};
pub use graphml::write_graphml;

/// An export format, for command lines and HTTP handlers that pick one by
/// name (`graphml`, `gexf`, `gexf-dynamic`, `cytoscape`, `nodes-csv`,
/// `edges-csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// GraphML.
    GraphMl,
    /// Static GEXF 1.2.
    Gexf,
    /// GEXF 1.2 with time intervals (Gephi timeline).
    GexfDynamic,
    /// Cytoscape.js JSON (model level).
    Cytoscape,
    /// CSV node list.
    NodesCsv,
    /// CSV edge list.
    EdgesCsv,
}

impl ExportFormat {
    /// Every format, in the order a help text would list them.
    pub const ALL: [ExportFormat; 6] = [
        ExportFormat::GraphMl,
        ExportFormat::Gexf,
        ExportFormat::GexfDynamic,
        ExportFormat::Cytoscape,
        ExportFormat::NodesCsv,
        ExportFormat::EdgesCsv,
    ];

    /// The name accepted by [`str::parse`].
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::GraphMl => "graphml",
            ExportFormat::Gexf => "gexf",
            ExportFormat::GexfDynamic => "gexf-dynamic",
            ExportFormat::Cytoscape => "cytoscape",
            ExportFormat::NodesCsv => "nodes-csv",
            ExportFormat::EdgesCsv => "edges-csv",
        }
    }

    /// The media type of the export, for HTTP `Content-Type` (GraphML and
    /// GEXF have no registered type of their own: they are XML).
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::GraphMl | ExportFormat::Gexf | ExportFormat::GexfDynamic => {
                "application/xml; charset=utf-8"
            }
            ExportFormat::Cytoscape => "application/json",
            ExportFormat::NodesCsv | ExportFormat::EdgesCsv => "text/csv; charset=utf-8",
        }
    }

    /// Conventional file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::GraphMl => "graphml",
            ExportFormat::Gexf | ExportFormat::GexfDynamic => "gexf",
            ExportFormat::Cytoscape => "json",
            ExportFormat::NodesCsv | ExportFormat::EdgesCsv => "csv",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = GraphError;
    fn from_str(s: &str) -> Result<Self, GraphError> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| GraphError::InvalidOption(format!("unknown export format {s:?}")))
    }
}

/// Write `g` in `format` (metrics are ignored by the edge list, which has
/// no node columns).
pub fn write<W: std::io::Write>(
    format: ExportFormat,
    w: W,
    g: &OffenderGraph,
    ann: Option<Annotations<'_>>,
) -> Result<(), GraphError> {
    match format {
        ExportFormat::GraphMl => write_graphml(w, g, ann),
        ExportFormat::Gexf => write_gexf(w, g, ann),
        ExportFormat::GexfDynamic => write_gexf_dynamic(w, g, ann),
        ExportFormat::Cytoscape => write_cytoscape(w, g, ann),
        ExportFormat::NodesCsv => write_nodes_csv(w, g, ann),
        ExportFormat::EdgesCsv => write_edges_csv(w, g),
    }
}

/// Metrics to attach to the exported nodes: the analysis graph they were
/// computed on and the metrics themselves.
#[derive(Clone, Copy, Debug)]
pub struct Annotations<'a> {
    /// The analysis graph (raw or person view) of the exported graph.
    pub graph: &'a AnalysisGraph,
    /// Metrics computed on it.
    pub metrics: &'a Metrics,
}

/// The metric values of one model node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NodeMetrics {
    pub degree: u32,
    pub betweenness: f64,
    pub pagerank: f64,
    pub community: u32,
}

/// Everything an exporter needs, prepared once.
pub(crate) struct Prepared<'a> {
    pub g: &'a OffenderGraph,
    pub span: Vec<Option<(OffsetDateTime, OffsetDateTime)>>,
    pub metrics: Option<Vec<NodeMetrics>>,
    /// User attribute name → GraphML/GEXF type.
    pub attrs: BTreeMap<&'a str, &'static str>,
}

impl<'a> Prepared<'a> {
    pub fn new(g: &'a OffenderGraph, ann: Option<Annotations<'_>>) -> Result<Self, GraphError> {
        let metrics = match ann {
            None => None,
            Some(a) => {
                let m = a.metrics;
                if !a.graph.belongs_to(g) || !m.fits(a.graph) {
                    return Err(GraphError::MetricsMismatch);
                }
                let mut out = Vec::with_capacity(g.node_count());
                for i in 0..g.node_count() {
                    let v = a
                        .graph
                        .view_node(crate::model::NodeId(i as u32))
                        .ok_or(GraphError::MetricsMismatch)?;
                    out.push(NodeMetrics {
                        degree: m.degree[v],
                        betweenness: m.betweenness[v],
                        pagerank: m.pagerank[v],
                        community: m.communities.membership[v],
                    });
                }
                Some(out)
            }
        };
        let mut attrs = BTreeMap::new();
        for n in g.nodes() {
            for (k, v) in n.attributes() {
                attrs.entry(k.as_str()).or_insert(v.type_name());
            }
        }
        // A blind hit carries nothing but "held by": not even the time span
        // of our own edges to it, which would date the other agency's record.
        let mut span = g.node_time_span();
        for (s, n) in span.iter_mut().zip(g.nodes()) {
            if n.blind_hit().is_some() {
                *s = None;
            }
        }
        Ok(Prepared {
            g,
            span,
            metrics,
            attrs,
        })
    }

    pub fn key(&self, id: crate::model::NodeId) -> &str {
        self.g.n(id).key()
    }
}

/// RFC 3339 in UTC (`2026-03-01T20:15:00Z`).
pub(crate) fn ts(t: OffsetDateTime) -> String {
    // Formatting a UTC OffsetDateTime as RFC 3339 only fails for years
    // outside 0..=9999; fall back to the Debug form rather than fail.
    t.format(&Rfc3339).unwrap_or_else(|_| format!("{t:?}"))
}

/// `ln(1 + count)`, the per-edge weight (count 0 counts as 1).
pub(crate) fn edge_weight(e: &Edge) -> f64 {
    (1.0 + e.count().max(1) as f64).ln()
}

/// Escape for XML text and attribute values; replace characters XML 1.0
/// cannot represent.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn attr_text(v: &AttrValue) -> String {
    v.to_text()
}

pub(crate) fn held_by(n: &Node) -> &str {
    n.blind_hit().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name_and_all_write() {
        let mut b = crate::GraphBuilder::new();
        b.node("a", crate::NodeKind::Person, "A").unwrap();
        let g = b.build();
        for f in ExportFormat::ALL {
            assert_eq!(f.name().parse::<ExportFormat>().unwrap(), f);
            let mut out = Vec::new();
            write(f, &mut out, &g, None).unwrap();
            assert!(!out.is_empty(), "{f:?}");
        }
        assert_eq!(
            "GraphML".parse::<ExportFormat>().unwrap(),
            ExportFormat::GraphMl
        );
        assert!("pdf".parse::<ExportFormat>().is_err());
    }

    #[test]
    fn xml_escapes_markup_and_replaces_control_codes() {
        assert_eq!(xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml("\u{3}4nick\u{0}"), "\u{FFFD}4nick\u{FFFD}");
        assert_eq!(xml("x\ny"), "x&#10;y");
    }
}
