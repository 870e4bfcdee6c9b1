//! A two-letter country code as a value.
//!
//! Why a newtype and not `String`: every attribution, key bundle and package
//! manifest carries countries, and a lower-case "gb" or a stray "GBR" must be
//! refused at the edge rather than silently never matching later. Only the
//! *format* is checked here (two ASCII letters, stored upper-case); whether the
//! code is an assigned ISO 3166-1 alpha-2 code is `vigil_domain`'s job.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Two upper-case ASCII letters, e.g. `GB`, `CA`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

/// The text was not two ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid country code {0:?}: expected two letters (ISO 3166-1 alpha-2)")]
pub struct CountryCodeError(pub String);

impl CountryCode {
    /// Parses two ASCII letters in either case; stores them upper-case.
    pub fn parse(s: &str) -> Result<Self, CountryCodeError> {
        let b = s.trim().as_bytes();
        if b.len() == 2 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() {
            Ok(Self([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
        } else {
            Err(CountryCodeError(s.chars().take(16).collect()))
        }
    }

    /// From two bytes as stored in the embedded geolocation table.
    pub(crate) fn from_bytes(b: [u8; 2]) -> Option<Self> {
        (b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase()).then_some(Self(b))
    }

    /// For the crate's literal tables (and codes already checked against
    /// them): two letters are taken as they are; anything else becomes the
    /// user-assigned `ZZ` ("unknown") rather than a panic. Unit tests check
    /// every table entry parses.
    pub(crate) fn from_table(s: &str) -> Self {
        match s.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
            }
            _ => Self(*b"ZZ"),
        }
    }

    pub fn as_str(&self) -> &str {
        // Invariant: both bytes are ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    pub fn as_bytes(&self) -> [u8; 2] {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = CountryCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_uppercases() {
        assert_eq!(CountryCode::parse("gb").unwrap().as_str(), "GB");
        assert_eq!(CountryCode::parse(" CA ").unwrap().to_string(), "CA");
        for bad in ["", "G", "GBR", "G1", "é1", "--"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_round_trip_and_rejects_bad() {
        let c: CountryCode = serde_json::from_str("\"ie\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"IE\"");
        assert!(serde_json::from_str::<CountryCode>("\"IRL\"").is_err());
    }
}
