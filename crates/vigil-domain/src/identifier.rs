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

/// The kinds a bare value (typed into a lookup box, without a kind) could
/// plausibly be, most specific first. Strict shapes (an IP, an e-mail, a
/// URL, a hex digest, a `#room`) claim the value alone; anything else is
/// tried as the free-form kinds.
pub fn plausible_kinds(value: &str) -> Vec<IdentifierKind> {
    use IdentifierKind::*;
    let v = value.trim();
    if v.parse::<std::net::IpAddr>().is_ok() {
        return vec![Ip];
    }
    if v.starts_with('#') {
        return vec![ChatRoom];
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") {
        return vec![Url];
    }
    if matches!(v.len(), 32 | 40 | 64) && v.chars().all(|c| c.is_ascii_hexdigit()) {
        return vec![MediaHash];
    }
    if v.contains('@')
        && !v.starts_with('@')
        && v.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'))
    {
        return vec![Email];
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let phone_like = v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    if phone_like && digits >= 7 {
        return vec![Phone, PaymentAccount, DeviceSerial, Handle];
    }
    if v.contains(':') {
        return vec![MessengerId, Handle];
    }
    vec![Handle, MessengerId, PaymentAccount, DeviceSerial]
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdentifierKind::*;

    #[test]
    fn bare_values_get_plausible_kinds() {
        assert_eq!(plausible_kinds("192.0.2.4"), vec![Ip]);
        assert_eq!(plausible_kinds("2001:db8::1"), vec![Ip]);
        assert_eq!(plausible_kinds("god@example.org"), vec![Email]);
        assert_eq!(plausible_kinds("#kids@irc.example.net"), vec![ChatRoom]);
        assert_eq!(plausible_kinds(&"a".repeat(32)), vec![MediaHash]);
        assert_eq!(plausible_kinds("https://example.com/x"), vec![Url]);
        assert_eq!(plausible_kinds("+44 20 7946 0000")[0], Phone);
        assert_eq!(plausible_kinds("Son_of_G0d")[0], Handle);
        assert_eq!(plausible_kinds("skype:son.of.god")[0], MessengerId);
    }
}
