//! Behaviour of candidate generation and scoring on small, hand-made cases.

use std::net::IpAddr;

use time::macros::datetime;
use vigil_domain::IdentifierKind;
use vigil_domain::normalize::{IpRange, SharedAddresses, TimeWindow};
use vigil_link::{EvidenceKind, LinkConfig, Linker, MediaRole, Profile, link};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn w(a: time::OffsetDateTime, b: time::OffsetDateTime) -> TimeWindow {
    TimeWindow::new(a, b)
}

/// "G.O.D." hosted one room, "Son_of_G0d" the next, from `addr`.
fn god_pair(addr: &str) -> Vec<Profile> {
    vec![
        Profile::new(1).handle("g.o.d", "case-A/room1.log:12").ip(
            ip(addr),
            None,
            w(
                datetime!(2024-03-01 20:00 UTC),
                datetime!(2024-03-01 23:00 UTC),
            ),
            "case-A/isp-answer.pdf:p2",
        ),
        Profile::new(2)
            .handle("Son_of_G0d", "case-B/room2.log:40")
            .ip(
                ip(addr),
                Some(51000),
                w(
                    datetime!(2024-03-01 22:30 UTC),
                    datetime!(2024-03-02 01:00 UTC),
                ),
                "case-B/subpoena-17",
            ),
    ]
}

#[test]
fn alias_change_with_shared_ip_is_a_candidate_and_says_why() {
    let report = link(&god_pair("203.0.113.7"), LinkConfig::default());
    assert_eq!(report.candidates.len(), 1, "{:#?}", report);
    let c = &report.candidates[0];
    assert_eq!((c.a, c.b), (1, 2));
    assert!(!c.certain);
    let ipe = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpOverlap)
        .unwrap();
    assert!(ipe.detail.contains("203.0.113.7"), "{}", ipe.detail);
    assert!(ipe.sources.contains(&"case-B/subpoena-17".to_string()));
    assert!(ipe.weight > 0.0);
    let h = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::HandleContained)
        .unwrap();
    assert!(
        h.detail.contains("g.o.d") && h.detail.contains("Son_of_G0d"),
        "{}",
        h.detail
    );
    assert!(h.sources.contains(&"case-A/room1.log:12".to_string()));
    assert!((c.score - c.evidence.iter().map(|e| e.weight).sum::<f64>()).abs() < 1e-9);
    let text = c.explain();
    assert!(
        text.contains("ip-overlap") && text.contains("handle-contained"),
        "{text}"
    );
}

#[test]
fn cgnat_address_is_not_evidence_and_says_why() {
    let pair = god_pair("100.64.12.34");
    let linker = Linker::new(&pair, LinkConfig::default());
    let c = linker.score_pair(1, 2).unwrap();
    assert!(!c.evidence.iter().any(|e| e.kind == EvidenceKind::IpOverlap));
    let why = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpNotEvidence)
        .unwrap();
    assert_eq!(why.weight, 0.0);
    assert!(
        why.detail.contains("100.64.12.34") && why.detail.contains("carrier-grade NAT"),
        "{}",
        why.detail
    );
    // Without the address the handle similarity alone stays below threshold.
    assert!(c.score < LinkConfig::default().threshold, "{}", c.explain());
    assert!(linker.candidates().candidates.is_empty());
}

#[test]
fn listed_proxy_is_not_evidence_and_names_the_list_entry() {
    let cfg = LinkConfig {
        shared: SharedAddresses::default().with_range(
            IpRange::parse("203.0.113.0/28").unwrap(),
            "VPN exit of example-vpn",
        ),
        ..LinkConfig::default()
    };
    let c = Linker::new(&god_pair("203.0.113.7"), cfg)
        .score_pair(1, 2)
        .unwrap();
    assert!(!c.evidence.iter().any(|e| e.kind == EvidenceKind::IpOverlap));
    let why = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpNotEvidence)
        .unwrap();
    assert!(
        why.detail.contains("VPN exit of example-vpn"),
        "{}",
        why.detail
    );
}

#[test]
fn same_ip_at_different_times_is_not_evidence() {
    let mut pair = god_pair("198.51.100.20");
    pair[1].ips[0].window = w(
        datetime!(2024-05-01 10:00 UTC),
        datetime!(2024-05-01 11:00 UTC),
    );
    let c = Linker::new(&pair, LinkConfig::default())
        .score_pair(1, 2)
        .unwrap();
    let why = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpNotEvidence)
        .unwrap();
    assert!(why.detail.contains("apart"), "{}", why.detail);
}

