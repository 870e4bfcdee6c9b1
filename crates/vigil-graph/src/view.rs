//! The analysis graph: an undirected, weighted, simple graph derived from an
//! [`OffenderGraph`], either node for node ([`View::Raw`]) or at person level
//! ([`View::Person`]).
//!
//! Why undirected: the questions asked of it (who is central, who brokers
//! between groups, how are two suspects connected) are about association,
//! and an association exists whichever way the files went. Direction stays in
//! the model and in every piece of evidence returned.
//!
//! Why collapse parallel edges: a pair of suspects linked by messages, files
//! and a shared room is one association with more evidence, not three paths.
//! The weight of a collapsed edge is `Σ ln(1 + count)` over its evidence
//! edges (a count of 0 counts as 1): logarithmic so that one edge with 11,491
//! files does not drown every other signal, additive so that independent
//! kinds of evidence strengthen a link.
//!
//! Person level: handles, identifiers and devices are folded into the person
//! who `uses` them, and nodes joined by an **accepted** same-as edge are one
//! identity (a nick change makes two handles one node). An identifier used by
//! more than one distinct person (a shared IP, a shared account) is **not**
//! folded: it stays its own node, connecting those persons, because folding
//! it would silently merge two people. Candidate same-as links never fold
//! anything and, unless asked for, are left out of the analysis graph.

use crate::model::{EdgeId, EdgeKind, NodeId, NodeKind, OffenderGraph, SameAsStatus};

/// Which analysis graph to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Every node of the model is a node of the analysis graph.
    Raw,
    /// Handles/identifiers/devices folded into their persons (see module docs).
    Person,
}

/// How to derive the analysis graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewOptions {
    /// Raw or person level.
    pub view: View,
    /// Keep candidate same-as edges as ordinary links (never as merges).
    /// Off by default: an unconfirmed hypothesis should not carry a path.
    pub include_candidate_same_as: bool,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            view: View::Person,
            include_candidate_same_as: false,
        }
    }
}

/// An undirected weighted simple graph over groups of model nodes, stored as
/// compressed adjacency (CSR) for the analytics.
#[derive(Clone, Debug)]
pub struct AnalysisGraph {
    pub(crate) view: View,
    pub(crate) source_instance: u64,
    pub(crate) source_nodes: usize,
    pub(crate) source_edges: usize,
    mem_off: Vec<u32>,
    mem_ids: Vec<NodeId>,
    of_raw: Vec<u32>,
    ends: Vec<(u32, u32)>,
    weight: Vec<f64>,
    ev_off: Vec<u32>,
    ev_ids: Vec<EdgeId>,
    off: Vec<usize>,
    nbr: Vec<u32>,
    nbr_edge: Vec<u32>,
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind((0..n as u32).collect())
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // Smaller index becomes the root: keeps grouping independent of
            // the order unions happen in.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi as usize] = lo;
        }
    }
}

