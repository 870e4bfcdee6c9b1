//! The offender graph built from what the store holds (issue 7).
//!
//! [`Store::offender_graph`] reads the cases of one scope (an operation, a
//! case, or everything the principal may read), keeps only the records the
//! principal may read — the case's marking, then each person's and
//! identifier's own — and fills a [`vigil_graph::GraphBuilder`]. The pure
//! crate never sees a restricted record; an identifier that matches one in a
//! case the principal may not read becomes a blind-hit node that says only
//! "held by <agency>". One audit entry per graph read names the scope and the
//! cases that went in.
//!
//! What becomes what:
//! * persons → `person:<id>` (a merged person is folded into the one it was
//!   merged into); identifiers → `id:<kind>:<normalized>` (one node per value,
//!   so a shared IP connects two persons), chat handles →
//!   `handle:<network>:<folded nick>`, devices → `device:<id>`, rooms →
//!   `room:<network>:<lower-case name>` (the same room logged in two cases is
//!   one room); each person `uses` its identifiers, handles and devices;
//! * chat: `member_of` (count = messages in the room), `addressed` (count =
//!   messages addressed), `operator_of` with who set the mode, `host_of` (an
//!   owner `+q`, or else whoever handed out modes in a room without ever
//!   being given one), `offered_files`/`sent_files` from DCC lines, accepted
//!   `same_as` from observed nick changes, `co_presence` of handles whose
//!   activity spans in a room overlap;
//! * `shared_media` between the holders of files with the same SHA-256 on
//!   two seized devices (empty files excluded), count = distinct hashes in
//!   common; the holder is the person the device was seized from when known
//!   (`vigil scan --person`), else the device itself;
//! * media series (`series:known:<name>` from the hash sets' `Series` field,
//!   `series:unknown:<id>` for PDQ groups of unmatched images found on two or
//!   more devices), with `holds` edges from the same holders, count = files;
//! * link candidates between persons: accepted ones as accepted `same_as`,
//!   open ones as candidates (never merged).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vigil_domain::Principal;
use vigil_domain::access::{self, Capability, Decision, Release};
use vigil_graph::{
    AttrValue, EdgeKind, Evidence, GraphBuilder, GraphError, NodeKind, OffenderGraph, SameAsStatus,
};

use crate::records::{CaseAccess, Tx};
use crate::{Store, StoreError};

/// Which part of the store a graph covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphScope {
    /// The cases of one operation, by name (or by numeric id when no
    /// operation has that name).
    Operation(String),
    /// One case.
    Case(i64),
    /// Every case the principal may read.
    All,
}

impl GraphScope {
    /// The audit target naming the scope.
    pub fn target(&self) -> String {
        match self {
            GraphScope::Operation(o) => format!("operation:{o}"),
            GraphScope::Case(c) => format!("case:{c}"),
            GraphScope::All => "graph:all".into(),
        }
    }
}

/// A graph read from the store, with what it was built from.
#[derive(Debug)]
pub struct StoreGraph {
    pub graph: OffenderGraph,
    /// The audit target of the scope (`operation:NAME`, `case:ID`, `graph:all`).
    pub scope: String,
    /// The cases that went in (readable by the principal), ascending.
    pub cases: Vec<i64>,
    /// When the graph was read; the reference time for "newcomers".
    pub as_of: OffsetDateTime,
    /// Merged person id → the person it was folded into.
    merged: HashMap<i64, i64>,
}

impl StoreGraph {
    /// The node key of a person id, following merges; `None` if the person
    /// is not in this graph (unknown, unreadable or out of scope).
    pub fn person_key(&self, person_id: i64) -> Option<String> {
        let id = self.merged.get(&person_id).copied().unwrap_or(person_id);
        let key = format!("person:{id}");
        self.graph.node_id(&key).map(|_| key)
    }
}

/// Summary counts, for JSON output and the audit entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GraphCounts {
    pub nodes: usize,
    pub edges: usize,
}

fn graph_err(e: GraphError) -> StoreError {
    // The builder only refuses what the loader got wrong (an edge kind
    // between the wrong node kinds...): an internal error, not bad input.
    StoreError::Config(format!("graph build: {e}"))
}

