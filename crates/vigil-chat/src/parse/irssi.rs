//! irssi's default log: `HH:MM` stamps, `--- Log opened`/`--- Day changed`
//! headers, `-!-` status lines with `nick [~ident@host]` hostmasks, and
//! messages as `<@nick>`/`< nick>` (the mode column is a space when empty).

use std::sync::LazyLock;

use regex::Regex;

use super::{Line, Stamp};
use crate::event::{EventKind, UserHost};
use crate::irc::{
    find_ctcp_dcc, parse_clock, parse_ctime, parse_modes, parse_size, split_prefix, strip_codes,
};

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("static regex"));
    };
}

re!(JOIN, r"^(\S+) \[([^\]\s]*)\] has joined (\S+)$");
re!(PART, r"^(\S+) \[([^\]\s]*)\] has left (\S+)(?: \[(.*)\])?$");
re!(QUIT, r"^(\S+) \[([^\]\s]*)\] has quit(?: \[(.*)\])?$");
re!(
    KICK,
    r"^(\S+) was kicked from (\S+) by (\S+)(?: \[(.*)\])?$"
);
re!(NICK, r"^(\S+) is now known as (\S+)$");
re!(MODE, r"^(?i:mode|servermode)/(\S+) \[(.+)\] by (\S+)$");
re!(TOPIC, r"^(\S+) changed the topic of (\S+) to: ?(.*)$");
re!(
    DCC_FROM,
    r"^DCC SEND from (\S+) \[(\S+) port (\d+)\]: (.+?)(?: \[([^\]]+)\])?$"
);
re!(
    DCC_SENT,
    r"^DCC (?:sent|sending) file (.+?)(?: \[([^\]]+)\])? (?:for|to) (\S+)"
);
re!(
    DCC_RECV,
    r"^DCC received file (.+?)(?: \[([^\]]+)\])? from (\S+)"
);

/// Status lines irssi writes that carry nothing for an investigation.
const NOISE: &[&str] = &[
    "Irssi: ",
    "Netsplit ",
    "Netsplit over",
    "Topic for ",
    "Topic set by ",
    "You're now known as",
    "Channel ",
    "ServerMode/",
    "Mode change ",
    "You are now known as",
    "mode/",
];

pub fn parse_line(raw: &str) -> Line {
    let line = strip_codes(raw);
    let line = line.as_ref();
    if line.trim().is_empty() {
        return Line::Skip;
    }
    if let Some(rest) = line.strip_prefix("--- ") {
        if let Some(d) = rest.strip_prefix("Log opened ").and_then(parse_ctime) {
            return Line::Date(d.0);
        }
        if let Some(d) = rest.strip_prefix("Day changed ").and_then(parse_ctime) {
            return Line::Date(d.0);
        }
        if rest.starts_with("Log closed") {
            return Line::Skip;
        }
        return Line::Bad("unrecognised irssi --- header");
    }
    let Some((ts, rest)) = line.split_once(' ') else {
        return Line::Bad("no irssi timestamp");
    };
    let Some(time) = parse_clock(ts) else {
        return Line::Bad("no irssi timestamp");
    };
    let stamp = Stamp::TimeOnly(time);
    match body(rest) {
        Some(Some(kind)) => Line::Event {
            stamp,
            kind,
            room: None,
        },
        Some(None) => Line::Skip,
        None => Line::Bad("unrecognised irssi line"),
    }
}