#[test]
fn cgnat_with_same_port_at_same_time_is_evidence() {
    let mut pair = god_pair("100.64.12.34");
    pair[0].ips[0].port = Some(51000);
    let c = Linker::new(&pair, LinkConfig::default())
        .score_pair(1, 2)
        .unwrap();
    let e = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpOverlap)
        .unwrap();
    assert!(e.detail.contains("same source port"), "{}", e.detail);
}

#[test]
fn private_address_is_not_evidence() {
    let c = Linker::new(&god_pair("192.168.1.10"), LinkConfig::default())
        .score_pair(1, 2)
        .unwrap();
    assert!(!c.evidence.iter().any(|e| e.kind == EvidenceKind::IpOverlap));
    assert!(
        c.evidence
            .iter()
            .any(|e| e.kind == EvidenceKind::IpNotEvidence && e.detail.contains("private"))
    );
}

#[test]
fn nick_change_is_certain() {
    let people = vec![
        Profile::new(10).handle("DarkAngel", "a.log:1"),
        Profile::new(11)
            .handle("xX_lonely_Xx", "b.log:5")
            .nick_change("DarkAngel", "xX_lonely_Xx", "b.log:4"),
        Profile::new(12).handle("unrelated", "c.log:1"),
    ];
    let report = link(&people, LinkConfig::default());
    assert_eq!(report.candidates.len(), 1, "{report:#?}");
    let c = &report.candidates[0];
    assert!(c.certain);
    assert_eq!((c.a, c.b), (10, 11));
    let e = &c.evidence[0];
    assert_eq!(e.kind, EvidenceKind::NickChange);
    assert_eq!(e.sources, ["b.log:4"]);
    assert!(e.detail.contains("DarkAngel") && e.detail.contains("xX_lonely_Xx"));
}

/// A population where "admin" is common: many unrelated people use it.
fn with_admins(extra: usize) -> Vec<Profile> {
    (0..extra as i64)
        .map(|i| {
            Profile::new(100 + i)
                .handle("admin", &format!("x{i}"))
                .handle(&format!("zq{i}vk{}", i * 7), "y")
        })
        .collect()
}

#[test]
fn common_handle_alone_stays_below_threshold() {
    let people = with_admins(40);
    let linker = Linker::new(&people, LinkConfig::default());
    let c = linker.score_pair(100, 101).unwrap();
    let e = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::HandleExact)
        .unwrap();
    assert_eq!(e.weight, 0.0);
    assert!(e.detail.contains("common handle"), "{}", e.detail);
    assert!(c.score < LinkConfig::default().threshold);
    assert!(linker.candidates().candidates.is_empty());
    // The same happens for a handle that is not on the list but is frequent.
    let people: Vec<Profile> = (0..200)
        .map(|i| Profile::new(i).handle("Shadow", &format!("s{i}")))
        .collect();
    let report = link(&people, LinkConfig::default());
    assert!(report.candidates.is_empty());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("shadow") && n.contains("200 persons")),
        "{:?}",
        report.notes
    );
}

#[test]
fn rare_exact_handle_links_and_email_rules_apply() {
    let people = vec![
        Profile::new(1).handle("Kr4ken_Mare", "a:1"),
        Profile::new(2).handle("krakenmare", "b:1"),
        Profile::new(3).email("Moth.Light+forum@googlemail.com", "c:1"),
        Profile::new(4).email("mothlight@gmail.com", "d:1"),
        Profile::new(5).handle("Velvet_Hour", "e:1"),
        Profile::new(6).email("velvet.hour@example.net", "f:1"),
    ];
    let linker = Linker::new(&people, LinkConfig::default());
    let c = linker.score_pair(1, 2).unwrap();
    assert_eq!(c.evidence[0].kind, EvidenceKind::HandleExact);
    assert!(c.score >= 12.0, "{}", c.explain());
    let c = linker.score_pair(3, 4).unwrap();
    assert_eq!(c.evidence[0].kind, EvidenceKind::EmailExact);
    assert!(c.evidence[0].detail.contains("mothlight@gmail.com"));
    let c = linker.score_pair(5, 6).unwrap();
    assert_eq!(
        c.evidence[0].kind,
        EvidenceKind::EmailLocalHandle,
        "{}",
        c.explain()
    );
    assert!(c.evidence[0].detail.contains("velvet.hour@example.net"));
    let pairs: Vec<(i64, i64)> = linker
        .candidates()
        .candidates
        .iter()
        .map(|c| (c.a, c.b))
        .collect();
    assert!(
        pairs.contains(&(1, 2)) && pairs.contains(&(3, 4)),
        "{pairs:?}"
    );
    assert!(!pairs.contains(&(1, 3)));
}

