//! Typed identifiers: the handles, addresses and numbers that tie online
//! activity to people.

use serde::{Deserialize, Serialize};

/// What an identifier is. The kind decides how its value is validated and
/// normalised, and therefore what it can link to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentifierKind {
    /// A nickname or user name on a network or platform (`nick@irc.example.net`).
    Handle,
    Email,
    /// IPv4 or IPv6 address, with time seen and port kept beside it.
    Ip,
    Phone,
    PaymentAccount,
    DeviceSerial,
    ChatRoom,
    Url,
    /// An account on a messenger (Skype, ICQ, Kik, Telegram ...), `platform:id`.
    MessengerId,
    /// A cryptographic file hash (MD5, SHA-1, SHA-256) seen in text, e.g. a
    /// file offered in a chat room.
    MediaHash,
}

impl IdentifierKind {
    pub const ALL: [IdentifierKind; 10] = [
        Self::Handle,
        Self::Email,
        Self::Ip,
        Self::Phone,
        Self::PaymentAccount,
        Self::DeviceSerial,
        Self::ChatRoom,
        Self::Url,
        Self::MessengerId,
        Self::MediaHash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Handle => "handle",
            Self::Email => "email",
            Self::Ip => "ip",
            Self::Phone => "phone",
            Self::PaymentAccount => "payment-account",
            Self::DeviceSerial => "device-serial",
            Self::ChatRoom => "chat-room",
            Self::Url => "url",
            Self::MessengerId => "messenger-id",
            Self::MediaHash => "media-hash",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
