//! Vigil's offender network: one graph model for persons, handles and other
//! identifiers, rooms, devices and media series; the analytics investigators
//! use to find who runs a network and who distributes (centralities,
//! communities, the key-players report, shortest and strongest paths); and
//! exports to GraphML, GEXF, CSV and Cytoscape.js JSON.
//!
//! This crate is a pure library: no database, no clock, no files of its own.
//! The integrator fills a [`GraphBuilder`] from the store **after** access
//! control, so a restricted record never reaches this crate; exports write to
//! any `impl Write`.
//!
//! Invariants that hold throughout:
//! * every edge carries its evidence count and first/last time (UTC), and
//!   every analytic result that names an edge gives that evidence back;
//! * a blind-hit node carries only its kind and "held by `<agency>`" (the
//!   builder refuses labels and attributes for it);
//! * candidate same-as links are shown but never merge identities;
//! * analytics are deterministic: the same graph, options and seed give the
//!   same numbers, communities and paths (ties broken by node order or key).
//!
//! # Example: from store rows to a report and a chart
//!
//! ```
//! use time::macros::datetime;
//! use vigil_graph::{
//!     EdgeKind, Evidence, GraphBuilder, KeyPlayerOptions, NodeKind, SameAsStatus, key_players,
//! };
//! # fn main() -> Result<(), vigil_graph::GraphError> {
//! let t = datetime!(2026-02-01 21:00 UTC);
//! let mut b = GraphBuilder::new();
//! b.node("person:1", NodeKind::Person, "Suspect 1")?;
//! b.node("handle:irc:godfather", NodeKind::Handle, "G.O.D.")?;
//! b.node("handle:irc:sonofgod", NodeKind::Handle, "Son of God")?;
//! b.node("handle:irc:lurker", NodeKind::Handle, "lurker")?;
//! b.node("room:irc:#room", NodeKind::Room, "#room")?;
//! b.relate("person:1", "handle:irc:godfather", EdgeKind::Uses, Evidence::once(t))?;
//! b.same_as("handle:irc:godfather", "handle:irc:sonofgod", SameAsStatus::Accepted, 1.0,
//!     Evidence::once(t))?;
//! b.relate("handle:irc:sonofgod", "room:irc:#room", EdgeKind::HostOf, Evidence::once(t))?;
//! b.operator_of("handle:irc:lurker", "room:irc:#room", Some("handle:irc:sonofgod"),
//!     Evidence::once(t))?;
//! b.relate("handle:irc:sonofgod", "handle:irc:lurker", EdgeKind::SentFiles,
//!     Evidence::new(12, t, t))?;
//! b.blind_hit("blind:ref-77", NodeKind::Person, "Agency X")?;
//! let g = b.build();
//!
//! let report = key_players(&g, &KeyPlayerOptions::new(t))?;
//! assert_eq!(report.ranking[0].player.key, "person:1");
//! assert_eq!(report.administrators[0].appointed_by.as_ref().unwrap().key, "person:1");
//! assert_eq!(report.distributors_by_files[0].files_sent, 12);
//!
//! let mut graphml = Vec::new();
//! vigil_graph::export::write_graphml(&mut graphml, &g, None)?;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`model`] (nodes, edges, builder, neighbourhood and time-window
//! subgraphs), [`view`] (raw or person-level
//! analysis graph), [`metrics`] (degree, betweenness, PageRank), [`community`]
//! (Louvain, modularity), [`paths`], [`keyplayers`], [`export`], and
//! [`synthetic`] (a seeded generator for tests and benchmarks).

pub mod community;
pub mod export;
pub mod keyplayers;
pub mod metrics;
pub mod model;
pub mod paths;
pub mod synthetic;
pub mod view;

mod rng;

pub use community::{Communities, louvain, modularity};
pub use keyplayers::{
    CommunityEntry, CommunityLink, KeyPlayerOptions, KeyPlayerWeights, KeyPlayersReport,
    communities_report, key_players, key_players_with,
};
pub use metrics::{BetweennessMode, Metrics, MetricsOptions, compute_metrics};
pub use model::{
    AttrValue, Edge, EdgeId, EdgeKind, Evidence, GraphBuilder, Node, NodeId, NodeKind,
    OffenderGraph, SameAs, SameAsStatus,
};
pub use paths::{Path, PathKind, find_path};
pub use view::{AnalysisGraph, View, ViewOptions};

/// Everything that can go wrong building, analysing or exporting a graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// A node key was empty.
    #[error("node key is empty")]
    EmptyKey,
    /// A blind hit was declared without the holding agency.
    #[error("blind hit {0:?} has no holding agency")]
    EmptyAgency(String),
    /// An edge or attribute named a node that was never added.
    #[error("unknown node {0:?}")]
    UnknownNode(String),
    /// The same key was added with two kinds.
    #[error("node {key:?} is a {existing:?}, cannot re-add it as a {new:?}")]
    KindConflict {
        /// The key.
        key: String,
        /// Kind it already has.
        existing: NodeKind,
        /// Kind requested now.
        new: NodeKind,
    },
    /// Someone tried to give a blind hit a label or attributes.
    #[error("node {0:?} is a blind hit and may carry no content")]
    BlindHitContent(String),
    /// The same key was declared as a blind hit and as something else.
    #[error("node {0:?} is already declared differently (blind hit conflict)")]
    BlindHitConflict(String),
    /// The attribute name is empty or one of the exports' own columns.
    #[error("attribute name {0:?} is reserved or empty")]
    ReservedAttribute(String),
    /// The attribute was given two types on different nodes.
    #[error("attribute {name:?} is {existing}, cannot also be {new}")]
    AttributeType {
        /// Attribute name.
        name: String,
        /// Type it already has.
        existing: &'static str,
        /// Type requested now.
        new: &'static str,
    },
    /// NaN or infinity where a number was needed.
    #[error("{0:?} is not a finite number")]
    NonFinite(String),
    /// An edge from a node to itself.
    #[error("self-loop on {0:?}")]
    SelfLoop(String),
    /// Edge kind does not fit its endpoints (e.g. a room `uses` a handle).
    #[error("{kind:?} edge cannot go from a {from:?} to a {to:?}")]
    EndpointKinds {
        /// The edge kind.
        kind: EdgeKind,
        /// The source node's kind.
        from: NodeKind,
        /// The target node's kind.
        to: NodeKind,
    },
    /// `first_seen` after `last_seen`.
    #[error("edge {from:?} -> {to:?}: first_seen is after last_seen")]
    TimeOrder {
        /// Source key.
        from: String,
        /// Target key.
        to: String,
    },
    /// Same-as edges need a status; use `GraphBuilder::same_as`.
    #[error("same-as edges need a status and score (use GraphBuilder::same_as)")]
    SameAsNeedsStatus,
    /// Matcher score outside `[0, 1]`.
    #[error("same-as score {0} is outside [0, 1]")]
    BadScore(f64),
    /// More than `u32::MAX` nodes or edges.
    #[error("graph too large (more than 4 billion nodes or edges)")]
    TooLarge,
    /// Metrics were computed on a different graph or view than the one used.
    #[error("metrics do not belong to this graph (computed on another view or graph)")]
    MetricsMismatch,
    /// A path endpoint is not part of the analysis view (e.g. a filtered node).
    #[error("node {0:?} is not in the analysis view")]
    NotInView(String),
    /// An option was out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Writing an export failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// Writing CSV failed.
    #[error("CSV write failed: {0}")]
    Csv(#[from] csv::Error),
    /// Writing JSON failed.
    #[error("JSON write failed: {0}")]
    Json(#[from] serde_json::Error),
}