fn parse_ts(s: Option<&str>) -> Option<OffsetDateTime> {
    s.and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

/// Integers only, so the list can be spliced into SQL safely.
fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn handle_key(network: &str, nick: &str) -> String {
    format!(
        "handle:{}:{}",
        network.to_lowercase(),
        vigil_chat::fold(nick)
    )
}

/// Evidence accumulated over many rows before it becomes one edge.
#[derive(Clone, Copy)]
struct Acc {
    count: u64,
    first: OffsetDateTime,
    last: OffsetDateTime,
}

impl Acc {
    fn new(t: OffsetDateTime) -> Self {
        Acc {
            count: 1,
            first: t,
            last: t,
        }
    }
    fn add(&mut self, t: OffsetDateTime) {
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
    fn ev(&self) -> Evidence {
        Evidence::new(self.count, self.first, self.last)
    }
}

fn bump<K: Ord>(m: &mut BTreeMap<K, Acc>, k: K, t: OffsetDateTime) {
    match m.get_mut(&k) {
        Some(a) => a.add(t),
        None => {
            m.insert(k, Acc::new(t));
        }
    }
}

/// A room of the scope as the loader needs it.
struct Room {
    key: String,
    network: String,
    created: OffsetDateTime,
}

/// Rooms with more participants than this get no pairwise co-presence
/// edges: the pairs grow quadratically and membership of the room already
/// connects everyone in it.
const CO_PRESENCE_MAX_ROOM: usize = 300;

impl Store {
    /// The offender graph of `scope`, holding only what `p` may read. One
    /// audit entry (`graph.read`) names the scope and the cases used.
    pub async fn offender_graph(
        &self,
        p: &Principal,
        scope: &GraphScope,
    ) -> Result<StoreGraph, StoreError> {
        self.require(p, Capability::ReadCase, "graph.read").await?;
        let target = scope.target();
        let mut tx = self.begin_write().await?;
        let mut access_of: HashMap<i64, CaseAccess> = HashMap::new();
        let candidates: Vec<i64> = match scope {
            GraphScope::Case(id) => vec![*id],
            GraphScope::Operation(name) => {
                let mut found = sqlx::query("SELECT id FROM operations WHERE name = $1")
                    .bind(name.clone())
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get::<i64, _>("id"))
                    .transpose()?;
                if found.is_none()
                    && let Ok(n) = name.parse::<i64>()
                {
                    found = sqlx::query("SELECT id FROM operations WHERE id = $1")
                        .bind(n)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get::<i64, _>("id"))
                        .transpose()?;
                }
                let Some(op) = found else {
                    return Err(StoreError::not_found("operation", name));
                };
                ids(
                    &mut tx,
                    "SELECT id FROM cases WHERE operation_id = $1 ORDER BY id",
                    op,
                )
                .await?
            }
            GraphScope::All => {
                ids(&mut tx, "SELECT id FROM cases WHERE id > $1 ORDER BY id", 0).await?
            }
        };
        let mut cases = Vec::new();
        for id in candidates {
            let ca = self.case_access(&mut tx, p, id).await?;
            let d = access::can_read(p, &ca.scope(None, &ca.release));
            if d.allowed() {
                cases.push(id);
                access_of.insert(id, ca);
            } else if let GraphScope::Case(_) = scope {
                let other = ca.agency_id != p.agency_id;
                return self
                    .refuse(tx, p, "graph.read", target, Some(id), d, other)
                    .await;
            }
        }
        if cases.is_empty() && matches!(scope, GraphScope::Operation(_)) {
            // An operation none of whose cases the caller may read looks
            // like one that does not exist.
            let refused: Result<StoreGraph, StoreError> = self
                .refuse(
                    tx,
                    p,
                    "graph.read",
                    target,
                    None,
                    Decision::Deny("no readable case in the operation"),
                    true,
                )
                .await;
            return refused.map_err(|e| match (e, scope) {
                (StoreError::NotFound { .. }, GraphScope::Operation(name)) => {
                    StoreError::not_found("operation", name)
                }
                (e, _) => e,
            });
        }
        let graph = self.load_graph(&mut tx, p, &cases, &access_of).await?;
        let nodes = graph.graph.node_count();
        let edges = graph.graph.edge_count();
        let case_id = match scope {
            GraphScope::Case(id) => Some(*id),
            _ => None,
        };
        self.log(
            &mut tx,
            p,
            "graph.read",
            target.clone(),
            case_id,
            Decision::Allow("read-case"),
            serde_json::json!({"cases": cases, "nodes": nodes, "edges": edges}),
        )
        .await?;
        tx.commit().await?;
        Ok(StoreGraph {
            scope: target,
            cases,
            ..graph
        })
    }

    async fn load_graph(
        &self,
        tx: &mut Tx,
        p: &Principal,
        cases: &[i64],
        access_of: &HashMap<i64, CaseAccess>,
    ) -> Result<StoreGraph, StoreError> {
        let as_of = OffsetDateTime::now_utc();
        let mut b = GraphBuilder::new();
        let empty = StoreGraph {
            graph: GraphBuilder::new().build(),
            scope: String::new(),
            cases: Vec::new(),
            as_of,
            merged: HashMap::new(),
        };
        if cases.is_empty() {
            return Ok(empty);
        }
        let list = id_list(cases);
        let readable = |case_id: i64, release: Option<&str>| -> Result<bool, StoreError> {
            let Some(ca) = access_of.get(&case_id) else {
                return Ok(false);
            };
            let own = release.map(Release::parse).transpose()?;
            Ok(access::can_read(p, &ca.scope(own.as_ref(), &ca.release)).allowed())
        };

        // Persons, with merges followed to the surviving person.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, case_id, role, label, country, release, merged_into, created_at \
             FROM persons WHERE case_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut merged_into: HashMap<i64, i64> = HashMap::new();
        let mut visible: HashSet<i64> = HashSet::new();
        let mut person_rows = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let case_id: i64 = r.try_get("case_id")?;
            let release: Option<String> = r.try_get("release")?;
            if !readable(case_id, release.as_deref())? {
                continue;
            }
            if let Some(into) = r.try_get::<Option<i64>, _>("merged_into")? {
                merged_into.insert(id, into);
                continue;
            }
            visible.insert(id);
            person_rows.push(r);
        }
        let root = |mut id: i64| -> Option<i64> {
            for _ in 0..64 {
                match merged_into.get(&id) {
                    Some(&next) => id = next,
                    None => break,
                }
            }
            visible.contains(&id).then_some(id)
        };
        for r in &person_rows {
            let id: i64 = r.try_get("id")?;
            let key = format!("person:{id}");
            let label: String = r.try_get("label")?;
            b.node(&key, NodeKind::Person, &label).map_err(graph_err)?;
            b.attr(&key, "role", AttrValue::Text(r.try_get("role")?))
                .map_err(graph_err)?;
            b.attr(&key, "case_id", AttrValue::Int(r.try_get("case_id")?))
                .map_err(graph_err)?;
            if let Some(c) = r.try_get::<Option<String>, _>("country")? {
                b.attr(&key, "country", AttrValue::Text(c))
                    .map_err(graph_err)?;
            }
        }
        let person_key = |id: Option<i64>| id.and_then(root).map(|i| format!("person:{i}"));

        // Identifiers: handles join the chat handles; the rest one node per value.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, case_id, person_id, kind, raw, normalized, network, first_seen, \
             last_seen, release, created_at FROM identifiers WHERE case_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        // identifier id → node key, for blind hits.
        let mut ident_node: HashMap<i64, String> = HashMap::new();
        let mut uses: BTreeMap<(String, String), Acc> = BTreeMap::new();
        for r in &rows {
            let case_id: i64 = r.try_get("case_id")?;
            let release: Option<String> = r.try_get("release")?;
            if !readable(case_id, release.as_deref())? {
                continue;
            }
            let person_id: Option<i64> = r.try_get("person_id")?;
            let owner = person_key(person_id);
            if person_id.is_some() && owner.is_none() {
                // Attached to a person the principal may not read.
                continue;
            }
            let kind: String = r.try_get("kind")?;
            let raw: String = r.try_get("raw")?;
            let created: String = r.try_get("created_at")?;
            let key = if kind == "handle" {
                let network: Option<String> = r.try_get("network")?;
                let key = handle_key(network.as_deref().unwrap_or(""), &raw);
                b.node(&key, NodeKind::Handle, &raw).map_err(graph_err)?;
                key
            } else {
                let norm: String = r.try_get("normalized")?;
                let key = format!("id:{kind}:{norm}");
                b.node(&key, NodeKind::Identifier, &raw)
                    .map_err(graph_err)?;
                b.attr(&key, "identifier_kind", AttrValue::Text(kind.clone()))
                    .map_err(graph_err)?;
                key
            };
            ident_node.insert(r.try_get("id")?, key.clone());
            if let Some(owner) = owner {
                let first = parse_ts(r.try_get::<Option<String>, _>("first_seen")?.as_deref())
                    .or_else(|| parse_ts(Some(&created)))
                    .unwrap_or(as_of);
                let last = parse_ts(r.try_get::<Option<String>, _>("last_seen")?.as_deref())
                    .unwrap_or(first)
                    .max(first);
                let e = uses.entry((owner, key)).or_insert(Acc {
                    count: 0,
                    first,
                    last,
                });
                e.count += 1;
                e.first = e.first.min(first);
                e.last = e.last.max(last);
            }
        }

        // Devices.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, case_id, person_id, label, created_at FROM devices \
             WHERE case_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        // Visible device id → the node its media evidence hangs on: the
        // person it was seized from when known and visible, else the device.
        let mut holder: HashMap<i64, String> = HashMap::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let person_id: Option<i64> = r.try_get("person_id")?;
            let owner = person_key(person_id);
            if person_id.is_some() && owner.is_none() {
                continue;
            }
            let key = format!("device:{id}");
            let label: String = r.try_get("label")?;
            b.node(&key, NodeKind::Device, &label).map_err(graph_err)?;
            b.attr(&key, "case_id", AttrValue::Int(r.try_get("case_id")?))
                .map_err(graph_err)?;
            holder.insert(id, owner.clone().unwrap_or_else(|| key.clone()));
            if let Some(owner) = owner {
                let t = parse_ts(Some(&r.try_get::<String, _>("created_at")?)).unwrap_or(as_of);
                uses.insert((owner, key), Acc::new(t));
            }
        }

        // Rooms.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, name, network, created_at FROM chat_rooms WHERE case_id IN ({list}) \
             ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut rooms: BTreeMap<i64, Room> = BTreeMap::new();
        for r in &rows {
            let name: String = r.try_get("name")?;
            let network: String = r.try_get("network")?;
            let key = format!("room:{}:{}", network.to_lowercase(), name.to_lowercase());
            b.node(&key, NodeKind::Room, &name).map_err(graph_err)?;
            if !network.is_empty() {
                b.attr(&key, "network", AttrValue::Text(network.clone()))
                    .map_err(graph_err)?;
            }
            let created = parse_ts(Some(&r.try_get::<String, _>("created_at")?)).unwrap_or(as_of);
            rooms.insert(
                r.try_get("id")?,
                Room {
                    key,
                    network,
                    created,
                },
            );
        }

        // Participants: who is in which room, and which person they are.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT room_id, handle, person_id, first_seen, last_seen FROM chat_participants \
             WHERE case_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        // (room id, handle key) → activity span.
        let mut present: BTreeMap<(i64, String), (OffsetDateTime, OffsetDateTime)> =
            BTreeMap::new();
        let mut hidden: HashSet<String> = HashSet::new();
        for r in &rows {
            let room_id: i64 = r.try_get("room_id")?;
            let Some(room) = rooms.get(&room_id) else {
                continue;
            };
            let handle: String = r.try_get("handle")?;
            let key = handle_key(&room.network, &handle);
            let person_id: Option<i64> = r.try_get("person_id")?;
            let owner = person_key(person_id);
            if person_id.is_some() && owner.is_none() {
                hidden.insert(key);
                continue;
            }
            b.node(&key, NodeKind::Handle, &handle).map_err(graph_err)?;
            let first = parse_ts(r.try_get::<Option<String>, _>("first_seen")?.as_deref())
                .unwrap_or(room.created);
            let last = parse_ts(r.try_get::<Option<String>, _>("last_seen")?.as_deref())
                .unwrap_or(first)
                .max(first);
            present.insert((room_id, key.clone()), (first, last));
            if let Some(owner) = owner {
                uses.entry((owner, key)).or_insert(Acc::new(first));
            }
        }
        let known = |room: &Room, nick: &str| -> Option<String> {
            let k = handle_key(&room.network, nick);
            (!hidden.contains(&k)).then_some(k)
        };

        // Messages: membership weight and who addressed whom.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT room_id, handle, addressed_to, sent_at, created_at FROM chat_messages \
             WHERE case_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut member: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut addressed: BTreeMap<(String, String), Acc> = BTreeMap::new();
        for r in &rows {
            let room_id: i64 = r.try_get("room_id")?;
            let Some(room) = rooms.get(&room_id) else {
                continue;
            };
            let nick: String = r.try_get("handle")?;
            let Some(from) = known(room, &nick) else {
                continue;
            };
            let t = parse_ts(r.try_get::<Option<String>, _>("sent_at")?.as_deref())
                .or_else(|| {
                    parse_ts(
                        r.try_get::<Option<String>, _>("created_at")
                            .ok()?
                            .as_deref(),
                    )
                })
                .unwrap_or(room.created);
            b.node(&from, NodeKind::Handle, &nick).map_err(graph_err)?;
            bump(&mut member, (from.clone(), room.key.clone()), t);
            if let Some(to) = r.try_get::<Option<String>, _>("addressed_to")?
                && let Some(to_key) = known(room, &to)
                && present.contains_key(&(room_id, to_key.clone()))
                && to_key != from
            {
                bump(&mut addressed, (from, to_key), t);
            }
        }
        // Participants who never spoke are still members (count 1).
        for ((room_id, key), (first, last)) in &present {
            if let Some(room) = rooms.get(room_id) {
                member
                    .entry((key.clone(), room.key.clone()))
                    .or_insert(Acc {
                        count: 1,
                        first: *first,
                        last: *last,
                    });
            }
        }

        // Room facts: modes, nick changes, DCC.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT room_id, kind, happened_at, detail FROM chat_room_facts \
             WHERE case_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut operator: BTreeMap<(String, String, Option<String>), Acc> = BTreeMap::new();
        let mut host: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut granters: BTreeMap<i64, BTreeMap<String, OffsetDateTime>> = BTreeMap::new();
        let mut granted: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        let mut same_as: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut offered: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut sent: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut extra_handles: BTreeMap<String, String> = BTreeMap::new();
        for r in &rows {
            let room_id: i64 = r.try_get("room_id")?;
            let Some(room) = rooms.get(&room_id) else {
                continue;
            };
            let kind: String = r.try_get("kind")?;
            let t = parse_ts(r.try_get::<Option<String>, _>("happened_at")?.as_deref())
                .unwrap_or(room.created);
            let detail: String = r.try_get("detail")?;
            let Ok(d) = serde_json::from_str::<serde_json::Value>(&detail) else {
                continue;
            };
            let s = |f: &str| d.get(f).and_then(|v| v.as_str()).map(str::to_owned);
            match kind.as_str() {
                "operator" => {
                    let (Some(nick), Some(by)) = (s("nick"), s("by")) else {
                        continue;
                    };
                    if d.get("granted").and_then(|v| v.as_bool()) != Some(true) {
                        continue;
                    }
                    let Some(who) = known(room, &nick) else {
                        continue;
                    };
                    extra_handles.entry(who.clone()).or_insert(nick);
                    let by_key =
                        known(room, &by).filter(|k| present.contains_key(&(room_id, k.clone())));
                    if s("role").as_deref() == Some("owner") {
                        bump(&mut host, (who.clone(), room.key.clone()), t);
                    }
                    if let Some(bk) = &by_key {
                        granters
                            .entry(room_id)
                            .or_default()
                            .entry(bk.clone())
                            .and_modify(|x| *x = (*x).min(t))
                            .or_insert(t);
                    }
                    granted.entry(room_id).or_default().insert(who.clone());
                    bump(&mut operator, (who, room.key.clone(), by_key), t);
                }
                "nick_change" => {
                    let (Some(old), Some(new)) = (s("old"), s("new")) else {
                        continue;
                    };
                    let (Some(a), Some(c)) = (known(room, &old), known(room, &new)) else {
                        continue;
                    };
                    if a == c {
                        continue;
                    }
                    extra_handles.entry(a.clone()).or_insert(old);
                    extra_handles.entry(c.clone()).or_insert(new);
                    bump(&mut same_as, (a, c), t);
                }
                "file_offer" => {
                    let Some(from) = s("from") else { continue };
                    let Some(fk) = known(room, &from) else {
                        continue;
                    };
                    extra_handles.entry(fk.clone()).or_insert(from);
                    match s("to").and_then(|to| known(room, &to).map(|k| (k, to))) {
                        Some((tk, to)) if tk != fk => {
                            extra_handles.entry(tk.clone()).or_insert(to);
                            bump(&mut sent, (fk, tk), t);
                        }
                        _ => bump(&mut offered, (fk, room.key.clone()), t),
                    }
                }
                _ => {}
            }
        }
        for (key, label) in &extra_handles {
            b.node(key, NodeKind::Handle, label).map_err(graph_err)?;
        }
        // Hosts without a logged `+q`: whoever gave out modes in a room and
        // was never given one there ran it.
        for (room_id, gs) in &granters {
            let Some(room) = rooms.get(room_id) else {
                continue;
            };
            let given = granted.get(room_id);
            let has_owner = host.keys().any(|(_, r)| r == &room.key);
            if has_owner {
                continue;
            }
            for (g, t) in gs {
                if given.is_none_or(|s| !s.contains(g)) {
                    bump(&mut host, (g.clone(), room.key.clone()), *t);
                }
            }
        }

        // Co-presence: handles active in the same room at overlapping times.
        let mut co: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut by_room: BTreeMap<i64, Vec<(&String, OffsetDateTime, OffsetDateTime)>> =
            BTreeMap::new();
        for ((room_id, key), (f, l)) in &present {
            by_room.entry(*room_id).or_default().push((key, *f, *l));
        }
        for members in by_room.values() {
            if members.len() > CO_PRESENCE_MAX_ROOM {
                continue;
            }
            for (i, (a, af, al)) in members.iter().enumerate() {
                for (c, cf, cl) in &members[i + 1..] {
                    if a == c || af > cl || cf > al {
                        continue;
                    }
                    let start = (*af).max(*cf);
                    let end = (*al).min(*cl);
                    let k = if a < c {
                        ((*a).clone(), (*c).clone())
                    } else {
                        ((*c).clone(), (*a).clone())
                    };
                    match co.get_mut(&k) {
                        Some(x) => {
                            x.count += 1;
                            x.first = x.first.min(start);
                            x.last = x.last.max(end);
                        }
                        None => {
                            co.insert(
                                k,
                                Acc {
                                    count: 1,
                                    first: start,
                                    last: end,
                                },
                            );
                        }
                    }
                }
            }
        }

        let shared = self.shared_media(tx, &list, &holder, as_of).await?;
        let holds = self
            .held_series(tx, p, &list, &holder, as_of, &mut b)
            .await?;

        // Link candidates between visible persons.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT l.person_a, l.person_b, l.score, l.status, l.created_at, l.updated_at \
             FROM link_candidates l JOIN persons pa ON pa.id = l.person_a \
             JOIN persons pb ON pb.id = l.person_b \
             WHERE pa.case_id IN ({list}) AND pb.case_id IN ({list}) \
             AND l.status IN ('open', 'accepted') ORDER BY l.id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut links: Vec<(String, String, SameAsStatus, f64, Evidence)> = Vec::new();
        for r in &rows {
            let (Some(a), Some(c)) = (
                person_key(r.try_get("person_a")?),
                person_key(r.try_get("person_b")?),
            ) else {
                continue;
            };
            if a == c {
                continue;
            }
            let status: String = r.try_get("status")?;
            let bits: f64 = r.try_get("score")?;
            // Scores are log2 likelihood ratios; the model wants [0, 1].
            let score = if bits.is_finite() {
                1.0 / (1.0 + (-bits).exp2())
            } else {
                1.0
            };
            let first = parse_ts(Some(&r.try_get::<String, _>("created_at")?)).unwrap_or(as_of);
            let last = parse_ts(Some(&r.try_get::<String, _>("updated_at")?))
                .unwrap_or(first)
                .max(first);
            let st = if status == "accepted" {
                SameAsStatus::Accepted
            } else {
                SameAsStatus::Candidate
            };
            links.push((a, c, st, score, Evidence::new(1, first, last)));
        }

        // Blind hits: our identifiers matching a record we may not read.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT l.identifier_id, l.created_at, o.case_id, o.release, a.name AS agency \
             FROM exact_links l JOIN identifiers o ON o.id = l.other_identifier_id \
             JOIN cases c ON c.id = o.case_id JOIN agencies a ON a.id = c.agency_id \
             JOIN identifiers mine ON mine.id = l.identifier_id \
             WHERE mine.case_id IN ({list}) ORDER BY l.id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut blind: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut other_access: HashMap<i64, CaseAccess> = HashMap::new();
        for r in &rows {
            let Some(mine) = ident_node.get(&r.try_get::<i64, _>("identifier_id")?) else {
                continue;
            };
            let other_case: i64 = r.try_get("case_id")?;
            if access_of.contains_key(&other_case) {
                continue; // in scope and readable: the same node already
            }
            let ca = match other_access.entry(other_case) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(self.case_access(tx, p, other_case).await?)
                }
            };
            let release: Option<String> = r.try_get("release")?;
            let own = release.as_deref().map(Release::parse).transpose()?;
            if access::can_read(p, &ca.scope(own.as_ref(), &ca.release)).allowed() {
                continue; // readable, only out of scope
            }
            let agency: String = r.try_get("agency")?;
            let t = parse_ts(Some(&r.try_get::<String, _>("created_at")?)).unwrap_or(as_of);
            bump(&mut blind, (mine.clone(), agency), t);
        }

        // Edges, in a fixed order so the same store gives the same graph.
        let ek = |k: EdgeKind, m: BTreeMap<(String, String), Acc>, b: &mut GraphBuilder| {
            for ((s, t), a) in m {
                if s != t {
                    b.relate(&s, &t, k, a.ev())?;
                }
            }
            Ok::<(), GraphError>(())
        };
        ek(EdgeKind::Uses, uses, &mut b).map_err(graph_err)?;
        ek(EdgeKind::MemberOf, member, &mut b).map_err(graph_err)?;
        ek(EdgeKind::HostOf, host, &mut b).map_err(graph_err)?;
        for ((who, room, by), a) in operator {
            b.operator_of(&who, &room, by.as_deref(), a.ev())
                .map_err(graph_err)?;
        }
        ek(EdgeKind::Addressed, addressed, &mut b).map_err(graph_err)?;
        ek(EdgeKind::OfferedFiles, offered, &mut b).map_err(graph_err)?;
        ek(EdgeKind::SentFiles, sent, &mut b).map_err(graph_err)?;
        ek(EdgeKind::CoPresence, co, &mut b).map_err(graph_err)?;
        ek(EdgeKind::SharedMedia, shared, &mut b).map_err(graph_err)?;
        ek(EdgeKind::Holds, holds, &mut b).map_err(graph_err)?;
        for ((a, c), acc) in same_as {
            b.same_as(&a, &c, SameAsStatus::Accepted, 1.0, acc.ev())
                .map_err(graph_err)?;
        }
        for (a, c, st, score, ev) in links {
            b.same_as(&a, &c, st, score, ev).map_err(graph_err)?;
        }
        // One blind node per (identifier, agency); the key is a counter so it
        // says nothing about the other agency's record.
        for (n, ((mine, agency), acc)) in blind.into_iter().enumerate() {
            let key = format!("blind:{}", n + 1);
            b.blind_hit(&key, NodeKind::Identifier, &agency)
                .map_err(graph_err)?;
            b.same_as(&mine, &key, SameAsStatus::Candidate, 1.0, acc.ev())
                .map_err(graph_err)?;
        }

        Ok(StoreGraph {
            graph: b.build(),
            merged: merged_into
                .keys()
                .filter_map(|&k| root(k).map(|r| (k, r)))
                .collect(),
            ..empty
        })
    }
}

