//! Seeded synthetic networks for tests and benchmarks. Every name is
//! invented (`nick123`, `#room7`); nothing here resembles real data.
//!
//! [`offender_network`] mimics the structure the analytics are meant for:
//! "scenes" of rooms, each room with a host and administrators appointed by
//! the host, members who mostly stay within their scene, people with several
//! handles (some linked by nick changes), a few heavy distributors, and
//! seized devices sharing hashes. Room popularity is skewed so that some
//! rooms (and their hosts) are much more central than others.

use time::{Duration, OffsetDateTime};

use crate::GraphError;
use crate::model::{EdgeKind, Evidence, GraphBuilder, NodeKind, OffenderGraph, SameAsStatus};
use crate::rng::SplitMix64;
use crate::view::AnalysisGraph;

/// Size and seed of a synthetic offender network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Persons.
    pub persons: usize,
    /// Handles (at least one per person; the rest are extra aliases).
    pub handles: usize,
    /// Rooms.
    pub rooms: usize,
    /// Groups of rooms that share most of their members.
    pub scenes: usize,
    /// Seized devices (each owned by one person).
    pub devices: usize,
    /// Edges to reach after merging (filled up with `addressed` edges).
    pub target_edges: usize,
    /// Seed.
    pub seed: u64,
}

impl SyntheticSpec {
    /// 100,000 nodes and 1,000,000 edges: the benchmark size.
    pub fn bench() -> Self {
        SyntheticSpec {
            persons: 35_000,
            handles: 50_000,
            rooms: 2_000,
            scenes: 100,
            devices: 13_000,
            target_edges: 1_000_000,
            seed: 20_261_129,
        }
    }
    /// A few hundred nodes, for tests.
    pub fn small(seed: u64) -> Self {
        SyntheticSpec {
            persons: 150,
            handles: 220,
            rooms: 12,
            scenes: 3,
            devices: 40,
            target_edges: 2_000,
            seed,
        }
    }
}

/// One synthetic relation, kept as plain data so that building the graph can
/// be timed apart from generating it.
#[derive(Clone, Debug)]
pub struct SyntheticEdge {
    /// Source key.
    pub source: String,
    /// Target key.
    pub target: String,
    /// Kind.
    pub kind: EdgeKind,
    /// Granter key, for operator-of.
    pub granted_by: Option<String>,
    /// Evidence.
    pub evidence: Evidence,
}

/// A generated network before it is built.
#[derive(Clone, Debug, Default)]
pub struct SyntheticData {
    /// `(key, kind, label)`.
    pub nodes: Vec<(String, NodeKind, String)>,
    /// Relations (may contain repeats, which the builder merges).
    pub edges: Vec<SyntheticEdge>,
}

impl SyntheticData {
    /// Feed everything through a [`GraphBuilder`].
    pub fn build(&self) -> Result<OffenderGraph, GraphError> {
        let mut b = GraphBuilder::with_capacity(self.nodes.len(), self.edges.len());
        for (k, kind, label) in &self.nodes {
            b.node(k, *kind, label)?;
        }
        for e in &self.edges {
            match e.kind {
                EdgeKind::SameAs => {
                    b.same_as(
                        &e.source,
                        &e.target,
                        SameAsStatus::Accepted,
                        1.0,
                        e.evidence,
                    )?;
                }
                EdgeKind::OperatorOf => {
                    b.operator_of(&e.source, &e.target, e.granted_by.as_deref(), e.evidence)?;
                }
                k => {
                    b.relate(&e.source, &e.target, k, e.evidence)?;
                }
            }
        }
        Ok(b.build())
    }
}

struct Gen {
    rng: SplitMix64,
    base: OffsetDateTime,
}

impl Gen {
    fn ev(&mut self, max_count: usize) -> Evidence {
        let start = self.base + Duration::seconds(self.rng.below(300 * 86_400) as i64);
        let end = start + Duration::seconds(self.rng.below(60 * 86_400) as i64);
        Evidence::new(1 + self.rng.below(max_count) as u64, start, end)
    }
}

