//! Property tests: arbitrary input never panics, line accounting holds, and
//! keys do not depend on the client's notation.

use proptest::prelude::*;
use vigil_chat::{Format, ParseOptions, parse, summarize};

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("23:40 -!- a [~a@192.0.2.1] has joined #r".to_string()),
        Just("--- Day changed Tue Mar 03 2009".to_string()),
        Just("2009-03-02 23:40:05\t@a\thi".to_string()),
        Just("Mar 02 23:40:05 <a>\thi".to_string()),
        Just("[23:40] * a sets mode: +o b".to_string()),
        Just("\u{1}DCC SEND f 3221225985 5000 9\u{1}".to_string()),
        "[ -~\t]{0,60}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_input_parses_without_panicking(lines in proptest::collection::vec(fragment(), 0..30), fmt in 0usize..7) {
        let text = lines.join("\n");
        let format = Format::ALL.get(fmt).copied();
        if let Ok(log) = parse(text.as_bytes(), &ParseOptions { format, ..Default::default() }) {
            let s = summarize(&log);
            let mut seen: Vec<usize> = log.events.iter().map(|e| e.line).chain(s.unparsed_lines.iter().map(|u| u.line)).collect();
            seen.sort();
            let before = seen.len();
            seen.dedup();
            // A line is an event or unparsed, never both, and always exists.
            prop_assert_eq!(before, seen.len());
            prop_assert!(seen.iter().all(|l| *l >= 1 && *l <= log.total_lines));
        }
    }

    #[test]
    fn message_keys_match_between_irssi_and_weechat(nick in "[a-z][a-z0-9_]{0,10}", text in "[a-zA-Z0-9 .,!?]{1,60}", h in 0u8..24, m in 0u8..60, s in 0u8..60) {
        let text = text.trim().to_string();
        prop_assume!(!text.is_empty());
        let irssi = format!("--- Log opened Mon Mar 02 00:00:00 2009\n{h:02}:{m:02} < {nick}> {text}\n");
        let wee = format!("2009-03-02 {h:02}:{m:02}:{s:02}\t{nick}\t{text}\n");
        let a = parse(irssi.as_bytes(), &ParseOptions { format: Some(Format::Irssi), ..Default::default() }).unwrap();
        let b = parse(wee.as_bytes(), &ParseOptions { format: Some(Format::Weechat), ..Default::default() }).unwrap();
        prop_assert_eq!(&a.events[0].key, &b.events[0].key);
    }
}
