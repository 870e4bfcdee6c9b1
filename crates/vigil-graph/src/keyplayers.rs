//! The key-players report, at person level: who runs the rooms, who was
//! made administrator by whom and when, who distributes most, who brokers
//! between communities, who appeared recently — and one overall ranking
//! with the reasons for each place.
//!
//! Everything is computed on the [`View::Person`] analysis graph, so a host
//! who changed alias is one entry with both aliases, and a distributor's
//! files sent under several handles add up.
//!
//! The overall ranking is a **transparent weighted sum**, not a learned
//! model, so that an officer can say in court why someone is listed first:
//! `score = host·[hosts a room] + admin·[administers a room]
//!        + files·(files supplied / max) + recipients·(recipients / max)
//!        + betweenness·(betweenness / max) + pagerank·(pagerank / max)`.
//! Every non-zero term is listed as a reason. Default weights put roles
//! first (host 3, admin 1) because running a room is what the investigations
//! this is modelled on went after first; the weights are options.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::GraphError;
use crate::metrics::{Metrics, MetricsOptions, compute_metrics};
use crate::model::{EdgeKind, OffenderGraph};
use crate::paths::{PathNode, path_node};
use crate::view::{AnalysisGraph, View, ViewOptions};

/// Weights of the overall ranking (see module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct KeyPlayerWeights {
    /// Hosts at least one room.
    pub host: f64,
    /// Administers at least one room.
    pub admin: f64,
    /// Files supplied (sent + offered), relative to the top supplier.
    pub files: f64,
    /// Distinct recipients, relative to the top.
    pub recipients: f64,
    /// Betweenness, relative to the top.
    pub betweenness: f64,
    /// PageRank, relative to the top.
    pub pagerank: f64,
}

impl Default for KeyPlayerWeights {
    fn default() -> Self {
        KeyPlayerWeights {
            host: 3.0,
            admin: 1.0,
            files: 1.0,
            recipients: 0.5,
            betweenness: 1.0,
            pagerank: 0.5,
        }
    }
}

/// Options for [`key_players`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyPlayerOptions {
    /// "Now" for the newcomer list (the library has no clock).
    pub as_of: OffsetDateTime,
    /// Newcomers: first seen within this window before `as_of`.
    pub new_within: Duration,
    /// Length of each top list.
    pub top_n: usize,
    /// Metrics (betweenness, PageRank, Louvain) settings.
    pub metrics: MetricsOptions,
    /// Ranking weights.
    pub weights: KeyPlayerWeights,
}

impl KeyPlayerOptions {
    /// Defaults: newcomers within 30 days, top 20 lists.
    pub fn new(as_of: OffsetDateTime) -> Self {
        KeyPlayerOptions {
            as_of,
            new_within: Duration::days(30),
            top_n: 20,
            metrics: MetricsOptions::default(),
            weights: KeyPlayerWeights::default(),
        }
    }
}

/// A ranked player with the reasons for the score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankedPlayer {
    /// 1-based rank.
    pub rank: usize,
    /// Who (person, or an unattached handle/identifier).
    pub player: PathNode,
    /// Score (see module docs).
    pub score: f64,
    /// Human-readable reasons, one per non-zero term.
    pub reasons: Vec<String>,
}

/// A room host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostEntry {
    /// Who.
    pub player: PathNode,
    /// Labels of the rooms hosted.
    pub rooms: Vec<String>,
    /// Earliest host-of evidence.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// An administrator appointment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdminEntry {
    /// Who was made administrator.
    pub player: PathNode,
    /// The handle (or other model node) that held the status.
    pub as_handle: String,
    /// Room label.
    pub room: String,
    /// Who appointed them, if recorded (at person level).
    pub appointed_by: Option<PathNode>,
    /// The handle (label) under which the appointer granted it.
    pub appointed_by_handle: Option<String>,
    /// When (first evidence of the status).
    #[serde(with = "time::serde::rfc3339")]
    pub appointed_at: OffsetDateTime,
    /// Evidence count.
    pub count: u64,
}