impl AnalysisGraph {
    /// Derive the analysis graph. Linear in nodes plus `E log E` in edges.
    pub fn new(g: &OffenderGraph, opts: ViewOptions) -> AnalysisGraph {
        let n = g.node_count();
        let mut uf = UnionFind::new(n);
        if opts.view == View::Person {
            person_groups(g, &mut uf);
        }
        // Group → view node, numbered by the group's first member in model order.
        let mut group_of_root = vec![u32::MAX; n];
        let mut of_raw = vec![0u32; n];
        let mut groups = 0u32;
        for (i, slot) in of_raw.iter_mut().enumerate() {
            let r = uf.find(i as u32) as usize;
            if group_of_root[r] == u32::MAX {
                group_of_root[r] = groups;
                groups += 1;
            }
            *slot = group_of_root[r];
        }
        let groups = groups as usize;
        // Members, representative first: the person with the smallest key,
        // else the member with the smallest key (stable across rebuilds).
        let mut mem_off = vec![0u32; groups + 1];
        for &v in &of_raw {
            mem_off[v as usize + 1] += 1;
        }
        for i in 0..groups {
            mem_off[i + 1] += mem_off[i];
        }
        let mut fill: Vec<u32> = mem_off[..groups].to_vec();
        let mut mem_ids = vec![NodeId(0); n];
        for (i, &v) in of_raw.iter().enumerate() {
            mem_ids[fill[v as usize] as usize] = NodeId(i as u32);
            fill[v as usize] += 1;
        }
        for v in 0..groups {
            let slice = &mut mem_ids[mem_off[v] as usize..mem_off[v + 1] as usize];
            if slice.len() > 1 {
                let best = (0..slice.len())
                    .min_by(|&a, &b| {
                        let (na, nb) = (g.n(slice[a]), g.n(slice[b]));
                        let pa = na.kind() != NodeKind::Person;
                        let pb = nb.kind() != NodeKind::Person;
                        (pa, na.key()).cmp(&(pb, nb.key()))
                    })
                    .unwrap_or(0);
                slice.swap(0, best);
                slice[1..].sort();
            }
        }

        // Collapse edges between groups.
        let mut triples: Vec<(u32, u32, u32)> = Vec::with_capacity(g.edge_count());
        for (i, e) in g.edges.iter().enumerate() {
            if e.kind == EdgeKind::SameAs
                && e.same_as.map(|s| s.status) == Some(SameAsStatus::Candidate)
                && !opts.include_candidate_same_as
            {
                continue;
            }
            let (a, b) = (of_raw[e.source.index()], of_raw[e.target.index()]);
            if a == b {
                continue;
            }
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            triples.push((a, b, i as u32));
        }
        triples.sort_unstable();
        let mut ends = Vec::new();
        let mut weight = Vec::new();
        let mut ev_off = vec![0u32];
        let mut ev_ids = Vec::with_capacity(triples.len());
        let mut i = 0;
        while i < triples.len() {
            let (a, b, _) = triples[i];
            let mut w = 0.0;
            while i < triples.len() && triples[i].0 == a && triples[i].1 == b {
                let e = &g.edges[triples[i].2 as usize];
                w += (1.0 + e.count.max(1) as f64).ln();
                ev_ids.push(EdgeId(triples[i].2));
                i += 1;
            }
            ends.push((a, b));
            weight.push(w);
            ev_off.push(ev_ids.len() as u32);
        }
        let (off, nbr, nbr_edge) = csr(groups, &ends);
        AnalysisGraph {
            view: opts.view,
            source_instance: g.instance,
            source_nodes: n,
            source_edges: g.edge_count(),
            mem_off,
            mem_ids,
            of_raw,
            ends,
            weight,
            ev_off,
            ev_ids,
            off,
            nbr,
            nbr_edge,
        }
    }

    /// Build directly from an undirected weighted edge list over `0..n` (for
    /// benchmarks and tests of the algorithms). Parallel edges are summed,
    /// self-loops dropped; there are no model nodes behind it.
    pub fn from_edge_list(n: usize, edges: &[(u32, u32, f64)]) -> AnalysisGraph {
        let mut t: Vec<(u32, u32, f64)> = edges
            .iter()
            .filter(|e| e.0 != e.1 && (e.0 as usize) < n && (e.1 as usize) < n)
            .map(|&(a, b, w)| if a < b { (a, b, w) } else { (b, a, w) })
            .collect();
        t.sort_unstable_by_key(|x| (x.0, x.1));
        let mut ends: Vec<(u32, u32)> = Vec::new();
        let mut weight: Vec<f64> = Vec::new();
        for (a, b, w) in t {
            if ends.last() == Some(&(a, b)) {
                if let Some(l) = weight.last_mut() {
                    *l += w;
                }
            } else {
                ends.push((a, b));
                weight.push(w);
            }
        }
        let (off, nbr, nbr_edge) = csr(n, &ends);
        AnalysisGraph {
            view: View::Raw,
            source_instance: 0,
            source_nodes: 0,
            source_edges: 0,
            mem_off: vec![0; n + 1],
            mem_ids: Vec::new(),
            of_raw: Vec::new(),
            ev_off: vec![0; ends.len() + 1],
            ev_ids: Vec::new(),
            ends,
            weight,
            off,
            nbr,
            nbr_edge,
        }
    }

