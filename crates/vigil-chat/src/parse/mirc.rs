//! mIRC's default logs: `Session Start: <ctime>` headers, `[HH:MM]` stamps
//! (`[HH:MM:SS]` if seconds are on), and every event as a `* ` line in words:
//! `* alice (~alice@host) has joined #room`, `* bob sets mode: +o alice`.
//! mIRC writes no day-change line, so the driver detects midnight.

use std::sync::LazyLock;

use regex::Regex;

use super::{Line, Stamp};
use crate::event::{EventKind, UserHost};
use crate::irc::{
    decode_dcc_ip, find_ctcp_dcc, parse_clock, parse_ctime, parse_modes, split_prefix, strip_codes,
};

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("static regex"));
    };
}

re!(
    JOIN,
    r"^(?:Joins: )?(\S+) \(([^)\s]*)\)(?: has joined (\S+))?$"
);
re!(
    PART,
    r"^(?:Parts: )?(\S+) \(([^)\s]*)\)(?: has left (\S+))?(?: \((.*)\))?$"
);
re!(
    QUIT,
    r"^(?:Quits: )?(\S+) \(([^)\s]*)\)(?: Quit)?(?: \((.*)\))?$"
);
re!(KICK, r"^(\S+) was kicked by (\S+)(?: \((.*)\))?$");
re!(NICK, r"^(\S+) is now known as (\S+)$");
re!(MODE, r"^(\S+) sets mode: (.+)$");
re!(TOPIC, r"^(\S+) changes topic to '(.*)'$");
re!(DCC_SEND_IP, r"^DCC Send (.+?) \(([0-9A-Fa-f:.]+)\)$");
re!(DCC_SEND_OF, r"^DCC Send of (.+?) to (\S+)");
re!(DCC_GET_OF, r"^DCC Get of (.+?) from (\S+)");

const NOISE: &[&str] = &[
    "Now talking in ",
    "Topic is ",
    "Set by ",
    "Disconnected",
    "Attempting to rejoin",
    "Rejoined channel",
    "Retrieving ",
    "Connecting to",
    "Your nick is now",
    "You're now known as",
    "Channel ",
];

pub fn parse_line(raw: &str) -> Line {
    let line = strip_codes(raw);
    let line = line.as_ref();
    if line.trim().is_empty() {
        return Line::Skip;
    }
    if let Some(rest) = line.strip_prefix("Session Start: ") {
        return match parse_ctime(rest) {
            Some((d, _)) => Line::Date(d),
            None => Line::Bad("unreadable mIRC Session Start date"),
        };
    }
    if line.starts_with("Session Close: ")
        || line.starts_with("Session Ident: ")
        || line.starts_with("Session Time: ")
    {
        return Line::Skip;
    }
    let Some(close) = line.strip_prefix('[').and_then(|l| l.find("] ")) else {
        return Line::Bad("no mIRC [HH:MM] timestamp");
    };
    let Some(time) = parse_clock(&line[1..=close]) else {
        return Line::Bad("no mIRC [HH:MM] timestamp");
    };
    let rest = &line[close + 3..];
    let stamp = Stamp::TimeOnly(time);
    let kind = if let Some(msg) = rest.strip_prefix('<') {
        msg.split_once("> ").map(|(who, text)| {
            let (pfx, nick) = split_prefix(who);
            match find_ctcp_dcc(text) {
                Some(d) => EventKind::DccSend {
                    from: nick.into(),
                    to: None,
                    file: d.file,
                    size: d.size,
                    ip: d.ip,
                    port: d.port,
                },
                None => EventKind::Message {
                    nick: nick.into(),
                    text: text.into(),
                    prefix: pfx,
                    addressed_to: None,
                },
            }
        })
    } else if let Some(ev) = rest.strip_prefix("* ") {
        if let Some(k) = star(ev) {
            Some(k)
        } else if NOISE.iter().any(|n| ev.starts_with(n)) {
            return Line::Skip;
        } else {
            let (nick, text) = ev.split_once(' ').unwrap_or((ev, ""));
            Some(EventKind::Action {
                nick: nick.into(),
                text: text.into(),
            })
        }
    } else if rest.starts_with('-')
        && let Some(end) = rest[1..].find("- ")
    {
        let who = &rest[1..=end];
        let nick = who.split(':').next().unwrap_or(who);
        let text = &rest[end + 3..];
        match DCC_SEND_IP.captures(text) {
            Some(c) => Some(EventKind::DccSend {
                from: nick.into(),
                to: None,
                file: c[1].into(),
                size: None,
                ip: decode_dcc_ip(&c[2]),
                port: None,
            }),
            None => Some(EventKind::Notice {
                nick: nick.into(),
                text: text.into(),
            }),
        }
    } else {
        None
    };
    match kind {
        Some(kind) => Line::Event {
            stamp,
            kind,
            room: None,
        },
        None => Line::Bad("unrecognised mIRC line"),
    }
}

fn opt(m: Option<regex::Match<'_>>) -> Option<String> {
    m.map(|m| m.as_str().to_owned()).filter(|s| !s.is_empty())
}

fn star(ev: &str) -> Option<EventKind> {
    if (ev.contains(" has joined ") || ev.starts_with("Joins: "))
        && let Some(c) = JOIN.captures(ev)
    {
        return Some(EventKind::Join {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            channel: c.get(3).map(|m| m.as_str().into()),
        });
    }
    if (ev.contains(" has left ") || ev.starts_with("Parts: "))
        && let Some(c) = PART.captures(ev)
    {
        return Some(EventKind::Part {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            channel: c.get(3).map(|m| m.as_str().into()),
            reason: opt(c.get(4)),
        });
    }
    if (ev.contains(") Quit") || ev.starts_with("Quits: "))
        && let Some(c) = QUIT.captures(ev)
    {
        return Some(EventKind::Quit {
            nick: c[1].into(),
            user: UserHost::parse(&c[2]),
            reason: opt(c.get(3)),
        });
    }
    if let Some(c) = KICK.captures(ev) {
        return Some(EventKind::Kick {
            nick: c[1].into(),
            by: c[2].into(),
            channel: None,
            reason: opt(c.get(3)),
        });
    }
    if let Some(c) = NICK.captures(ev) {
        return Some(EventKind::NickChange {
            old: c[1].into(),
            new: c[2].into(),
        });
    }
    if let Some(c) = MODE.captures(ev) {
        return Some(EventKind::Mode {
            by: c[1].into(),
            channel: None,
            changes: parse_modes(&c[2]),
        });
    }
    if let Some(c) = TOPIC.captures(ev) {
        return Some(EventKind::Topic {
            by: c[1].into(),
            channel: None,
            topic: c[2].into(),
        });
    }
    if let Some(c) = DCC_SEND_OF.captures(ev) {
        return Some(EventKind::DccSend {
            from: crate::event::SELF_NICK.into(),
            to: Some(c[2].into()),
            file: c[1].into(),
            size: None,
            ip: None,
            port: None,
        });
    }
    if let Some(c) = DCC_GET_OF.captures(ev) {
        return Some(EventKind::DccSend {
            from: c[2].into(),
            to: Some(crate::event::SELF_NICK.into()),
            file: c[1].into(),
            size: None,
            ip: None,
            port: None,
        });
    }
    None
}