/// Generate the network described by `spec`.
pub fn offender_network(spec: &SyntheticSpec) -> SyntheticData {
    let mut g = Gen {
        rng: SplitMix64::new(spec.seed),
        base: time::macros::datetime!(2026-01-01 00:00 UTC),
    };
    let persons = spec.persons.max(1);
    let handles = spec.handles.max(persons);
    let rooms = spec.rooms.max(1);
    let scenes = spec.scenes.clamp(1, rooms);
    let mut d = SyntheticData::default();
    for p in 0..persons {
        d.nodes
            .push((format!("p{p}"), NodeKind::Person, format!("person-{p}")));
    }
    for h in 0..handles {
        d.nodes
            .push((format!("h{h}"), NodeKind::Handle, format!("nick{h}")));
    }
    for r in 0..rooms {
        d.nodes
            .push((format!("r{r}"), NodeKind::Room, format!("#room{r}")));
    }
    for x in 0..spec.devices {
        d.nodes
            .push((format!("d{x}"), NodeKind::Device, format!("device-{x}")));
    }
    let edge = |d: &mut SyntheticData, s: String, t: String, kind, ev, granted_by| {
        d.edges.push(SyntheticEdge {
            source: s,
            target: t,
            kind,
            granted_by,
            evidence: ev,
        });
    };
    // Handles → persons: the first `persons` handles are one each; extra
    // aliases go to random persons, half of them as an observed nick change.
    let mut owner = vec![0usize; handles];
    for (h, o) in owner.iter_mut().enumerate() {
        *o = if h < persons { h } else { g.rng.below(persons) };
        let ev = g.ev(50);
        edge(
            &mut d,
            format!("p{o}"),
            format!("h{h}"),
            EdgeKind::Uses,
            ev,
            None,
        );
        if h >= persons && g.rng.below(2) == 0 {
            let ev = g.ev(3);
            edge(
                &mut d,
                format!("h{o}"),
                format!("h{h}"),
                EdgeKind::SameAs,
                ev,
                None,
            );
        }
    }
    let scene_of_person: Vec<usize> = (0..persons).map(|p| p % scenes).collect();
    let rooms_in_scene: Vec<Vec<usize>> = (0..scenes)
        .map(|s| (0..rooms).filter(|r| r % scenes == s).collect())
        .collect();
    // Membership: 1 + geometric rooms per handle, 90 % within the scene,
    // skewed towards the scene's first rooms (u² picks low indices).
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); rooms];
    for (h, &o) in owner.iter().enumerate() {
        let home = scene_of_person[o];
        let joins = 1 + (0..6).take_while(|_| g.rng.unit() < 0.6).count();
        for _ in 0..joins {
            let scene = if g.rng.unit() < 0.9 {
                home
            } else {
                g.rng.below(scenes)
            };
            let list = &rooms_in_scene[scene];
            let u = g.rng.unit();
            let r = list[((u * u) * list.len() as f64) as usize % list.len()];
            if !members[r].contains(&h) {
                members[r].push(h);
                let ev = g.ev(40);
                edge(
                    &mut d,
                    format!("h{h}"),
                    format!("r{r}"),
                    EdgeKind::MemberOf,
                    ev,
                    None,
                );
            }
        }
    }
    // Hosts and administrators (appointed by the host).
    for (r, m) in members.iter().enumerate() {
        if m.is_empty() {
            continue;
        }
        let host = m[0];
        let ev = g.ev(1);
        edge(
            &mut d,
            format!("h{host}"),
            format!("r{r}"),
            EdgeKind::HostOf,
            ev,
            None,
        );
        for _ in 0..(1 + g.rng.below(3)).min(m.len() - 1) {
            let a = m[1 + g.rng.below(m.len() - 1)];
            let ev = g.ev(1);
            edge(
                &mut d,
                format!("h{a}"),
                format!("r{r}"),
                EdgeKind::OperatorOf,
                ev,
                Some(format!("h{host}")),
            );
        }
    }
    // Devices and shared media within a scene.
    let dev_owner: Vec<usize> = (0..spec.devices).map(|_| g.rng.below(persons)).collect();
    for (x, &o) in dev_owner.iter().enumerate() {
        let ev = g.ev(1);
        edge(
            &mut d,
            format!("p{o}"),
            format!("d{x}"),
            EdgeKind::Uses,
            ev,
            None,
        );
    }
    let mut dev_by_scene: Vec<Vec<usize>> = vec![Vec::new(); scenes];
    for (x, &o) in dev_owner.iter().enumerate() {
        dev_by_scene[scene_of_person[o]].push(x);
    }
    for list in &dev_by_scene {
        if list.len() < 2 {
            continue;
        }
        for _ in 0..list.len() {
            let (a, b) = (list[g.rng.below(list.len())], list[g.rng.below(list.len())]);
            if a != b {
                let ev = g.ev(2_000);
                edge(
                    &mut d,
                    format!("d{a}"),
                    format!("d{b}"),
                    EdgeKind::SharedMedia,
                    ev,
                    None,
                );
            }
        }
    }
    let occupied: Vec<usize> = (0..rooms).filter(|&r| members[r].len() >= 2).collect();
    // Distributors: 3 % of handles send files to members of their rooms.
    if !occupied.is_empty() {
        for h in 0..handles {
            if g.rng.below(100) >= 3 {
                continue;
            }
            for _ in 0..(5 + g.rng.below(40)) {
                let r = occupied[g.rng.below(occupied.len())];
                let to = members[r][g.rng.below(members[r].len())];
                if to != h {
                    let ev = g.ev(500);
                    edge(
                        &mut d,
                        format!("h{h}"),
                        format!("h{to}"),
                        EdgeKind::SentFiles,
                        ev,
                        None,
                    );
                }
            }
        }
    }
    // Fill with "addressed" between members of the same room (rooms weighted
    // by size, as busy rooms carry more talk) until the target is reached.
    // Track distinct pairs to know when the merged count reaches the target.
    let mut seen = std::collections::HashSet::new();
    for e in &d.edges {
        let (s, t) = if e.kind.is_symmetric() && e.source > e.target {
            (&e.target, &e.source)
        } else {
            (&e.source, &e.target)
        };
        seen.insert((s.clone(), t.clone(), e.kind, e.granted_by.clone()));
    }
    let mut merged = seen.len();
    let weights: Vec<usize> = occupied.iter().map(|&r| members[r].len()).collect();
    let total: usize = weights.iter().sum();
    let mut cum = Vec::with_capacity(weights.len());
    let mut acc = 0;
    for w in &weights {
        acc += w;
        cum.push(acc);
    }
    let mut guard = 0usize;
    while merged < spec.target_edges && total > 0 && guard < spec.target_edges * 20 {
        guard += 1;
        let pick = g.rng.below(total);
        let i = cum.partition_point(|&c| c <= pick);
        let m = &members[occupied[i]];
        let (a, b) = (m[g.rng.below(m.len())], m[g.rng.below(m.len())]);
        if a == b {
            continue;
        }
        let key = (format!("h{a}"), format!("h{b}"), EdgeKind::Addressed, None);
        if seen.insert(key.clone()) {
            merged += 1;
            let ev = g.ev(30);
            edge(&mut d, key.0, key.1, EdgeKind::Addressed, ev, None);
        }
    }
    d
}

/// An undirected weighted graph with `clusters` planted groups (80 % of
/// edges inside a group), for algorithm tests.
pub fn random_clustered(n: usize, m: usize, clusters: usize, seed: u64) -> AnalysisGraph {
    let mut rng = SplitMix64::new(seed);
    let clusters = clusters.clamp(1, n.max(1));
    let mut e = Vec::with_capacity(m);
    if n >= 2 {
        while e.len() < m {
            let u = rng.below(n);
            let v = if rng.unit() < 0.8 {
                let c = u % clusters;
                let size = (n - c).div_ceil(clusters);
                c + clusters * rng.below(size)
            } else {
                rng.below(n)
            };
            if u != v {
                e.push((u as u32, v as u32, 1.0 + rng.below(4) as f64));
            }
        }
    }
    AnalysisGraph::from_edge_list(n, &e)
}
