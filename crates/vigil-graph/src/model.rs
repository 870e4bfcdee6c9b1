//! The graph model: typed nodes and evidence-carrying edges, and the builder
//! that the integrator fills from the store.
//!
//! Design choices (and why):
//! * Nodes are addressed by a **stable string key** chosen by the caller (a
//!   database id, `handle:irc.example:nick`, ...). The same key always means
//!   the same node, so exports from two runs can be diffed and a web view can
//!   keep its layout.
//! * Edges are **directed** in the model (`source → target`, e.g. who sent files
//!   to whom). The kinds that have no direction (shared media, same-as,
//!   co-presence) are stored with the two endpoints in key order, so `a–b` and
//!   `b–a` observations merge into one edge.
//! * Repeated observations of the same relation **merge**: counts add, the
//!   first/last times widen. The integrator can therefore emit one observation
//!   per log line or one per aggregated database row, with the same result.
//! * Times are `time::OffsetDateTime`, normalised to UTC on entry and written
//!   as RFC 3339 (`2026-03-01T20:15:00Z`) by every export.
//! * A **blind hit** is a node another agency holds and has not released: it
//!   carries only the kind and "held by `<agency>`". The builder refuses any
//!   label or attribute on such a node, so no export can leak content from it.
//!   The caller must also give it an opaque key (a reference number, not the
//!   handle itself): the key is the one thing the library cannot check.

use std::collections::BTreeMap;

/// Hash map with foldhash: building a million-edge graph is dominated by
/// these lookups, and foldhash is about twice as fast as SipHash on short
/// keys. It is seeded per process, which keeps crafted keys (handles are
/// attacker-chosen) from degrading it predictably.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::GraphError;

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A (possibly unidentified) human being.
    Person,
    /// A chat handle / nickname on a platform.
    Handle,
    /// Any other identifier: e-mail, IP, phone, payment account, URL.
    Identifier,
    /// A chat room / channel / group.
    Room,
    /// A seized or observed device.
    Device,
    /// A series of media (known images grouped by similarity); never content.
    MediaSeries,
}

impl NodeKind {
    /// The lower-case name used in every export.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Person => "person",
            NodeKind::Handle => "handle",
            NodeKind::Identifier => "identifier",
            NodeKind::Room => "room",
            NodeKind::Device => "device",
            NodeKind::MediaSeries => "media_series",
        }
    }

    /// Persons and the things that stand in for a person (handles,
    /// identifiers, devices): the nodes that can act, send and be ranked.
    pub fn is_actor(self) -> bool {
        matches!(
            self,
            NodeKind::Person | NodeKind::Handle | NodeKind::Identifier | NodeKind::Device
        )
    }
}

/// What an edge stands for. Counts mean different things per kind (see each
/// variant); they are always "how much evidence", never a weight chosen by
/// hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// actor → room; count = sessions/observations of presence.
    MemberOf,
    /// actor → room; made an operator/administrator. Carries who granted it;
    /// `first_seen` is when it was granted.
    OperatorOf,
    /// actor → room; ran / created the room.
    HostOf,
    /// actor → actor; count = messages addressed.
    Addressed,
    /// actor → actor, room or media series; count = files offered (chat DCC
    /// offers, file lists).
    OfferedFiles,
    /// actor → actor or media series; count = files sent (DCC SEND, forensic
    /// evidence of supply).
    SentFiles,
    /// undirected, between actors or media series; count = hashes in common.
    SharedMedia,
    /// undirected, between actors; carries accepted/candidate status and a
    /// score. Count = number of independent reasons or observations.
    SameAs,
    /// undirected, actor – actor; count = times seen together.
    CoPresence,
    /// person → handle / identifier / device; count = observations.
    Uses,
    /// person or device → media series; count = distinct files of the series
    /// on the device (on all the person's devices for a person). Hashes and
    /// match metadata only: the edge says a series is held, never what is in it.
    Holds,
}

impl EdgeKind {
    /// All kinds, in export order.
    pub const ALL: [EdgeKind; 11] = [
        EdgeKind::MemberOf,
        EdgeKind::OperatorOf,
        EdgeKind::HostOf,
        EdgeKind::Addressed,
        EdgeKind::OfferedFiles,
        EdgeKind::SentFiles,
        EdgeKind::SharedMedia,
        EdgeKind::SameAs,
        EdgeKind::CoPresence,
        EdgeKind::Uses,
        EdgeKind::Holds,
    ];

