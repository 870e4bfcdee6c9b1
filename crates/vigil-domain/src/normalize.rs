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

mod phone;

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

/// Validates `raw` as an identifier of `kind` and returns its normalised form.
///
/// Phone numbers must be in international form here (`+…` or `00…`); use
/// [`normalize_phone`] with a default country for national numbers.
pub fn normalize(kind: IdentifierKind, raw: &str) -> Result<String, NormalizeError> {
    let fail = |reason: &str| NormalizeError::new(kind, raw, reason);
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(fail("empty value"));
    }
    match kind {
        IdentifierKind::Ip => trimmed
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| fail("not an IPv4 or IPv6 address")),
        IdentifierKind::Email => {
            let (local, domain) = trimmed.rsplit_once('@').ok_or_else(|| fail("no @"))?;
            if local.is_empty() || !domain.contains('.') || domain.starts_with('.') {
                return Err(fail("not a mailbox@domain address"));
            }
            Ok(format!(
                "{}@{}",
                local.to_lowercase(),
                domain.to_lowercase()
            ))
        }
        IdentifierKind::Phone => normalize_phone(raw, None),
        _ => Ok(trimmed.to_lowercase()),
    }
}

/// A telephone number in E.164 form (`+491711234567`). National numbers
/// (`0171 1234567`) are read in `default_country` (ISO 3166-1 alpha-2) and
/// rejected without one; lengths no numbering plan allows are rejected.
pub fn normalize_phone(raw: &str, default_country: Option<&str>) -> Result<String, NormalizeError> {
    phone::to_e164(raw, default_country)
        .map_err(|p| NormalizeError::new(IdentifierKind::Phone, raw, p.to_string()))
}
