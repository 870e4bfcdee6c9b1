//! Offline IP → country lookups.
//!
//! Why offline: an investigation must not tell a third-party service which
//! addresses it is interested in, and results must be reproducible in court
//! from a named, dated database. So every [`GeoHit`] carries the [`GeoSource`]
//! (database name and build date) it came from, and nothing here touches the
//! network.
//!
//! Two backends implement [`GeoLookup`]:
//! * [`EmbeddedGeo`]: Debian's `tor-geoipdb` ranges (IPFire Location data, CC
//!   BY-SA 4.0) converted into `data/tor-geoip.vgeo` and compiled into the
//!   binary — zero configuration.
//! * [`MmdbGeo`]: any MaxMind-format `.mmdb` an agency supplies (GeoLite2,
//!   DB-IP Lite, IPinfo Lite, ip-location-db), read with the `maxminddb` crate.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;

use crate::country::CountryCode;

mod embedded;
mod mmdb;

pub use embedded::EmbeddedGeo;
pub use mmdb::MmdbGeo;

/// Which database answered, and how old it is.
///
/// An IP address seen in 2024 and looked up in a 2026 database may have moved
/// country since; the date lets an officer judge that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeoSource {
    /// Human-readable database name, with version where known.
    pub name: String,
    /// When the data was built (embedded: the export date of the source;
    /// mmdb: the metadata `build_epoch`).
    #[serde(with = "time::serde::rfc3339")]
    pub built: OffsetDateTime,
    /// Licence / attribution line to show next to results.
    pub attribution: String,
}

/// One answered lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeoHit {
    pub ip: IpAddr,
    pub country: CountryCode,
    /// The network or range the database holds for this address, as text
    /// (e.g. `8.8.8.0/24` or `8.8.8.0-8.8.8.255`).
    pub network: Option<String>,
    /// Which field of the record gave the country (e.g. `country.iso_code`,
    /// `country_code`, `registered_country.iso_code`, `range`).
    pub field: &'static str,
    pub source: GeoSource,
}

/// A database could not be read or is corrupt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    #[error("cannot read geolocation database {path}: {message}")]
    Io { path: String, message: String },
    #[error("invalid geolocation database {name}: {message}")]
    Invalid { name: String, message: String },
}

/// An offline IP → country database.
pub trait GeoLookup: Send + Sync {
    /// The country the database gives for `ip`, or `None` when it has none
    /// (private, documentation, unallocated or unlisted addresses).
    fn lookup(&self, ip: IpAddr) -> Result<Option<GeoHit>, GeoError>;

    /// The database behind this lookup.
    fn source(&self) -> &GeoSource;
}

impl fmt::Display for GeoHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} ({}, built {})",
            self.ip,
            self.country,
            self.source.name,
            self.source.built.date()
        )
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the same host as `a.b.c.d`; look it
/// up as IPv4 so both spellings give the same answer.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}