/// `Some(Some(event))`, `Some(None)` for known noise, `None` for garbage.
fn body(rest: &str) -> Option<Option<EventKind>> {
    if let Some(msg) = rest.strip_prefix('<') {
        let (who, text) = msg
            .split_once("> ")
            .or_else(|| msg.strip_suffix('>').map(|w| (w, "")))?;
        let who = who.strip_prefix(' ').unwrap_or(who);
        let (prefix, nick) = split_prefix(who);
        if nick.is_empty() || nick.contains(' ') {
            return None;
        }
        if let Some(d) = find_ctcp_dcc(text) {
            return Some(Some(EventKind::DccSend {
                from: nick.into(),
                to: None,
                file: d.file,
                size: d.size,
                ip: d.ip,
                port: d.port,
            }));
        }
        return Some(Some(EventKind::Message {
            nick: nick.into(),
            text: text.into(),
            prefix,
            addressed_to: None,
        }));
    }
    if let Some(act) = rest.strip_prefix(" * ").or_else(|| rest.strip_prefix("* ")) {
        let (nick, text) = act.split_once(' ').unwrap_or((act, ""));
        return Some(Some(EventKind::Action {
            nick: nick.into(),
            text: text.into(),
        }));
    }
    if let Some(st) = rest.strip_prefix("-!- ") {
        return match status(st) {
            Some(k) => Some(Some(k)),
            None if NOISE.iter().any(|n| st.starts_with(n)) => Some(None),
            None => None,
        };
    }
    if rest.starts_with('-')
        && let Some(end) = rest[1..].find("- ")
    {
        let who = &rest[1..=end];
        let nick = who.split([':', '(']).next().unwrap_or(who);
        if !nick.is_empty() && !nick.contains(' ') {
            return Some(Some(EventKind::Notice {
                nick: nick.into(),
                text: rest[end + 3..].into(),
            }));
        }
    }
    None
}

fn status(st: &str) -> Option<EventKind> {
    if let Some(c) = JOIN.captures(st) {
        return Some(EventKind::Join {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            channel: Some(c[3].into()),
        });
    }
    if let Some(c) = PART.captures(st) {
        return Some(EventKind::Part {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            channel: Some(c[3].into()),
            reason: c
                .get(4)
                .map(|m| m.as_str().to_owned())
                .filter(|s| !s.is_empty()),
        });
    }
    if let Some(c) = QUIT.captures(st) {
        return Some(EventKind::Quit {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            reason: c
                .get(3)
                .map(|m| m.as_str().to_owned())
                .filter(|s| !s.is_empty()),
        });
    }
    if let Some(c) = KICK.captures(st) {
        return Some(EventKind::Kick {
            nick: c[1].into(),
            channel: Some(c[2].into()),
            by: c[3].into(),
            reason: c
                .get(4)
                .map(|m| m.as_str().to_owned())
                .filter(|s| !s.is_empty()),
        });
    }
    if let Some(c) = NICK.captures(st) {
        return Some(EventKind::NickChange {
            old: c[1].into(),
            new: c[2].into(),
        });
    }
    if let Some(c) = MODE.captures(st) {
        return Some(EventKind::Mode {
            by: c[3].into(),
            channel: Some(c[1].into()),
            changes: parse_modes(&c[2]),
        });
    }
    if let Some(c) = TOPIC.captures(st) {
        return Some(EventKind::Topic {
            by: c[1].into(),
            channel: Some(c[2].into()),
            topic: c[3].into(),
        });
    }
    if let Some(c) = DCC_FROM.captures(st) {
        return Some(EventKind::DccSend {
            from: c[1].into(),
            to: None,
            file: c[4].into(),
            size: c.get(5).and_then(|m| parse_size(m.as_str())),
            ip: crate::irc::decode_dcc_ip(&c[2]),
            port: c[3].parse().ok(),
        });
    }
    if let Some(c) = DCC_SENT.captures(st) {
        return Some(EventKind::DccSend {
            from: crate::event::SELF_NICK.to_owned(),
            to: Some(c[3].into()),
            file: c[1].into(),
            size: c.get(2).and_then(|m| parse_size(m.as_str())),
            ip: None,
            port: None,
        });
    }
    if let Some(c) = DCC_RECV.captures(st) {
        return Some(EventKind::DccSend {
            from: c[3].into(),
            to: Some(crate::event::SELF_NICK.to_owned()),
            file: c[1].into(),
            size: c.get(2).and_then(|m| parse_size(m.as_str())),
            ip: None,
            port: None,
        });
    }
    None
}
