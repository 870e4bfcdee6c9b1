#![no_main]
//! Any bytes through auto-detection and, when detected, the full import path.

use libfuzzer_sys::fuzz_target;
use vigil_chat::{ParseOptions, detect, parse, summarize};

fuzz_target!(|data: &[u8]| {
    let detected = detect(data);
    if let Ok(log) = parse(data, &ParseOptions::default()) {
        // Detection on the whole file and on its head agree for small inputs.
        if data.len() < 256 * 1024 {
            assert_eq!(Some(log.format), detected);
        }
        let _ = summarize(&log);
    }
});