    /// Raw or person view.
    pub fn view(&self) -> View {
        self.view
    }
    /// Number of analysis nodes.
    pub fn node_count(&self) -> usize {
        self.off.len() - 1
    }
    /// Number of collapsed undirected edges.
    pub fn edge_count(&self) -> usize {
        self.ends.len()
    }
    /// Model nodes folded into analysis node `v`, representative first.
    pub fn members(&self, v: usize) -> &[NodeId] {
        &self.mem_ids[self.mem_off[v] as usize..self.mem_off[v + 1] as usize]
    }
    /// The representative model node of `v` (whose key/label name it).
    pub fn representative(&self, v: usize) -> Option<NodeId> {
        self.members(v).first().copied()
    }
    /// Analysis node holding model node `id`.
    pub fn view_node(&self, id: NodeId) -> Option<usize> {
        self.of_raw.get(id.index()).map(|&v| v as usize)
    }
    /// Neighbours of `v` and the collapsed edge leading to each.
    pub fn neighbors(&self, v: usize) -> (&[u32], &[u32]) {
        let r = self.off[v]..self.off[v + 1];
        (&self.nbr[r.clone()], &self.nbr_edge[r])
    }
    /// Number of neighbours of `v`.
    pub fn degree(&self, v: usize) -> usize {
        self.off[v + 1] - self.off[v]
    }
    /// Endpoints of collapsed edge `e` (smaller first).
    pub fn ends(&self, e: usize) -> (u32, u32) {
        self.ends[e]
    }
    /// Weight (`Σ ln(1+count)`) of collapsed edge `e`.
    pub fn weight(&self, e: usize) -> f64 {
        self.weight[e]
    }
    /// The model edges behind collapsed edge `e`.
    pub fn evidence(&self, e: usize) -> &[EdgeId] {
        &self.ev_ids[self.ev_off[e] as usize..self.ev_off[e + 1] as usize]
    }
    /// Whether this view was derived from `g` (or a clone of it).
    pub(crate) fn belongs_to(&self, g: &OffenderGraph) -> bool {
        self.source_instance == g.instance
            && self.source_nodes == g.node_count()
            && self.source_edges == g.edge_count()
    }
    /// As a petgraph graph (node weight = analysis node, edge weight =
    /// collapsed edge index) for algorithms taken from petgraph/rustworkx.
    pub fn to_petgraph(&self) -> petgraph::graph::UnGraph<u32, u32> {
        let mut pg = petgraph::graph::UnGraph::with_capacity(self.node_count(), self.edge_count());
        for v in 0..self.node_count() {
            pg.add_node(v as u32);
        }
        for (i, &(a, b)) in self.ends.iter().enumerate() {
            pg.add_edge(
                petgraph::graph::NodeIndex::new(a as usize),
                petgraph::graph::NodeIndex::new(b as usize),
                i as u32,
            );
        }
        pg
    }
}

fn csr(n: usize, ends: &[(u32, u32)]) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
    let mut off = vec![0usize; n + 1];
    for &(a, b) in ends {
        off[a as usize + 1] += 1;
        off[b as usize + 1] += 1;
    }
    for i in 0..n {
        off[i + 1] += off[i];
    }
    let mut fill = off[..n].to_vec();
    let mut nbr = vec![0u32; 2 * ends.len()];
    let mut nbr_edge = vec![0u32; 2 * ends.len()];
    for (i, &(a, b)) in ends.iter().enumerate() {
        let (a, b) = (a as usize, b as usize);
        nbr[fill[a]] = b as u32;
        nbr_edge[fill[a]] = i as u32;
        fill[a] += 1;
        nbr[fill[b]] = a as u32;
        nbr_edge[fill[b]] = i as u32;
        fill[b] += 1;
    }
    (off, nbr, nbr_edge)
}

/// Union persons with handles/identifiers/devices they alone use, and nodes
/// joined by accepted same-as (see the module docs for the rules).
fn person_groups(g: &OffenderGraph, uf: &mut UnionFind) {
    let is_person = |id: NodeId| g.n(id).kind() == NodeKind::Person;
    let accepted = |e: &crate::model::Edge| e.kind == EdgeKind::SameAs && !e.is_candidate();
    // 1. Persons with persons, non-persons with non-persons.
    for e in &g.edges {
        if accepted(e) && is_person(e.source) == is_person(e.target) {
            uf.union(e.source.0, e.target.0);
        }
    }
    // 2. Which person groups use each non-person group.
    let mut users: Vec<(u32, u32)> = Vec::new();
    for e in &g.edges {
        let link =
            e.kind == EdgeKind::Uses || (accepted(e) && is_person(e.source) != is_person(e.target));
        if !link {
            continue;
        }
        let (p, x) = if is_person(e.source) {
            (e.source, e.target)
        } else {
            (e.target, e.source)
        };
        users.push((uf.find(x.0), uf.find(p.0)));
    }
    users.sort_unstable();
    users.dedup();
    // 3. Fold a non-person group into its person only if exactly one person
    //    group uses it.
    let mut i = 0;
    while i < users.len() {
        let x = users[i].0;
        let mut j = i;
        while j < users.len() && users[j].0 == x {
            j += 1;
        }
        if j - i == 1 {
            uf.union(x, users[i].1);
        }
        i = j;
    }
}
