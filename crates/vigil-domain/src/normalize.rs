//! Normalised forms of identifier values: the keys on which identifiers from
//! different cases and agencies meet. Raw values are always kept beside them.
//!
//! Invariants:
//! * `normalize` is deterministic and idempotent on its own output
//!   (`normalize(k, &normalize(k, x)?) == normalize(k, x)`), so a stored
//!   normalised value can be re-derived and compared at any time;
//! * it rejects what cannot be the kind it claims to be (an IP with 300 in
//!   it, a phone number of 4 digits) instead of storing a key that meets
//!   nothing;
//! * each kind has its own small function here, documented with the rule it
//!   applies, so an officer can be told why two values were considered equal.

mod email;
mod handle;
mod net;
mod phone;
mod web;

pub use handle::{
    HandleForms, handle_forms, handle_key, handle_tokens, join_tokens, split_network,
};
pub use net::{
    IpObservation, IpRange, IpScope, SharedAddresses, SharedReason, TimeWindow, ip_scope, parse_ip,
};
pub use phone::phone_country;

use crate::IdentifierKind;

/// A raw value could not be understood as the kind it was given as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct NormalizeError {
    pub kind: IdentifierKind,
    pub value: String,
    pub reason: String,
}

impl NormalizeError {
    fn new(kind: IdentifierKind, raw: &str, reason: impl Into<String>) -> Self {
        Self {
            kind,
            value: raw.chars().take(200).collect(),
            reason: reason.into(),
        }
    }
}

/// Validates `raw` as an identifier of `kind` and returns its normalised form
/// (the value exact links are made on). The rule per kind:
///
/// * handle: [`normalize_handle`] — folded key, plus `@network` if named;
/// * e-mail: [`normalize_email`] — case, `+tags`, Gmail dots;
/// * IP: [`parse_ip`] — canonical text, IPv4-mapped IPv6 as IPv4;
/// * phone: [`normalize_phone`] without a default country, so it must be
///   written internationally (`+…`, `00…`);
/// * URL: [`normalize_url`]; messenger id: [`normalize_messenger`]; chat
///   room: [`normalize_room`]; media hash: [`normalize_media_hash`];
/// * payment account: spaces and dashes removed, IBANs uppercased (other
///   values, such as case-sensitive cryptocurrency addresses, keep case);
/// * device serial: whitespace removed, uppercased.
pub fn normalize(kind: IdentifierKind, raw: &str) -> Result<String, NormalizeError> {
    let fail = |reason: &str| NormalizeError::new(kind, raw, reason);
    if raw.trim().is_empty() {
        return Err(fail("empty value"));
    }
    match kind {
        IdentifierKind::Handle => normalize_handle(raw),
        IdentifierKind::Email => normalize_email(raw),
        IdentifierKind::Ip => parse_ip(raw)
            .map(|ip| ip.to_string())
            .ok_or_else(|| fail("not an IPv4 or IPv6 address")),
        IdentifierKind::Phone => normalize_phone(raw, None),
        IdentifierKind::Url => normalize_url(raw),
        IdentifierKind::MessengerId => normalize_messenger(raw),
        IdentifierKind::ChatRoom => normalize_room(raw),
        IdentifierKind::MediaHash => normalize_media_hash(raw),
        IdentifierKind::PaymentAccount => Ok(web::canonical_payment(raw)),
        IdentifierKind::DeviceSerial => Ok(web::canonical_serial(raw)),
    }
}

/// A handle's normalised value: its similarity key (see [`handle_key`]),
/// followed by `@network` when the value named one (`G.O.D.@IRC.example.net`
/// → `god@irc.example.net`). Use [`handle_forms`] for the key, network and
/// tokens separately.
pub fn normalize_handle(raw: &str) -> Result<String, NormalizeError> {
    handle_forms(raw)
        .map(|f| f.normalized)
        .ok_or_else(|| NormalizeError::new(IdentifierKind::Handle, raw, "empty nickname"))
}

/// An e-mail address by provider rules (see the `email` module docs):
/// lowercased, `+tag` removed, dots removed for Gmail, `googlemail.com` →
/// `gmail.com`.
pub fn normalize_email(raw: &str) -> Result<String, NormalizeError> {
    email::canonical_email(raw).map_err(|r| NormalizeError::new(IdentifierKind::Email, raw, r))
}

/// The local part of a normalised e-mail address (`god@example.org` → `god`).
pub fn email_local_part(normalized: &str) -> &str {
    normalized.rsplit_once('@').map_or(normalized, |(l, _)| l)
}

/// A telephone number in E.164 form (`+491711234567`). National numbers
/// (`0171 1234567`) are read in `default_country` (ISO 3166-1 alpha-2) and
/// rejected without one; lengths no numbering plan allows are rejected.
pub fn normalize_phone(raw: &str, default_country: Option<&str>) -> Result<String, NormalizeError> {
    phone::to_e164(raw, default_country)
        .map_err(|p| NormalizeError::new(IdentifierKind::Phone, raw, p.to_string()))
}

