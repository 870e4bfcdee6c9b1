//! An agency-supplied MaxMind-format database (`.mmdb`).
//!
//! Vendors lay the country out differently, so the record is probed in order:
//!
//! | field path                    | who writes it                                  |
//! |-------------------------------|------------------------------------------------|
//! | `country.iso_code`            | MaxMind GeoLite2/GeoIP2, DB-IP Lite            |
//! | `country_code`                | IPinfo Lite, ip-location-db                    |
//! | `iso_code`                    | some home-made converters                      |
//! | `registered_country.iso_code` | GeoLite2 when no `country` is known (anycast,  |
//! |                               | satellite): the registrant's country, weaker   |
//!
//! A path whose intermediate value has another type (IPinfo's `country` is the
//! country *name*, a string, not a map) is skipped, not an error. The hit
//! names the field used, so the weaker registered-country answer is visible.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{PathElement, Reader};
use time::OffsetDateTime;

use super::{GeoError, GeoHit, GeoLookup, GeoSource, canonical_ip};
use crate::country::CountryCode;

const PATHS: &[(&str, &[&str])] = &[
    ("country.iso_code", &["country", "iso_code"]),
    ("country_code", &["country_code"]),
    ("iso_code", &["iso_code"]),
    (
        "registered_country.iso_code",
        &["registered_country", "iso_code"],
    ),
];

/// A `.mmdb` file held in memory.
pub struct MmdbGeo {
    reader: Reader<Vec<u8>>,
    source: GeoSource,
}

impl std::fmt::Debug for MmdbGeo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmdbGeo")
            .field("source", &self.source)
            .finish()
    }
}

impl MmdbGeo {
    /// Reads the whole file into memory and validates its metadata.
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        let bytes = std::fs::read(path).map_err(|e| GeoError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::from_bytes(bytes, &label)
    }

    /// `label` names the database in errors (usually the file name).
    pub fn from_bytes(bytes: Vec<u8>, label: &str) -> Result<Self, GeoError> {
        let invalid = |message: String| GeoError::Invalid {
            name: label.to_string(),
            message,
        };
        let reader = Reader::from_source(bytes).map_err(|e| invalid(e.to_string()))?;
        let md = reader.metadata();
        let built = i64::try_from(md.build_epoch)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| invalid(format!("build_epoch {} out of range", md.build_epoch)))?;
        let mut name = format!("{} ({label})", md.database_type);
        if let Some(desc) = md.description.get("en") {
            name = format!("{} — {desc} ({label})", md.database_type);
        }
        let source = GeoSource {
            name,
            built,
            attribution: md
                .description
                .get("en")
                .cloned()
                .unwrap_or_else(|| "agency-supplied MaxMind DB file".into()),
        };
        Ok(Self { reader, source })
    }
}

impl GeoLookup for MmdbGeo {
    fn lookup(&self, ip: IpAddr) -> Result<Option<GeoHit>, GeoError> {
        let invalid = |message: String| GeoError::Invalid {
            name: self.source.name.clone(),
            message,
        };
        let key = canonical_ip(ip);
        if key.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(None); // an IPv4-only database knows nothing about IPv6
        }
        let res = self
            .reader
            .lookup(key)
            .map_err(|e| invalid(e.to_string()))?;
        if !res.has_data() {
            return Ok(None);
        }
        for (field, path) in PATHS {
            let elems: Vec<PathElement<'_>> = path.iter().map(|k| PathElement::Key(k)).collect();
            match res.decode_path::<String>(&elems) {
                Ok(Some(code)) => match CountryCode::parse(&code) {
                    Ok(country) => {
                        return Ok(Some(GeoHit {
                            ip,
                            country,
                            network: res.network().ok().map(|n| n.to_string()),
                            field,
                            source: self.source.clone(),
                        }));
                    }
                    // e.g. "" or "EU"-like placeholders of three letters: skip.
                    Err(_) => continue,
                },
                // Missing, or a type clash on the way (IPinfo's string
                // `country`): try the next layout.
                Ok(None) | Err(_) => continue,
            }
        }
        Ok(None)
    }

    fn source(&self) -> &GeoSource {
        &self.source
    }
}