#[test]
fn different_numbers_tell_people_apart() {
    let people = vec![
        Profile::new(1).handle("nightowl1985", "a"),
        Profile::new(2).handle("nightowl1990", "b"),
    ];
    let c = Linker::new(&people, LinkConfig::default())
        .score_pair(1, 2)
        .unwrap();
    assert!(c.score < 12.0);
    assert!(
        c.evidence[0].detail.contains("different numbers"),
        "{}",
        c.explain()
    );
}

#[test]
fn announcement_links_the_announcer() {
    let people = vec![
        Profile::new(1).handle("quietfox", "room.log:7").announce(
            IdentifierKind::Email,
            "Fox.Hole@example.org",
            "room.log:8",
        ),
        Profile::new(2).email("fox.hole@example.org", "seized-phone/contacts:3"),
    ];
    let report = link(&people, LinkConfig::default());
    assert_eq!(report.candidates.len(), 1);
    let e = &report.candidates[0].evidence[0];
    assert_eq!(e.kind, EvidenceKind::Announced);
    assert_eq!(e.sources, ["room.log:8"]);
}

#[test]
fn shared_rare_media_and_rooms_support() {
    let h1 = "0123456789abcdef0123456789abcdef";
    let h2 = "fedcba9876543210fedcba9876543210";
    let win = w(
        datetime!(2024-01-05 18:00 UTC),
        datetime!(2024-01-05 22:00 UTC),
    );
    let people = vec![
        Profile::new(1)
            .media(h1, MediaRole::Offered, "log:1")
            .media(h2, MediaRole::Offered, "log:2")
            .room("#Trade@irc.example.net", win, "log:0"),
        Profile::new(2)
            .media(&h1.to_uppercase(), MediaRole::Possessed, "device-7")
            .media(h2, MediaRole::Possessed, "device-7")
            .room("#trade@IRC.example.net", win, "log:9"),
    ];
    let c = Linker::new(&people, LinkConfig::default())
        .score_pair(1, 2)
        .unwrap();
    let m = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::MediaShared)
        .unwrap();
    assert!(
        m.detail.contains(h1) && m.detail.contains("offered / possessed"),
        "{}",
        m.detail
    );
    let r = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::RoomCoPresence)
        .unwrap();
    assert!(r.weight <= LinkConfig::default().weights.room_cap);
    assert!(r.detail.contains("#trade@irc.example.net"));
}

#[test]
fn bad_values_are_skipped_with_a_note() {
    let people = vec![Profile::new(1).email("not-an-email", "import.csv:3").media(
        "xyz",
        MediaRole::Possessed,
        "import.csv:4",
    )];
    let report = link(&people, LinkConfig::default());
    assert_eq!(report.notes.len(), 2, "{:?}", report.notes);
    assert!(report.notes[0].contains("import.csv:3"));
}

#[test]
fn candidates_serialise_to_json() {
    let report = link(&god_pair("203.0.113.7"), LinkConfig::default());
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"kind\":\"ip-overlap\""), "{json}");
}

#[test]
fn nick_change_on_a_shared_nick_is_strong_but_not_certain() {
    let people = vec![
        Profile::new(1).handle("DarkAngel", "a.log:1"),
        Profile::new(2).handle("DarkAngel", "b.log:1"),
        Profile::new(3)
            .handle("qorvex_prime", "c.log:5")
            .nick_change("DarkAngel", "qorvex_prime", "c.log:4"),
    ];
    let linker = Linker::new(&people, LinkConfig::default());
    let c = linker.score_pair(1, 3).unwrap();
    assert!(!c.certain, "{}", c.explain());
    let e = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::NickChangeShared)
        .unwrap();
    assert!(e.detail.contains("not certain"), "{}", e.detail);
    assert!(e.weight > 0.0);
}

