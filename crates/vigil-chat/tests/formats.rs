//! One realistic log per client, the same conversation in each, plus the
//! cross-client equivalence the importer's idempotency relies on.

use std::collections::BTreeSet;

use time::macros::datetime;
use vigil_chat::{
    EventKind, Format, IdentifierKind, Ownership, ParseOptions, ParsedLog, Role, Source, Zone,
    analyse, detect, extract, parse, summarize,
};

fn load(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn parse_london(name: &str) -> ParsedLog {
    let opts = ParseOptions {
        zone: Zone::parse("Europe/London").unwrap(),
        ..Default::default()
    };
    parse(&load(name), &opts).unwrap()
}

/// Checks everything the four fixtures have in common.
fn check_common(log: &ParsedLog) {
    assert!(
        log.unparsed.is_empty(),
        "{:?}: {:?}",
        log.format,
        log.unparsed
    );
    let s = summarize(log);
    let texts: Vec<&str> = s.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "welcome back",
            "ty. my skype is live:dark.fox77",
            "darkfox: got the new set?",
            "nightowl: yes, mail me at fox.trader@example.com",
            "checks the folder",
            "hash of the last one is d41d8cd98f00b204e9800998ecf8427e",
            "brb, add me on kik: fox_kik77",
            "his mate's telegram is @grey_wolf_1",
        ],
        "{:?}",
        log.format
    );
    // Addressing only counts real nicks.
    assert_eq!(s.messages[2].addressed_to.as_deref(), Some("darkfox"));
    assert_eq!(s.messages[3].addressed_to.as_deref(), Some("nightowl"));
    assert_eq!(s.messages[6].addressed_to, None);
    // Dates cross midnight: from the day-changed line, the per-line date, or
    // mIRC's rollover detection. London is on GMT in March.
    let t = s.messages[6].time.unwrap();
    assert_eq!(
        (t.date(), t.hour(), t.minute()),
        (datetime!(2009-03-03 00:06 UTC).date(), 0, 6)
    );

    let nicks: Vec<&str> = s.participants.iter().map(|m| m.nick.as_str()).collect();
    assert!(
        nicks.contains(&"darkfox")
            && nicks.contains(&"dfox")
            && nicks.contains(&"nightowl")
            && nicks.contains(&"ChanBoss"),
        "{nicks:?}"
    );
    let owl = s
        .participants
        .iter()
        .find(|m| m.nick == "nightowl")
        .unwrap();
    assert_eq!(owl.hostmasks, vec!["~owl@2001:db8::42".to_string()]);
    assert_eq!(owl.messages, 2);

    let grants: Vec<(&str, Role, bool, &str)> = s
        .operators
        .iter()
        .map(|g| (g.nick.as_str(), g.role, g.granted, g.by.as_str()))
        .collect();
    assert_eq!(
        grants,
        [
            ("darkfox", Role::Operator, true, "ChanBoss"),
            ("darkfox", Role::Admin, true, "ChanBoss"),
            ("dfox", Role::Admin, false, "ChanBoss")
        ],
        "{:?}",
        log.format
    );
    assert_eq!(s.nick_changes.len(), 1);
    assert_eq!(
        (
            s.nick_changes[0].old.as_str(),
            s.nick_changes[0].new.as_str()
        ),
        ("darkfox", "dfox")
    );
    assert_eq!(
        s.nick_chains,
        vec![vec!["darkfox".to_string(), "dfox".to_string()]]
    );

    assert_eq!(s.file_offers.len(), 1, "{:?}", log.format);
    let offer = &s.file_offers[0];
    assert_eq!(
        (offer.from.as_str(), offer.file.as_str()),
        ("darkfox", "set_04.zip")
    );

    let ids = &s.identifiers;
    let has = |kind, value: &str, owner: Option<&str>| {
        ids.iter()
            .any(|i| i.kind == kind && i.value == value && i.owner.as_deref() == owner)
    };
    assert!(
        has(IdentifierKind::Ip, "192.0.2.10", Some("darkfox")),
        "{:?} {ids:#?}",
        log.format
    );
    assert!(has(IdentifierKind::Ip, "2001:db8::42", Some("nightowl")));
    assert!(has(
        IdentifierKind::MessengerId,
        "skype:live:dark.fox77",
        Some("darkfox")
    ));
    assert!(has(
        IdentifierKind::Email,
        "fox.trader@example.com",
        Some("darkfox")
    ));
    assert!(has(
        IdentifierKind::MessengerId,
        "kik:fox_kik77",
        Some("dfox")
    ));
    assert!(has(
        IdentifierKind::MediaHash,
        "d41d8cd98f00b204e9800998ecf8427e",
        None
    ));
    // Someone else's account, merely mentioned.
    let tg = ids
        .iter()
        .find(|i| i.value == "telegram:grey_wolf_1")
        .unwrap();
    assert_eq!(
        (tg.ownership, tg.owner.as_deref(), tg.speaker.as_deref()),
        (Ownership::Mentioned, None, Some("ChanBoss"))
    );

    let json = serde_json::to_value(&s).unwrap();
    for field in [
        "messages",
        "participants",
        "operators",
        "nick_changes",
        "file_offers",
        "identifiers",
        "unparsed_lines",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
}

