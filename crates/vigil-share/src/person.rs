//! Attributing one person: which signals their record yields, read against
//! which geolocation databases.
//!
//! Why here and not in each front end: `vigil attribute`, lead packages and
//! the web's dissemination page must give the same country for the same
//! record, for the same reasons, naming the same databases. The callers
//! only translate their records into [`PersonInput`].

use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;

use crate::country::CountryCode;
use crate::geo::{EmbeddedGeo, GeoError, GeoLookup, MmdbGeo};
use crate::signals::{Attribution, Signal, attribute, email_signal, phone_signal, url_signal};

/// The geolocation databases consulted: the agency's `.mmdb` files first,
/// and always the embedded table.
pub struct GeoSet {
    dbs: Vec<Box<dyn GeoLookup>>,
    embedded: &'static EmbeddedGeo,
}

/// A database as shown beside every attribution: its name and build date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeoDatabase {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub built: String,
    /// Licence / attribution line.
    pub attribution: String,
}

impl GeoSet {
    /// The embedded table alone (zero configuration).
    pub fn embedded() -> Result<Self, GeoError> {
        Ok(GeoSet {
            dbs: Vec::new(),
            embedded: EmbeddedGeo::get()?,
        })
    }

    /// Adds an agency-supplied MaxMind-format database, consulted before the
    /// embedded table.
    pub fn add_mmdb(&mut self, path: &Path) -> Result<(), GeoError> {
        self.dbs.push(Box::new(MmdbGeo::open(path)?));
        Ok(())
    }

    /// Every database, in the order consulted.
    pub fn all(&self) -> Vec<&dyn GeoLookup> {
        let mut v: Vec<&dyn GeoLookup> = self.dbs.iter().map(|b| b.as_ref()).collect();
        v.push(self.embedded);
        v
    }

    /// Names and dates of the databases, to show with every attribution.
    pub fn described(&self) -> Vec<GeoDatabase> {
        self.all()
            .iter()
            .map(|g| GeoDatabase {
                name: g.source().name.clone(),
                built: g.source().built.date().to_string(),
                attribution: g.source().attribution.clone(),
            })
            .collect()
    }
}

/// An identifier of a person as attribution needs it; `kind` is the
/// identifier kind's name (`ip`, `phone`, `email`, `url`; others are not
/// country evidence and are ignored).
#[derive(Debug, Clone, Copy)]
pub struct IdentifierInput<'a> {
    pub kind: &'a str,
    pub raw: &'a str,
    pub normalized: &'a str,
    /// RFC 3339; lets the reason warn when the database is much newer or
    /// older than the sighting.
    pub first_seen: Option<&'a str>,
}

/// A person's record as attribution needs it.
#[derive(Debug, Clone)]
pub struct PersonInput<'a> {
    pub person_id: i64,
    /// The country the agency entered on the person's record.
    pub country: Option<&'a str>,
    pub identifiers: Vec<IdentifierInput<'a>>,
}

/// Every signal the record yields: the agency-entered country (strong), IP
/// geolocation from each database, phone country codes, and the weak ccTLD
/// hints of e-mail domains and URL hosts. Unparseable values yield nothing.
pub fn person_signals(geo: &GeoSet, person: &PersonInput<'_>) -> Vec<Signal> {
    let mut out = Vec::new();
    if let Some(c) = person.country.and_then(|c| CountryCode::parse(c).ok()) {
        out.push(Signal::agency_input(
            c,
            &format!("person {} record", person.person_id),
            "country entered by the agency on the person's record",
        ));
    }
    for i in &person.identifiers {
        match i.kind {
            "ip" => {
                let Ok(ip) = i.normalized.parse::<IpAddr>() else {
                    continue;
                };
                let seen = i.first_seen.and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                });
                for db in geo.all() {
                    if let Ok(Some(s)) = crate::signals::ip_signal_at(db, ip, seen) {
                        out.push(s);
                    }
                }
            }
            "phone" => {
                if let Ok(Some(s)) = phone_signal(i.raw) {
                    out.push(s);
                }
            }
            "email" => out.extend(email_signal(i.raw)),
            "url" => out.extend(url_signal(i.raw)),
            _ => {}
        }
    }
    out
}

/// The person's attribution: [`person_signals`] combined by [`attribute`].
pub fn attribute_person(geo: &GeoSet, person: &PersonInput<'_>) -> Attribution {
    attribute(person_signals(geo, person))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entered_country_outranks_a_weak_domain_hint_and_the_conflict_shows() {
        let geo = GeoSet::embedded().unwrap();
        let p = PersonInput {
            person_id: 7,
            country: Some("CA"),
            identifiers: vec![
                IdentifierInput {
                    kind: "email",
                    raw: "someone@example.co.uk",
                    normalized: "someone@example.co.uk",
                    first_seen: None,
                },
                IdentifierInput {
                    kind: "handle",
                    raw: "gb_fan",
                    normalized: "gbfan",
                    first_seen: None,
                },
            ],
        };
        let a = attribute_person(&geo, &p);
        assert_eq!(a.top.map(|c| c.as_str().to_string()), Some("CA".into()));
        assert_eq!(a.signals.len(), 2, "handles are not country evidence");
        assert!(a.conflicts.iter().any(|c| c.as_str() == "GB"), "{a:?}");
        let dbs = geo.described();
        assert_eq!(dbs.len(), 1);
        assert!(!dbs[0].name.is_empty() && dbs[0].built.len() == 10);
    }
}