/// When the log names who held the nicks in the session (the store's room
/// participants), the change is certain even though the names are common.
#[test]
fn nick_change_with_known_session_holders_is_certain_despite_shared_nicks() {
    let mut renamed = Profile::new(3).handle("Son_of_G0d", "c.log:4");
    renamed.nick_changes.push(vigil_link::NickChange {
        old: "g.o.d".into(),
        new: "Son_of_G0d".into(),
        network: None,
        source: "c.log:3".into(),
        holders: vec![3, 4],
    });
    let people = vec![
        Profile::new(1).handle("g.o.d", "a.log:1"),
        Profile::new(2).handle("Son_of_G0d", "b.log:1"),
        renamed,
        Profile::new(4).handle("g.o.d", "c.log:1"),
    ];
    let report = link(&people, LinkConfig::default());
    let c = report
        .candidates
        .iter()
        .find(|c| (c.a, c.b) == (3, 4))
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert!(c.certain, "{}", c.explain());
    // The other holders of the names are not made certain by it.
    assert!(
        report
            .candidates
            .iter()
            .filter(|c| (c.a, c.b) != (3, 4))
            .all(|c| !c.certain),
        "{report:#?}"
    );
}

#[test]
fn ipv6_privacy_addresses_in_one_64_are_one_line() {
    let win = w(
        datetime!(2024-06-01 08:00 UTC),
        datetime!(2024-06-01 20:00 UTC),
    );
    let people = vec![
        Profile::new(1).ip(ip("2001:db8:77:1:a1b2:c3d4:e5f6:1"), None, win, "isp:1"),
        Profile::new(2).ip(ip("2001:db8:77:1:9999:8888:7777:2"), None, win, "isp:2"),
        Profile::new(3).ip(ip("2001:db8:77:2::3"), None, win, "isp:3"),
    ];
    let linker = Linker::new(&people, LinkConfig::default());
    let c = linker.score_pair(1, 2).unwrap();
    let e = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpOverlap)
        .unwrap();
    assert!(e.detail.contains("2001:db8:77:1::/64"), "{}", e.detail);
    // Another /64 at the same time is a (small) argument against.
    let c = linker.score_pair(1, 3).unwrap();
    let e = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::IpConflict)
        .unwrap();
    assert!(e.weight < 0.0 && e.weight > -5.0, "{}", e.detail);
}

#[test]
fn collective_pass_links_through_a_common_person() {
    // 1 and 3 are each strongly linked to 2, and share nothing themselves.
    let win = w(
        datetime!(2024-06-01 08:00 UTC),
        datetime!(2024-06-01 20:00 UTC),
    );
    let people = vec![
        Profile::new(1)
            .handle("marrowkin", "a:1")
            .email("quillfeather@example.net", "a:2"),
        Profile::new(2)
            .handle("marrowkin", "b:1")
            .ip(ip("198.51.100.44"), None, win, "b:2"),
        Profile::new(3)
            .handle("zelbrine", "c:1")
            .ip(ip("198.51.100.44"), None, win, "c:2"),
    ];
    let report = link(&people, LinkConfig::default());
    let c13 = report
        .candidates
        .iter()
        .find(|c| (c.a, c.b) == (1, 3))
        .expect("1-3 through 2");
    let via = c13
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::LinkedVia)
        .unwrap();
    assert!(via.detail.contains("person 2"), "{}", via.detail);
    // Switched off, the pair is not suggested.
    let off = LinkConfig {
        max_via_degree: 0,
        ..LinkConfig::default()
    };
    assert!(
        !link(&people, off)
            .candidates
            .iter()
            .any(|c| (c.a, c.b) == (1, 3))
    );
}

#[test]
fn two_handles_compare_on_their_own() {
    let e = vigil_link::compare_handles("g.o.d", "Son_of_G0d").unwrap();
    assert_eq!(e.kind, EvidenceKind::HandleContained);
    let e = vigil_link::compare_handles("G.O.D.", "g_o_d").unwrap();
    assert_eq!(e.kind, EvidenceKind::HandleExact);
    let e = vigil_link::compare_handles("admin", "ADMIN").unwrap();
    assert_eq!(e.weight, 0.0);
    assert!(vigil_link::compare_handles("qorvex", "marrowkin").is_none());
}

#[test]
fn large_collections_are_merge_joined() {
    let hash = |i: u64| format!("{:032x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut a = Profile::new(1);
    let mut b = Profile::new(2);
    for i in 0..20_000u64 {
        a = a.media(&hash(i), MediaRole::Possessed, "device-a");
        b = b.media(&hash(i + 19_997), MediaRole::Possessed, "device-b");
    }
    let c = Linker::new(&[a, b], LinkConfig::default())
        .score_pair(1, 2)
        .unwrap();
    let m = c
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::MediaShared)
        .unwrap();
    assert!(m.detail.starts_with("3 identical"), "{}", m.detail);
}
