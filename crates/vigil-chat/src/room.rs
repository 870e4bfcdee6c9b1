//! Who was in a room and what they did there, computed from a parsed log.
//!
//! Everything here is derived only from events in the log; nothing is
//! guessed. Nick-change chains in particular are certain links (the server
//! announced the rename), unlike similarity between handles.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::event::{EventKind, SELF_NICK, fold};
use crate::parse::ParsedLog;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub nick: String,
    /// Every `ident@host` seen for this nick, sorted.
    pub hostmasks: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_seen: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    pub first_line: usize,
    pub last_line: usize,
    /// Messages and notices.
    pub messages: u64,
    pub actions: u64,
    /// Channel status prefixes shown on this nick's messages (`@`, `+`...):
    /// evidence of operator status even where the grant was not logged.
    pub status_prefixes: Vec<char>,
}

/// Channel roles that let a member run the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// `+q` (founder/owner on InspIRCd, UnrealIRCd).
    Owner,
    /// `+a` (protected/admin).
    Admin,
    /// `+o`.
    Operator,
    /// `+h`.
    HalfOperator,
}

impl Role {
    pub fn from_mode(m: char) -> Option<Role> {
        match m {
            'q' => Some(Role::Owner),
            'a' => Some(Role::Admin),
            'o' => Some(Role::Operator),
            'h' => Some(Role::HalfOperator),
            _ => None,
        }
    }
}

/// A role given (or taken away) by someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub nick: String,
    pub role: Role,
    /// `false` when the role was removed (`-o`).
    pub granted: bool,
    /// Nick or server that set the mode.
    pub by: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NickChange {
    pub old: String,
    pub new: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOffer {
    pub from: String,
    pub to: Option<String>,
    pub file: String,
    pub size: Option<u64>,
    pub ip: Option<String>,
    pub port: Option<u16>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addressed {
    pub from: String,
    pub to: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAnalysis {
    pub channel: Option<String>,
    /// Ordered by first appearance.
    pub members: Vec<Member>,
    pub operators: Vec<Grant>,
    pub nick_changes: Vec<NickChange>,
    /// Handles linked by renames, each chain in the order the names were
    /// used (`a -> b -> c`). A name reused later joins the same chain.
    pub nick_chains: Vec<Vec<String>>,
    /// Who addressed whom with `nick: ...`, most frequent first.
    pub addressed: Vec<Addressed>,
    pub file_offers: Vec<FileOffer>,
    /// Messages and actions per UTC day (`YYYY-MM-DD`).
    pub activity_per_day: BTreeMap<String, u64>,
    /// Messages and actions per UTC hour of day.
    pub activity_per_hour: [u64; 24],
}

/// Server names (`irc.example.net`) set modes, topics, kicks and notices
/// too; they are not members. Only in those positions is a dotted name taken
/// for a server: one that joins, speaks, acts, changes nick or receives a
/// mode is a person, because networks and bridges do allow nicks such as
/// `g.o.d`, and dropping them would lose exactly the host an officer needs.
fn is_person(nick: &str, may_be_server: bool) -> bool {
    !nick.is_empty() && nick != SELF_NICK && !(may_be_server && nick.contains('.'))
}

pub fn analyse(log: &ParsedLog) -> RoomAnalysis {
    let mut order: Vec<String> = Vec::new();
    let mut members: HashMap<String, Member> = HashMap::new();
    let mut hosts: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut prefixes: HashMap<String, BTreeSet<char>> = HashMap::new();
    let mut operators = Vec::new();
    let mut nick_changes = Vec::new();
    let mut file_offers = Vec::new();
    let mut addressed: HashMap<(String, String), u64> = HashMap::new();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_hour = [0u64; 24];

    let mut touch = |nick: &str, time: Option<OffsetDateTime>, line: usize| -> Option<String> {
        if !is_person(nick, false) {
            return None;
        }
        let k = fold(nick);
        let m = members.entry(k.clone()).or_insert_with(|| {
            order.push(k.clone());
            Member {
                nick: nick.to_owned(),
                hostmasks: Vec::new(),
                first_seen: time,
                last_seen: time,
                first_line: line,
                last_line: line,
                messages: 0,
                actions: 0,
                status_prefixes: Vec::new(),
            }
        });
        if m.first_seen.is_none() {
            m.first_seen = time;
        }
        if time.is_some() {
            m.last_seen = time;
        }
        m.last_line = line;
        Some(k)
    };

    for e in &log.events {
        let (t, l) = (e.time, e.line);
        match &e.kind {
            EventKind::Message {
                nick,
                prefix,
                addressed_to,
                ..
            } => {
                if let Some(k) = touch(nick, t, l) {
                    if let Some(p) = prefix {
                        prefixes.entry(k.clone()).or_default().insert(*p);
                    }
                    if let Some(to) = addressed_to {
                        *addressed.entry((nick.clone(), to.clone())).or_default() += 1;
                    }
                    count(&mut per_day, &mut per_hour, t);
                }
            }
            EventKind::Notice { nick, .. } => {
                if is_person(nick, true) {
                    touch(nick, t, l);
                }
            }
            EventKind::Action { nick, .. } => {
                if touch(nick, t, l).is_some() {
                    count(&mut per_day, &mut per_hour, t);
                }
            }
            EventKind::Join { nick, user, .. }
            | EventKind::Part { nick, user, .. }
            | EventKind::Quit { nick, user, .. } => {
                if let (Some(k), Some(u)) = (touch(nick, t, l), user) {
                    hosts.entry(k).or_default().insert(u.to_string());
                }
            }
            EventKind::Kick { nick, by, .. } => {
                if is_person(by, true) {
                    touch(by, t, l);
                }
                touch(nick, t, l);
            }
            EventKind::NickChange { old, new } => {
                touch(old, t, l);
                touch(new, t, l);
                nick_changes.push(NickChange {
                    old: old.clone(),
                    new: new.clone(),
                    time: t,
                    line: l,
                });
            }
            EventKind::Mode { by, changes, .. } => {
                if is_person(by, true) {
                    touch(by, t, l);
                }
                for c in changes {
                    if let (Some(role), Some(target)) = (Role::from_mode(c.mode), c.arg.as_deref())
                    {
                        touch(target, t, l);
                        operators.push(Grant {
                            nick: target.to_owned(),
                            role,
                            granted: c.add,
                            by: by.clone(),
                            time: t,
                            line: l,
                        });
                    }
                }
            }
            EventKind::Topic { by, .. } => {
                if is_person(by, true) {
                    touch(by, t, l);
                }
            }
            EventKind::DccSend {
                from,
                to,
                file,
                size,
                ip,
                port,
            } => {
                touch(from, t, l);
                if let Some(to) = to {
                    touch(to, t, l);
                }
                file_offers.push(FileOffer {
                    from: from.clone(),
                    to: to.clone(),
                    file: file.clone(),
                    size: *size,
                    ip: ip.clone(),
                    port: *port,
                    time: t,
                    line: l,
                });
            }
        }
    }

    // Counting is done in a second pass so `touch` can keep its borrow simple.
    for e in &log.events {
        let k = fold(e.kind.actor());
        if let Some(m) = members.get_mut(&k) {
            match e.kind {
                EventKind::Message { .. } | EventKind::Notice { .. } => m.messages += 1,
                EventKind::Action { .. } => m.actions += 1,
                _ => {}
            }
        }
    }
    let members: Vec<Member> = order
        .iter()
        .filter_map(|k| {
            let mut m = members.remove(k)?;
            m.hostmasks = hosts
                .remove(k)
                .map(|s| s.into_iter().collect())
                .unwrap_or_default();
            m.status_prefixes = prefixes
                .remove(k)
                .map(|s| s.into_iter().collect())
                .unwrap_or_default();
            Some(m)
        })
        .collect();
    let mut addressed: Vec<Addressed> = addressed
        .into_iter()
        .map(|((from, to), count)| Addressed { from, to, count })
        .collect();
    addressed.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.from.cmp(&b.from))
            .then_with(|| a.to.cmp(&b.to))
    });
    let nick_chains = chains(&nick_changes);
    RoomAnalysis {
        channel: log.channel.clone(),
        members,
        operators,
        nick_changes,
        nick_chains,
        addressed,
        file_offers,
        activity_per_day: per_day,
        activity_per_hour: per_hour,
    }
}

