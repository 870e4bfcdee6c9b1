//! JSON Lines and CSV exports from other messengers, in the schema documented
//! in the crate README: one record per event with `time`, `from`, `text` and
//! optional `type`, `to`, `room`, `host`, `new_nick`, `mode`, `file_name`,
//! `file_size`, `ip`, `port`.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Line, Stamp};
use crate::ChatError;
use crate::decode::DecodedLine;
use crate::event::{EventKind, UserHost};
use crate::irc::{decode_dcc_ip, parse_iso_local, parse_modes};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    time: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    text: Option<String>,
    room: Option<String>,
    host: Option<String>,
    new_nick: Option<String>,
    mode: Option<String>,
    file_name: Option<String>,
    file_size: Option<serde_json::Value>,
    ip: Option<String>,
    port: Option<serde_json::Value>,
}

fn num<T: std::str::FromStr>(v: &Option<serde_json::Value>) -> Option<T> {
    match v.as_ref()? {
        serde_json::Value::Number(n) => n.to_string().parse().ok(),
        serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().parse().ok(),
        _ => None,
    }
}

fn stamp(v: &serde_json::Value) -> Option<Stamp> {
    match v {
        serde_json::Value::Number(n) => {
            let secs = n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.floor() as i64))?;
            OffsetDateTime::from_unix_timestamp(secs)
                .ok()
                .map(Stamp::Instant)
        }
        serde_json::Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
                return Some(Stamp::Instant(
                    t.to_offset(time::UtcOffset::UTC)
                        .replace_nanosecond(0)
                        .ok()?,
                ));
            }
            if let Ok(secs) = s.parse::<i64>() {
                return OffsetDateTime::from_unix_timestamp(secs)
                    .ok()
                    .map(Stamp::Instant);
            }
            // Local time without offset: interpreted in the caller's zone.
            let s = s.split('.').next().unwrap_or(s);
            parse_iso_local(s).map(Stamp::Local)
        }
        _ => None,
    }
}

fn to_line(r: Record) -> Line {
    let Some(stamp) = r.time.as_ref().and_then(stamp) else {
        return Line::Bad("missing or unreadable `time`");
    };
    let Some(from) = r.from.filter(|f| !f.trim().is_empty()) else {
        return Line::Bad("missing `from`");
    };
    let text = r.text.unwrap_or_default();
    let user = r.host.as_deref().and_then(|h| {
        UserHost::parse(h).or_else(|| {
            h.parse::<std::net::IpAddr>().ok().map(|_| UserHost {
                ident: "*".into(),
                host: h.into(),
            })
        })
    });
    let kind = match r
        .kind
        .as_deref()
        .unwrap_or("message")
        .to_ascii_lowercase()
        .as_str()
    {
        "message" | "msg" | "" => EventKind::Message {
            nick: from,
            text,
            prefix: None,
            addressed_to: r.to.filter(|t| !t.is_empty()),
        },
        "action" | "me" => EventKind::Action { nick: from, text },
        "notice" => EventKind::Notice { nick: from, text },
        "join" => EventKind::Join {
            nick: from,
            user,
            channel: r.room.clone(),
        },
        "part" | "leave" => EventKind::Part {
            nick: from,
            user,
            channel: r.room.clone(),
            reason: Some(text).filter(|t| !t.is_empty()),
        },
        "quit" => EventKind::Quit {
            nick: from,
            user,
            reason: Some(text).filter(|t| !t.is_empty()),
        },
        "nick" => match r.new_nick {
            Some(new) if !new.trim().is_empty() => EventKind::NickChange { old: from, new },
            _ => return Line::Bad("`nick` record without `new_nick`"),
        },
        "mode" => match r.mode {
            Some(m) if !m.trim().is_empty() => EventKind::Mode {
                by: from,
                channel: r.room.clone(),
                changes: parse_modes(&m),
            },
            _ => return Line::Bad("`mode` record without `mode`"),
        },
        "topic" => EventKind::Topic {
            by: from,
            channel: r.room.clone(),
            topic: text,
        },
        "file" => match r.file_name {
            Some(file) if !file.trim().is_empty() => EventKind::DccSend {
                from,
                to: r.to,
                file,
                size: num(&r.file_size),
                ip: r.ip.as_deref().and_then(decode_dcc_ip),
                port: num(&r.port),
            },
            _ => return Line::Bad("`file` record without `file_name`"),
        },
        _ => return Line::Bad("unknown `type`"),
    };
    Line::Event {
        stamp,
        kind,
        room: r.room.filter(|r| !r.is_empty()),
    }
}

pub fn parse_jsonl(lines: &[DecodedLine]) -> Vec<(usize, Line)> {
    lines
        .iter()
        .map(|l| {
            let t = l.text.trim();
            let line = if t.is_empty() {
                Line::Skip
            } else {
                match serde_json::from_str::<Record>(t) {
                    Ok(r) => to_line(r),
                    Err(_) => Line::Bad("not a JSON object of the chat schema"),
                }
            };
            (l.number, line)
        })
        .collect()
}

/// CSV is parsed line by line after decoding, so a quoted field cannot span
/// lines; exports that need newlines in text should use JSON Lines.
pub fn parse_csv(lines: &[DecodedLine]) -> Result<Vec<(usize, Line)>, ChatError> {
    let mut it = lines.iter().skip_while(|l| l.text.trim().is_empty());
    let Some(header_line) = it.next() else {
        return Err(ChatError::Empty);
    };
    let header = read_record(&header_line.text).map_err(|e| ChatError::Csv(e.to_string()))?;
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for req in ["time", "from"] {
        if !header.iter().any(|h| h == req) {
            return Err(ChatError::CsvHeader(req));
        }
    }
    let mut out = vec![(header_line.number, Line::Skip)];
    for l in it {
        if l.text.trim().is_empty() {
            out.push((l.number, Line::Skip));
            continue;
        }
        let line = match read_record(&l.text) {
            Ok(fields) => {
                let mut obj = serde_json::Map::new();
                for (h, v) in header.iter().zip(fields.iter()) {
                    if !v.is_empty() {
                        obj.insert(h.clone(), serde_json::Value::String(v.to_owned()));
                    }
                }
                match serde_json::from_value::<Record>(serde_json::Value::Object(obj)) {
                    Ok(r) => to_line(r),
                    Err(_) => Line::Bad("CSV row does not fit the chat schema"),
                }
            }
            Err(_) => Line::Bad("malformed CSV row"),
        };
        out.push((l.number, line));
    }
    Ok(out)
}

fn read_record(line: &str) -> Result<csv::StringRecord, csv::Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    rdr.read_record(&mut rec)?;
    Ok(rec)
}
