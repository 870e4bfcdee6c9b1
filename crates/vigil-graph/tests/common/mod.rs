//! The synthetic acceptance scenario shared by the integration tests. All
//! names are invented.
#![allow(dead_code)]

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use vigil_graph::{EdgeKind, Evidence, GraphBuilder, NodeKind, OffenderGraph, SameAsStatus};

pub const T0: OffsetDateTime = datetime!(2026-01-10 20:00 UTC);

pub fn at(days: i64) -> OffsetDateTime {
    T0 + Duration::days(days)
}

pub fn ev(count: u64, from_day: i64, to_day: i64) -> Evidence {
    Evidence::new(count, at(from_day), at(to_day))
}

/// Two rooms; a host who changes alias ("G.O.D." hosts #room-one, later
/// "SonOfGod" hosts #room-two, the two handles linked by an accepted
/// nick-change same-as); an undercover officer made administrator of
/// #room-two by the host; a moderator made administrator of #room-one by
/// the host, who talks to alice (room one) and bob (room two), who never
/// met; a distributor who supplied 11,491 files to three people and whose
/// seized laptop shares 7,400 hashes with carol's phone; a strong chain
/// alice–carol–gina–bob; a candidate same-as from bob to a blind hit held by
/// another agency.
pub fn scenario() -> OffenderGraph {
    let mut b = GraphBuilder::new();
    let persons = [
        ("p:host", "Person H"),
        ("p:uc", "UC officer 7"),
        ("p:mod", "Person M"),
        ("p:dist", "Person D"),
        ("p:alice", "Person A"),
        ("p:bob", "Person B"),
        ("p:carol", "Person C"),
        ("p:erin", "Person E"),
        ("p:frank", "Person F"),
        ("p:gina", "Person G"),
    ];
    for (k, l) in persons {
        b.node(k, NodeKind::Person, l).unwrap();
    }
    let handles = [
        ("h:god", "G.O.D.", "p:host"),
        ("h:uc", "lurker22", "p:uc"),
        ("h:mod", "mod_m", "p:mod"),
        ("h:dist", "dealer", "p:dist"),
        ("h:alice", "alice_x", "p:alice"),
        ("h:bob", "bobby", "p:bob"),
        ("h:carol", "caro", "p:carol"),
        ("h:erin", "erin99", "p:erin"),
        ("h:frank", "frankie", "p:frank"),
        ("h:gina", "gg", "p:gina"),
    ];
    for (k, l, p) in handles {
        b.node(k, NodeKind::Handle, l).unwrap();
        // bob is new: first seen on day 100.
        let from = if k == "h:bob" { 100 } else { 0 };
        b.relate(p, k, EdgeKind::Uses, ev(10, from, 110)).unwrap();
    }
    // The host's second alias: no person link of its own, folded into the
    // host through the accepted nick change.
    b.node("h:songod", NodeKind::Handle, "SonOfGod").unwrap();
    b.same_as(
        "h:god",
        "h:songod",
        SameAsStatus::Accepted,
        1.0,
        ev(1, 80, 80),
    )
    .unwrap();
    b.node("r:1", NodeKind::Room, "#room-one").unwrap();
    b.node("r:2", NodeKind::Room, "#room-two").unwrap();
    b.node("d:dist", NodeKind::Device, "laptop of D").unwrap();
    b.node("d:carol", NodeKind::Device, "phone of C").unwrap();
    b.relate("p:dist", "d:dist", EdgeKind::Uses, ev(1, 95, 95))
        .unwrap();
    b.relate("p:carol", "d:carol", EdgeKind::Uses, ev(1, 96, 96))
        .unwrap();
    b.attr(
        "p:dist",
        "country",
        vigil_graph::AttrValue::Text("GB".into()),
    )
    .unwrap();
    b.attr("p:dist", "age", vigil_graph::AttrValue::Int(41))
        .unwrap();

    b.relate("h:god", "r:1", EdgeKind::HostOf, ev(1, 0, 0))
        .unwrap();
    b.relate("h:god", "r:1", EdgeKind::MemberOf, ev(60, 0, 79))
        .unwrap();
    b.relate("h:songod", "r:2", EdgeKind::HostOf, ev(1, 81, 81))
        .unwrap();
    b.relate("h:songod", "r:2", EdgeKind::MemberOf, ev(30, 81, 110))
        .unwrap();
    b.operator_of("h:mod", "r:1", Some("h:god"), ev(1, 5, 5))
        .unwrap();
    b.relate("h:mod", "r:1", EdgeKind::MemberOf, ev(40, 2, 79))
        .unwrap();
    b.operator_of("h:uc", "r:2", Some("h:songod"), ev(1, 90, 90))
        .unwrap();
    b.relate("h:uc", "r:2", EdgeKind::MemberOf, ev(20, 85, 110))
        .unwrap();
    b.relate("h:alice", "r:1", EdgeKind::MemberOf, ev(12, 3, 70))
        .unwrap();
    b.relate("h:bob", "r:2", EdgeKind::MemberOf, ev(8, 100, 110))
        .unwrap();
    b.relate("h:dist", "r:1", EdgeKind::MemberOf, ev(25, 10, 79))
        .unwrap();
    b.relate("h:carol", "r:1", EdgeKind::MemberOf, ev(5, 20, 60))
        .unwrap();
    b.relate("h:erin", "r:1", EdgeKind::MemberOf, ev(5, 20, 60))
        .unwrap();
    b.relate("h:frank", "r:2", EdgeKind::MemberOf, ev(5, 90, 100))
        .unwrap();
    b.relate("h:gina", "r:2", EdgeKind::MemberOf, ev(5, 90, 100))
        .unwrap();

    // The administrator links two people who never met.
    b.relate("h:alice", "h:mod", EdgeKind::Addressed, ev(2, 30, 31))
        .unwrap();
    b.relate("h:mod", "h:bob", EdgeKind::Addressed, ev(2, 101, 102))
        .unwrap();
    // A strong but longer chain.
    b.relate("h:alice", "h:carol", EdgeKind::Addressed, ev(400, 20, 60))
        .unwrap();
    b.relate("h:carol", "h:gina", EdgeKind::Addressed, ev(400, 20, 60))
        .unwrap();
    b.relate("h:gina", "h:bob", EdgeKind::Addressed, ev(400, 100, 110))
        .unwrap();

    // The distributor: 11,491 files to three recipients, in two batches to
    // erin (merged by the builder).
    b.relate("h:dist", "h:carol", EdgeKind::SentFiles, ev(3000, 15, 50))
        .unwrap();
    b.relate("h:dist", "h:erin", EdgeKind::SentFiles, ev(2500, 15, 40))
        .unwrap();
    b.relate("h:dist", "h:erin", EdgeKind::SentFiles, ev(2500, 41, 60))
        .unwrap();
    b.relate("h:dist", "h:frank", EdgeKind::SentFiles, ev(3491, 90, 99))
        .unwrap();
    b.relate("d:carol", "d:dist", EdgeKind::SharedMedia, ev(7400, 97, 97))
        .unwrap();
    // The host supplies a little too.
    b.relate("h:god", "h:alice", EdgeKind::SentFiles, ev(40, 10, 12))
        .unwrap();
    b.relate("h:god", "r:1", EdgeKind::OfferedFiles, ev(120, 1, 70))
        .unwrap();

    // Another agency holds something about bob: a blind hit.
    b.blind_hit("blind:UK-0042", NodeKind::Person, "UK-NCA")
        .unwrap();
    b.same_as(
        "h:bob",
        "blind:UK-0042",
        SameAsStatus::Candidate,
        0.81,
        ev(1, 105, 105),
    )
    .unwrap();
    b.build()
}
