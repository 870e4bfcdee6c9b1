//! Turning decoded lines into events: one line parser per client, and one
//! driver that supplies what the lines leave out (dates, zone, keys).

pub mod generic;
pub mod hexchat;
pub mod irssi;
pub mod mirc;
pub mod weechat;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::ChatError;
use crate::decode::{DecodedLine, FileEncoding, decode_lines};
use crate::event::{Event, EventKind, base_key, event_key, fold};
use crate::format::{Format, detect_lines};
use crate::zone::Zone;

/// When a line happened, as far as the line itself says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Full local date and time (WeeChat, JSON/CSV without offset).
    Local(PrimitiveDateTime),
    /// Month and day but no year (HexChat's `%b %d %H:%M:%S`).
    MonthDay(Month, u8, Time),
    /// Time of day only (irssi, mIRC): the date comes from headers.
    TimeOnly(Time),
    /// An absolute instant (JSON/CSV with offset or epoch seconds).
    Instant(OffsetDateTime),
}

/// What a client line parser made of one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Event {
        stamp: Stamp,
        kind: EventKind,
        room: Option<String>,
    },
    /// A header or day-change line: later undated lines belong to this date.
    Date(Date),
    /// A recognised line that records nothing worth keeping (log closed,
    /// client notices, blank).
    Skip,
    /// A line that looks like nothing this format writes.
    Bad(&'static str),
}

/// Options for [`parse`].
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Format to use; `None` auto-detects.
    pub format: Option<Format>,
    /// Zone the client wrote wall-clock times in. JSON/CSV times that carry
    /// an offset ignore it.
    pub zone: Zone,
    /// Date for lines logged before any header gives one (irssi or mIRC logs
    /// cut out of a longer file, or HexChat logs without a BEGIN LOGGING line,
    /// which then also take their year from it).
    pub base_date: Option<Date>,
}

/// A line that could not be parsed. Parsing goes on after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnparsedLine {
    pub line: usize,
    pub reason: String,
    pub text: String,
}

/// Everything parsed out of one log file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedLog {
    pub format: Format,
    pub encoding: FileEncoding,
    /// The channel the log is about, when the log names it.
    pub channel: Option<String>,
    pub events: Vec<Event>,
    pub unparsed: Vec<UnparsedLine>,
    /// Number of lines in the file (blank ones included).
    pub total_lines: usize,
}

/// Time going backwards by more than this between two undated lines means
/// midnight passed without a day-change line (mIRC never writes one). Smaller
/// steps back are left alone: they are DST or clock corrections.
const ROLLOVER_BACKSTEP_SECS: i64 = 3600;

/// Parses a whole log. Fails only when the format is unknown (auto-detection
/// found no chat log); every bad line is reported in `unparsed`.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<ParsedLog, ChatError> {
    let (lines, encoding) = decode_lines(bytes);
    if lines.iter().all(|l| l.text.trim().is_empty()) {
        return Err(ChatError::Empty);
    }
    let format = match opts.format {
        Some(f) => f,
        None => detect_lines(&lines).ok_or(ChatError::NotAChatLog {
            sampled: lines
                .iter()
                .filter(|l| !l.text.trim().is_empty())
                .take(crate::format::SAMPLE)
                .count(),
        })?,
    };
    let total_lines = lines.len();
    let raw = match format {
        Format::Jsonl => generic::parse_jsonl(&lines),
        Format::Csv => generic::parse_csv(&lines)?,
        _ => {
            let f: fn(&str) -> Line = match format {
                Format::Irssi => irssi::parse_line,
                Format::Weechat => weechat::parse_line,
                Format::Hexchat => hexchat::parse_line,
                _ => mirc::parse_line,
            };
            lines
                .iter()
                .map(|l| (l, f(&l.text)))
                .map(|(l, r)| (l.number, r))
                .collect()
        }
    };
    Ok(assemble(format, encoding, &lines, raw, opts, total_lines))
}