/// A distributor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistributorEntry {
    /// Who.
    pub player: PathNode,
    /// Files sent (sum of sent-files counts to others).
    pub files_sent: u64,
    /// Files offered.
    pub files_offered: u64,
    /// Sent + offered.
    pub files_supplied: u64,
    /// Distinct actors that received or were offered files.
    pub recipients: usize,
    /// Hashes shared with others' devices (shared-media counts).
    pub shared_media_hashes: u64,
}

/// A broker between communities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrokerEntry {
    /// Who.
    pub player: PathNode,
    /// Normalised betweenness.
    pub betweenness: f64,
    /// Distinct communities among the player and its neighbours.
    pub communities_bridged: usize,
}

/// Someone first seen recently.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewcomerEntry {
    /// Who.
    pub player: PathNode,
    /// First evidence touching them.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyPlayersReport {
    /// Overall ranking (top `top_n`).
    pub ranking: Vec<RankedPlayer>,
    /// All hosts, by number of rooms then first seen.
    pub hosts: Vec<HostEntry>,
    /// All administrator appointments, by time.
    pub administrators: Vec<AdminEntry>,
    /// Top distributors by files supplied.
    pub distributors_by_files: Vec<DistributorEntry>,
    /// Top distributors by number of recipients.
    pub distributors_by_recipients: Vec<DistributorEntry>,
    /// Top players by hashes their seized devices share with other players'
    /// devices. Forensic rather than chat evidence of supply: it names the
    /// persons once the devices are recorded as theirs, and it cannot say
    /// which way the files went, so it is a list of its own rather than a
    /// term of `files_supplied`.
    pub distributors_by_shared_media: Vec<DistributorEntry>,
    /// Top brokers (betweenness, bridging ≥ 2 communities).
    pub brokers: Vec<BrokerEntry>,
    /// Players first seen within the window.
    pub newcomers: Vec<NewcomerEntry>,
    /// Number of communities found.
    pub communities: usize,
    /// Their modularity.
    pub modularity: f64,
    /// Betweenness sources used (equals the node count when exact).
    pub betweenness_pivots: usize,
}

#[derive(Default, Clone)]
struct Acc {
    sent: u64,
    offered: u64,
    recipients: BTreeSet<usize>,
    shared: u64,
    hosts: BTreeSet<usize>,
    host_since: Option<OffsetDateTime>,
    admin: bool,
    first_seen: Option<OffsetDateTime>,
}

/// Build the person-level graph, compute its metrics and the report.
pub fn key_players(
    g: &OffenderGraph,
    opts: &KeyPlayerOptions,
) -> Result<KeyPlayersReport, GraphError> {
    let ag = AnalysisGraph::new(
        g,
        ViewOptions {
            view: View::Person,
            include_candidate_same_as: false,
        },
    );
    let m = compute_metrics(&ag, &opts.metrics);
    key_players_with(g, &ag, &m, opts)
}

