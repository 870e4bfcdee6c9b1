//! The events a chat log records, independent of the client that wrote it.
//!
//! Every client-specific spelling (irssi's `[+o alice] by bob`, HexChat's
//! "bob gives channel operator status to alice", WeeChat's quoted topics) is
//! normalised into these variants, which is what makes the per-event key
//! ([`Event::key`]) identical across clients.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::decode::LineEncoding;

/// `ident@host` of a hostmask, as printed by the client (`~` kept: it says
/// the ident was not verified).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserHost {
    pub ident: String,
    pub host: String,
}

impl UserHost {
    /// Parses `ident@host`; returns `None` if there is no `@` or a side is empty.
    pub fn parse(s: &str) -> Option<UserHost> {
        let (ident, host) = s.trim().split_once('@')?;
        if ident.is_empty() || host.is_empty() || host.contains(char::is_whitespace) {
            return None;
        }
        Some(UserHost {
            ident: ident.to_owned(),
            host: host.to_owned(),
        })
    }
}

impl std::fmt::Display for UserHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.ident, self.host)
    }
}

/// One `+o alice` / `-v bob` / `+m` change out of a MODE line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModeChange {
    pub add: bool,
    pub mode: char,
    pub arg: Option<String>,
}

/// What happened on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Message {
        nick: String,
        text: String,
        /// Channel status prefix shown before the nick (`@`, `+`, `%`, `&`, `~`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        prefix: Option<char>,
        /// Participant addressed with `nick: ...` / `nick, ...` (only set when
        /// the word is a nick seen in the same log).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        addressed_to: Option<String>,
    },
    Action {
        nick: String,
        text: String,
    },
    Notice {
        nick: String,
        text: String,
    },
    Join {
        nick: String,
        user: Option<UserHost>,
        channel: Option<String>,
    },
    Part {
        nick: String,
        user: Option<UserHost>,
        channel: Option<String>,
        reason: Option<String>,
    },
    Quit {
        nick: String,
        user: Option<UserHost>,
        reason: Option<String>,
    },
    Kick {
        nick: String,
        by: String,
        channel: Option<String>,
        reason: Option<String>,
    },
    NickChange {
        old: String,
        new: String,
    },
    Mode {
        /// Nick or server that set the mode.
        by: String,
        channel: Option<String>,
        changes: Vec<ModeChange>,
    },
    Topic {
        by: String,
        channel: Option<String>,
        topic: String,
    },
    /// A DCC SEND offer or transfer: `from` offers `file` to `to`.
    DccSend {
        from: String,
        to: Option<String>,
        file: String,
        size: Option<u64>,
        /// The address the sender advertised (decoded from the numeric form).
        ip: Option<String>,
        port: Option<u16>,
    },
}

impl EventKind {
    /// The nick who caused the event (speaker, joiner, granter, sender...).
    pub fn actor(&self) -> &str {
        match self {
            EventKind::Message { nick, .. }
            | EventKind::Action { nick, .. }
            | EventKind::Notice { nick, .. }
            | EventKind::Join { nick, .. }
            | EventKind::Part { nick, .. }
            | EventKind::Quit { nick, .. } => nick,
            EventKind::Kick { by, .. }
            | EventKind::Mode { by, .. }
            | EventKind::Topic { by, .. } => by,
            EventKind::NickChange { old, .. } => old,
            EventKind::DccSend { from, .. } => from,
        }
    }

