//! The `--json` import summary: one serialisable value with everything the
//! importer stores, so the CLI needs no knowledge of the parser internals.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::decode::FileEncoding;
use crate::event::EventKind;
use crate::extract::{Identifier, extract};
use crate::format::Format;
use crate::parse::{ParsedLog, UnparsedLine};
use crate::room::{FileOffer, Grant, Member, NickChange, analyse};

/// A message, action or notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub key: String,
    pub line: usize,
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    pub nick: String,
    /// `message`, `action` or `notice`.
    pub kind: String,
    pub text: String,
    pub addressed_to: Option<String>,
    pub room: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub format: Format,
    pub encoding: FileEncoding,
    pub channel: Option<String>,
    pub messages: Vec<MessageRecord>,
    pub participants: Vec<Member>,
    pub operators: Vec<Grant>,
    pub nick_changes: Vec<NickChange>,
    pub nick_chains: Vec<Vec<String>>,
    pub file_offers: Vec<FileOffer>,
    pub identifiers: Vec<Identifier>,
    pub unparsed_lines: Vec<UnparsedLine>,
}

pub fn summarize(log: &ParsedLog) -> ImportSummary {
    let room = analyse(log);
    let messages = log
        .events
        .iter()
        .filter_map(|e| {
            let (nick, text, addressed_to) = match &e.kind {
                EventKind::Message {
                    nick,
                    text,
                    addressed_to,
                    ..
                } => (nick, text, addressed_to.clone()),
                EventKind::Action { nick, text } | EventKind::Notice { nick, text } => {
                    (nick, text, None)
                }
                _ => return None,
            };
            Some(MessageRecord {
                key: e.key.clone(),
                line: e.line,
                time: e.time,
                nick: nick.clone(),
                kind: e.kind.tag().to_owned(),
                text: text.clone(),
                addressed_to,
                room: e.room.clone().or_else(|| log.channel.clone()),
            })
        })
        .collect();
    ImportSummary {
        format: log.format,
        encoding: log.encoding,
        channel: log.channel.clone(),
        messages,
        participants: room.members,
        operators: room.operators,
        nick_changes: room.nick_changes,
        nick_chains: room.nick_chains,
        file_offers: room.file_offers,
        identifiers: extract(log),
        unparsed_lines: log.unparsed.clone(),
    }
}