impl Store {
    /// `shared_media` edges: for every SHA-256 found on two or more visible
    /// devices of the scope (empty files excluded: they prove nothing), one
    /// observation between each pair of distinct *holders* — the persons
    /// the devices were seized from when known, else the devices. Count =
    /// distinct hashes in common; the time of one observation is when the
    /// later of the two copies was recorded, i.e. when the coincidence
    /// became known.
    ///
    /// Why fold onto persons instead of keeping device edges beside person
    /// edges: the same hashes would then be counted twice wherever devices
    /// are folded into their persons (the person view, the key-players
    /// report), and a person with two devices would have the distinct-hash
    /// count of each device pair summed. The devices stay in the graph,
    /// attached to their persons by `uses`; which device held which file is
    /// in the scan records.
    ///
    /// One query returns only the (device, hash) rows of hashes held by more
    /// than one device, so the work is proportional to the shared files,
    /// not to everything scanned.
    async fn shared_media(
        &self,
        tx: &mut Tx,
        list: &str,
        holder: &HashMap<i64, String>,
        as_of: OffsetDateTime,
    ) -> Result<BTreeMap<(String, String), Acc>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.device_id, e.sha256, MIN(e.recorded_at) AS first_at \
             FROM evidence_items e WHERE e.case_id IN ({list}) \
             AND e.sha256 IS NOT NULL AND e.size > 0 AND e.sha256 IN (\
               SELECT sha256 FROM evidence_items WHERE case_id IN ({list}) \
               AND sha256 IS NOT NULL AND size > 0 \
               GROUP BY sha256 HAVING COUNT(DISTINCT device_id) > 1) \
             GROUP BY e.device_id, e.sha256 ORDER BY e.sha256, e.device_id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut shared: BTreeMap<(String, String), Acc> = BTreeMap::new();
        // Holders of the current hash, with when each first recorded it.
        let mut cur: Option<String> = None;
        let mut holders: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
        let flush = |holders: &mut BTreeMap<&str, OffsetDateTime>,
                     shared: &mut BTreeMap<(String, String), Acc>| {
            let hs: Vec<(&str, OffsetDateTime)> = holders.iter().map(|(k, t)| (*k, *t)).collect();
            for (i, (a, ta)) in hs.iter().enumerate() {
                for (c, tc) in &hs[i + 1..] {
                    // BTreeMap order: a < c, the model's order for symmetric kinds.
                    let t = (*ta).max(*tc);
                    match shared.get_mut(&((*a).to_owned(), (*c).to_owned())) {
                        Some(x) => x.add(t),
                        None => {
                            shared.insert(((*a).to_owned(), (*c).to_owned()), Acc::new(t));
                        }
                    }
                }
            }
            holders.clear();
        };
        for r in &rows {
            let device: i64 = r.try_get("device_id")?;
            let Some(h) = holder.get(&device) else {
                continue;
            };
            let sha: String = r.try_get("sha256")?;
            if cur.as_deref() != Some(sha.as_str()) {
                flush(&mut holders, &mut shared);
                cur = Some(sha);
            }
            let t =
                parse_ts(r.try_get::<Option<String>, _>("first_at")?.as_deref()).unwrap_or(as_of);
            holders
                .entry(h.as_str())
                .and_modify(|x| *x = (*x).min(t))
                .or_insert(t);
        }
        flush(&mut holders, &mut shared);
        Ok(shared)
    }

    /// Media-series nodes and `holds` edges (holder → series, count = files
    /// of the series). Only hashes and match metadata are read.
    ///
    /// * Known series: the `Series` field of the caller's agency's hash-set
    ///   entries that the scope's files matched (stored scan matches, exact
    ///   or near-duplicate), the same facts the triage summary lists. One
    ///   node per series name (`series:known:<lower-case name>`), whichever set
    ///   named it, so two seizures holding "the same series" meet at it.
    /// * Unknown series: images that matched nothing, grouped by PDQ at the
    ///   triage radius across all devices of the scope. Only groups found on
    ///   two or more devices become nodes: a group on one device (a holiday
    ///   album) says nothing about the network, and there are many. The key
    ///   is the group's smallest evidence id, stable while the scans are.
    ///
    /// The holder is the device's person when known (see
    /// [`Store::shared_media`] for why edges are folded onto persons).
    async fn held_series(
        &self,
        tx: &mut Tx,
        p: &Principal,
        list: &str,
        holder: &HashMap<i64, String>,
        as_of: OffsetDateTime,
        b: &mut GraphBuilder,
    ) -> Result<BTreeMap<(String, String), Acc>, StoreError> {
        let mut holds: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let add = |holds: &mut BTreeMap<(String, String), Acc>,
                   who: &str,
                   series: &str,
                   n: u64,
                   first: OffsetDateTime,
                   last: OffsetDateTime| {
            let k = (who.to_owned(), series.to_owned());
            match holds.get_mut(&k) {
                Some(x) => {
                    x.count += n;
                    x.first = x.first.min(first);
                    x.last = x.last.max(last);
                }
                None => {
                    holds.insert(
                        k,
                        Acc {
                            count: n,
                            first,
                            last,
                        },
                    );
                }
            }
        };

        // Known series, from the stored matches against our own sets.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.device_id, h.series, COUNT(DISTINCT e.id) AS n, \
             MIN(e.recorded_at) AS first_at, MAX(e.recorded_at) AS last_at \
             FROM scan_matches m JOIN evidence_items e ON e.id = m.evidence_id \
             JOIN hash_entries h ON h.id = m.entry_id JOIN hash_sets s ON s.id = m.set_id \
             WHERE e.case_id IN ({list}) AND s.agency_id = $1 AND h.series IS NOT NULL \
             GROUP BY e.device_id, h.series ORDER BY e.device_id, h.series"
        )))
        .bind(p.agency_id)
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            let device: i64 = r.try_get("device_id")?;
            let Some(who) = holder.get(&device) else {
                continue;
            };
            let name: String = r.try_get("series")?;
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let key = format!("series:known:{}", name.to_lowercase());
            b.node(&key, NodeKind::MediaSeries, name)
                .map_err(graph_err)?;
            b.attr(&key, "series_source", AttrValue::Text("hash set".into()))
                .map_err(graph_err)?;
            let n: i64 = r.try_get("n")?;
            let first =
                parse_ts(r.try_get::<Option<String>, _>("first_at")?.as_deref()).unwrap_or(as_of);
            let last = parse_ts(r.try_get::<Option<String>, _>("last_at")?.as_deref())
                .unwrap_or(first)
                .max(first);
            add(&mut holds, who, &key, n.max(0) as u64, first, last);
        }

        // Unknown series across devices: images none of our sets matched.
        // (Two plain queries rather than NOT EXISTS: scan_matches has no
        // index on the evidence id, so a correlated subquery would scan it
        // once per image.)
        let matched: HashSet<i64> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT m.evidence_id FROM scan_matches m \
             JOIN hash_sets s ON s.id = m.set_id JOIN evidence_items e ON e.id = m.evidence_id \
             WHERE e.case_id IN ({list}) AND s.agency_id = $1"
        )))
        .bind(p.agency_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("evidence_id"))
        .collect::<Result<_, _>>()?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, device_id, pdq, recorded_at FROM evidence_items \
             WHERE case_id IN ({list}) AND pdq IS NOT NULL ORDER BY id"
        )))
        .fetch_all(&mut **tx)
        .await?;
        let mut items: Vec<(i64, vigil_domain::PdqHash)> = Vec::new();
        let mut facts: HashMap<i64, (i64, OffsetDateTime)> = HashMap::new();
        for r in &rows {
            let device: i64 = r.try_get("device_id")?;
            if !holder.contains_key(&device) {
                continue;
            }
            let id: i64 = r.try_get("id")?;
            if matched.contains(&id) {
                continue;
            }
            let hex: String = r.try_get("pdq")?;
            // A malformed stored hash is skipped, as the triage does.
            let Ok(h) = vigil_domain::PdqHash::from_hex(&hex) else {
                continue;
            };
            let t = parse_ts(Some(&r.try_get::<String, _>("recorded_at")?)).unwrap_or(as_of);
            items.push((id, h));
            facts.insert(id, (device, t));
        }
        if items.is_empty() {
            return Ok(holds);
        }
        let radius = crate::hashsets::DEFAULT_SERIES_RADIUS;
        let clusters =
            tokio::task::spawn_blocking(move || vigil_pdqindex::cluster_series(&items, radius))
                .await
                .map_err(|e| StoreError::Config(format!("series clustering: {e}")))?
                .map_err(|e| StoreError::Config(format!("series clustering: {e}")))?;
        for c in clusters.iter().filter(|c| c.len() >= 2) {
            // holder → (files, first, last) within this group
            let mut per: BTreeMap<&str, (u64, OffsetDateTime, OffsetDateTime)> = BTreeMap::new();
            let mut devs: BTreeSet<i64> = BTreeSet::new();
            for id in &c.members {
                let Some(&(device, t)) = facts.get(id) else {
                    continue;
                };
                let Some(who) = holder.get(&device) else {
                    continue;
                };
                devs.insert(device);
                let e = per.entry(who.as_str()).or_insert((0, t, t));
                e.0 += 1;
                e.1 = e.1.min(t);
                e.2 = e.2.max(t);
            }
            if devs.len() < 2 {
                continue;
            }
            let Some(first_id) = c.members.iter().min() else {
                continue;
            };
            let key = format!("series:unknown:{first_id}");
            let label = format!("unknown series {first_id} ({} images)", c.len());
            b.node(&key, NodeKind::MediaSeries, &label)
                .map_err(graph_err)?;
            b.attr(&key, "series_source", AttrValue::Text("unknown".into()))
                .map_err(graph_err)?;
            for (who, (n, first, last)) in per {
                add(&mut holds, who, &key, n, first, last);
            }
        }
        Ok(holds)
    }
}

