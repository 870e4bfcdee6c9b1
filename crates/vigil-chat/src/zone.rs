//! The time zone a log's wall-clock times were written in.
//!
//! Clients write local time without an offset, so the officer must say which
//! zone the capturing machine used. IANA rules come from jiff's bundled tzdb
//! so that the same log converts to the same UTC instants on every machine,
//! whatever `/usr/share/zoneinfo` holds.

use std::fmt;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::ChatError;

#[derive(Clone, Default)]
pub enum Zone {
    #[default]
    Utc,
    Fixed(UtcOffset),
    Iana {
        name: String,
        tz: jiff::tz::TimeZone,
    },
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Utc => f.write_str("UTC"),
            Zone::Fixed(o) => write!(f, "{o}"),
            Zone::Iana { name, .. } => f.write_str(name),
        }
    }
}

impl Zone {
    /// Accepts `UTC`/`Z`, `+HH:MM`/`-HH:MM`/`+HHMM`/`+HH`, or an IANA name.
    pub fn parse(s: &str) -> Result<Zone, ChatError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::Utc);
        }
        if let Some(rest) = t.strip_prefix('+').or_else(|| t.strip_prefix('-')) {
            let neg = t.starts_with('-');
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            if !digits.chars().all(|c| c.is_ascii_digit())
                || !(digits.len() == 2 || digits.len() == 4)
            {
                return Err(ChatError::UnknownZone(s.to_owned()));
            }
            let h: i8 = digits[..2]
                .parse()
                .map_err(|_| ChatError::UnknownZone(s.to_owned()))?;
            let m: i8 = if digits.len() == 4 {
                digits[2..]
                    .parse()
                    .map_err(|_| ChatError::UnknownZone(s.to_owned()))?
            } else {
                0
            };
            if h > 18 || m > 59 {
                return Err(ChatError::UnknownZone(s.to_owned()));
            }
            let (h, m) = if neg { (-h, -m) } else { (h, m) };
            let off =
                UtcOffset::from_hms(h, m, 0).map_err(|_| ChatError::UnknownZone(s.to_owned()))?;
            return Ok(Zone::Fixed(off));
        }
        let tz = jiff::tz::db()
            .get(t)
            .map_err(|_| ChatError::UnknownZone(s.to_owned()))?;
        Ok(Zone::Iana {
            name: t.to_owned(),
            tz,
        })
    }

    /// Converts a wall-clock time to UTC. In a DST gap or overlap the
    /// "compatible" rule applies (as RFC 5545 and most clients do): a gap moves
    /// forward, an overlap takes the earlier instant. Returns `None` only for
    /// times outside the representable range.
    pub fn to_utc(&self, local: PrimitiveDateTime) -> Option<OffsetDateTime> {
        match self {
            Zone::Utc => Some(local.assume_utc()),
            Zone::Fixed(off) => Some(local.assume_offset(*off).to_offset(UtcOffset::UTC)),
            Zone::Iana { tz, .. } => {
                let dt = jiff::civil::DateTime::new(
                    i16::try_from(local.year()).ok()?,
                    local.month() as i8,
                    local.day() as i8,
                    local.hour() as i8,
                    local.minute() as i8,
                    local.second() as i8,
                    0,
                )
                .ok()?;
                let ts = tz.to_ambiguous_timestamp(dt).compatible().ok()?;
                OffsetDateTime::from_unix_timestamp(ts.as_second()).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn zones_convert_to_utc() {
        let local = datetime!(2009-07-01 14:00:00);
        assert_eq!(
            Zone::parse("UTC").unwrap().to_utc(local).unwrap(),
            datetime!(2009-07-01 14:00:00 UTC)
        );
        assert_eq!(
            Zone::parse("+02:00").unwrap().to_utc(local).unwrap(),
            datetime!(2009-07-01 12:00:00 UTC)
        );
        assert_eq!(
            Zone::parse("-0530").unwrap().to_utc(local).unwrap(),
            datetime!(2009-07-01 19:30:00 UTC)
        );
        let london = Zone::parse("Europe/London").unwrap();
        // BST in July, GMT in January.
        assert_eq!(
            london.to_utc(local).unwrap(),
            datetime!(2009-07-01 13:00:00 UTC)
        );
        assert_eq!(
            london.to_utc(datetime!(2009-01-10 14:00:00)).unwrap(),
            datetime!(2009-01-10 14:00:00 UTC)
        );
    }

    #[test]
    fn bad_zones_are_refused() {
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::parse("+2x").is_err());
        assert!(Zone::parse("+25:00").is_err());
    }
}
