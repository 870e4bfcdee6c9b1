//! Less common lines of each client, one small log each.

use time::macros::datetime;
use vigil_chat::{EventKind, Format, ModeChange, ParseOptions, Role, UserHost, analyse, parse};

fn kinds(text: &str, format: Format) -> Vec<EventKind> {
    let log = parse(
        text.as_bytes(),
        &ParseOptions {
            format: Some(format),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(log.unparsed.is_empty(), "{:?}", log.unparsed);
    log.events.into_iter().map(|e| e.kind).collect()
}

fn uh(s: &str) -> Option<UserHost> {
    UserHost::parse(s)
}

#[test]
fn irssi_quirks() {
    let k = kinds(
        "--- Log opened Mon Mar 02 10:00:00 2009\n\
         10:00:01 -!- lee [lee@203.0.113.8] has left #r [gone fishing]\n\
         10:00:02 -!- moe was kicked from #r by ChanBoss [behave]\n\
         10:00:03 -!- ServerMode/#r [+q ChanBoss] by irc.example.net\n\
         10:00:04 -ChanBoss:#r- read the rules\n\
         10:00:05 <+voiced> hi\n\
         10:00:06 -!- Irssi: Join to #r was synced in 1 secs\n",
        Format::Irssi,
    );
    assert_eq!(
        k[0],
        EventKind::Part {
            nick: "lee".into(),
            user: uh("lee@203.0.113.8"),
            channel: Some("#r".into()),
            reason: Some("gone fishing".into())
        }
    );
    assert_eq!(
        k[1],
        EventKind::Kick {
            nick: "moe".into(),
            by: "ChanBoss".into(),
            channel: Some("#r".into()),
            reason: Some("behave".into())
        }
    );
    assert_eq!(
        k[2],
        EventKind::Mode {
            by: "irc.example.net".into(),
            channel: Some("#r".into()),
            changes: vec![ModeChange {
                add: true,
                mode: 'q',
                arg: Some("ChanBoss".into())
            }]
        }
    );
    assert_eq!(
        k[3],
        EventKind::Notice {
            nick: "ChanBoss".into(),
            text: "read the rules".into()
        }
    );
    assert!(
        matches!(&k[4], EventKind::Message { nick, prefix: Some('+'), .. } if nick == "voiced")
    );
    assert_eq!(k.len(), 5);
}

#[test]
fn weechat_quirks() {
    let k = kinds(
        "2009-03-02 10:00:01\t<--\tlee (lee@203.0.113.8) has left #r (gone fishing)\n\
         2009-03-02 10:00:02\t<--\tChanBoss has kicked moe (behave)\n\
         2009-03-02 10:00:03\t--\tMode #r [+hv kim kim] by ChanBoss\n\
         2009-03-02 10:00:04\t--\tChanBoss has changed topic for #r from \"old\" to \"new rules\"\n\
         2009-03-02 10:00:05\t\tcontinuation without prefix\n\
         2009-03-02 10:00:06\t=!=\tsome error\n",
        Format::Weechat,
    );
    assert_eq!(
        k[0],
        EventKind::Part {
            nick: "lee".into(),
            user: uh("lee@203.0.113.8"),
            channel: Some("#r".into()),
            reason: Some("gone fishing".into())
        }
    );
    assert_eq!(
        k[1],
        EventKind::Kick {
            nick: "moe".into(),
            by: "ChanBoss".into(),
            channel: None,
            reason: Some("behave".into())
        }
    );
    assert!(
        matches!(&k[2], EventKind::Mode { changes, .. } if changes.len() == 2 && changes[0].mode == 'h')
    );
    assert_eq!(
        k[3],
        EventKind::Topic {
            by: "ChanBoss".into(),
            channel: Some("#r".into()),
            topic: "new rules".into()
        }
    );
    assert_eq!(k.len(), 4);
}

#[test]
fn hexchat_quirks_and_year_rollover() {
    let text = "**** BEGIN LOGGING AT Wed Dec 31 23:59:00 2008\n\
                Dec 31 23:59:30 <--\tlee (lee@203.0.113.8) has left #r (gone fishing)\n\
                Jan 01 00:00:10 <--\tChanBoss has kicked moe from #r (behave)\n\
                Jan 01 00:00:20 *\tChanBoss gives voice to kim\n\
                Jan 01 00:00:30 *\tChanBoss sets mode +q #r kim\n\
                Jan 01 00:00:40 <--\tquiet has quit (Ping timeout)\n\
                Jan 01 00:00:50 -ChanBoss/#r-\tread the rules\n";
    let log = parse(text.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(log.format, Format::Hexchat);
    assert!(log.unparsed.is_empty(), "{:?}", log.unparsed);
    assert_eq!(log.events[0].time, Some(datetime!(2008-12-31 23:59:30 UTC)));
    assert_eq!(log.events[1].time, Some(datetime!(2009-01-01 00:00:10 UTC)));
    assert_eq!(
        log.events[1].kind,
        EventKind::Kick {
            nick: "moe".into(),
            by: "ChanBoss".into(),
            channel: Some("#r".into()),
            reason: Some("behave".into())
        }
    );
    assert_eq!(
        log.events[4].kind,
        EventKind::Quit {
            nick: "quiet".into(),
            user: None,
            reason: Some("Ping timeout".into())
        }
    );
    let ops = analyse(&log).operators;
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].nick.as_str(), ops[0].role, ops[0].by.as_str()),
        ("kim", Role::Owner, "ChanBoss")
    );
    assert!(matches!(&log.events[5].kind, EventKind::Notice { nick, .. } if nick == "ChanBoss"));
}