    /// The lower-case name used in every export.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::MemberOf => "member_of",
            EdgeKind::OperatorOf => "operator_of",
            EdgeKind::HostOf => "host_of",
            EdgeKind::Addressed => "addressed",
            EdgeKind::OfferedFiles => "offered_files",
            EdgeKind::SentFiles => "sent_files",
            EdgeKind::SharedMedia => "shared_media",
            EdgeKind::SameAs => "same_as",
            EdgeKind::CoPresence => "co_presence",
            EdgeKind::Uses => "uses",
            EdgeKind::Holds => "holds",
        }
    }

    /// Kinds without a direction; stored with endpoints in key order.
    pub fn is_symmetric(self) -> bool {
        matches!(
            self,
            EdgeKind::SharedMedia | EdgeKind::SameAs | EdgeKind::CoPresence
        )
    }

    /// Which endpoint kinds make sense. Catches integrator mistakes (a room
    /// "using" a person) before they turn into nonsense analytics.
    fn allows(self, s: NodeKind, t: NodeKind) -> bool {
        use NodeKind as N;
        match self {
            EdgeKind::MemberOf | EdgeKind::OperatorOf | EdgeKind::HostOf => {
                s.is_actor() && t == N::Room
            }
            EdgeKind::Addressed | EdgeKind::CoPresence => s.is_actor() && t.is_actor(),
            EdgeKind::OfferedFiles => {
                s.is_actor() && (t.is_actor() || t == N::Room || t == N::MediaSeries)
            }
            EdgeKind::SentFiles => s.is_actor() && (t.is_actor() || t == N::MediaSeries),
            EdgeKind::SharedMedia => {
                (s.is_actor() || s == N::MediaSeries) && (t.is_actor() || t == N::MediaSeries)
            }
            EdgeKind::SameAs => s.is_actor() && t.is_actor(),
            EdgeKind::Uses => s == N::Person && matches!(t, N::Handle | N::Identifier | N::Device),
            EdgeKind::Holds => matches!(s, N::Person | N::Device) && t == N::MediaSeries,
        }
    }
}

/// Whether a same-as link has been accepted by an analyst or is only a
/// machine-proposed candidate. Candidates are shown (dashed) but never merge
/// identities and by default never carry a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SameAsStatus {
    /// Proposed by a matcher; not yet confirmed.
    Candidate,
    /// Confirmed (or an observed nick change).
    Accepted,
}

impl SameAsStatus {
    /// The lower-case name used in every export.
    pub fn as_str(self) -> &'static str {
        match self {
            SameAsStatus::Candidate => "candidate",
            SameAsStatus::Accepted => "accepted",
        }
    }
}

/// A user attribute value. One name has one type across the whole graph
/// (enforced by the builder), because GraphML and GEXF declare types per key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    /// `true`/`false`.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// Free text.
    Text(String),
}

impl AttrValue {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            AttrValue::Bool(_) => "boolean",
            AttrValue::Int(_) => "long",
            AttrValue::Float(_) => "double",
            AttrValue::Text(_) => "string",
        }
    }

    pub(crate) fn to_text(&self) -> String {
        match self {
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Float(f) => f.to_string(),
            AttrValue::Text(s) => s.clone(),
        }
    }
}

/// Dense index of a node in an [`OffenderGraph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// Position in [`OffenderGraph::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Dense index of an edge in an [`OffenderGraph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(pub(crate) u32);

impl EdgeId {
    /// Position in [`OffenderGraph::edges`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A node. Fields are private so that a blind hit cannot acquire content
/// after construction.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    key: String,
    kind: NodeKind,
    label: String,
    attrs: BTreeMap<String, AttrValue>,
    held_by: Option<String>,
}

impl Node {
    /// The caller's stable key.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// What the node stands for.
    pub fn kind(&self) -> NodeKind {
        self.kind
    }
    /// Display label; for a blind hit exactly `held by <agency>`.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// User attributes (always empty for a blind hit).
    pub fn attributes(&self) -> &BTreeMap<String, AttrValue> {
        &self.attrs
    }
    /// `Some(agency)` if this node is a blind hit held by that agency.
    pub fn blind_hit(&self) -> Option<&str> {
        self.held_by.as_deref()
    }
}

/// How much evidence supports a relation, and over what period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Number of observations (messages, files, hashes, ...; see [`EdgeKind`]).
    pub count: u64,
    /// First observation.
    pub first_seen: OffsetDateTime,
    /// Last observation.
    pub last_seen: OffsetDateTime,
}