async fn ids(tx: &mut Tx, sql: &'static str, arg: i64) -> Result<Vec<i64>, StoreError> {
    sqlx::query(sql)
        .bind(arg)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from))
        .collect()
}

/// The person-level analysis of a [`StoreGraph`]: centralities and
/// communities computed once and shared by the exports, the key-players
/// report, the communities report and the web view.
pub struct GraphAnalysis {
    pub view: vigil_graph::AnalysisGraph,
    pub metrics: vigil_graph::Metrics,
    /// Reference time for "newcomers": the latest evidence in the graph,
    /// because logs are usually analysed long after they were written.
    pub as_of: OffsetDateTime,
}

impl StoreGraph {
    /// Person-level view (handles, identifiers and devices folded into
    /// their persons, accepted same-as merged) with default metrics.
    pub fn analyse(&self) -> GraphAnalysis {
        let view =
            vigil_graph::AnalysisGraph::new(&self.graph, vigil_graph::ViewOptions::default());
        let metrics = vigil_graph::compute_metrics(&view, &vigil_graph::MetricsOptions::default());
        let as_of = self
            .graph
            .edges()
            .iter()
            .map(|e| e.last_seen())
            .max()
            .unwrap_or(self.as_of);
        GraphAnalysis {
            view,
            metrics,
            as_of,
        }
    }

    /// Node and edge counts.
    pub fn counts(&self) -> GraphCounts {
        GraphCounts {
            nodes: self.graph.node_count(),
            edges: self.graph.edge_count(),
        }
    }
}

impl GraphAnalysis {
    /// The export annotations (centralities, community per model node).
    pub fn annotations(&self) -> vigil_graph::export::Annotations<'_> {
        vigil_graph::export::Annotations {
            graph: &self.view,
            metrics: &self.metrics,
        }
    }

    /// The key-players report, `top` entries per list.
    pub fn key_players(
        &self,
        g: &StoreGraph,
        top: usize,
    ) -> Result<vigil_graph::KeyPlayersReport, GraphError> {
        let mut opts = vigil_graph::KeyPlayerOptions::new(self.as_of);
        opts.top_n = top;
        vigil_graph::key_players_with(&g.graph, &self.view, &self.metrics, &opts)
    }
}
