//! The acceptance scenarios from the issue, on the synthetic operation of
//! `common::scenario`.

mod common;

use common::{at, scenario};
use time::Duration;
use vigil_graph::paths::PathKind;
use vigil_graph::{
    AnalysisGraph, EdgeKind, KeyPlayerOptions, MetricsOptions, ViewOptions, compute_metrics,
    find_path, key_players,
};

fn report() -> vigil_graph::KeyPlayersReport {
    let g = scenario();
    let mut o = KeyPlayerOptions::new(at(112));
    o.new_within = Duration::days(30);
    key_players(&g, &o).unwrap()
}

#[test]
fn host_who_changed_alias_is_ranked_first_as_one_person() {
    let r = report();
    let first = &r.ranking[0];
    assert_eq!(first.rank, 1);
    assert_eq!(first.player.key, "p:host");
    // Both aliases folded into the one person.
    assert!(first.player.aliases.contains(&"G.O.D.".to_owned()));
    assert!(first.player.aliases.contains(&"SonOfGod".to_owned()));
    assert!(
        first.reasons[0].starts_with("hosts 2 room(s)"),
        "{:?}",
        first.reasons
    );
    assert_eq!(r.hosts.len(), 1);
    assert_eq!(r.hosts[0].player.key, "p:host");
    assert_eq!(r.hosts[0].rooms, vec!["#room-one", "#room-two"]);
    assert_eq!(r.hosts[0].since, at(0));
    // Scores are sorted.
    assert!(r.ranking.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn administrators_are_listed_with_who_appointed_them_and_when() {
    let r = report();
    let admins: Vec<(&str, &str, Option<&str>, time::OffsetDateTime)> = r
        .administrators
        .iter()
        .map(|a| {
            (
                a.player.key.as_str(),
                a.room.as_str(),
                a.appointed_by.as_ref().map(|p| p.key.as_str()),
                a.appointed_at,
            )
        })
        .collect();
    assert_eq!(
        admins,
        vec![
            ("p:mod", "#room-one", Some("p:host"), at(5)),
            // The undercover officer, appointed by the host under his new alias.
            ("p:uc", "#room-two", Some("p:host"), at(90)),
        ]
    );
    assert_eq!(r.administrators[1].as_handle, "lurker22");
    assert_eq!(
        r.administrators[1].appointed_by_handle.as_deref(),
        Some("SonOfGod")
    );
}

#[test]
fn top_distributor_is_named_with_images_supplied() {
    let r = report();
    let top = &r.distributors_by_files[0];
    assert_eq!(top.player.key, "p:dist");
    assert_eq!(top.files_sent, 11_491);
    assert_eq!(top.files_supplied, 11_491);
    assert_eq!(top.recipients, 3);
    // Shared hashes of the seized laptop count towards the person.
    assert_eq!(top.shared_media_hashes, 7_400);
    assert_eq!(r.distributors_by_recipients[0].player.key, "p:dist");
    // The host offered 120 to the room and sent 40: second by files.
    assert_eq!(r.distributors_by_files[1].player.key, "p:host");
    assert_eq!(r.distributors_by_files[1].files_supplied, 160);
}

#[test]
fn newcomers_and_brokers() {
    let r = report();
    let new: Vec<&str> = r.newcomers.iter().map(|n| n.player.key.as_str()).collect();
    // bob first appears on day 100, everyone else before day 82; the blind
    // hit (linked on day 105) is not a newcomer: it is someone else's record.
    assert_eq!(new, vec!["p:bob"]);
    assert!(r.communities >= 2);
    assert!(r.modularity > 0.0);
    assert!(!r.brokers.is_empty());
    assert!(r.brokers.iter().all(|b| b.communities_bridged >= 2));
}

#[test]
fn shortest_path_between_strangers_goes_through_their_shared_administrator() {
    let g = scenario();
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    let p = find_path(&g, &ag, "p:alice", "p:bob", PathKind::Shortest)
        .unwrap()
        .unwrap();
    let keys: Vec<&str> = p.nodes.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(keys, vec!["p:alice", "p:mod", "p:bob"]);
    assert_eq!(p.cost, 2.0);
    assert_eq!(p.hops.len(), 2);
    let e = &p.hops[0].evidence;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, EdgeKind::Addressed);
    assert_eq!(
        (e[0].source.as_str(), e[0].target.as_str()),
        ("h:alice", "h:mod")
    );
    assert_eq!(e[0].count, 2);
    assert_eq!(e[0].first_seen, at(30));
    assert_eq!(e[0].last_seen, at(31));
    // Handle keys are resolvable too: the path starts at alice's person.
    let q = find_path(&g, &ag, "h:alice", "h:bob", PathKind::Shortest)
        .unwrap()
        .unwrap();
    assert_eq!(q.nodes[1].key, "p:mod");
}

#[test]
fn strongest_path_follows_the_most_evidence() {
    let g = scenario();
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    let p = find_path(&g, &ag, "p:alice", "p:bob", PathKind::Strongest)
        .unwrap()
        .unwrap();
    let keys: Vec<&str> = p.nodes.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(keys, vec!["p:alice", "p:carol", "p:gina", "p:bob"]);
    assert!(
        p.hops
            .iter()
            .all(|h| h.evidence.iter().any(|e| e.count == 400))
    );
    // JSON for the CLI: times are RFC 3339.
    let j = serde_json::to_value(&p).unwrap();
    assert_eq!(
        j["hops"][0]["evidence"][0]["first_seen"],
        "2026-01-30T20:00:00Z"
    );
}

#[test]
fn candidate_links_carry_no_path_unless_asked() {
    let g = scenario();
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    assert!(
        find_path(&g, &ag, "p:bob", "blind:UK-0042", PathKind::Shortest)
            .unwrap()
            .is_none()
    );
    let with = AnalysisGraph::new(
        &g,
        ViewOptions {
            include_candidate_same_as: true,
            ..ViewOptions::default()
        },
    );
    let p = find_path(&g, &with, "p:bob", "blind:UK-0042", PathKind::Shortest)
        .unwrap()
        .unwrap();
    assert_eq!(p.nodes[1].label, "held by UK-NCA");
    assert!(find_path(&g, &ag, "p:bob", "p:nobody", PathKind::Shortest).is_err());
}

#[test]
fn person_view_folds_aliases_devices_and_nick_changes() {
    let g = scenario();
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    let host = ag.view_node(g.node_id("p:host").unwrap()).unwrap();
    assert_eq!(ag.view_node(g.node_id("h:songod").unwrap()), Some(host));
    assert_eq!(ag.view_node(g.node_id("h:god").unwrap()), Some(host));
    let dist = ag.view_node(g.node_id("p:dist").unwrap()).unwrap();
    assert_eq!(ag.view_node(g.node_id("d:dist").unwrap()), Some(dist));
    // 10 persons + 2 rooms + the blind hit.
    assert_eq!(ag.node_count(), 13);
    let m = compute_metrics(&ag, &MetricsOptions::default());
    assert_eq!(
        m.betweenness_pivots, 13,
        "small graphs get exact betweenness"
    );
    let s: f64 = m.pagerank.iter().sum();
    assert!((s - 1.0).abs() < 1e-9);
}

#[test]
fn analytics_are_deterministic() {
    let g = scenario();
    assert_eq!(report(), report());
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    let a = compute_metrics(&ag, &MetricsOptions::default());
    let b = compute_metrics(&ag, &MetricsOptions::default());
    assert_eq!(a, b);
}

#[test]
fn identifier_shared_by_two_persons_is_not_folded() {
    use vigil_graph::{GraphBuilder, NodeKind};
    let mut b = GraphBuilder::new();
    b.node("p:1", NodeKind::Person, "One").unwrap();
    b.node("p:2", NodeKind::Person, "Two").unwrap();
    b.node("ip:1", NodeKind::Identifier, "198.51.100.7")
        .unwrap();
    b.node("h:1", NodeKind::Handle, "one").unwrap();
    b.relate("p:1", "ip:1", EdgeKind::Uses, common::ev(1, 0, 0))
        .unwrap();
    b.relate("p:2", "ip:1", EdgeKind::Uses, common::ev(1, 0, 0))
        .unwrap();
    b.relate("p:1", "h:1", EdgeKind::Uses, common::ev(1, 0, 0))
        .unwrap();
    let g = b.build();
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    let v = |k: &str| ag.view_node(g.node_id(k).unwrap()).unwrap();
    assert_ne!(v("p:1"), v("p:2"), "a shared IP must not merge two people");
    assert_ne!(v("ip:1"), v("p:1"));
    assert_eq!(v("h:1"), v("p:1"));
    // The shared IP connects the two persons.
    let p = find_path(&g, &ag, "p:1", "p:2", PathKind::Shortest)
        .unwrap()
        .unwrap();
    assert_eq!(p.nodes[1].key, "ip:1");
}

#[test]
fn neighbourhood_keeps_nodes_within_hops_and_their_edges() {
    let g = scenario();
    let sub = g.neighbourhood(&["p:alice"], 1, 100).unwrap();
    let mut keys: Vec<&str> = sub.nodes().iter().map(|n| n.key()).collect();
    keys.sort();
    assert_eq!(keys, vec!["h:alice", "p:alice"]);
    let sub = g.neighbourhood(&["h:alice"], 1, 100).unwrap();
    let keys: std::collections::BTreeSet<&str> = sub.nodes().iter().map(|n| n.key()).collect();
    assert_eq!(
        keys,
        ["h:alice", "p:alice", "r:1", "h:mod", "h:carol", "h:god"].into()
    );
    // Every kept edge has both ends kept; edges among kept nodes are all there.
    assert!(
        sub.edges()
            .iter()
            .all(|e| e.source().index() < sub.node_count())
    );
    let among = g
        .edges()
        .iter()
        .filter(|e| {
            keys.contains(g.nodes()[e.source().index()].key())
                && keys.contains(g.nodes()[e.target().index()].key())
        })
        .count();
    assert_eq!(sub.edge_count(), among);
    // The cap is respected and the centre is always kept.
    let capped = g.neighbourhood(&["h:alice"], 3, 3).unwrap();
    assert_eq!(capped.node_count(), 3);
    assert!(capped.node_id("h:alice").is_some());
    assert!(g.neighbourhood(&["nope"], 1, 10).is_err());
}

#[test]
fn communities_report_covers_every_node_once() {
    let g = scenario();
    let ag = AnalysisGraph::new(&g, ViewOptions::default());
    let m = compute_metrics(&ag, &MetricsOptions::default());
    let c = vigil_graph::communities_report(&g, &ag, &m, 3).unwrap();
    assert_eq!(c.len(), m.communities.count);
    assert_eq!(c.iter().map(|x| x.size).sum::<usize>(), ag.node_count());
    assert!(c.windows(2).all(|w| w[0].size >= w[1].size));
    let rooms: Vec<&String> = c.iter().flat_map(|x| &x.rooms).collect();
    assert_eq!(rooms.len(), 2);
    assert!(c.iter().all(|x| x.central.len() <= 3));
    // Edge accounting: every association is inside one community or
    // between two, and the blockmodel links are symmetric.
    let internal: usize = c.iter().map(|x| x.internal_edges).sum();
    let external: usize = c.iter().map(|x| x.external_edges).sum();
    assert_eq!(internal + external / 2, ag.edge_count());
    for x in &c {
        for l in &x.links {
            let back = c.iter().find(|y| y.id == l.other).unwrap();
            assert!(
                back.links
                    .iter()
                    .any(|b| b.other == x.id && b.edges == l.edges)
                    || back.links.len() == 3
            );
        }
    }
    // Serialisable for `--json`.
    assert!(serde_json::to_string(&c).unwrap().contains("\"central\""));
    assert!(
        serde_json::to_string(&m)
            .unwrap()
            .contains("\"modularity\"")
    );
}

#[test]
fn time_window_keeps_active_edges_and_their_nodes() {
    let g = scenario();
    // Days 80..=89: the alias change and the second room, before the
    // undercover officer's appointment (day 90).
    let w = g.time_window(at(80), at(89));
    assert!(w.node_id("h:songod").is_some());
    assert!(w.node_id("r:2").is_some());
    assert!(
        w.edges()
            .iter()
            .all(|e| e.first_seen() <= at(89) && e.last_seen() >= at(80))
    );
    assert!(
        !w.edges()
            .iter()
            .any(|e| e.kind() == EdgeKind::OperatorOf
                && w.nodes()[e.source().index()].key() == "h:uc")
    );
    // bob only appears from day 100.
    assert!(w.node_id("h:bob").is_none());
    // Counts are kept whole.
    let whole = g.time_window(at(-1000), at(1000));
    assert_eq!(whole.edge_count(), g.edge_count());
    let nodes_with_edges = g
        .nodes()
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            g.edges()
                .iter()
                .any(|e| e.source().index() == *i || e.target().index() == *i)
        })
        .count();
    assert_eq!(whole.node_count(), nodes_with_edges);
    // The windowed graph is a graph like any other.
    let ag = AnalysisGraph::new(&w, ViewOptions::default());
    assert!(ag.node_count() > 0);
    assert!(g.time_window(at(500), at(600)).node_count() == 0);
}

#[test]
fn synthetic_network_hits_its_size_and_ranks_a_host_first() {
    use vigil_graph::synthetic::{SyntheticSpec, offender_network};
    let spec = SyntheticSpec::small(7);
    let data = offender_network(&spec);
    let g = data.build().unwrap();
    assert_eq!(
        g.node_count(),
        spec.persons + spec.handles + spec.rooms + spec.devices
    );
    assert_eq!(g.edge_count(), spec.target_edges);
    // Same seed, same network.
    assert_eq!(offender_network(&spec).build().unwrap().edges(), g.edges());
    let r = key_players(&g, &KeyPlayerOptions::new(at(400))).unwrap();
    assert!(
        r.ranking[0].reasons[0].starts_with("hosts"),
        "{:?}",
        r.ranking[0]
    );
    assert!(!r.administrators.is_empty());
    assert!(r.administrators.iter().all(|a| a.appointed_by.is_some()));
    assert!(r.communities > 1);
}