impl Evidence {
    /// Evidence of `count` observations between `first` and `last`.
    pub fn new(count: u64, first: OffsetDateTime, last: OffsetDateTime) -> Self {
        Evidence {
            count,
            first_seen: first,
            last_seen: last,
        }
    }
    /// A single observation at `at`.
    pub fn once(at: OffsetDateTime) -> Self {
        Evidence::new(1, at, at)
    }
}

/// Status and score of a same-as edge.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SameAs {
    /// Accepted or candidate.
    pub status: SameAsStatus,
    /// Matcher score in `[0, 1]` (1 for an accepted, observed nick change).
    pub score: f64,
}

/// An edge with its evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub(crate) source: NodeId,
    pub(crate) target: NodeId,
    pub(crate) kind: EdgeKind,
    pub(crate) count: u64,
    pub(crate) first_seen: OffsetDateTime,
    pub(crate) last_seen: OffsetDateTime,
    pub(crate) granted_by: Option<NodeId>,
    pub(crate) same_as: Option<SameAs>,
}

impl Edge {
    /// Source node (for symmetric kinds: the one with the smaller key).
    pub fn source(&self) -> NodeId {
        self.source
    }
    /// Target node.
    pub fn target(&self) -> NodeId {
        self.target
    }
    /// What the edge stands for.
    pub fn kind(&self) -> EdgeKind {
        self.kind
    }
    /// Evidence count (sum of merged observations).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// First observation (UTC).
    pub fn first_seen(&self) -> OffsetDateTime {
        self.first_seen
    }
    /// Last observation (UTC).
    pub fn last_seen(&self) -> OffsetDateTime {
        self.last_seen
    }
    /// For [`EdgeKind::OperatorOf`]: who granted operator status, if known.
    pub fn granted_by(&self) -> Option<NodeId> {
        self.granted_by
    }
    /// For [`EdgeKind::SameAs`]: status and score.
    pub fn same_as(&self) -> Option<SameAs> {
        self.same_as
    }
    /// True for a candidate (unconfirmed) same-as link.
    pub fn is_candidate(&self) -> bool {
        matches!(
            self.same_as,
            Some(SameAs {
                status: SameAsStatus::Candidate,
                ..
            })
        )
    }
}

/// The immutable offender network. Build it with [`GraphBuilder`].
#[derive(Clone, Debug, Default)]
pub struct OffenderGraph {
    /// Instance number, so that an analysis graph or metrics can be checked
    /// against the graph they came from (see [`next_instance`]).
    pub(crate) instance: u64,
    pub(crate) nodes: Vec<Node>,
    pub(crate) edges: Vec<Edge>,
    pub(crate) index: HashMap<String, NodeId>,
}

impl OffenderGraph {
    /// All nodes, indexed by [`NodeId::index`].
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    /// All edges, indexed by [`EdgeId::index`].
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    /// Number of (merged) edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }
    /// Look a node up by key.
    pub fn node_id(&self, key: &str) -> Option<NodeId> {
        self.index.get(key).copied()
    }
    /// The node with this id.
    ///
    /// Ids only come from this graph, so indexing cannot fail for ids it
    /// handed out; `None` for a foreign id.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }
    pub(crate) fn n(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }
    /// Earliest and latest edge time touching each node (`None` for isolated
    /// nodes). Used for "first seen" in exports and the newcomer list.
    pub fn node_time_span(&self) -> Vec<Option<(OffsetDateTime, OffsetDateTime)>> {
        let mut span: Vec<Option<(OffsetDateTime, OffsetDateTime)>> = vec![None; self.nodes.len()];
        for e in &self.edges {
            for n in [e.source, e.target] {
                let s = &mut span[n.index()];
                *s = Some(match *s {
                    None => (e.first_seen, e.last_seen),
                    Some((f, l)) => (f.min(e.first_seen), l.max(e.last_seen)),
                });
            }
        }
        span
    }
}

/// A process-wide counter, not randomness: distinct graphs built in one
/// process get distinct numbers, clones share theirs (they are equal).
pub(crate) fn next_instance() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Names the exports use for their own columns; user attributes may not
/// shadow them.
pub(crate) const RESERVED_ATTRS: &[&str] = &[
    "id",
    "key",
    "kind",
    "label",
    "blind_hit",
    "held_by",
    "first_seen",
    "last_seen",
    "degree",
    "degree_centrality",
    "strength",
    "betweenness",
    "pagerank",
    "community",
    "source",
    "target",
    "count",
    "weight",
];

