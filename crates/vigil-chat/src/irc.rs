//! Pieces of IRC shared by every client's log format: mode strings, CTCP DCC
//! offers, client date headers and formatting codes.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::LazyLock;

use regex::Regex;
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::event::ModeChange;

/// Removes mIRC formatting (bold, colour with its digits, reverse, italic,
/// underline, strike, monospace, reset), which mIRC and HexChat keep in logs
/// unless told to strip it. Without this `\x02bob\x02` and `bob` would be two people.
pub fn strip_codes(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| {
        matches!(
            b,
            0x02 | 0x03 | 0x04 | 0x0f | 0x11 | 0x16 | 0x1d | 0x1e | 0x1f
        )
    }) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x03' => {
                // ^C[fg[,bg]] with 1-2 digit colours
                for _ in 0..2 {
                    if chars.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                    }
                }
                let mut look = chars.clone();
                if look.next() == Some(',') && look.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                    for _ in 0..2 {
                        if chars.peek().is_some_and(char::is_ascii_digit) {
                            chars.next();
                        }
                    }
                }
            }
            '\x04' => {
                // hex colour ^DRRGGBB
                for _ in 0..6 {
                    if chars.peek().is_some_and(char::is_ascii_hexdigit) {
                        chars.next();
                    }
                }
            }
            '\x02' | '\x0f' | '\x11' | '\x16' | '\x1d' | '\x1e' | '\x1f' => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Splits a nick from a leading channel-status prefix (`@op`, `+voice`...).
pub fn split_prefix(nick: &str) -> (Option<char>, &str) {
    let mut chars = nick.chars();
    match chars.next() {
        Some(c @ ('@' | '+' | '%' | '&' | '~' | '!')) if nick.len() > 1 => {
            (Some(c), chars.as_str())
        }
        _ => (None, nick),
    }
}

/// Modes that always take a nick or mask argument, whatever the sign.
const ARG_MODES: &str = "qaohvbeIk";

/// Parses `+oo-v alice bob carol` into individual changes. Unknown modes are
/// assumed argument-less except `l` (limit) when set, which is how every
/// common ircd behaves.
pub fn parse_modes(spec: &str) -> Vec<ModeChange> {
    let mut words = spec.split_whitespace();
    let Some(flags) = words.next() else {
        return Vec::new();
    };
    let mut args = words;
    let mut add = true;
    let mut out = Vec::new();
    for c in flags.chars() {
        match c {
            '+' => add = true,
            '-' => add = false,
            m => {
                let takes = ARG_MODES.contains(m)
                    || (m == 'l' && add)
                    || (m == 'j' && add)
                    || (m == 'f' && add);
                let arg = if takes {
                    args.next().map(str::to_owned)
                } else {
                    None
                };
                out.push(ModeChange { add, mode: m, arg });
            }
        }
    }
    out
}

/// A DCC SEND offer decoded from the CTCP text `DCC SEND <file> <ip> <port> [size]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtcpDcc {
    pub file: String,
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub size: Option<u64>,
}

static DCC_CTCP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bDCC SEND (?:"([^"]+)"|(\S+)) (\d{1,10}|[0-9a-f:.]{3,45}) (\d{1,5})(?: (\d{1,15}))?"#)
        .expect("static regex")
});

/// Finds a raw CTCP DCC SEND anywhere in a line. The address is either the
/// numeric form (a decimal 32-bit IPv4 address, as the protocol sends it) or a
/// literal IPv4/IPv6 address; it is returned in its usual text form.
pub fn find_ctcp_dcc(text: &str) -> Option<CtcpDcc> {
    let c = DCC_CTCP.captures(text)?;
    let file = c
        .get(1)
        .or_else(|| c.get(2))?
        .as_str()
        .trim_matches('\x01')
        .to_owned();
    let ip = decode_dcc_ip(c.get(3)?.as_str());
    let port = c.get(4).and_then(|p| p.as_str().parse().ok());
    let size = c.get(5).and_then(|s| s.as_str().parse().ok());
    Some(CtcpDcc {
        file,
        ip,
        port,
        size,
    })
}

/// `3221225985` → `192.0.2.1`; literal addresses are validated and returned.
pub fn decode_dcc_ip(s: &str) -> Option<String> {
    let s = s.trim_matches('\x01');
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = s.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some(Ipv4Addr::from(n).to_string());
    }
    s.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

pub fn month_from_abbr(s: &str) -> Option<Month> {
    Some(match s.get(..3)?.to_ascii_lowercase().as_str() {
        "jan" => Month::January,
        "feb" => Month::February,
        "mar" => Month::March,
        "apr" => Month::April,
        "may" => Month::May,
        "jun" => Month::June,
        "jul" => Month::July,
        "aug" => Month::August,
        "sep" => Month::September,
        "oct" => Month::October,
        "nov" => Month::November,
        "dec" => Month::December,
        _ => return None,
    })
}