/// A URL with lowercase scheme and host, no default port, fragment or
/// trailing slash; path and query kept.
pub fn normalize_url(raw: &str) -> Result<String, NormalizeError> {
    web::canonical_url(raw).map_err(|r| NormalizeError::new(IdentifierKind::Url, raw, r))
}

/// A messenger account as `platform:id`, the id by platform rules.
pub fn normalize_messenger(raw: &str) -> Result<String, NormalizeError> {
    web::canonical_messenger(raw)
        .map_err(|r| NormalizeError::new(IdentifierKind::MessengerId, raw, r))
}

/// A chat room as `#room@network`, case-insensitive (IRC case mapping).
pub fn normalize_room(raw: &str) -> Result<String, NormalizeError> {
    web::canonical_room(raw).map_err(|r| NormalizeError::new(IdentifierKind::ChatRoom, raw, r))
}

/// A media hash as lowercase hex of a checked length (32, 40 or 64).
pub fn normalize_media_hash(raw: &str) -> Result<String, NormalizeError> {
    web::canonical_media_hash(raw)
        .map_err(|r| NormalizeError::new(IdentifierKind::MediaHash, raw, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_idempotent() {
        let samples = [
            (IdentifierKind::Handle, "Son_of_G0d@IRC.Example.net"),
            (IdentifierKind::Email, "S.O.N+x@googlemail.com"),
            (IdentifierKind::Ip, "::ffff:203.0.113.5"),
            (IdentifierKind::Phone, "+44 20 7946 0958"),
            (IdentifierKind::Url, "HTTPS://Example.com:443/a/?b=1#c"),
            (IdentifierKind::MessengerId, "Telegram:@G0d"),
            (IdentifierKind::ChatRoom, "#Room@irc.example.net"),
            (
                IdentifierKind::MediaHash,
                "D41D8CD98F00B204E9800998ECF8427E",
            ),
            (
                IdentifierKind::PaymentAccount,
                "de89 3704 0044 0532 0130 00",
            ),
            (IdentifierKind::DeviceSerial, "f2lx 1234"),
        ];
        for (kind, raw) in samples {
            let once = normalize(kind, raw).unwrap();
            assert_eq!(normalize(kind, &once).unwrap(), once, "{kind} {raw}");
        }
    }

    /// Deterministic fuzzing: random strings over a pool of awkward
    /// characters never panic, and handle and e-mail forms are idempotent.
    #[test]
    fn random_input_never_panics_and_is_idempotent() {
        let pool: Vec<char> = "aAlLiI10345789xX_.-@$!| +#&:/%[]~\\ \u{301}ＧОоΟѕß0é漢字\u{200b}\t"
            .chars()
            .collect();
        let mut state: u64 = 0x1234_5678;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..20_000 {
            let len = next() % 14;
            let s: String = (0..len).map(|_| pool[next() % pool.len()]).collect();
            for kind in IdentifierKind::ALL {
                let _ = normalize(kind, &s);
            }
            let _ = phone_country(&s);
            let _ = normalize_phone(&s, Some("DE"));
            if let Ok(h) = normalize_handle(&s) {
                assert_eq!(normalize_handle(&h).ok(), Some(h.clone()), "handle {s:?}");
            }
            if let Ok(e) = normalize_email(&s) {
                assert_eq!(normalize_email(&e).ok(), Some(e.clone()), "email {s:?}");
            }
        }
    }

    #[test]
    fn handles_meet_across_spellings() {
        let n = |s| normalize(IdentifierKind::Handle, s).unwrap();
        assert_eq!(n("G.O.D."), n("g_o_d"));
        assert_eq!(n("g_o_d"), n("GOD"));
        assert_eq!(n("GOD"), "god");
        assert_eq!(n("G.O.D.@irc.example.net"), "god@irc.example.net");
    }

    #[test]
    fn emails_ips_and_phones() {
        let n = normalize;
        assert_eq!(
            n(IdentifierKind::Email, "Son.Of.God+x@GMail.com").unwrap(),
            "sonofgod@gmail.com"
        );
        assert_eq!(
            n(IdentifierKind::Email, "Son.Of.God+x@example.com").unwrap(),
            "son.of.god@example.com"
        );
        assert_eq!(email_local_part("god@example.org"), "god");
        assert_eq!(
            n(IdentifierKind::Ip, "::ffff:192.0.2.1").unwrap(),
            "192.0.2.1"
        );
        assert!(n(IdentifierKind::Ip, "192.0.2.256").is_err());
        assert_eq!(
            n(IdentifierKind::Phone, "0049 171 1234567").unwrap(),
            "+491711234567"
        );
        let e = n(IdentifierKind::Phone, "0171 1234567").unwrap_err();
        assert!(e.to_string().contains("default country"), "{e}");
        assert_eq!(
            normalize_phone("0171 1234567", Some("DE")).unwrap(),
            "+491711234567"
        );
        assert!(n(IdentifierKind::Email, "no-at-sign").is_err());
        assert!(n(IdentifierKind::Handle, "   ").is_err());
    }
}
