//! Identifiers in a log: from hostmasks, DCC offers and free text.
//!
//! Each identifier says whether it belongs to a participant or is merely
//! mentioned. Ownership is only claimed where the log makes it explicit:
//! the address of a nick's own connection (hostmask), the address a DCC
//! sender advertised, or first-person wording in the same clause ("my skype
//! is", "mail me at", "add me on kik:"). Everything else is `Mentioned`, so a
//! link drawn from `Own` is one an investigator can defend.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vigil_domain::IdentifierKind;

use crate::event::{Event, EventKind, SELF_NICK};
use crate::parse::ParsedLog;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ownership {
    /// The identifier belongs to `owner`.
    Own,
    /// Said or shown, with no claim of whose it is.
    Mentioned,
}

/// Where on the line the identifier was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Hostmask,
    Dcc,
    Text,
}

/// One identifier occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub kind: IdentifierKind,
    /// Normalised value: lower-case e-mail and hashes, canonical IP text,
    /// `platform:id` for messenger ids, `+` and digits for phones.
    pub value: String,
    /// Exactly as written.
    pub raw: String,
    pub line: usize,
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// Who wrote the line (speaker, joiner, DCC sender).
    pub speaker: Option<String>,
    /// The participant the identifier belongs to, when [`Ownership::Own`].
    pub owner: Option<String>,
    pub ownership: Ownership,
    pub source: Source,
    /// Hash algorithm (`md5`, `sha1`, `sha256`) or messenger platform.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    /// Key of the event the identifier came from.
    pub event_key: String,
}

/// An identifier found in a piece of text, before it is tied to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: IdentifierKind,
    pub value: String,
    pub raw: String,
    pub start: usize,
    pub end: usize,
    /// First-person wording claims it for the speaker.
    pub first_person: bool,
    pub detail: Option<String>,
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("static regex"));
    };
}

re!(
    URL,
    r#"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'`]+|\b[a-z2-7]{16,56}\.onion\b[^\s<>"'`]*"#
);
re!(
    EMAIL,
    r"(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}\b"
);
re!(
    EMAIL_OBF,
    r"(?i)\b([a-z0-9][a-z0-9._-]*)\s*(?:\[at\]|\(at\)|\{at\}|\sat\s)\s*([a-z0-9-]+)\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s)\s*([a-z]{2,24})\b"
);
re!(
    IPV4,
    r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b"
);
re!(IPV6, r"(?i)[0-9a-f]*(?::[0-9a-f]*){2,8}");
re!(HASH, r"\b[0-9a-fA-F]{32,64}\b");
re!(PHONE, r"(?:\+|\b)\(?\d[\d ()./-]{5,20}\d\b");
re!(
    MESSENGER,
    r"(?i)\b(skype|icq|aim|msn|kik|telegram|snapchat|wickr|threema|discord|whatsapp|yahoo|tg|sc|snap|wa|signal|session)\b((?:\s*(?:id|name|username|user|handle|sn|screen ?name|number|no\.?|#))?\s*(?:is|=|:|-)?\s*(?:me\s*(?:at|on)?\s*)?[:#=]?\s*)@?([a-z0-9][a-z0-9._:\-]{1,40}[a-z0-9_])"
);
re!(
    ON_PLATFORM,
    r"(?i)@?\b([a-z0-9][a-z0-9._\-]{1,40}[a-z0-9_])\s+on\s+(skype|kik|telegram|snapchat|icq|wickr|threema|discord|aim|msn)\b"
);
re!(TME, r"(?i)\bt\.me/([a-z0-9_]{4,32})");
re!(
    FIRST,
    r"(?i)\b(?:my|me|mine|myself|i'm|im|i am|i'll|ill|hit me|add me|mail me|msg me|contact me)\b"
);
re!(
    THIRD,
    r"(?i)\b(?:his|her|hers|their|he|she|they|he's|she's|they're)\b|\w's\b"
);
re!(
    PHONE_CUE,
    r"(?i)\b(?:phone|cell|mobile|mob|number|num|call|text|sms|whatsapp|tel|ph)\b"
);

