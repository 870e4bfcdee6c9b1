//! Which client wrote a log, decided from its first lines.

use serde::{Deserialize, Serialize};

use crate::ChatError;
use crate::decode::{DecodedLine, decode_lines};
use crate::parse::{Line, generic, hexchat, irssi, mirc, weechat};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Irssi,
    Weechat,
    /// HexChat and its predecessor XChat (same log layout).
    Hexchat,
    Mirc,
    /// JSON Lines in the schema of the crate README.
    Jsonl,
    /// CSV with a header row, same schema.
    Csv,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Irssi,
        Format::Weechat,
        Format::Hexchat,
        Format::Mirc,
        Format::Jsonl,
        Format::Csv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Irssi => "irssi",
            Format::Weechat => "weechat",
            Format::Hexchat => "hexchat",
            Format::Mirc => "mirc",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = ChatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "irssi" => Format::Irssi,
            "weechat" => Format::Weechat,
            "hexchat" | "xchat" => Format::Hexchat,
            "mirc" => Format::Mirc,
            "jsonl" | "json" | "ndjson" | "jsonlines" => Format::Jsonl,
            "csv" => Format::Csv,
            _ => return Err(ChatError::UnknownFormat(s.to_owned())),
        })
    }
}

type LineParser = fn(&str) -> Line;

/// How many non-blank lines detection looks at.
pub const SAMPLE: usize = 200;

/// Guesses the format from the first lines; `None` if it is not a chat log.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    // Only the head matters; avoid decoding a whole multi-GB file.
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let (lines, _) = decode_lines(head);
    detect_lines(&lines)
}

/// Scores each format by the share of sampled lines its own parser accepts
/// as events or headers. Requiring more than half keeps prose, source code
/// and binary files out, while a log with some odd lines still passes.
pub fn detect_lines(lines: &[DecodedLine]) -> Option<Format> {
    let sample: Vec<&DecodedLine> = lines
        .iter()
        .filter(|l| !l.text.trim().is_empty())
        .take(SAMPLE)
        .collect();
    if sample.is_empty() {
        return None;
    }
    let ok = |l: &Line| matches!(l, Line::Event { .. } | Line::Date(_));
    let mut best: Option<(Format, usize)> = None;
    let parsers: [(Format, LineParser); 4] = [
        (Format::Weechat, weechat::parse_line),
        (Format::Hexchat, hexchat::parse_line),
        (Format::Irssi, irssi::parse_line),
        (Format::Mirc, mirc::parse_line),
    ];
    for (f, p) in parsers {
        let n = sample.iter().filter(|l| ok(&p(&l.text))).count();
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((f, n));
        }
    }
    let owned: Vec<DecodedLine> = sample.iter().map(|l| (*l).clone()).collect();
    let json_ok = generic::parse_jsonl(&owned)
        .iter()
        .filter(|(_, l)| ok(l))
        .count();
    if best.is_none_or(|(_, b)| json_ok > b) {
        best = Some((Format::Jsonl, json_ok));
    }
    if let Ok(rows) = generic::parse_csv(&owned) {
        // The header row counts as recognised.
        let n = rows.iter().filter(|(_, l)| ok(l)).count() + 1;
        if rows.len() > 1 && best.is_none_or(|(_, b)| n > b) {
            best = Some((Format::Csv, n));
        }
    }
    best.filter(|(_, n)| *n * 2 > sample.len()).map(|(f, _)| f)
}