fn count(per_day: &mut BTreeMap<String, u64>, per_hour: &mut [u64; 24], t: Option<OffsetDateTime>) {
    if let Some(t) = t {
        let d = t.date();
        *per_day
            .entry(format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                d.month() as u8,
                d.day()
            ))
            .or_default() += 1;
        per_hour[t.hour() as usize] += 1;
    }
}

/// Connected components of the rename graph, each listed in order of first use.
fn chains(changes: &[NickChange]) -> Vec<Vec<String>> {
    let mut parent: HashMap<String, String> = HashMap::new();
    fn find(p: &mut HashMap<String, String>, k: &str) -> String {
        let mut cur = k.to_owned();
        while let Some(next) = p.get(&cur).filter(|n| **n != cur).cloned() {
            cur = next;
        }
        let root = cur;
        // Path compression keeps long rename histories cheap.
        let mut cur = k.to_owned();
        while let Some(next) = p.get(&cur).filter(|n| **n != root).cloned() {
            p.insert(cur, root.clone());
            cur = next;
        }
        root
    }
    let mut display: Vec<(String, String)> = Vec::new();
    for c in changes {
        for n in [&c.old, &c.new] {
            let k = fold(n);
            if !parent.contains_key(&k) {
                parent.insert(k.clone(), k.clone());
                display.push((k, n.clone()));
            }
        }
        let (a, b) = (
            find(&mut parent, &fold(&c.old)),
            find(&mut parent, &fold(&c.new)),
        );
        if a != b {
            parent.insert(b, a);
        }
    }
    let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut root_pos: HashMap<String, usize> = HashMap::new();
    for (i, (k, shown)) in display.iter().enumerate() {
        let r = find(&mut parent, k);
        let pos = *root_pos.entry(r).or_insert(i);
        groups.entry(pos).or_default().push(shown.clone());
    }
    groups.into_values().collect()
}