/// Words that follow a platform name but are not ids ("my skype is down").
const STOP: &[&str] = &[
    "is", "me", "at", "on", "the", "and", "or", "you", "to", "plz", "please", "pls", "only", "too",
    "id", "name", "add", "with", "for", "lol", "ok", "down", "not", "now", "here", "there", "it",
    "in", "if", "so", "but", "are", "was", "call", "chat", "account", "then", "this", "that", "my",
    "your", "his", "her", "just", "also", "instead", "later", "too", "better", "user", "handle",
];

fn platform(p: &str) -> &'static str {
    match p.to_ascii_lowercase().as_str() {
        "skype" => "skype",
        "icq" => "icq",
        "aim" => "aim",
        "msn" => "msn",
        "kik" => "kik",
        "telegram" | "tg" => "telegram",
        "snapchat" | "snap" | "sc" => "snapchat",
        "wickr" => "wickr",
        "threema" => "threema",
        "discord" => "discord",
        "whatsapp" | "wa" => "whatsapp",
        "yahoo" => "yahoo",
        "signal" => "signal",
        "session" => "session",
        _ => "other",
    }
}

/// Platform words that are also everyday words: only taken with an explicit
/// `:`/`=` before the id.
fn weak(p: &str) -> bool {
    matches!(
        p.to_ascii_lowercase().as_str(),
        "tg" | "sc" | "snap" | "wa" | "signal" | "session" | "aim"
    )
}

