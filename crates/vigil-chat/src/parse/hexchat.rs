//! HexChat/XChat logs: `**** BEGIN LOGGING AT <ctime>` headers, lines stamped
//! `%b %d %H:%M:%S` (no year: it comes from the header), and a tab after the
//! nick column (`<@bob>\thi`, `-->\t...`, `*\t...`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Line, Stamp};
use crate::event::{EventKind, ModeChange, UserHost};
use crate::irc::{
    find_ctcp_dcc, month_from_abbr, parse_clock, parse_ctime, parse_modes, parse_size,
    split_prefix, strip_codes,
};

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("static regex"));
    };
}

re!(JOIN, r"^(\S+) \(([^)\s]*)\) has joined (\S+)");
re!(PART, r"^(\S+) \(([^)\s]*)\) has left (\S+)(?: \((.*)\))?$");
re!(QUIT, r"^(\S+)(?: \(([^)\s]*)\))? has quit(?: \((.*)\))?$");
re!(KICK, r"^(\S+) has kicked (\S+) from (\S+)(?: \((.*)\))?$");
re!(NICK, r"^(\S+) is now known as (\S+)$");
re!(
    OP,
    r"^(\S+) (gives|removes) channel (operator|half-operator) status (?:to|from) (.+)$"
);
re!(VOICE, r"^(\S+) (gives voice to|removes voice from) (.+)$");
re!(BAN, r"^(\S+) (sets|removes) ban (?:on|from) (\S+)$");
// "Channel Mode Generic": `bob sets mode +a #room alice`
re!(GENMODE, r"^(\S+) sets mode ([+-]\S+) (\S+)(?: (.+))?$");
re!(TOPIC, r"^(\S+) has changed the topic to: ?(.*)$");
re!(OFFER, r"^(\S+) has offered (.+) \((\d+) bytes\)$");
re!(OFFERING, r"^Offering (.+) to (\S+)$");

const NOISE: &[&str] = &[
    "Now talking on ",
    "Topic for ",
    "Channel ",
    "Disconnected",
    "Connecting",
    "Looking up",
    "Cannot join",
    "You are now known as",
];

pub fn parse_line(raw: &str) -> Line {
    let line = strip_codes(raw);
    let line = line.as_ref();
    if line.trim().is_empty() {
        return Line::Skip;
    }
    if let Some(rest) = line.strip_prefix("**** ") {
        if let Some((d, _)) = rest.strip_prefix("BEGIN LOGGING AT ").and_then(parse_ctime) {
            return Line::Date(d);
        }
        if rest.starts_with("ENDING LOGGING AT") {
            return Line::Skip;
        }
        return Line::Bad("unrecognised HexChat **** line");
    }
    // "Mar 02 14:21:09 " is 16 bytes; guard byte positions before slicing.
    if line.len() < 16 || !line.is_char_boundary(16) || line.as_bytes()[15] != b' ' {
        return Line::Bad("no HexChat timestamp");
    }
    let (ts, rest) = line.split_at(16);
    if !ts.is_ascii() {
        return Line::Bad("no HexChat timestamp");
    }
    let (Some(month), Some(day), Some(time)) = (
        month_from_abbr(&ts[..3]),
        ts[4..6].trim().parse::<u8>().ok(),
        parse_clock(&ts[7..15]),
    ) else {
        return Line::Bad("no HexChat timestamp");
    };
    let stamp = Stamp::MonthDay(month, day, time);
    let Some((col, msg)) = rest.split_once('\t') else {
        return Line::Bad("no tab after the HexChat nick column");
    };
    let kind = match col {
        "-->" => JOIN.captures(msg).map(|c| EventKind::Join {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            channel: Some(c[3].into()),
        }),
        "<--" => {
            if let Some(c) = PART.captures(msg) {
                Some(EventKind::Part {
                    nick: c[1].into(),
                    user: UserHost::parse(&c[2]),
                    channel: Some(c[3].into()),
                    reason: opt(c.get(4)),
                })
            } else if let Some(c) = QUIT.captures(msg) {
                Some(EventKind::Quit {
                    nick: c[1].into(),
                    user: c.get(2).and_then(|m| UserHost::parse(m.as_str())),
                    reason: opt(c.get(3)),
                })
            } else {
                KICK.captures(msg).map(|c| EventKind::Kick {
                    by: c[1].into(),
                    nick: c[2].into(),
                    channel: Some(c[3].into()),
                    reason: opt(c.get(4)),
                })
            }
        }
        "*" | "-" | "---" => {
            let k = star(msg);
            if k.is_none() && NOISE.iter().any(|n| msg.starts_with(n)) {
                return Line::Skip;
            }
            // Anything else after `*` is an action: `*\talice waves`.
            k.or_else(|| {
                let (nick, text) = msg.split_once(' ').unwrap_or((msg, ""));
                (col == "*" && !nick.is_empty()).then(|| EventKind::Action {
                    nick: nick.into(),
                    text: text.into(),
                })
            })
        }
        c if c.starts_with('<') && c.ends_with('>') && c.len() > 2 => {
            let (pfx, nick) = split_prefix(&c[1..c.len() - 1]);
            if let Some(d) = find_ctcp_dcc(msg) {
                Some(EventKind::DccSend {
                    from: nick.into(),
                    to: None,
                    file: d.file,
                    size: d.size,
                    ip: d.ip,
                    port: d.port,
                })
            } else {
                Some(EventKind::Message {
                    nick: nick.into(),
                    text: msg.into(),
                    prefix: pfx,
                    addressed_to: None,
                })
            }
        }
        // Channel notice: `-bob/#room-`
        c if c.starts_with('-') && c.ends_with('-') && c.len() > 2 => {
            let who = &c[1..c.len() - 1];
            let nick = who.split('/').next().unwrap_or(who);
            Some(EventKind::Notice {
                nick: nick.into(),
                text: msg.into(),
            })
        }
        _ => None,
    };
    match kind {
        Some(kind) => Line::Event {
            stamp,
            kind,
            room: None,
        },
        None => Line::Bad("unrecognised HexChat line"),
    }
}

