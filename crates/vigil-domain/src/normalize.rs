//! Normalised forms of identifier values: the keys on which identifiers from
//! different cases and agencies meet. Raw values are always kept beside them.
//!
//! (Basic forms; the linking issue refines handles, e-mails and phones.)

use crate::IdentifierKind;

/// A raw value could not be understood as the kind it was given as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct NormalizeError {
    pub kind: IdentifierKind,
    pub value: String,
    pub reason: String,
}

/// Validates `raw` as an identifier of `kind` and returns its normalised form.
pub fn normalize(kind: IdentifierKind, raw: &str) -> Result<String, NormalizeError> {
    let fail = |reason: &str| NormalizeError {
        kind,
        value: raw.chars().take(200).collect(),
        reason: reason.to_string(),
    };
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
            Ok(format!("{}@{}", local.to_lowercase(), domain.to_lowercase()))
        }
        _ => Ok(trimmed.to_lowercase()),
    }
}