/// Decides first-person ownership from the clause before `start`.
fn first_person(text: &str, clause_start: usize, start: usize) -> bool {
    let clause = &text[clause_start..start];
    let clause = match clause.rfind(['.', '!', '?', ';', '\n']) {
        Some(i) => &clause[i + 1..],
        None => clause,
    };
    let last_first = FIRST.find_iter(clause).last().map(|m| m.start());
    let last_third = THIRD.find_iter(clause).last().map(|m| m.start());
    match (last_first, last_third) {
        (Some(f), Some(t)) => f > t,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Finds identifiers in free text. Overlaps resolve in favour of the more
/// specific kind found first (URL before the e-mail or hash inside it), but
/// an IP that is a URL's host is reported as well.
pub fn find_in_text(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let overlaps = |out: &[Found], s: usize, e: usize| out.iter().any(|f| s < f.end && f.start < e);
    let push = |out: &mut Vec<Found>,
                kind,
                value: String,
                raw: &str,
                s: usize,
                e: usize,
                detail: Option<String>| {
        out.push(Found {
            kind,
            value,
            raw: raw.to_owned(),
            start: s,
            end: e,
            first_person: false,
            detail,
        });
    };

    for m in URL.find_iter(text) {
        let raw = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"', '>']);
        let (s, e) = (m.start(), m.start() + raw.len());
        push(
            &mut out,
            IdentifierKind::Url,
            raw.to_owned(),
            raw,
            s,
            e,
            None,
        );
        if let Some(t) = TME.captures(raw) {
            push(
                &mut out,
                IdentifierKind::MessengerId,
                format!("telegram:{}", t[1].to_ascii_lowercase()),
                raw,
                s,
                e,
                Some("telegram".into()),
            );
        }
    }
    let urls: Vec<(usize, usize)> = out.iter().map(|f| (f.start, f.end)).collect();
    for m in EMAIL.find_iter(text) {
        if !overlaps(&out, m.start(), m.end()) {
            push(
                &mut out,
                IdentifierKind::Email,
                m.as_str().to_ascii_lowercase(),
                m.as_str(),
                m.start(),
                m.end(),
                None,
            );
        }
    }
    for c in EMAIL_OBF.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if !overlaps(&out, m.start(), m.end()) {
            let v = format!("{}@{}.{}", &c[1], &c[2], &c[3]).to_ascii_lowercase();
            push(
                &mut out,
                IdentifierKind::Email,
                v,
                m.as_str(),
                m.start(),
                m.end(),
                Some("obfuscated".into()),
            );
        }
    }
    for c in MESSENGER.captures_iter(text) {
        let (Some(m), Some(p), Some(sep), Some(v)) = (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        let id = v.as_str();
        if STOP.contains(&id.to_ascii_lowercase().as_str()) || overlaps(&out, v.start(), v.end()) {
            continue;
        }
        if weak(p.as_str()) && !sep.as_str().contains([':', '=']) {
            continue;
        }
        let plat = platform(p.as_str());
        if plat == "icq" && !id.chars().all(|c| c.is_ascii_digit() || c == '-') {
            continue;
        }
        let norm = if plat == "icq" {
            id.replace('-', "")
        } else {
            id.to_ascii_lowercase()
        };
        push(
            &mut out,
            IdentifierKind::MessengerId,
            format!("{plat}:{norm}"),
            m.as_str(),
            m.start(),
            m.end(),
            Some(plat.into()),
        );
    }
    for c in ON_PLATFORM.captures_iter(text) {
        let (Some(m), Some(v), Some(p)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        if STOP.contains(&v.as_str().to_ascii_lowercase().as_str())
            || overlaps(&out, m.start(), m.end())
        {
            continue;
        }
        let plat = platform(p.as_str());
        push(
            &mut out,
            IdentifierKind::MessengerId,
            format!("{plat}:{}", v.as_str().to_ascii_lowercase()),
            m.as_str(),
            m.start(),
            m.end(),
            Some(plat.into()),
        );
    }
    for m in IPV4.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        // Part of a longer dotted number (version strings, OIDs).
        if matches!(before, Some('.'))
            || (matches!(after, Some('.'))
                && text[m.end() + 1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            continue;
        }
        let in_url = urls.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e);
        if in_url || !overlaps(&out, m.start(), m.end()) {
            push(
                &mut out,
                IdentifierKind::Ip,
                m.as_str().to_owned(),
                m.as_str(),
                m.start(),
                m.end(),
                Some("ipv4".into()),
            );
        }
    }
    for m in IPV6.find_iter(text) {
        let raw = m.as_str();
        let glued = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if raw.matches(':').count() < 2 || glued {
            continue;
        }
        if let Ok(ip) = raw.parse::<Ipv6Addr>()
            && !ip.is_unspecified()
            && !overlaps(&out, m.start(), m.end())
        {
            push(
                &mut out,
                IdentifierKind::Ip,
                ip.to_string(),
                raw,
                m.start(),
                m.end(),
                Some("ipv6".into()),
            );
        }
    }
    for m in HASH.find_iter(text) {
        let raw = m.as_str();
        let algo = match raw.len() {
            32 => "md5",
            40 => "sha1",
            64 => "sha256",
            _ => continue,
        };
        if raw.bytes().all(|b| b.is_ascii_digit()) || overlaps(&out, m.start(), m.end()) {
            continue;
        }
        push(
            &mut out,
            IdentifierKind::MediaHash,
            raw.to_ascii_lowercase(),
            raw,
            m.start(),
            m.end(),
            Some(algo.into()),
        );
    }
    for m in PHONE.find_iter(text) {
        let raw = m.as_str().trim();
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if !(7..=15).contains(&digits.len()) || overlaps(&out, m.start(), m.end()) {
            continue;
        }
        // Dates and dotted numbers are not phones.
        if raw.parse::<IpAddr>().is_ok()
            || (raw.len() == 10
                && raw.as_bytes().get(4) == Some(&b'-')
                && raw.as_bytes().get(7) == Some(&b'-'))
        {
            continue;
        }
        let plus = raw.starts_with('+');
        let grouped = raw.contains([' ', '-', '(', '.', '/']);
        let cue_from = text[..m.start()]
            .char_indices()
            .rev()
            .nth(30)
            .map(|(i, _)| i)
            .unwrap_or(0);
        let cue = PHONE_CUE.is_match(&text[cue_from..m.start()]);
        if !(plus || cue || (grouped && digits.len() >= 9)) {
            continue;
        }
        let value = if plus { format!("+{digits}") } else { digits };
        push(
            &mut out,
            IdentifierKind::Phone,
            value,
            raw,
            m.start(),
            m.end(),
            None,
        );
    }
    out.sort_by_key(|f| f.start);
    let mut prev_end = 0;
    for f in out.iter_mut() {
        f.first_person = first_person(text, prev_end.min(f.start), f.start);
        prev_end = f.end;
    }
    out
}

/// Extracts every identifier from a parsed log, in line order.
pub fn extract(log: &ParsedLog) -> Vec<Identifier> {
    let mut out = Vec::new();
    for e in &log.events {
        extract_event(e, &mut out);
    }
    out
}

re!(
    HOST_EMBEDDED_V4,
    r"(?:^|[^0-9])(\d{1,3})[-.](\d{1,3})[-.](\d{1,3})[-.](\d{1,3})(?:[^0-9]|$)"
);

/// The address of a hostmask host: the host itself when it is an IP, or an
/// IPv4 address spelled into an ISP's reverse-DNS name
/// (`dsl-192-0-2-10.example.net`), reported with detail `hostname`.
fn ip_of_host(host: &str) -> Option<(String, &'static str)> {
    let h = host.trim_start_matches('~');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Some((ip.to_string(), if ip.is_ipv4() { "ipv4" } else { "ipv6" }));
    }
    let c = HOST_EMBEDDED_V4.captures(h)?;
    let ip = format!("{}.{}.{}.{}", &c[1], &c[2], &c[3], &c[4]);
    ip.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(|ip| (ip.to_string(), "hostname"))
}

/// Identifiers of one event, appended to `out`.
pub fn extract_event(e: &Event, out: &mut Vec<Identifier>) {
    let actor = e.kind.actor();
    let speaker = (!actor.is_empty() && actor != SELF_NICK).then(|| actor.to_owned());
    let mut add = |kind, value: String, raw: &str, own: bool, source, detail: Option<String>| {
        out.push(Identifier {
            kind,
            value,
            raw: raw.to_owned(),
            line: e.line,
            time: e.time,
            speaker: speaker.clone(),
            owner: if own { speaker.clone() } else { None },
            ownership: if own && speaker.is_some() {
                Ownership::Own
            } else {
                Ownership::Mentioned
            },
            source,
            detail,
            event_key: e.key.clone(),
        });
    };
    match &e.kind {
        EventKind::Join { user: Some(u), .. }
        | EventKind::Part { user: Some(u), .. }
        | EventKind::Quit { user: Some(u), .. } => {
            if let Some((ip, detail)) = ip_of_host(&u.host) {
                add(
                    IdentifierKind::Ip,
                    ip,
                    &u.host,
                    true,
                    Source::Hostmask,
                    Some(detail.into()),
                );
            }
        }
        EventKind::DccSend {
            ip: Some(ip), file, ..
        } => {
            add(
                IdentifierKind::Ip,
                ip.clone(),
                ip,
                true,
                Source::Dcc,
                Some("dcc".into()),
            );
            for f in find_in_text(file) {
                add(f.kind, f.value, &f.raw, false, Source::Dcc, f.detail);
            }
        }
        EventKind::DccSend { file, .. } => {
            for f in find_in_text(file) {
                add(f.kind, f.value, &f.raw, false, Source::Dcc, f.detail);
            }
        }
        _ => {}
    }
    if let Some(text) = e.kind.text() {
        // Quit/part reasons are written by the user too, so the same rules apply.
        for f in find_in_text(text) {
            add(
                f.kind,
                f.value,
                &f.raw,
                f.first_person,
                Source::Text,
                f.detail,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(IdentifierKind, String, bool)> {
        find_in_text(text)
            .into_iter()
            .map(|f| (f.kind, f.value, f.first_person))
            .collect()
    }

    #[test]
    fn ownership_follows_first_person_wording() {
        let v = kinds("my skype is live:dark.fox77 and his kik: otherguy_12");
        assert!(
            v.contains(&(
                IdentifierKind::MessengerId,
                "skype:live:dark.fox77".into(),
                true
            )),
            "{v:?}"
        );
        assert!(
            v.contains(&(IdentifierKind::MessengerId, "kik:otherguy_12".into(), false)),
            "{v:?}"
        );
        let m = kinds("mail me at Fox.Trader@example.com");
        assert_eq!(
            m,
            vec![(IdentifierKind::Email, "fox.trader@example.com".into(), true)]
        );
        let n = kinds("contact bob at bob@example.org");
        assert_eq!(
            n,
            vec![(IdentifierKind::Email, "bob@example.org".into(), false)]
        );
    }

    #[test]
    fn handles_on_platforms() {
        let v = kinds("i'm nightowl_3 on telegram, add me on kik: blue.moth");
        assert!(
            v.contains(&(
                IdentifierKind::MessengerId,
                "telegram:nightowl_3".into(),
                true
            )),
            "{v:?}"
        );
        assert!(
            v.contains(&(IdentifierKind::MessengerId, "kik:blue.moth".into(), true)),
            "{v:?}"
        );
        assert!(kinds("my skype is down again").is_empty());
        assert_eq!(kinds("icq# 123-456-789")[0].1, "icq:123456789");
    }

    #[test]
    fn addresses_hashes_urls_phones() {
        let v = kinds(
            "get it at http://203.0.113.5/files/a.zip md5 d41d8cd98f00b204e9800998ecf8427e from 2001:db8::7 call +44 20 7946 0000 v1.2.3.4.5",
        );
        let ks: Vec<_> = v.iter().map(|x| (x.0, x.1.as_str())).collect();
        assert!(ks.contains(&(IdentifierKind::Url, "http://203.0.113.5/files/a.zip")));
        assert!(ks.contains(&(IdentifierKind::Ip, "203.0.113.5")));
        assert!(ks.contains(&(
            IdentifierKind::MediaHash,
            "d41d8cd98f00b204e9800998ecf8427e"
        )));
        assert!(ks.contains(&(IdentifierKind::Ip, "2001:db8::7")));
        assert!(ks.contains(&(IdentifierKind::Phone, "+442079460000")));
        assert!(
            !ks.iter()
                .any(|(_, v)| v.starts_with("1.2.3") || v.starts_with("2.3.4")),
            "{ks:?}"
        );
        assert!(
            kinds("meet at 14:21:09 on 2009-03-02, 150 files").is_empty(),
            "{:?}",
            kinds("meet at 14:21:09 on 2009-03-02, 150 files")
        );
    }

    #[test]
    fn hostmask_addresses() {
        assert_eq!(
            ip_of_host("~198.51.100.7"),
            Some(("198.51.100.7".into(), "ipv4"))
        );
        assert_eq!(
            ip_of_host("dsl-192-0-2-10.dyn.example.net"),
            Some(("192.0.2.10".into(), "hostname"))
        );
        assert_eq!(
            ip_of_host("2001:db8::1"),
            Some(("2001:db8::1".into(), "ipv6"))
        );
        assert_eq!(
            ip_of_host("gateway/web/example/ip.203.0.113.9"),
            Some(("203.0.113.9".into(), "hostname"))
        );
        assert_eq!(ip_of_host("user-999-1-1-1.example.net"), None);
        assert_eq!(ip_of_host("cloaked-4F2A.example.net"), None);
    }

    #[test]
    fn obfuscated_email() {
        let v = kinds("write to shade [at] example [dot] net");
        assert_eq!(v[0].1, "shade@example.net");
    }
}