/// As [`key_players`], with a person-level graph and metrics already
/// computed (e.g. shared with the export).
pub fn key_players_with(
    g: &OffenderGraph,
    ag: &AnalysisGraph,
    m: &Metrics,
    opts: &KeyPlayerOptions,
) -> Result<KeyPlayersReport, GraphError> {
    if !ag.belongs_to(g) || ag.view() != View::Person || !m.fits(ag) {
        return Err(GraphError::MetricsMismatch);
    }
    if opts.top_n == 0 {
        return Err(GraphError::InvalidOption("top_n must be at least 1".into()));
    }
    let n = ag.node_count();
    let vn = |id: crate::model::NodeId| ag.view_node(id).unwrap_or(0);
    let is_player = |v: usize| {
        ag.representative(v)
            .map(|r| g.n(r).kind().is_actor())
            .unwrap_or(false)
    };
    let mut acc = vec![Acc::default(); n];
    let mut admins = Vec::new();
    for e in &g.edges {
        let (s, t) = (vn(e.source), vn(e.target));
        for v in [s, t] {
            let f = &mut acc[v].first_seen;
            *f = Some(f.map_or(e.first_seen, |x| x.min(e.first_seen)));
        }
        match e.kind {
            EdgeKind::SentFiles | EdgeKind::OfferedFiles if s != t => {
                if e.kind == EdgeKind::SentFiles {
                    acc[s].sent += e.count;
                } else {
                    acc[s].offered += e.count;
                }
                if is_player(t) {
                    acc[s].recipients.insert(t);
                }
            }
            EdgeKind::SharedMedia if s != t => {
                acc[s].shared += e.count;
                acc[t].shared += e.count;
            }
            EdgeKind::HostOf => {
                acc[s].hosts.insert(t);
                let h = &mut acc[s].host_since;
                *h = Some(h.map_or(e.first_seen, |x| x.min(e.first_seen)));
            }
            EdgeKind::OperatorOf => {
                acc[s].admin = true;
                admins.push(AdminEntry {
                    player: path_node(g, ag, s),
                    as_handle: g.n(e.source).label().to_owned(),
                    room: g.n(e.target).label().to_owned(),
                    appointed_by: e.granted_by.map(|x| path_node(g, ag, vn(x))),
                    appointed_by_handle: e.granted_by.map(|x| g.n(x).label().to_owned()),
                    appointed_at: e.first_seen,
                    count: e.count,
                });
            }
            _ => {}
        }
    }
    admins.sort_by(|a, b| {
        (a.appointed_at, &a.player.key, &a.room).cmp(&(b.appointed_at, &b.player.key, &b.room))
    });

    let label_of = |v: usize| {
        ag.representative(v)
            .map(|r| g.n(r).label().to_owned())
            .unwrap_or_default()
    };
    let players: Vec<usize> = (0..n).filter(|&v| is_player(v)).collect();
    let max_of = |f: &dyn Fn(usize) -> f64| players.iter().map(|&v| f(v)).fold(0.0f64, f64::max);
    let supplied = |v: usize| (acc[v].sent + acc[v].offered) as f64;
    let recips = |v: usize| acc[v].recipients.len() as f64;
    let (mx_f, mx_r) = (max_of(&supplied), max_of(&recips));
    let (mx_b, mx_p) = (max_of(&|v| m.betweenness[v]), max_of(&|v| m.pagerank[v]));
    let w = opts.weights;
    let rel = |x: f64, mx: f64| if mx > 0.0 { x / mx } else { 0.0 };
    let mut scored: Vec<(f64, usize, Vec<String>)> = players
        .iter()
        .map(|&v| {
            let a = &acc[v];
            let mut score = 0.0;
            let mut why = Vec::new();
            if !a.hosts.is_empty() {
                score += w.host;
                let rooms: Vec<String> = a.hosts.iter().map(|&r| label_of(r)).collect();
                why.push(format!(
                    "hosts {} room(s): {}",
                    rooms.len(),
                    rooms.join(", ")
                ));
            }
            if a.admin {
                score += w.admin;
                why.push("administrator of a room".to_owned());
            }
            if supplied(v) > 0.0 {
                score += w.files * rel(supplied(v), mx_f);
                why.push(format!(
                    "supplied {} file(s) ({} sent, {} offered)",
                    a.sent + a.offered,
                    a.sent,
                    a.offered
                ));
            }
            if recips(v) > 0.0 {
                score += w.recipients * rel(recips(v), mx_r);
                why.push(format!("{} recipient(s)", a.recipients.len()));
            }
            if m.betweenness[v] > 0.0 {
                score += w.betweenness * rel(m.betweenness[v], mx_b);
                why.push(format!("betweenness {:.4}", m.betweenness[v]));
            }
            score += w.pagerank * rel(m.pagerank[v], mx_p);
            why.push(format!("PageRank {:.5}", m.pagerank[v]));
            (score, v, why)
        })
        .collect();
    let key_of = |v: usize| {
        ag.representative(v)
            .map(|r| g.n(r).key().to_owned())
            .unwrap_or_default()
    };
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| key_of(a.1).cmp(&key_of(b.1)))
    });
    let ranking = scored
        .into_iter()
        .take(opts.top_n)
        .enumerate()
        .map(|(i, (score, v, reasons))| RankedPlayer {
            rank: i + 1,
            player: path_node(g, ag, v),
            score,
            reasons,
        })
        .collect();

    let mut hosts: Vec<HostEntry> = players
        .iter()
        .filter(|&&v| !acc[v].hosts.is_empty())
        .map(|&v| HostEntry {
            player: path_node(g, ag, v),
            rooms: acc[v].hosts.iter().map(|&r| label_of(r)).collect(),
            since: acc[v].host_since.unwrap_or(opts.as_of),
        })
        .collect();
    hosts.sort_by(|a, b| {
        b.rooms
            .len()
            .cmp(&a.rooms.len())
            .then(a.since.cmp(&b.since))
            .then_with(|| a.player.key.cmp(&b.player.key))
    });

    let dist = |v: usize| DistributorEntry {
        player: path_node(g, ag, v),
        files_sent: acc[v].sent,
        files_offered: acc[v].offered,
        files_supplied: acc[v].sent + acc[v].offered,
        recipients: acc[v].recipients.len(),
        shared_media_hashes: acc[v].shared,
    };
    let top = |key: &dyn Fn(usize) -> f64| -> Vec<DistributorEntry> {
        let mut v: Vec<usize> = players.iter().copied().filter(|&v| key(v) > 0.0).collect();
        v.sort_by(|&a, &b| {
            key(b)
                .total_cmp(&key(a))
                .then_with(|| key_of(a).cmp(&key_of(b)))
        });
        v.into_iter().take(opts.top_n).map(dist).collect()
    };
    let distributors_by_files = top(&supplied);
    let distributors_by_recipients = top(&recips);
    let distributors_by_shared_media = top(&|v: usize| acc[v].shared as f64);

    let comm = &m.communities.membership;
    let mut brokers: Vec<BrokerEntry> = players
        .iter()
        .filter_map(|&v| {
            let mut cs: BTreeMap<u32, ()> = BTreeMap::new();
            cs.insert(comm[v], ());
            for &u in ag.neighbors(v).0 {
                cs.insert(comm[u as usize], ());
            }
            (cs.len() >= 2 && m.betweenness[v] > 0.0).then(|| BrokerEntry {
                player: path_node(g, ag, v),
                betweenness: m.betweenness[v],
                communities_bridged: cs.len(),
            })
        })
        .collect();
    brokers.sort_by(|a, b| {
        b.betweenness
            .total_cmp(&a.betweenness)
            .then_with(|| a.player.key.cmp(&b.player.key))
    });
    brokers.truncate(opts.top_n);

    let since = opts.as_of - opts.new_within;
    let mut newcomers: Vec<NewcomerEntry> = players
        .iter()
        .filter(|&&v| {
            ag.representative(v)
                .is_some_and(|r| g.n(r).blind_hit().is_none())
        })
        .filter_map(|&v| {
            let f = acc[v].first_seen?;
            (f >= since && f <= opts.as_of).then(|| NewcomerEntry {
                player: path_node(g, ag, v),
                first_seen: f,
            })
        })
        .collect();
    newcomers.sort_by(|a, b| {
        b.first_seen
            .cmp(&a.first_seen)
            .then_with(|| a.player.key.cmp(&b.player.key))
    });

    Ok(KeyPlayersReport {
        ranking,
        hosts,
        administrators: admins,
        distributors_by_files,
        distributors_by_recipients,
        distributors_by_shared_media,
        brokers,
        newcomers,
        communities: m.communities.count,
        modularity: m.communities.modularity,
        betweenness_pivots: m.betweenness_pivots,
    })
}

