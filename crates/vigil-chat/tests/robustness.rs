//! Encodings, bad lines, refusal of non-logs, generic formats, zones.

use time::macros::{date, datetime};
use vigil_chat::{
    ChatError, EventKind, FileEncoding, Format, IdentifierKind, LineEncoding, Ownership,
    ParseOptions, Zone, detect, parse, summarize,
};

#[test]
fn windows_1252_log_with_accented_nicks_decodes_to_unicode() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"--- Log opened Sat Nov 03 21:00:00 2007\n");
    bytes.extend_from_slice(b"21:00 -!- Jos\xe9 [~jose@198.51.100.77] has joined #caf\xe9\n");
    bytes.extend_from_slice(b"21:01 <Jos\xe9> \xe7a va? tr\xe8s bien \x97 50\x80 pour le lot\n");
    bytes.extend_from_slice("21:02 <Zoë> ok, déjà vu\n".as_bytes());
    let log = parse(&bytes, &ParseOptions::default()).unwrap();
    assert_eq!(log.format, Format::Irssi);
    assert_eq!(log.encoding, FileEncoding::Mixed);
    assert!(log.unparsed.is_empty(), "{:?}", log.unparsed);
    match &log.events[1].kind {
        EventKind::Message { nick, text, .. } => {
            assert_eq!(nick, "José");
            assert_eq!(text, "ça va? très bien — 50€ pour le lot");
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(log.events[1].encoding, LineEncoding::Windows1252);
    assert_eq!(log.events[2].encoding, LineEncoding::Utf8);
    assert_eq!(log.channel.as_deref(), Some("#café"));
    let s = summarize(&log);
    assert!(
        s.identifiers
            .iter()
            .any(|i| i.value == "198.51.100.77" && i.owner.as_deref() == Some("José"))
    );
}

#[test]
fn bad_lines_are_reported_with_number_and_the_rest_is_parsed() {
    let text = "2009-03-02 10:00:00\talice\thello\nthis line is garbage\n2009-13-45 10:00:00\tbob\tbad date\n2009-03-02 10:01:00\tbob\thi alice\n2009-03-02 10:02:00\talice\tok\n2009-03-02 10:03:00\tbob\tbye\n";
    let log = parse(text.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(log.format, Format::Weechat);
    assert_eq!(log.events.len(), 4);
    let bad: Vec<usize> = log.unparsed.iter().map(|u| u.line).collect();
    assert_eq!(bad, vec![2, 3]);
    assert_eq!(log.unparsed[0].text, "this line is garbage");
}

#[test]
fn files_that_are_not_chat_logs_are_refused() {
    let prose = b"Dear colleague,\nplease find the report attached.\nRegards\n";
    assert_eq!(detect(prose), None);
    let err = parse(prose, &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(err, ChatError::NotAChatLog { sampled: 3 }),
        "{err}"
    );
    assert!(err.to_string().contains("not a chat log"));
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(matches!(
        parse(&binary, &ParseOptions::default()),
        Err(ChatError::NotAChatLog { .. } | ChatError::Empty)
    ));
    assert!(matches!(
        parse(b"\n\n", &ParseOptions::default()),
        Err(ChatError::Empty)
    ));
}

#[test]
fn zone_and_base_date_apply_to_undated_formats() {
    // An irssi excerpt without its "Log opened" header.
    let text = b"23:59 < a> late\n00:01 < a> early\n";
    let none = parse(
        text,
        &ParseOptions {
            format: Some(Format::Irssi),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(none.events[0].time, None);
    let opts = ParseOptions {
        format: Some(Format::Irssi),
        zone: Zone::parse("+02:00").unwrap(),
        base_date: Some(date!(2010 - 06 - 30)),
    };
    let log = parse(text, &opts).unwrap();
    assert_eq!(log.events[0].time, Some(datetime!(2010-06-30 21:59 UTC)));
    // Midnight passed without a day-changed line.
    assert_eq!(log.events[1].time, Some(datetime!(2010-06-30 22:01 UTC)));
    let ny = ParseOptions {
        zone: Zone::parse("America/New_York").unwrap(),
        ..opts
    };
    assert_eq!(
        parse(text, &ny).unwrap().events[0].time,
        Some(datetime!(2010-07-01 03:59 UTC))
    );
}

#[test]
fn json_lines_schema() {
    let text = r#"{"time":"2021-05-01T10:00:00Z","room":"grp-17","from":"tide_runner","text":"my telegram is @tide_runner_x"}
{"time":"2021-05-01 12:00:05","room":"grp-17","from":"moss","to":"tide_runner","text":"sent it","type":"message"}
{"time":1619870400,"room":"grp-17","type":"file","from":"moss","to":"tide_runner","file_name":"a.zip","file_size":2048,"ip":"203.0.113.44"}
{"time":"2021-05-01T10:00:00Z","from":"x","type":"teleport"}
not json
"#;
    let opts = ParseOptions {
        zone: Zone::parse("+02:00").unwrap(),
        ..Default::default()
    };
    let log = parse(text.as_bytes(), &opts).unwrap();
    assert_eq!(log.format, Format::Jsonl);
    assert_eq!(log.events.len(), 3);
    assert_eq!(
        log.unparsed.iter().map(|u| u.line).collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert_eq!(log.events[1].time, Some(datetime!(2021-05-01 10:00:05 UTC)));
    assert_eq!(log.events[1].room.as_deref(), Some("grp-17"));
    let s = summarize(&log);
    assert_eq!(s.messages[1].addressed_to.as_deref(), Some("tide_runner"));
    assert_eq!(s.file_offers[0].size, Some(2048));
    let tg = s
        .identifiers
        .iter()
        .find(|i| i.kind == IdentifierKind::MessengerId)
        .unwrap();
    assert_eq!(
        (tg.value.as_str(), tg.ownership),
        ("telegram:tide_runner_x", Ownership::Own)
    );
    assert!(
        s.identifiers
            .iter()
            .any(|i| i.value == "203.0.113.44" && i.owner.as_deref() == Some("moss"))
    );
}

#[test]
fn csv_schema() {
    let text = "time,from,to,text,room\n2021-05-01T10:00:00Z,moss,,\"hello, all\",grp-1\n2021-05-01T10:01:00Z,tide,,reach me at tide@example.net,grp-1\n2021-05-01T10:02:00Z,,,no sender,grp-1\n";
    assert_eq!(detect(text.as_bytes()), Some(Format::Csv));
    let log = parse(text.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(log.format, Format::Csv);
    assert_eq!(log.events.len(), 2);
    assert_eq!(log.unparsed[0].line, 4);
    let s = summarize(&log);
    assert_eq!(s.messages[0].text, "hello, all");
    assert!(
        s.identifiers
            .iter()
            .any(|i| i.value == "tide@example.net" && i.owner.as_deref() == Some("tide"))
    );
    let bad = parse(
        b"when,who\n1,2\n",
        &ParseOptions {
            format: Some(Format::Csv),
            ..Default::default()
        },
    );
    assert!(matches!(bad, Err(ChatError::CsvHeader("time"))));
}

#[test]
fn numeric_dcc_offer_in_a_message() {
    let text = "[10:00] <trader> \u{1}DCC SEND pack_2.rar 3325256727 4000 123456\u{1}\n[10:01] <trader> anyone?\n";
    let opts = ParseOptions {
        base_date: Some(date!(2008 - 01 - 01)),
        ..Default::default()
    };
    let log = parse(text.as_bytes(), &opts).unwrap();
    assert_eq!(log.format, Format::Mirc);
    let s = summarize(&log);
    let o = &s.file_offers[0];
    assert_eq!(
        (
            o.from.as_str(),
            o.file.as_str(),
            o.ip.as_deref(),
            o.port,
            o.size
        ),
        (
            "trader",
            "pack_2.rar",
            Some("198.51.100.23"),
            Some(4000),
            Some(123_456)
        )
    );
    assert!(
        s.identifiers
            .iter()
            .any(|i| i.value == "198.51.100.23" && i.owner.as_deref() == Some("trader"))
    );
}