type EdgeKey = (u32, u32, EdgeKind, Option<u32>);

/// Fills an [`OffenderGraph`]. Every method validates its input and returns
/// a [`GraphError`] instead of panicking: the data comes from the store and
/// from other agencies.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    g: OffenderGraph,
    edge_index: HashMap<EdgeKey, u32>,
    attr_types: HashMap<String, &'static str>,
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room for `nodes` nodes and `edges` edges.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        let mut b = Self::default();
        b.g.nodes.reserve(nodes);
        b.g.index.reserve(nodes);
        b.g.edges.reserve(edges);
        b.edge_index.reserve(edges);
        b
    }

    fn check_key(key: &str) -> Result<(), GraphError> {
        if key.is_empty() {
            return Err(GraphError::EmptyKey);
        }
        Ok(())
    }

    /// Add a node, or return the existing one with this key. Adding the same
    /// key twice is idempotent when the kind agrees (the first label stays).
    pub fn node(&mut self, key: &str, kind: NodeKind, label: &str) -> Result<NodeId, GraphError> {
        Self::check_key(key)?;
        if let Some(&id) = self.g.index.get(key) {
            let n = self.g.n(id);
            if n.kind != kind {
                return Err(GraphError::KindConflict {
                    key: key.to_owned(),
                    existing: n.kind,
                    new: kind,
                });
            }
            if n.held_by.is_some() {
                return Err(GraphError::BlindHitContent(key.to_owned()));
            }
            return Ok(id);
        }
        self.push_node(Node {
            key: key.to_owned(),
            kind,
            label: label.to_owned(),
            attrs: BTreeMap::new(),
            held_by: None,
        })
    }

    /// Add a blind-hit node: known only as "held by `agency`". It carries no
    /// label or attributes, ever.
    pub fn blind_hit(
        &mut self,
        key: &str,
        kind: NodeKind,
        agency: &str,
    ) -> Result<NodeId, GraphError> {
        Self::check_key(key)?;
        if agency.trim().is_empty() {
            return Err(GraphError::EmptyAgency(key.to_owned()));
        }
        if let Some(&id) = self.g.index.get(key) {
            let n = self.g.n(id);
            return match &n.held_by {
                Some(a) if a == agency && n.kind == kind => Ok(id),
                _ => Err(GraphError::BlindHitConflict(key.to_owned())),
            };
        }
        self.push_node(Node {
            key: key.to_owned(),
            kind,
            label: format!("held by {agency}"),
            attrs: BTreeMap::new(),
            held_by: Some(agency.to_owned()),
        })
    }

    fn push_node(&mut self, node: Node) -> Result<NodeId, GraphError> {
        let idx = u32::try_from(self.g.nodes.len()).map_err(|_| GraphError::TooLarge)?;
        let id = NodeId(idx);
        self.g.index.insert(node.key.clone(), id);
        self.g.nodes.push(node);
        Ok(id)
    }

    /// Set a user attribute on a node. The name must not be one of the
    /// exports' own columns, and one name keeps one type graph-wide.
    pub fn attr(&mut self, key: &str, name: &str, value: AttrValue) -> Result<(), GraphError> {
        let id = self.lookup(key)?;
        if self.g.n(id).held_by.is_some() {
            return Err(GraphError::BlindHitContent(key.to_owned()));
        }
        if name.is_empty() || RESERVED_ATTRS.contains(&name) {
            return Err(GraphError::ReservedAttribute(name.to_owned()));
        }
        if let AttrValue::Float(f) = value
            && !f.is_finite()
        {
            return Err(GraphError::NonFinite(name.to_owned()));
        }
        let ty = value.type_name();
        match self.attr_types.get(name) {
            Some(&t) if t != ty => {
                return Err(GraphError::AttributeType {
                    name: name.to_owned(),
                    existing: t,
                    new: ty,
                });
            }
            Some(_) => {}
            None => {
                self.attr_types.insert(name.to_owned(), ty);
            }
        }
        self.g.nodes[id.index()]
            .attrs
            .insert(name.to_owned(), value);
        Ok(())
    }

    fn lookup(&self, key: &str) -> Result<NodeId, GraphError> {
        self.g
            .index
            .get(key)
            .copied()
            .ok_or_else(|| GraphError::UnknownNode(key.to_owned()))
    }

    /// Record a relation of a kind that needs no extra detail. For
    /// [`EdgeKind::OperatorOf`] this records an unknown granter; for
    /// [`EdgeKind::SameAs`] use [`GraphBuilder::same_as`].
    pub fn relate(
        &mut self,
        source: &str,
        target: &str,
        kind: EdgeKind,
        ev: Evidence,
    ) -> Result<EdgeId, GraphError> {
        if kind == EdgeKind::SameAs {
            return Err(GraphError::SameAsNeedsStatus);
        }
        self.add_edge(source, target, kind, ev, None, None)
    }

    /// Record that `actor` was made operator/administrator of `room`, by
    /// `granted_by` (a node key) if known, at `ev.first_seen`. Grants by
    /// different people stay separate edges.
    pub fn operator_of(
        &mut self,
        actor: &str,
        room: &str,
        granted_by: Option<&str>,
        ev: Evidence,
    ) -> Result<EdgeId, GraphError> {
        let g = granted_by.map(|k| self.lookup(k)).transpose()?;
        self.add_edge(actor, room, EdgeKind::OperatorOf, ev, g, None)
    }

    /// Record a same-as link (accepted, or a candidate with a matcher score in
    /// `[0, 1]`). Merging keeps the strongest status and the highest score.
    pub fn same_as(
        &mut self,
        a: &str,
        b: &str,
        status: SameAsStatus,
        score: f64,
        ev: Evidence,
    ) -> Result<EdgeId, GraphError> {
        if !(0.0..=1.0).contains(&score) {
            return Err(GraphError::BadScore(score));
        }
        self.add_edge(
            a,
            b,
            EdgeKind::SameAs,
            ev,
            None,
            Some(SameAs { status, score }),
        )
    }

    fn add_edge(
        &mut self,
        source: &str,
        target: &str,
        kind: EdgeKind,
        ev: Evidence,
        granted_by: Option<NodeId>,
        same_as: Option<SameAs>,
    ) -> Result<EdgeId, GraphError> {
        let mut s = self.lookup(source)?;
        let mut t = self.lookup(target)?;
        if s == t {
            return Err(GraphError::SelfLoop(source.to_owned()));
        }
        let (sk, tk) = (self.g.n(s).kind, self.g.n(t).kind);
        if !kind.allows(sk, tk) {
            return Err(GraphError::EndpointKinds {
                kind,
                from: sk,
                to: tk,
            });
        }
        let first = utc(ev.first_seen);
        let last = utc(ev.last_seen);
        if first > last {
            return Err(GraphError::TimeOrder {
                from: source.to_owned(),
                to: target.to_owned(),
            });
        }
        if kind.is_symmetric() && self.g.n(s).key > self.g.n(t).key {
            std::mem::swap(&mut s, &mut t);
        }
        let ek: EdgeKey = (s.0, t.0, kind, granted_by.map(|g| g.0));
        if let Some(&ix) = self.edge_index.get(&ek) {
            let e = &mut self.g.edges[ix as usize];
            e.count = e.count.saturating_add(ev.count);
            e.first_seen = e.first_seen.min(first);
            e.last_seen = e.last_seen.max(last);
            if let (Some(old), Some(new)) = (e.same_as.as_mut(), same_as) {
                old.status = old.status.max(new.status);
                old.score = old.score.max(new.score);
            }
            return Ok(EdgeId(ix));
        }
        let ix = u32::try_from(self.g.edges.len()).map_err(|_| GraphError::TooLarge)?;
        self.g.edges.push(Edge {
            source: s,
            target: t,
            kind,
            count: ev.count,
            first_seen: first,
            last_seen: last,
            granted_by,
            same_as,
        });
        self.edge_index.insert(ek, ix);
        Ok(EdgeId(ix))
    }

    /// Finish: the graph is immutable from here on.
    pub fn build(self) -> OffenderGraph {
        let mut g = self.g;
        g.instance = next_instance();
        g
    }
}

