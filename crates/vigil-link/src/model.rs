//! The input: what the store knows about each person, as plain data.
//!
//! Every item carries a `source` — an opaque reference the integrator chooses
//! (file and line of a chat log, a record id) — so that each piece of
//! evidence can cite what it rests on.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use vigil_domain::IdentifierKind;
use vigil_domain::normalize::TimeWindow;

/// A handle as recorded. The linker derives the key, tokens and network from
/// `raw` itself (with `vigil_domain::normalize::handle_forms`) so that all
/// profiles are compared by one rule; `network` overrides the one in `raw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleItem {
    pub raw: String,
    pub network: Option<String>,
    pub source: String,
}

/// An e-mail address as recorded (normalised by the linker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailItem {
    pub raw: String,
    pub source: String,
}

/// One sighting of an IP address, with its port if known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpItem {
    pub ip: IpAddr,
    pub port: Option<u16>,
    pub window: TimeWindow,
    pub source: String,
}

/// Presence in a chat room during a window (joined/first message to
/// last message or part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomItem {
    pub room: String,
    pub window: TimeWindow,
    pub source: String,
}

/// Whether a person offered (distributed) a file or was found possessing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaRole {
    Offered,
    Possessed,
}

impl MediaRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::Possessed => "possessed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaItem {
    /// Hex digest (normalised by the linker).
    pub hash: String,
    pub role: MediaRole,
    pub source: String,
}

/// `old` changed nick to `new` in one session (`*** old is now known as
/// new`): both handles were used by the same connection, so whoever holds
/// them is one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NickChange {
    pub old: String,
    pub new: String,
    pub network: Option<String>,
    pub source: String,
    /// Persons known from the log itself to have held the old or the new
    /// nick in that session (the store passes the participants of the room
    /// the change was logged in). When given, the linker links exactly these
    /// persons, with certainty, instead of looking the nicks up by name
    /// across every case, where a common nick would make it ambiguous.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<i64>,
}

/// An identifier the person stated as their own ("mail me at …", "add me on
/// ICQ …").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub kind: IdentifierKind,
    pub value: String,
    pub source: String,
}

/// Any other identifier (phone, messenger id, payment account, device
/// serial…) linked on its normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherItem {
    pub kind: IdentifierKind,
    pub value: String,
    pub source: String,
}

/// Everything known about one person (one record in the store — possibly
/// the same human as another record, which is what the linker is for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub person_id: i64,
    pub agency: String,
    pub case_ids: Vec<String>,
    pub handles: Vec<HandleItem>,
    pub emails: Vec<EmailItem>,
    pub ips: Vec<IpItem>,
    pub rooms: Vec<RoomItem>,
    pub media: Vec<MediaItem>,
    pub nick_changes: Vec<NickChange>,
    pub announced: Vec<Announcement>,
    pub others: Vec<OtherItem>,
}

impl Profile {
    pub fn new(person_id: i64) -> Self {
        Self {
            person_id,
            ..Self::default()
        }
    }

    pub fn handle(mut self, raw: &str, source: &str) -> Self {
        self.handles.push(HandleItem {
            raw: raw.into(),
            network: None,
            source: source.into(),
        });
        self
    }

    pub fn email(mut self, raw: &str, source: &str) -> Self {
        self.emails.push(EmailItem {
            raw: raw.into(),
            source: source.into(),
        });
        self
    }

    pub fn ip(mut self, ip: IpAddr, port: Option<u16>, window: TimeWindow, source: &str) -> Self {
        self.ips.push(IpItem {
            ip,
            port,
            window,
            source: source.into(),
        });
        self
    }

    pub fn room(mut self, room: &str, window: TimeWindow, source: &str) -> Self {
        self.rooms.push(RoomItem {
            room: room.into(),
            window,
            source: source.into(),
        });
        self
    }

    pub fn media(mut self, hash: &str, role: MediaRole, source: &str) -> Self {
        self.media.push(MediaItem {
            hash: hash.into(),
            role,
            source: source.into(),
        });
        self
    }

    pub fn nick_change(mut self, old: &str, new: &str, source: &str) -> Self {
        self.nick_changes.push(NickChange {
            old: old.into(),
            new: new.into(),
            network: None,
            source: source.into(),
            holders: Vec::new(),
        });
        self
    }

    pub fn announce(mut self, kind: IdentifierKind, value: &str, source: &str) -> Self {
        self.announced.push(Announcement {
            kind,
            value: value.into(),
            source: source.into(),
        });
        self
    }
}