/// One community, for `vigil graph communities`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommunityEntry {
    /// Community number (as in the exports' `community` column).
    pub id: u32,
    /// Analysis nodes in it (players, rooms, media series).
    pub size: usize,
    /// Players (persons and unattached identifiers) in it.
    pub players: usize,
    /// Labels of the rooms in it.
    pub rooms: Vec<String>,
    /// Its most central players by PageRank, most central first.
    pub central: Vec<PathNode>,
    /// Associations inside the community.
    pub internal_edges: usize,
    /// Associations leaving it.
    pub external_edges: usize,
    /// Its strongest ties to other communities (CrimeNet-style
    /// blockmodel: which groups interact, and how much), strongest first,
    /// at most `top_members`.
    pub links: Vec<CommunityLink>,
}

/// Ties between two communities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommunityLink {
    /// The other community.
    pub other: u32,
    /// Associations between the two.
    pub edges: usize,
    /// Their summed evidence weight.
    pub weight: f64,
}

/// Summarise the communities of `m` on `ag`, largest first, naming up to
/// `top_members` central players of each.
pub fn communities_report(
    g: &OffenderGraph,
    ag: &AnalysisGraph,
    m: &Metrics,
    top_members: usize,
) -> Result<Vec<CommunityEntry>, GraphError> {
    if !ag.belongs_to(g) || !m.fits(ag) {
        return Err(GraphError::MetricsMismatch);
    }
    let mut by: Vec<Vec<usize>> = vec![Vec::new(); m.communities.count];
    for (v, &c) in m.communities.membership.iter().enumerate() {
        if let Some(list) = by.get_mut(c as usize) {
            list.push(v);
        }
    }
    let kind_of = |v: usize| ag.representative(v).map(|r| g.n(r).kind());
    let memb = &m.communities.membership;
    let mut internal = vec![0usize; m.communities.count];
    let mut external = vec![0usize; m.communities.count];
    let mut between: BTreeMap<(u32, u32), (usize, f64)> = BTreeMap::new();
    for e in 0..ag.edge_count() {
        let (a, b) = ag.ends(e);
        let (ca, cb) = (memb[a as usize], memb[b as usize]);
        if ca == cb {
            internal[ca as usize] += 1;
        } else {
            external[ca as usize] += 1;
            external[cb as usize] += 1;
            for key in [(ca, cb), (cb, ca)] {
                let x = between.entry(key).or_insert((0, 0.0));
                x.0 += 1;
                x.1 += ag.weight(e);
            }
        }
    }
    let mut out: Vec<CommunityEntry> = by
        .into_iter()
        .enumerate()
        .map(|(id, vs)| {
            let mut players: Vec<usize> = vs
                .iter()
                .copied()
                .filter(|&v| kind_of(v).is_some_and(|k| k.is_actor()))
                .collect();
            players.sort_by(|&a, &b| m.pagerank[b].total_cmp(&m.pagerank[a]).then(a.cmp(&b)));
            let rooms = vs
                .iter()
                .filter(|&&v| kind_of(v) == Some(crate::model::NodeKind::Room))
                .filter_map(|&v| ag.representative(v).map(|r| g.n(r).label().to_owned()))
                .collect();
            CommunityEntry {
                id: id as u32,
                size: vs.len(),
                players: players.len(),
                rooms,
                central: players
                    .iter()
                    .take(top_members)
                    .map(|&v| path_node(g, ag, v))
                    .collect(),
                internal_edges: internal[id],
                external_edges: external[id],
                links: {
                    let mut l: Vec<CommunityLink> = between
                        .range((id as u32, 0)..(id as u32 + 1, 0))
                        .map(|(&(_, other), &(edges, weight))| CommunityLink {
                            other,
                            edges,
                            weight,
                        })
                        .collect();
                    l.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.other.cmp(&b.other)));
                    l.truncate(top_members);
                    l
                },
            }
        })
        .collect();
    out.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    Ok(out)
}