#[test]
fn mirc_quirks() {
    let k = kinds(
        "Session Start: Mon Mar 02 10:00:00 2009\n\
         [10:00:01] * lee (lee@203.0.113.8) has left #r (gone fishing)\n\
         [10:00:02] * moe was kicked by ChanBoss (behave)\n\
         [10:00:03] * Joins: kim (~kim@198.51.100.4)\n\
         [10:00:04] -ChanBoss- read the rules\n\
         [10:00:05] * Topic is 'old rules'\n\
         [10:00:06] * Set by ChanBoss on Mon Mar 02 09:00:00\n",
        Format::Mirc,
    );
    assert_eq!(
        k[0],
        EventKind::Part {
            nick: "lee".into(),
            user: uh("lee@203.0.113.8"),
            channel: Some("#r".into()),
            reason: Some("gone fishing".into())
        }
    );
    assert_eq!(
        k[1],
        EventKind::Kick {
            nick: "moe".into(),
            by: "ChanBoss".into(),
            channel: None,
            reason: Some("behave".into())
        }
    );
    assert_eq!(
        k[2],
        EventKind::Join {
            nick: "kim".into(),
            user: uh("~kim@198.51.100.4"),
            channel: None
        }
    );
    assert_eq!(
        k[3],
        EventKind::Notice {
            nick: "ChanBoss".into(),
            text: "read the rules".into()
        }
    );
    assert_eq!(k.len(), 4);
}

#[test]
fn formatting_codes_do_not_split_participants() {
    let k = kinds(
        "[10:00] <\u{2}bob\u{2}> \u{3}04red\u{3} text\n[10:01] <bob> plain\n",
        Format::Mirc,
    );
    assert_eq!(
        k[0],
        EventKind::Message {
            nick: "bob".into(),
            text: "red text".into(),
            prefix: None,
            addressed_to: None
        }
    );
}

/// A dotted nick that joins and speaks is a member; a server name that only
/// sets modes is not.
#[test]
fn dotted_nicks_are_members_and_servers_are_not() {
    let log = parse(
        "--- Log opened Sun Mar 01 20:00:00 2009\n\
         20:01 -!- g.o.d [~god@203.0.113.7] has joined #pics\n\
         20:01 -!- mode/#pics [+o g.o.d] by irc.example.net\n\
         20:03 <@g.o.d> rules are in the topic\n"
            .as_bytes(),
        &ParseOptions {
            format: Some(Format::Irssi),
            ..Default::default()
        },
    )
    .unwrap();
    let room = analyse(&log);
    let nicks: Vec<&str> = room.members.iter().map(|m| m.nick.as_str()).collect();
    assert_eq!(nicks, vec!["g.o.d"]);
    assert_eq!(room.members[0].hostmasks, vec!["~god@203.0.113.7"]);
    assert_eq!(room.operators.len(), 1);
    assert_eq!(room.operators[0].by, "irc.example.net");
}