#[test]
fn irssi_log() {
    let log = parse_london("irssi.log");
    assert_eq!(log.format, Format::Irssi);
    assert_eq!(log.channel.as_deref(), Some("#hideout"));
    check_common(&log);
    // irssi's `<@nick>` column tells who held ops when speaking.
    let r = analyse(&log);
    assert_eq!(
        r.members
            .iter()
            .find(|m| m.nick == "ChanBoss")
            .unwrap()
            .status_prefixes,
        vec!['@']
    );
    let offer = &r.file_offers[0];
    assert_eq!(
        (offer.ip.as_deref(), offer.port, offer.size),
        (Some("198.51.100.23"), Some(5000), Some(7 * 1024 * 1024))
    );
    let ids = extract(&log);
    assert!(ids.iter().any(|i| i.source == Source::Dcc
        && i.value == "198.51.100.23"
        && i.owner.as_deref() == Some("darkfox")));
    assert_eq!(r.activity_per_day.get("2009-03-02"), Some(&6));
    assert_eq!(r.activity_per_day.get("2009-03-03"), Some(&2));
}

#[test]
fn weechat_log() {
    let log = parse_london("weechat.log");
    assert_eq!(log.format, Format::Weechat);
    check_common(&log);
    let offer = &analyse(&log).file_offers[0];
    assert_eq!(
        (offer.ip.as_deref(), offer.size),
        (Some("198.51.100.23"), Some(7_340_032))
    );
    // Seconds are kept where the client logs them.
    assert_eq!(log.events[0].time, Some(datetime!(2009-03-02 23:40:05 UTC)));
}

#[test]
fn hexchat_log() {
    let log = parse_london("hexchat.log");
    assert_eq!(log.format, Format::Hexchat);
    check_common(&log);
    assert_eq!(analyse(&log).file_offers[0].size, Some(7_340_032));
}

#[test]
fn mirc_log() {
    let log = parse_london("mirc.log");
    assert_eq!(log.format, Format::Mirc);
    check_common(&log);
    assert_eq!(
        analyse(&log).file_offers[0].ip.as_deref(),
        Some("198.51.100.23")
    );
}

#[test]
fn detection_picks_each_client() {
    for (name, f) in [
        ("irssi.log", Format::Irssi),
        ("weechat.log", Format::Weechat),
        ("hexchat.log", Format::Hexchat),
        ("mirc.log", Format::Mirc),
    ] {
        assert_eq!(detect(&load(name)), Some(f), "{name}");
    }
}

/// Keys of everything but the DCC lines, which each client words (and sizes)
/// differently.
fn keys(log: &ParsedLog) -> Vec<String> {
    log.events
        .iter()
        .filter(|e| !matches!(e.kind, EventKind::DccSend { .. }))
        .map(|e| e.key.clone())
        .collect()
}

fn id_set(log: &ParsedLog) -> BTreeSet<(String, String, Option<String>, i64, String)> {
    extract(log)
        .into_iter()
        .filter(|i| i.source != Source::Dcc)
        .map(|i| {
            (
                i.kind.to_string(),
                i.value,
                i.owner,
                i.time.unwrap().unix_timestamp() / 60,
                i.event_key,
            )
        })
        .collect()
}

#[test]
fn same_conversation_from_different_clients_gives_same_keys_and_identifiers() {
    let irssi = parse_london("irssi.log");
    let reference = keys(&irssi);
    assert_eq!(reference.len(), 16);
    assert_eq!(
        reference.iter().collect::<BTreeSet<_>>().len(),
        reference.len(),
        "keys must be distinct"
    );
    for other in ["weechat.log", "hexchat.log", "mirc.log"] {
        let log = parse_london(other);
        assert_eq!(keys(&log), reference, "{other}");
        assert_eq!(id_set(&log), id_set(&irssi), "{other}");
    }
}

#[test]
fn repeated_identical_lines_get_distinct_stable_keys() {
    let a = b"--- Log opened Mon Mar 02 10:00:00 2009\n10:00 < a> lol\n10:00 < a> lol\n";
    let b = "2009-03-02 10:00:01\ta\tlol\n2009-03-02 10:00:09\ta\tlol\n";
    let la = parse(a, &ParseOptions::default()).unwrap();
    let lb = parse(b.as_bytes(), &ParseOptions::default()).unwrap();
    assert_ne!(la.events[0].key, la.events[1].key);
    assert_eq!(keys(&la), keys(&lb));
    // Re-parsing is deterministic.
    assert_eq!(
        keys(&la),
        keys(&parse(a, &ParseOptions::default()).unwrap())
    );
}