/// `HH:MM` or `HH:MM:SS`.
pub fn parse_clock(s: &str) -> Option<Time> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<u8> {
        let (a, c) = (*b.get(i)?, *b.get(i + 1)?);
        (a.is_ascii_digit() && c.is_ascii_digit()).then(|| (a - b'0') * 10 + (c - b'0'))
    };
    match b.len() {
        5 if b[2] == b':' => Time::from_hms(two(0)?, two(3)?, 0).ok(),
        8 if b[2] == b':' && b[5] == b':' => Time::from_hms(two(0)?, two(3)?, two(6)?).ok(),
        _ => None,
    }
}

/// C `ctime`-style stamps used in client headers:
/// `Mon Mar 02 14:21:09 2009`, `Mon Mar  2 14:21:09 2009`, and the
/// date-only `Tue Mar 03 2009` of irssi's "Day changed".
pub fn parse_ctime(s: &str) -> Option<(Date, Option<Time>)> {
    let w: Vec<&str> = s.split_whitespace().collect();
    let (mon, day, time, year) = match w.as_slice() {
        [_dow, mon, day, time, year, ..] if time.contains(':') => (*mon, *day, Some(*time), *year),
        // XChat without weekday: "Mar 02 14:21:09 2009"
        [mon, day, time, year] if time.contains(':') => (*mon, *day, Some(*time), *year),
        [_dow, mon, day, year] => (*mon, *day, None, *year),
        _ => return None,
    };
    let month = month_from_abbr(mon)?;
    let day: u8 = day.parse().ok()?;
    let year: i32 = year.parse().ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = match time {
        Some(t) => Some(parse_clock(t)?),
        None => None,
    };
    Some((date, time))
}

/// `2009-03-02 14:21:09` (WeeChat's default `%Y-%m-%d %H:%M:%S`).
pub fn parse_iso_local(s: &str) -> Option<PrimitiveDateTime> {
    let (d, t) = s.split_once(' ').or_else(|| s.split_once('T'))?;
    let mut it = d.split('-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let dd: u8 = it.next()?.parse().ok()?;
    let date = Date::from_calendar_date(y, Month::try_from(m).ok()?, dd).ok()?;
    Some(PrimitiveDateTime::new(date, parse_clock(t)?))
}

/// Parses a size that a client printed: plain bytes, or `12kB`/`1.5 MB`
/// (binary multiples, as irssi and HexChat use). Returns bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches(" bytes").trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let idx = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(idx);
    let num: f64 = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1.0,
        "kb" | "k" | "kib" => 1024.0,
        "mb" | "m" | "mib" => 1024.0 * 1024.0,
        "gb" | "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((num * mult).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dcc_address_is_decoded() {
        let d = find_ctcp_dcc("\x01DCC SEND holiday_pics.zip 3221225985 5000 1048576\x01").unwrap();
        assert_eq!(d.file, "holiday_pics.zip");
        assert_eq!(d.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(d.port, Some(5000));
        assert_eq!(d.size, Some(1_048_576));
        let q = find_ctcp_dcc("DCC SEND \"two words.avi\" 198.51.100.7 1024").unwrap();
        assert_eq!(q.file, "two words.avi");
        assert_eq!(q.ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(q.size, None);
    }

    #[test]
    fn modes_split_into_changes() {
        let m = parse_modes("+ov-b alice bob *!*@203.0.113.9");
        assert_eq!(m.len(), 3);
        assert_eq!(
            (m[0].add, m[0].mode, m[0].arg.as_deref()),
            (true, 'o', Some("alice"))
        );
        assert_eq!(
            (m[2].add, m[2].mode, m[2].arg.as_deref()),
            (false, 'b', Some("*!*@203.0.113.9"))
        );
        let l = parse_modes("+nt-l");
        assert!(l.iter().all(|c| c.arg.is_none()));
    }

    #[test]
    fn colour_codes_are_stripped() {
        assert_eq!(strip_codes("\x0304,12red\x03 \x02bold\x02\x0f"), "red bold");
    }

    #[test]
    fn ctime_variants() {
        let (d, t) = parse_ctime("Mon Mar  2 14:21:09 2009").unwrap();
        assert_eq!(d, Date::from_calendar_date(2009, Month::March, 2).unwrap());
        assert_eq!(t, Time::from_hms(14, 21, 9).ok());
        let (d2, t2) = parse_ctime("Tue Mar 03 2009").unwrap();
        assert_eq!(d2.day(), 3);
        assert!(t2.is_none());
        assert!(parse_ctime("Mon Foo 02 14:21:09 2009").is_none());
    }
}
