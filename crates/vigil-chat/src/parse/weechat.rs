//! WeeChat's logger: `YYYY-MM-DD HH:MM:SS<TAB>prefix<TAB>message`. The prefix
//! column is the nick (with its mode char, `@bob`), or `-->` (join), `<--`
//! (part/quit/kick), `--` (network notices: nick and mode changes, topics),
//! ` *` (action), `=!=` (errors) or empty (continuations).

use std::sync::LazyLock;

use regex::Regex;

use super::{Line, Stamp};
use crate::event::{EventKind, ModeChange, UserHost};
use crate::irc::{
    decode_dcc_ip, find_ctcp_dcc, parse_iso_local, parse_modes, split_prefix, strip_codes,
};

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("static regex"));
    };
}

re!(JOIN, r"^(\S+) \(([^)\s]*)\) has joined (\S+)");
re!(PART, r"^(\S+) \(([^)\s]*)\) has left (\S+)(?: \((.*)\))?$");
re!(QUIT, r"^(\S+) \(([^)\s]*)\) has quit(?: \((.*)\))?$");
re!(
    KICK,
    r"^(\S+) has kicked (\S+)(?: from (\S+))?(?: \((.*)\))?$"
);
re!(NICK, r"^(\S+) is now known as (\S+)$");
re!(MODE, r"^Mode (\S+) \[(.+)\] by (\S+)$");
re!(
    TOPIC,
    r#"^(\S+) has changed topic for (\S+)(?: from ".*")? to "(.*)"$"#
);
re!(UNSET_TOPIC, r"^(\S+) has unset topic for (\S+)");
// WeeChat 0.x printed op changes in words, like XChat.
re!(
    OLD_OP,
    r"^(\S+) (gives|removes) channel (operator|half-operator) status (?:to|from) (.+)$"
);
re!(
    XFER,
    r"^xfer: incoming file from (\S+) \(([^,)]+)[,)].*?name: (.+?), (\d+) bytes"
);

const NOISE: &[&str] = &[
    "Topic for ",
    "Topic set by ",
    "Channel ",
    "You are now known as",
    "Notice(",
    "irc: ",
    "Nicks ",
    "xfer: ",
];

pub fn parse_line(raw: &str) -> Line {
    let line = strip_codes(raw);
    let line = line.as_ref();
    if line.trim().is_empty() {
        return Line::Skip;
    }
    let mut cols = line.splitn(3, '\t');
    let (Some(ts), Some(prefix), Some(msg)) = (cols.next(), cols.next(), cols.next()) else {
        return Line::Bad("not three tab-separated WeeChat columns");
    };
    let Some(dt) = parse_iso_local(ts) else {
        return Line::Bad("no WeeChat date/time");
    };
    let stamp = Stamp::Local(dt);
    let kind = match prefix {
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
                    user: UserHost::parse(&c[2]),
                    reason: opt(c.get(3)),
                })
            } else {
                KICK.captures(msg).map(|c| EventKind::Kick {
                    by: c[1].into(),
                    nick: c[2].into(),
                    channel: c.get(3).map(|m| m.as_str().into()),
                    reason: opt(c.get(4)),
                })
            }
        }
        "--" | "-" => {
            let k = network(msg);
            if k.is_none() && NOISE.iter().any(|n| msg.starts_with(n)) {
                return Line::Skip;
            }
            k
        }
        " *" | "*" => {
            let (nick, text) = msg.split_once(' ').unwrap_or((msg, ""));
            Some(EventKind::Action {
                nick: nick.into(),
                text: text.into(),
            })
        }
        "" | "=!=" | " " => return Line::Skip,
        p => {
            let (pfx, nick) = split_prefix(p);
            if nick.contains(' ') {
                return Line::Bad("WeeChat prefix is not a nick");
            }
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
    };
    match kind {
        Some(kind) => Line::Event {
            stamp,
            kind,
            room: None,
        },
        None => Line::Bad("unrecognised WeeChat event"),
    }
}

fn opt(m: Option<regex::Match<'_>>) -> Option<String> {
    m.map(|m| m.as_str().to_owned()).filter(|s| !s.is_empty())
}

fn network(msg: &str) -> Option<EventKind> {
    if let Some(c) = NICK.captures(msg) {
        return Some(EventKind::NickChange {
            old: c[1].into(),
            new: c[2].into(),
        });
    }
    if let Some(c) = MODE.captures(msg) {
        return Some(EventKind::Mode {
            by: c[3].into(),
            channel: Some(c[1].into()),
            changes: parse_modes(&c[2]),
        });
    }
    if let Some(c) = TOPIC.captures(msg) {
        return Some(EventKind::Topic {
            by: c[1].into(),
            channel: Some(c[2].into()),
            topic: c[3].into(),
        });
    }
    if let Some(c) = UNSET_TOPIC.captures(msg) {
        return Some(EventKind::Topic {
            by: c[1].into(),
            channel: Some(c[2].into()),
            topic: String::new(),
        });
    }
    if let Some(c) = OLD_OP.captures(msg) {
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
    if let Some(c) = XFER.captures(msg) {
        return Some(EventKind::DccSend {
            from: c[1].into(),
            to: Some(crate::event::SELF_NICK.into()),
            file: c[3].into(),
            size: c[4].parse().ok(),
            ip: decode_dcc_ip(&c[2]),
            port: None,
        });
    }
    None
}