    /// Free text carried by the event, for identifier extraction and search.
    pub fn text(&self) -> Option<&str> {
        match self {
            EventKind::Message { text, .. }
            | EventKind::Action { text, .. }
            | EventKind::Notice { text, .. } => Some(text),
            EventKind::Topic { topic, .. } => Some(topic),
            EventKind::Part { reason, .. }
            | EventKind::Quit { reason, .. }
            | EventKind::Kick { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }

    pub fn tag(&self) -> &'static str {
        match self {
            EventKind::Message { .. } => "message",
            EventKind::Action { .. } => "action",
            EventKind::Notice { .. } => "notice",
            EventKind::Join { .. } => "join",
            EventKind::Part { .. } => "part",
            EventKind::Quit { .. } => "quit",
            EventKind::Kick { .. } => "kick",
            EventKind::NickChange { .. } => "nick_change",
            EventKind::Mode { .. } => "mode",
            EventKind::Topic { .. } => "topic",
            EventKind::DccSend { .. } => "dcc_send",
        }
    }

    /// The fields that identify the event, in a fixed order, with nicks and
    /// channels case-folded. Client-specific decoration (brackets, quotes,
    /// status prefixes, hostmask punctuation) is already gone at this point.
    fn canonical(&self) -> String {
        fn f(s: &str) -> String {
            fold(s)
        }
        fn o(s: &Option<String>) -> String {
            s.as_deref().map(str::trim).unwrap_or("").to_owned()
        }
        fn oc(s: &Option<String>) -> String {
            s.as_deref().map(fold).unwrap_or_default()
        }
        // Channels and hostmasks are left out: some clients omit them on some
        // lines (HexChat's op and topic lines, its quits without a host), and
        // a log covers one room anyway; [`Event::room`] is added separately.
        let parts: Vec<String> = match self {
            EventKind::Message { nick, text, .. }
            | EventKind::Action { nick, text }
            | EventKind::Notice { nick, text } => {
                vec![f(nick), text.trim().to_owned()]
            }
            EventKind::Join { nick, .. } => vec![f(nick)],
            EventKind::Part { nick, reason, .. } => vec![f(nick), o(reason)],
            EventKind::Quit { nick, reason, .. } => vec![f(nick), o(reason)],
            EventKind::Kick {
                nick, by, reason, ..
            } => vec![f(nick), f(by), o(reason)],
            EventKind::NickChange { old, new } => vec![f(old), f(new)],
            EventKind::Mode { by, changes, .. } => {
                let mut v = vec![f(by)];
                for c in changes {
                    v.push(format!(
                        "{}{}{}",
                        if c.add { '+' } else { '-' },
                        c.mode,
                        c.arg.as_deref().map(fold).unwrap_or_default()
                    ));
                }
                v
            }
            EventKind::Topic { by, topic, .. } => vec![f(by), topic.trim().to_owned()],
            EventKind::DccSend {
                from,
                to,
                file,
                size,
                ..
            } => {
                vec![
                    f(from),
                    oc(to),
                    file.clone(),
                    size.map(|s| s.to_string()).unwrap_or_default(),
                ]
            }
        };
        parts.join("\u{1f}")
    }
}

/// IRC case folding (RFC 1459: `[]\~` are the upper case of `{}|^`), so that
/// `Alice[away]` and `alice{away}` are one participant.
pub fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '[' => '{',
            ']' => '}',
            '\\' => '|',
            '~' => '^',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Stands for the log owner (the officer) where a client writes "you"
/// instead of a nick, e.g. irssi's "DCC sent file x for bob".
pub const SELF_NICK: &str = "(me)";

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based line number in the source file.
    pub line: usize,
    /// UTC instant; `None` when the log gives no date and no base date was set.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// Stable idempotency key, see [`event_key`].
    pub key: String,
    pub encoding: LineEncoding,
    /// Room named on the line itself (JSON Lines/CSV); IRC logs name the
    /// channel once, in [`crate::ParsedLog::channel`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub room: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Computes the stable key of an event: SHA-256 over the UTC time truncated
/// to the minute, the event type, its canonical fields and an occurrence
/// ordinal (the n-th identical event in the same minute), first 128 bits in hex.
///
/// Minute precision is deliberate: irssi and mIRC log `HH:MM` while WeeChat
/// and HexChat log seconds, and the same message must get the same key from
/// all of them. The ordinal keeps repeated identical lines ("lol", "lol")
/// distinct while still matching across clients that logged the same repeats.
pub fn event_key(
    time: Option<OffsetDateTime>,
    room: Option<&str>,
    kind: &EventKind,
    ordinal: u32,
) -> String {
    let minute = time
        .map(|t| (t.unix_timestamp().div_euclid(60)).to_string())
        .unwrap_or_else(|| "-".into());
    let mut h = Sha256::new();
    h.update(b"vigil-chat-event-v1\x1f");
    h.update(minute.as_bytes());
    h.update(b"\x1f");
    h.update(room.map(fold).unwrap_or_default().as_bytes());
    h.update(b"\x1f");
    h.update(kind.tag().as_bytes());
    h.update(b"\x1f");
    h.update(kind.canonical().as_bytes());
    h.update(b"\x1f");
    h.update(ordinal.to_string().as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Key before the ordinal is applied; used to count repeats.
pub(crate) fn base_key(
    time: Option<OffsetDateTime>,
    room: Option<&str>,
    kind: &EventKind,
) -> (i64, String) {
    let minute = time
        .map(|t| t.unix_timestamp().div_euclid(60))
        .unwrap_or(i64::MIN);
    (
        minute,
        format!(
            "{}\u{1f}{}\u{1f}{}",
            room.map(fold).unwrap_or_default(),
            kind.tag(),
            kind.canonical()
        ),
    )
}