impl OffenderGraph {
    /// The edges active in `[from, to]` (evidence span overlapping the
    /// window) and the nodes they touch. For "who was active last quarter"
    /// questions and for replaying an operation period by period.
    ///
    /// Counts stay whole: the model keeps only each edge's first and last
    /// time, not every observation, so an edge that overlaps the window keeps
    /// its full count. For exact per-period counts, build the graph from the
    /// period's rows instead.
    pub fn time_window(&self, from: OffsetDateTime, to: OffsetDateTime) -> OffenderGraph {
        let keep_edge: Vec<bool> = self
            .edges
            .iter()
            .map(|e| e.first_seen <= to && e.last_seen >= from)
            .collect();
        let mut keep_node = vec![false; self.node_count()];
        for (e, &k) in self.edges.iter().zip(&keep_edge) {
            if k {
                keep_node[e.source.index()] = true;
                keep_node[e.target.index()] = true;
            }
        }
        self.subgraph(&keep_node, Some(&keep_edge))
    }

    /// Nodes flagged in `keep_node` (model order preserved) and the edges
    /// among them (optionally only those flagged in `keep_edge`).
    fn subgraph(&self, keep_node: &[bool], keep_edge: Option<&[bool]>) -> OffenderGraph {
        let mut new_id = vec![u32::MAX; self.node_count()];
        let mut out = OffenderGraph {
            instance: next_instance(),
            ..OffenderGraph::default()
        };
        for (old, node) in self.nodes.iter().enumerate() {
            if keep_node[old] {
                let id = NodeId(out.nodes.len() as u32);
                new_id[old] = id.0;
                out.index.insert(node.key.clone(), id);
                out.nodes.push(node.clone());
            }
        }
        for (i, e) in self.edges.iter().enumerate() {
            if keep_edge.is_some_and(|k| !k[i]) {
                continue;
            }
            let (s, t) = (new_id[e.source.index()], new_id[e.target.index()]);
            if s == u32::MAX || t == u32::MAX {
                continue;
            }
            let mut e2 = e.clone();
            e2.source = NodeId(s);
            e2.target = NodeId(t);
            e2.granted_by = e.granted_by.and_then(|gb| {
                let n = new_id[gb.index()];
                (n != u32::MAX).then_some(NodeId(n))
            });
            out.edges.push(e2);
        }
        out
    }

