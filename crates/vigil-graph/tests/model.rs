//! Builder validation and merging.

mod common;

use common::{at, ev};
use vigil_graph::{AttrValue, EdgeKind, GraphBuilder, GraphError, NodeKind, SameAsStatus};

fn two_handles() -> GraphBuilder {
    let mut b = GraphBuilder::new();
    b.node("h:a", NodeKind::Handle, "a").unwrap();
    b.node("h:b", NodeKind::Handle, "b").unwrap();
    b
}

#[test]
fn repeated_observations_merge_counts_and_widen_times() {
    let mut b = two_handles();
    let e1 = b
        .relate("h:a", "h:b", EdgeKind::Addressed, ev(3, 10, 12))
        .unwrap();
    let e2 = b
        .relate("h:a", "h:b", EdgeKind::Addressed, ev(4, 5, 11))
        .unwrap();
    assert_eq!(e1, e2);
    // Other direction is another relation for a directed kind...
    let e3 = b
        .relate("h:b", "h:a", EdgeKind::Addressed, ev(1, 1, 1))
        .unwrap();
    assert_ne!(e1, e3);
    // ...but the same one for a symmetric kind.
    let c1 = b
        .relate("h:b", "h:a", EdgeKind::CoPresence, ev(1, 1, 1))
        .unwrap();
    let c2 = b
        .relate("h:a", "h:b", EdgeKind::CoPresence, ev(2, 2, 3))
        .unwrap();
    assert_eq!(c1, c2);
    let g = b.build();
    let e = &g.edges()[e1.index()];
    assert_eq!(
        (e.count(), e.first_seen(), e.last_seen()),
        (7, at(5), at(12))
    );
    let c = &g.edges()[c1.index()];
    assert_eq!(g.nodes()[c.source().index()].key(), "h:a");
    assert_eq!(c.count(), 3);
    assert_eq!(g.edge_count(), 3);
}

#[test]
fn same_as_merge_keeps_strongest_status_and_score() {
    let mut b = two_handles();
    b.same_as("h:a", "h:b", SameAsStatus::Candidate, 0.6, ev(1, 1, 1))
        .unwrap();
    b.same_as("h:b", "h:a", SameAsStatus::Accepted, 0.4, ev(1, 2, 2))
        .unwrap();
    let g = b.build();
    assert_eq!(g.edge_count(), 1);
    let s = g.edges()[0].same_as().unwrap();
    assert_eq!(s.status, SameAsStatus::Accepted);
    assert_eq!(s.score, 0.6);
    assert!(!g.edges()[0].is_candidate());
}

#[test]
fn times_are_normalised_to_utc() {
    let mut b = two_handles();
    let t = at(0).to_offset(time::macros::offset!(+2));
    b.relate(
        "h:a",
        "h:b",
        EdgeKind::Addressed,
        vigil_graph::Evidence::once(t),
    )
    .unwrap();
    let g = b.build();
    assert!(g.edges()[0].first_seen().offset().is_utc());
    assert_eq!(g.edges()[0].first_seen(), at(0));
}