fn assemble(
    format: Format,
    encoding: FileEncoding,
    lines: &[DecodedLine],
    raw: Vec<(usize, Line)>,
    opts: &ParseOptions,
    total_lines: usize,
) -> ParsedLog {
    let mut current: Option<Date> = opts.base_date;
    let mut last_local: Option<PrimitiveDateTime> = None;
    let mut events = Vec::with_capacity(raw.len());
    let mut unparsed = Vec::new();
    let mut channel: Option<String> = None;
    for (number, line) in raw {
        let Some(src) = lines.get(number.wrapping_sub(1)) else {
            continue;
        };
        match line {
            Line::Skip => {}
            Line::Bad(reason) => {
                if !src.text.trim().is_empty() {
                    unparsed.push(UnparsedLine {
                        line: number,
                        reason: reason.to_owned(),
                        text: src.text.clone(),
                    });
                }
            }
            Line::Date(d) => {
                current = Some(d);
                last_local = None;
            }
            Line::Event { stamp, kind, room } => {
                let time = match stamp {
                    Stamp::Instant(t) => Some(t),
                    Stamp::Local(dt) => {
                        current = Some(dt.date());
                        last_local = Some(dt);
                        opts.zone.to_utc(dt)
                    }
                    Stamp::MonthDay(month, day, t) => {
                        let year = current.map(|d| {
                            // December to January without a header: new year.
                            if (month as u8) + 6 < (d.month() as u8) {
                                d.year() + 1
                            } else {
                                d.year()
                            }
                        });
                        match year.and_then(|y| Date::from_calendar_date(y, month, day).ok()) {
                            Some(d) => {
                                current = Some(d);
                                let dt = PrimitiveDateTime::new(d, t);
                                last_local = Some(dt);
                                opts.zone.to_utc(dt)
                            }
                            None => None,
                        }
                    }
                    Stamp::TimeOnly(t) => match current {
                        Some(mut d) => {
                            if let Some(prev) = last_local
                                && prev.date() == d
                                && (prev.time() - t).whole_seconds() > ROLLOVER_BACKSTEP_SECS
                                && let Some(next) = d.next_day()
                            {
                                d = next;
                                current = Some(d);
                            }
                            let dt = PrimitiveDateTime::new(d, t);
                            last_local = Some(dt);
                            opts.zone.to_utc(dt)
                        }
                        None => None,
                    },
                };
                if channel.is_none() {
                    channel = match &kind {
                        EventKind::Join { channel, .. }
                        | EventKind::Part { channel, .. }
                        | EventKind::Mode { channel, .. }
                        | EventKind::Topic { channel, .. } => channel
                            .clone()
                            .filter(|c| c.starts_with(['#', '&', '!', '+'])),
                        _ => None,
                    };
                }
                events.push(Event {
                    line: number,
                    time,
                    key: String::new(),
                    encoding: src.encoding,
                    room,
                    kind,
                });
            }
        }
    }
    mark_addressees(&mut events);
    assign_keys(&mut events);
    ParsedLog {
        format,
        encoding,
        channel,
        events,
        unparsed,
        total_lines,
    }
}

/// Sets `addressed_to` for `nick: text` / `nick, text` messages. Only words
/// that are nicks seen somewhere in this log count, so "note: ..." or
/// "lol, ..." are not taken for addressees.
fn mark_addressees(events: &mut [Event]) {
    let mut nicks: HashMap<String, String> = HashMap::new();
    for e in events.iter() {
        let mut add = |n: &str| {
            nicks.entry(fold(n)).or_insert_with(|| n.to_owned());
        };
        match &e.kind {
            EventKind::NickChange { old, new } => {
                add(old);
                add(new);
            }
            EventKind::Kick { nick, by, .. } => {
                add(nick);
                add(by);
            }
            k => add(k.actor()),
        }
    }
    for e in events.iter_mut() {
        if let EventKind::Message {
            text,
            addressed_to,
            nick,
            ..
        } = &mut e.kind
            && let Some(pos) = text.find([':', ','])
        {
            let word = &text[..pos];
            let followed_by_space = text[pos + 1..].starts_with(' ') || text.len() == pos + 1;
            if !word.is_empty() && !word.contains(' ') && followed_by_space {
                let key = fold(word);
                if key != fold(nick)
                    && let Some(canon) = nicks.get(&key)
                {
                    *addressed_to = Some(canon.clone());
                }
            }
        }
    }
}

fn assign_keys(events: &mut [Event]) {
    let mut seen: HashMap<(i64, String), u32> = HashMap::new();
    for e in events.iter_mut() {
        let n = seen
            .entry(base_key(e.time, e.room.as_deref(), &e.kind))
            .or_insert(0);
        e.key = event_key(e.time, e.room.as_deref(), &e.kind, *n);
        *n += 1;
    }
}
