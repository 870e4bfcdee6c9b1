//! Months of chat-room life, written the way the officers' IRC clients
//! wrote it: irssi's default log format for the first room and WeeChat's
//! for the second. The room is simulated once as a list of events and then
//! rendered per client, so both formats carry the same kind of story.

use time::{Date, Duration, PrimitiveDateTime, Time};

use crate::people::Member;
use crate::rng::Rng;

#[derive(Debug, Clone)]
pub enum Ev {
    Join {
        nick: String,
        ident: String,
        ip: String,
    },
    Quit {
        nick: String,
        ident: String,
        ip: String,
    },
    Part {
        nick: String,
        ident: String,
        ip: String,
    },
    Msg {
        nick: String,
        text: String,
    },
    Action {
        nick: String,
        text: String,
    },
    Mode {
        by: String,
        mode: &'static str,
        target: String,
    },
    Nick {
        old: String,
        new: String,
    },
    Topic {
        by: String,
        text: String,
    },
    Dcc {
        from: String,
        ip: String,
        file: String,
        bytes: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Line {
    pub at: PrimitiveDateTime,
    pub ev: Ev,
}

/// Who runs the room and how: the host's nick and connection per period.
#[derive(Debug, Clone)]
pub struct Host {
    pub nick: String,
    pub ident: String,
    /// The address used until `switch_on`, then `late_ip`.
    pub early_ip: String,
    pub late_ip: String,
    pub switch_on: Date,
}

pub struct RoomPlan<'a> {
    pub channel: &'a str,
    pub topic: &'a str,
    pub host: Host,
    pub members: &'a [Member],
    pub officer: &'a Member,
    /// The day the officer first comes in.
    pub officer_from: Date,
    /// Members the host makes operators, and the officer if `officer_op`.
    pub admins: &'a [usize],
    pub officer_op_on: Option<Date>,
    /// A member who changes nick once (index, new nick, day).
    pub nick_change: Option<(usize, String, Date)>,
    pub first: Date,
    pub last: Date,
    /// Chance that a given day has a session.
    pub session_rate: f64,
}

const CHATTER: [&str; 16] = [
    "evening all",
    "anyone got the new set?",
    "check your dcc",
    "who's new here?",
    "new stuff tonight, be patient",
    "use a vpn, seriously",
    "brb",
    "room rules: nothing in channel, dcc only",
    "lag is bad tonight",
    "thanks for the share",
    "anyone seen {other} lately?",
    "{other}: got it, thanks",
    "{other}: sent you the folder",
    "{other}: check pm",
    "quiet tonight",
    "back",
];

fn say(rng: &mut Rng, m: &Member, others: &[&str]) -> String {
    let roll = rng.below(100);
    if roll < 4
        && let Some(e) = &m.email
    {
        return format!("mail me at {e}");
    }
    if roll < 7
        && let Some(s) = &m.skype
    {
        return format!("my skype is {s}");
    }
    if roll < 9
        && let Some(i) = &m.icq
    {
        return format!("my icq is {i}");
    }
    let t = *rng.pick(&CHATTER);
    let other = if others.is_empty() {
        "all"
    } else {
        *rng.pick(others)
    };
    t.replace("{other}", other)
}

/// Simulates the room day by day. Deterministic for the generator state.
pub fn simulate(plan: &RoomPlan<'_>, rng: &mut Rng) -> Vec<Line> {
    let mut out = Vec::new();
    let mut day = plan.first;
    let mut nicks: Vec<String> = plan.members.iter().map(|m| m.nick.clone()).collect();
    let mut first_session = true;
    let mut admins_made = false;
    let mut officer_opped = false;
    let mut nick_changed = false;
    let mut pack = 1u32;
    while day <= plan.last {
        let forced = day == plan.first || day == plan.last || day == plan.host.switch_on;
        if !(forced || rng.chance(plan.session_rate)) {
            match day.next_day() {
                Some(d) => day = d,
                None => break,
            }
            continue;
        }
        let mut at = PrimitiveDateTime::new(
            day,
            Time::from_hms(19, rng.range(0, 50) as u8, 0).unwrap_or(Time::MIDNIGHT),
        );
        let mut tick = |rng: &mut Rng| {
            at += Duration::seconds(rng.range(20, 240));
            at
        };
        let h = &plan.host;
        let host_ip = if day >= h.switch_on {
            &h.late_ip
        } else {
            &h.early_ip
        };
        out.push(Line {
            at: tick(rng),
            ev: Ev::Join {
                nick: h.nick.clone(),
                ident: h.ident.clone(),
                ip: host_ip.clone(),
            },
        });
        out.push(Line {
            at: tick(rng),
            ev: Ev::Mode {
                // the server opens the channel to its first user, as servers do
                by: "irc.example.net".into(),
                mode: "+o",
                target: h.nick.clone(),
            },
        });
        if first_session {
            out.push(Line {
                at: tick(rng),
                ev: Ev::Topic {
                    by: h.nick.clone(),
                    text: plan.topic.to_string(),
                },
            });
            first_session = false;
        }
        // who is online tonight
        let mut online: Vec<usize> = (0..plan.members.len())
            .filter(|&i| rng.chance(plan.members[i].presence))
            .collect();
        if online.is_empty() && !plan.members.is_empty() {
            online.push(rng.below(plan.members.len()));
        }
        let officer_in = day >= plan.officer_from;
        let o = plan.officer;
        if officer_in {
            out.push(Line {
                at: tick(rng),
                ev: Ev::Join {
                    nick: o.nick.clone(),
                    ident: o.ident.clone(),
                    ip: o.ip.clone(),
                },
            });
        }
        for &i in &online {
            let m = &plan.members[i];
            out.push(Line {
                at: tick(rng),
                ev: Ev::Join {
                    nick: nicks[i].clone(),
                    ident: m.ident.clone(),
                    ip: m.ip.clone(),
                },
            });
        }
        if !admins_made && day >= plan.first + Duration::days(20) {
            for &a in plan.admins {
                if online.contains(&a) {
                    out.push(Line {
                        at: tick(rng),
                        ev: Ev::Mode {
                            by: h.nick.clone(),
                            mode: "+o",
                            target: nicks[a].clone(),
                        },
                    });
                    admins_made = true;
                }
            }
        }
        if officer_in && !officer_opped && plan.officer_op_on.is_some_and(|d| day >= d) {
            out.push(Line {
                at: tick(rng),
                ev: Ev::Msg {
                    nick: h.nick.clone(),
                    text: format!("{}: you've been around, you can help run the place", o.nick),
                },
            });
            out.push(Line {
                at: tick(rng),
                ev: Ev::Mode {
                    by: h.nick.clone(),
                    mode: "+o",
                    target: o.nick.clone(),
                },
            });
            officer_opped = true;
        }
        let names: Vec<&str> = online.iter().map(|&i| nicks[i].as_str()).collect();
        let lines = rng.range(8, 28);
        for _ in 0..lines {
            let speaker = rng.below(online.len() + 2);
            let line = if speaker >= online.len() {
                // the host speaks and supplies
                if rng.chance(0.3) {
                    let file = format!("pack_{:03}.zip", pack);
                    pack += 1;
                    Ev::Dcc {
                        from: h.nick.clone(),
                        ip: host_ip.clone(),
                        file,
                        bytes: rng.range(2_000_000, 60_000_000) as u64,
                    }
                } else {
                    let t = *rng.pick(&CHATTER);
                    let other = if names.is_empty() {
                        "all"
                    } else {
                        *rng.pick(&names)
                    };
                    Ev::Msg {
                        nick: h.nick.clone(),
                        text: t.replace("{other}", other),
                    }
                }
            } else {
                let i = online[speaker];
                let m = &plan.members[i];
                if rng.chance(0.06) {
                    Ev::Dcc {
                        from: nicks[i].clone(),
                        ip: m.ip.clone(),
                        file: format!("{}_{:02}.zip", m.ident, rng.range(1, 40)),
                        bytes: rng.range(1_000_000, 20_000_000) as u64,
                    }
                } else if rng.chance(0.05) {
                    Ev::Action {
                        nick: nicks[i].clone(),
                        text: "checks the folder".into(),
                    }
                } else {
                    let others: Vec<&str> =
                        names.iter().copied().filter(|n| *n != nicks[i]).collect();
                    Ev::Msg {
                        nick: nicks[i].clone(),
                        text: say(rng, m, &others),
                    }
                }
            };
            out.push(Line {
                at: tick(rng),
                ev: line,
            });
        }
        if let Some((i, new, when)) = &plan.nick_change
            && !nick_changed
            && day >= *when
            && online.contains(i)
        {
            out.push(Line {
                at: tick(rng),
                ev: Ev::Nick {
                    old: nicks[*i].clone(),
                    new: new.clone(),
                },
            });
            nicks[*i] = new.clone();
            nick_changed = true;
        }
        for &i in &online {
            let m = &plan.members[i];
            let ev = if rng.chance(0.5) {
                Ev::Quit {
                    nick: nicks[i].clone(),
                    ident: m.ident.clone(),
                    ip: m.ip.clone(),
                }
            } else {
                Ev::Part {
                    nick: nicks[i].clone(),
                    ident: m.ident.clone(),
                    ip: m.ip.clone(),
                }
            };
            out.push(Line { at: tick(rng), ev });
        }
        if officer_in {
            out.push(Line {
                at: tick(rng),
                ev: Ev::Quit {
                    nick: o.nick.clone(),
                    ident: o.ident.clone(),
                    ip: o.ip.clone(),
                },
            });
        }
        out.push(Line {
            at: tick(rng),
            ev: Ev::Quit {
                nick: h.nick.clone(),
                ident: h.ident.clone(),
                ip: host_ip.clone(),
            },
        });
        match day.next_day() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn weekday(d: Date) -> &'static str {
    use time::Weekday::*;
    match d.weekday() {
        Monday => "Mon",
        Tuesday => "Tue",
        Wednesday => "Wed",
        Thursday => "Thu",
        Friday => "Fri",
        Saturday => "Sat",
        Sunday => "Sun",
    }
}

fn month(d: Date) -> &'static str {
    MONTHS[usize::from(u8::from(d.month())) - 1]
}

/// The lines of one calendar month, for one log file per month.
pub fn by_month(lines: &[Line]) -> Vec<((i32, u8), Vec<Line>)> {
    let mut out: Vec<((i32, u8), Vec<Line>)> = Vec::new();
    for l in lines {
        let key = (l.at.year(), u8::from(l.at.month()));
        match out.last_mut() {
            Some((k, v)) if *k == key => v.push(l.clone()),
            _ => out.push((key, vec![l.clone()])),
        }
    }
    out
}

/// irssi's default log: `--- Log opened`, `HH:MM` stamps, `-!-` events,
/// `<@nick>` mode prefixes, `--- Day changed` at each new day.
pub fn irssi(channel: &str, lines: &[Line]) -> String {
    let mut s = String::new();
    let Some(first) = lines.first() else {
        return s;
    };
    let stamp = |t: PrimitiveDateTime| {
        format!(
            "{} {} {:02} {:02}:{:02}:{:02} {}",
            weekday(t.date()),
            month(t.date()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.year()
        )
    };
    s.push_str(&format!("--- Log opened {}\n", stamp(first.at)));
    // every session ends with everyone gone, so a month starts without operators
    let mut ops: Vec<String> = Vec::new();
    let mut day = first.at.date();
    for l in lines {
        while l.at.date() > day {
            let Some(next) = day.next_day() else { break };
            day = next;
            s.push_str(&format!(
                "--- Day changed {} {} {:02} {}\n",
                weekday(day),
                month(day),
                day.day(),
                day.year()
            ));
        }
        let hm = format!("{:02}:{:02}", l.at.hour(), l.at.minute());
        let prefix = |n: &str, ops: &[String]| if ops.iter().any(|o| o == n) { "@" } else { " " };
        let text = match &l.ev {
            Ev::Join { nick, ident, ip } => {
                format!("-!- {nick} [~{ident}@{ip}] has joined {channel}")
            }
            Ev::Quit { nick, ident, ip } => {
                ops.retain(|o| o != nick);
                format!("-!- {nick} [~{ident}@{ip}] has quit [Quit: leaving]")
            }
            Ev::Part { nick, ident, ip } => {
                ops.retain(|o| o != nick);
                format!("-!- {nick} [~{ident}@{ip}] has left {channel} [bye]")
            }
            Ev::Msg { nick, text } => format!("<{}{nick}> {text}", prefix(nick, &ops)),
            Ev::Action { nick, text } => format!(" * {nick} {text}"),
            Ev::Mode { by, mode, target } => {
                if *mode == "+o" && !ops.contains(target) {
                    ops.push(target.clone());
                }
                format!("-!- mode/{channel} [{mode} {target}] by {by}")
            }
            Ev::Nick { old, new } => {
                for o in ops.iter_mut() {
                    if o == old {
                        *o = new.clone();
                    }
                }
                format!("-!- {old} is now known as {new}")
            }
            Ev::Topic { by, text } => format!("-!- {by} changed the topic of {channel} to: {text}"),
            Ev::Dcc {
                from,
                ip,
                file,
                bytes,
            } => format!(
                "-!- DCC SEND from {from} [{ip} port 5000]: {file} [{}MB]",
                (bytes / 1_000_000).max(1)
            ),
        };
        s.push_str(&format!("{hm} {text}\n"));
    }
    if let Some(last) = lines.last() {
        s.push_str(&format!(
            "--- Log closed {}\n",
            stamp(last.at + Duration::minutes(1))
        ));
    }
    s
}

/// WeeChat's default log: `YYYY-MM-DD HH:MM:SS` and tab-separated prefix
/// and message columns, `-->`/`<--`/`--` for events.
pub fn weechat(channel: &str, lines: &[Line]) -> String {
    let mut s = String::new();
    // every session ends with everyone gone, so a month starts without operators
    let mut ops: Vec<String> = Vec::new();
    for l in lines {
        let t = l.at;
        let stamp = format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        let (pfx, text) = match &l.ev {
            Ev::Join { nick, ident, ip } => (
                "-->".to_string(),
                format!("{nick} (~{ident}@{ip}) has joined {channel}"),
            ),
            Ev::Quit { nick, ident, ip } => {
                ops.retain(|o| o != nick);
                (
                    "<--".to_string(),
                    format!("{nick} (~{ident}@{ip}) has quit (Quit: leaving)"),
                )
            }
            Ev::Part { nick, ident, ip } => {
                ops.retain(|o| o != nick);
                (
                    "<--".to_string(),
                    format!("{nick} (~{ident}@{ip}) has left {channel} (bye)"),
                )
            }
            Ev::Msg { nick, text } => {
                let p = if ops.iter().any(|o| o == nick) {
                    "@"
                } else {
                    ""
                };
                (format!("{p}{nick}"), text.clone())
            }
            Ev::Action { nick, text } => (" *".to_string(), format!("{nick} {text}")),
            Ev::Mode { by, mode, target } => {
                if *mode == "+o" && !ops.contains(target) {
                    ops.push(target.clone());
                }
                (
                    "--".to_string(),
                    format!("Mode {channel} [{mode} {target}] by {by}"),
                )
            }
            Ev::Nick { old, new } => {
                for o in ops.iter_mut() {
                    if o == old {
                        *o = new.clone();
                    }
                }
                ("--".to_string(), format!("{old} is now known as {new}"))
            }
            Ev::Topic { by, text } => (
                "--".to_string(),
                format!("{by} has changed topic for {channel} to \"{text}\""),
            ),
            Ev::Dcc {
                from,
                ip,
                file,
                bytes,
            } => (
                "--".to_string(),
                format!(
                    "xfer: incoming file from {from} ({ip}, irc.example.net), name: {file}, {bytes} bytes (protocol: dcc)"
                ),
            ),
        };
        s.push_str(&format!("{stamp}\t{pfx}\t{text}\n"));
    }
    s
}