fn opt(m: Option<regex::Match<'_>>) -> Option<String> {
    m.map(|m| m.as_str().to_owned()).filter(|s| !s.is_empty())
}

fn star(msg: &str) -> Option<EventKind> {
    if let Some(c) = NICK.captures(msg) {
        return Some(EventKind::NickChange {
            old: c[1].into(),
            new: c[2].into(),
        });
    }
    if let Some(c) = OP.captures(msg) {
        let mode = if &c[3] == "operator" { 'o' } else { 'h' };
        let add = &c[2] == "gives";
        let changes = c[4]
            .split_whitespace()
            .map(|n| ModeChange {
                add,
                mode,
                arg: Some(n.into()),
            })
            .collect();
        return Some(EventKind::Mode {
            by: c[1].into(),
            channel: None,
            changes,
        });
    }
    if let Some(c) = VOICE.captures(msg) {
        let add = c[2].starts_with("gives");
        let changes = c[3]
            .split_whitespace()
            .map(|n| ModeChange {
                add,
                mode: 'v',
                arg: Some(n.into()),
            })
            .collect();
        return Some(EventKind::Mode {
            by: c[1].into(),
            channel: None,
            changes,
        });
    }
    if let Some(c) = BAN.captures(msg) {
        let changes = vec![ModeChange {
            add: &c[2] == "sets",
            mode: 'b',
            arg: Some(c[3].into()),
        }];
        return Some(EventKind::Mode {
            by: c[1].into(),
            channel: None,
            changes,
        });
    }
    if let Some(c) = GENMODE.captures(msg) {
        let spec = match c.get(4) {
            Some(a) => format!("{} {}", &c[2], a.as_str()),
            None => c[2].to_owned(),
        };
        return Some(EventKind::Mode {
            by: c[1].into(),
            channel: Some(c[3].into()),
            changes: parse_modes(&spec),
        });
    }
    if let Some(c) = TOPIC.captures(msg) {
        return Some(EventKind::Topic {
            by: c[1].into(),
            channel: None,
            topic: c[2].into(),
        });
    }
    if let Some(c) = OFFER.captures(msg) {
        return Some(EventKind::DccSend {
            from: c[1].into(),
            to: Some(crate::event::SELF_NICK.into()),
            file: c[2].into(),
            size: parse_size(&c[3]),
            ip: None,
            port: None,
        });
    }
    if let Some(c) = OFFERING.captures(msg) {
        return Some(EventKind::DccSend {
            from: crate::event::SELF_NICK.into(),
            to: Some(c[2].into()),
            file: c[1].into(),
            size: None,
            ip: None,
            port: None,
        });
    }
    None
}
