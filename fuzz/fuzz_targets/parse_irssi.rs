#![no_main]
//! Any bytes, read as a irssi log: must never panic, and every line number
//! reported must exist.

use libfuzzer_sys::fuzz_target;
use vigil_chat::{Format, ParseOptions, parse, summarize};

fuzz_target!(|data: &[u8]| {
    let fmt: Format = "irssi".parse().expect("known format");
    if let Ok(log) = parse(data, &ParseOptions { format: Some(fmt), ..Default::default() }) {
        let s = summarize(&log);
        assert!(log.events.iter().all(|e| e.line >= 1 && e.line <= log.total_lines));
        assert!(s.unparsed_lines.iter().all(|u| u.line >= 1 && u.line <= log.total_lines));
    }
});