    /// The part of the graph within `hops` edges (either direction, any kind)
    /// of the `centre` nodes, at most `max_nodes` nodes, with every edge
    /// among the kept nodes. Nodes are taken in breadth-first order (centre
    /// first, then by model order), so the cut at `max_nodes` is
    /// deterministic. For the web view and case-scoped exports, where the
    /// whole network is too big to draw.
    ///
    /// Grants (`granted_by`) that point outside the kept nodes are dropped
    /// from the edge, since the node they name is not in the result.
    pub fn neighbourhood(
        &self,
        centre: &[&str],
        hops: usize,
        max_nodes: usize,
    ) -> Result<OffenderGraph, GraphError> {
        let n = self.node_count();
        let mut adj_off = vec![0usize; n + 1];
        for e in &self.edges {
            adj_off[e.source.index() + 1] += 1;
            adj_off[e.target.index() + 1] += 1;
        }
        for i in 0..n {
            adj_off[i + 1] += adj_off[i];
        }
        let mut fill = adj_off[..n].to_vec();
        let mut adj = vec![0u32; adj_off[n]];
        for e in &self.edges {
            let (s, t) = (e.source.index(), e.target.index());
            adj[fill[s]] = t as u32;
            fill[s] += 1;
            adj[fill[t]] = s as u32;
            fill[t] += 1;
        }
        for i in 0..n {
            adj[adj_off[i]..adj_off[i + 1]].sort_unstable();
        }
        let mut depth = vec![usize::MAX; n];
        let mut order: Vec<u32> = Vec::new();
        for k in centre {
            let id = self
                .node_id(k)
                .ok_or_else(|| GraphError::UnknownNode((*k).to_owned()))?;
            if depth[id.index()] == usize::MAX && order.len() < max_nodes {
                depth[id.index()] = 0;
                order.push(id.0);
            }
        }
        let mut head = 0;
        while head < order.len() && order.len() < max_nodes {
            let v = order[head] as usize;
            head += 1;
            if depth[v] >= hops {
                continue;
            }
            for &u in &adj[adj_off[v]..adj_off[v + 1]] {
                if order.len() >= max_nodes {
                    break;
                }
                if depth[u as usize] == usize::MAX {
                    depth[u as usize] = depth[v] + 1;
                    order.push(u);
                }
            }
        }
        let mut keep = vec![false; n];
        for &v in &order {
            keep[v as usize] = true;
        }
        Ok(self.subgraph(&keep, None))
    }
}
