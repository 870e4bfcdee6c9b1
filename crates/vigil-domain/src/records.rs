//! The records an investigation keeps and the rules for accepting them.
//!
//! Input types (`New*`) are validated here, once, so that the store, the CLI,
//! the server and the package importer all refuse the same bad values with
//! the same message.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::ValidationError;
use crate::identifier::IdentifierKind;
use crate::normalize::normalize;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the wire/CLI spelling; the error lists the accepted values.
            pub fn parse(field: &'static str, s: &str) -> Result<Self, ValidationError> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ValidationError::new(
                        field,
                        s,
                        format!("expected one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Why a person is in a case. Victims are only ever a pseudonymous label.
    PersonRole { Suspect = "suspect", Victim = "victim", Other = "other" }
}

string_enum! {
    /// What happened to a person, as the dashboard counts it.
    EventKind {
        TipReceived = "tip-received",
        Arrest = "arrest",
        Charge = "charge",
        Plea = "plea",
        Conviction = "conviction",
        Acquittal = "acquittal",
        Sentence = "sentence",
        Death = "death",
        ChildSafeguarded = "child-safeguarded",
    }
}

/// Parses `YYYY-MM-DD`, naming the field on error.
pub fn parse_date(field: &'static str, s: &str) -> Result<Date, ValidationError> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| ValidationError::new(field, s, "expected a date as YYYY-MM-DD"))
}

/// Formats a date the way [`parse_date`] reads it.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn non_empty(field: &'static str, s: &str, max: usize) -> Result<String, ValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, s, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(ValidationError::new(
            field,
            s,
            format!("longer than {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new(
            field,
            s,
            "contains control characters",
        ));
    }
    Ok(t.to_string())
}

/// A name for an agency, user, operation or case title.
pub fn parse_name(field: &'static str, s: &str) -> Result<String, ValidationError> {
    non_empty(field, s, 200)
}

/// A user name: what officers type after `--as`, so kept to a safe alphabet.
pub fn parse_user_name(s: &str) -> Result<String, ValidationError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(t.to_string())
    } else {
        Err(ValidationError::new(
            "user",
            s,
            "expected 1-64 characters of letters, digits, '.', '_', '-', '@'",
        ))
    }
}

/// A free-text body (notes, descriptions): may span lines but not be empty.
pub fn parse_text(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, s, "must not be empty"));
    }
    if t.len() > 100_000 {
        // The first characters, not bytes: a byte slice could split one.
        let start: String = s.chars().take(40).collect();
        return Err(ValidationError::new(
            field,
            &start,
            "longer than 100000 bytes",
        ));
    }
    Ok(t.to_string())
}

/// A person to add to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub role: PersonRole,
    /// A handle-like label or a pseudonym ("Victim 3"); never required to be a
    /// real name.
    pub label: String,
}

impl NewPerson {
    pub fn parse(role: &str, label: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            role: PersonRole::parse("role", role)?,
            label: non_empty("label", label, 200)?,
        })
    }
}

/// An identifier observation to store: the raw value is kept verbatim and the
/// normalised form is derived from it, never the other way round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIdentifier {
    pub kind: IdentifierKind,
    pub raw: String,
    pub normalized: String,
    /// Network or platform for handles and messenger ids (`irc.example.net`).
    pub network: Option<String>,
    /// Port for IP observations (CGNAT makes the port part of the identity).
    pub port: Option<u16>,
    /// RFC 3339 UTC times the value was first and last seen.
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

impl NewIdentifier {
    /// Validates and normalises `raw` as `kind`.
    pub fn parse(kind: &str, raw: &str) -> Result<Self, ValidationError> {
        let kind = IdentifierKind::parse(kind.trim()).ok_or_else(|| {
            let all: Vec<&str> = IdentifierKind::ALL.iter().map(|k| k.as_str()).collect();
            ValidationError::new("kind", kind, format!("expected one of: {}", all.join(", ")))
        })?;
        Self::of_kind(kind, raw)
    }

    pub fn of_kind(kind: IdentifierKind, raw: &str) -> Result<Self, ValidationError> {
        let normalized = normalize(kind, raw)?;
        Ok(Self {
            kind,
            raw: raw.trim().to_string(),
            normalized,
            network: None,
            port: None,
            first_seen: None,
            last_seen: None,
        })
    }
}

/// An outcome or step in a person's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub date: Date,
    /// Jurisdiction: where it happened (ISO 3166-1 alpha-2).
    pub country: String,
    pub details: Option<String>,
}

impl NewEvent {
    pub fn parse(kind: &str, date: &str, country: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            kind: EventKind::parse("kind", kind)?,
            date: parse_date("date", date)?,
            country: crate::country::parse_country("country", country)?,
            details: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_list_choices() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse("kind", k.as_str()).unwrap(), *k);
        }
        let e = PersonRole::parse("role", "witness").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid role \"witness\": expected one of: suspect, victim, other"
        );
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            format_date(parse_date("date", "2024-02-29").unwrap()),
            "2024-02-29"
        );
        assert!(parse_date("date", "2023-02-29").is_err());
        assert!(parse_date("date", "29/02/2024").is_err());
        let e = parse_date("date", "2024-13-01").unwrap_err();
        assert!(e.to_string().contains("date") && e.to_string().contains("2024-13-01"));
    }

    #[test]
    fn identifiers_validate_by_kind() {
        let ip = NewIdentifier::parse("ip", " 198.51.100.7 ").unwrap();
        assert_eq!(ip.raw, "198.51.100.7");
        assert_eq!(ip.normalized, "198.51.100.7");
        let e = NewIdentifier::parse("ip", "198.51.100.300").unwrap_err();
        assert!(e.to_string().contains("198.51.100.300"), "{e}");
        assert!(NewIdentifier::parse("email", "not-an-email").is_err());
        assert!(
            NewIdentifier::parse("fax", "x")
                .unwrap_err()
                .to_string()
                .contains("kind")
        );
    }

    #[test]
    fn names_reject_control_characters() {
        assert!(parse_name("title", "Operation\u{7}").is_err());
        assert!(parse_user_name("jo smith").is_err());
        assert_eq!(parse_user_name("j.smith").unwrap(), "j.smith");
    }
}
