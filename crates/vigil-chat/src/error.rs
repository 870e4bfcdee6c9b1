use thiserror::Error;

/// Errors that stop a whole import. A single bad line is never one of these:
/// it is reported in [`crate::ParsedLog::unparsed`] and the rest is parsed.
#[derive(Debug, Error)]
pub enum ChatError {
    /// Auto-detection found no known chat-log layout in the first lines.
    #[error(
        "not a chat log: no line in the first {sampled} non-empty lines looks like irssi, WeeChat, HexChat/XChat, mIRC, JSON Lines or CSV chat output (pass an explicit format if you are sure)"
    )]
    NotAChatLog { sampled: usize },
    /// The file is empty or contains only blank lines.
    #[error("the log is empty")]
    Empty,
    #[error(
        "unknown time zone {0:?}: use UTC, a fixed offset like +02:00, or an IANA name like Europe/London"
    )]
    UnknownZone(String),
    #[error("unknown log format {0:?}: expected irssi, weechat, hexchat, mirc, jsonl or csv")]
    UnknownFormat(String),
    /// A CSV log whose header lacks the columns the schema requires.
    #[error("CSV header is missing required column {0:?} (see the crate README for the schema)")]
    CsvHeader(&'static str),
    #[error("CSV: {0}")]
    Csv(String),
}