#[test]
fn invalid_input_is_a_typed_error() {
    let mut b = two_handles();
    b.node("r:1", NodeKind::Room, "#r").unwrap();
    b.node("p:1", NodeKind::Person, "P").unwrap();
    assert!(matches!(
        b.node("", NodeKind::Room, "x"),
        Err(GraphError::EmptyKey)
    ));
    assert!(matches!(
        b.node("h:a", NodeKind::Room, "x"),
        Err(GraphError::KindConflict { .. })
    ));
    assert!(matches!(
        b.relate("h:a", "h:zz", EdgeKind::Addressed, ev(1, 0, 0)),
        Err(GraphError::UnknownNode(k)) if k == "h:zz"
    ));
    assert!(matches!(
        b.relate("h:a", "h:a", EdgeKind::Addressed, ev(1, 0, 0)),
        Err(GraphError::SelfLoop(_))
    ));
    assert!(matches!(
        b.relate("r:1", "h:a", EdgeKind::Uses, ev(1, 0, 0)),
        Err(GraphError::EndpointKinds { .. })
    ));
    assert!(matches!(
        b.relate("h:a", "h:b", EdgeKind::MemberOf, ev(1, 0, 0)),
        Err(GraphError::EndpointKinds { .. })
    ));
    assert!(matches!(
        b.relate("h:a", "h:b", EdgeKind::Addressed, ev(1, 5, 4)),
        Err(GraphError::TimeOrder { .. })
    ));
    assert!(matches!(
        b.relate("h:a", "h:b", EdgeKind::SameAs, ev(1, 0, 0)),
        Err(GraphError::SameAsNeedsStatus)
    ));
    assert!(matches!(
        b.same_as("h:a", "h:b", SameAsStatus::Candidate, 1.5, ev(1, 0, 0)),
        Err(GraphError::BadScore(_))
    ));
    assert!(matches!(
        b.same_as("h:a", "h:b", SameAsStatus::Candidate, f64::NAN, ev(1, 0, 0)),
        Err(GraphError::BadScore(_))
    ));
    assert!(matches!(
        b.operator_of("h:a", "r:1", Some("nobody"), ev(1, 0, 0)),
        Err(GraphError::UnknownNode(_))
    ));
    assert!(matches!(
        b.attr("h:a", "kind", AttrValue::Int(1)),
        Err(GraphError::ReservedAttribute(_))
    ));
    b.attr("h:a", "age", AttrValue::Int(1)).unwrap();
    assert!(matches!(
        b.attr("h:b", "age", AttrValue::Text("x".into())),
        Err(GraphError::AttributeType { .. })
    ));
    assert!(matches!(
        b.attr("h:b", "ratio", AttrValue::Float(f64::INFINITY)),
        Err(GraphError::NonFinite(_))
    ));
}

#[test]
fn blind_hit_carries_only_held_by_agency() {
    let mut b = GraphBuilder::new();
    let id = b
        .blind_hit("blind:1", NodeKind::Person, "Agency X")
        .unwrap();
    // Idempotent for the same declaration, refused for anything else.
    assert_eq!(
        b.blind_hit("blind:1", NodeKind::Person, "Agency X")
            .unwrap(),
        id
    );
    assert!(matches!(
        b.blind_hit("blind:1", NodeKind::Person, "Agency Y"),
        Err(GraphError::BlindHitConflict(_))
    ));
    assert!(matches!(
        b.node("blind:1", NodeKind::Person, "Real Name"),
        Err(GraphError::BlindHitContent(_))
    ));
    assert!(matches!(
        b.attr("blind:1", "country", AttrValue::Text("GB".into())),
        Err(GraphError::BlindHitContent(_))
    ));
    assert!(matches!(
        b.blind_hit("blind:2", NodeKind::Person, "  "),
        Err(GraphError::EmptyAgency(_))
    ));
    b.node("h:a", NodeKind::Handle, "a").unwrap();
    assert!(matches!(
        b.blind_hit("h:a", NodeKind::Handle, "Agency X"),
        Err(GraphError::BlindHitConflict(_))
    ));
    let g = b.build();
    let n = g.node(id).unwrap();
    assert_eq!(n.label(), "held by Agency X");
    assert_eq!(n.blind_hit(), Some("Agency X"));
    assert!(n.attributes().is_empty());
}

#[test]
fn holds_joins_a_holder_to_a_media_series() {
    let mut b = two_handles();
    b.node("p:1", NodeKind::Person, "P").unwrap();
    b.node("d:1", NodeKind::Device, "laptop").unwrap();
    b.node("r:1", NodeKind::Room, "#r").unwrap();
    b.node("s:1", NodeKind::MediaSeries, "Series X").unwrap();
    b.relate("p:1", "s:1", EdgeKind::Holds, ev(4, 1, 2))
        .unwrap();
    b.relate("d:1", "s:1", EdgeKind::Holds, ev(2, 1, 1))
        .unwrap();
    // Only persons and devices hold; only series are held.
    for (s, t) in [("r:1", "s:1"), ("h:a", "s:1"), ("p:1", "d:1")] {
        assert!(
            matches!(
                b.relate(s, t, EdgeKind::Holds, ev(1, 0, 0)),
                Err(GraphError::EndpointKinds { .. })
            ),
            "{s} -> {t}"
        );
    }
    let g = b.build();
    let mut out = Vec::new();
    vigil_graph::export::write_graphml(&mut out, &g, None).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(xml.contains(">holds<"), "{xml}");
    assert!(xml.contains(">media_series<"), "{xml}");
}
