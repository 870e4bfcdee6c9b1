//! Chat-log import and the message search scope (issue 5).
//!
//! One import is one transaction: the room, its messages, the participants
//! as persons of the case with their handles, the identifiers they own and
//! the room facts either all land or none do, with one audit entry. Messages
//! are keyed by the parser's stable event key, UNIQUE per case, so importing
//! the same file twice (or the same conversation logged by another client)
//! adds nothing. The full-text index lives outside the database and is fed by
//! the caller from [`ChatImportResult::new_messages`] after the commit.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;
use vigil_chat::{ImportSummary, Ownership, fold};
use vigil_domain::records::NewIdentifier;
use vigil_domain::{Decision, IdentifierKind, Principal};

use crate::records::Tx;
use crate::{Store, StoreError, new_uid, now_text, timestamp_text};

/// What to import and how to label it.
#[derive(Debug, Clone)]
pub struct ChatImportRequest<'a> {
    pub case_id: i64,
    /// File name as recorded in provenance (`FILE:LINE`).
    pub file: String,
    pub room: String,
    pub network: Option<String>,
    /// The officer's own nick: stored as a person with role `other`.
    pub officer_handle: Option<String>,
    pub summary: &'a ImportSummary,
}

/// A message newly stored by an import, for the search index.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i64,
    pub case_id: i64,
    pub room: String,
    pub handle: String,
    pub time: Option<String>,
    pub text: String,
}

/// Counts of what an import added (re-imports add zero).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatImportResult {
    pub room_id: i64,
    pub messages_added: usize,
    pub persons_added: usize,
    pub identifiers_added: usize,
    pub facts_added: usize,
    #[serde(skip)]
    pub new_messages: Vec<StoredMessage>,
}

/// How often (in messages) an import reports progress.
pub const PROGRESS_EVERY: usize = 1000;

/// Messages handed to a reindex sink at a time (memory stays flat).
pub const REINDEX_BATCH: i64 = 5000;

fn json<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v)
        .map_err(|e| StoreError::Config(format!("cannot encode a room fact: {e}")))
}

fn opt_time(t: Option<time::OffsetDateTime>) -> Option<String> {
    t.map(timestamp_text)
}

/// `FILE:LINE by SPEAKER[, mentioned]`: where an extracted identifier came
/// from, who wrote the line, and whether it was merely mentioned (the time
/// is the identifier's first/last seen).
fn provenance(file: &str, found: &vigil_chat::Identifier) -> String {
    let mut s = format!("{file}:{}", found.line);
    if let Some(who) = &found.speaker {
        s.push_str(" by ");
        s.push_str(who);
    }
    if found.ownership == Ownership::Mentioned {
        s.push_str(", mentioned");
    }
    s
}

impl Store {
    /// Imports a parsed chat log into a case (write-case required).
    pub async fn import_chat(
        &self,
        p: &Principal,
        req: &ChatImportRequest<'_>,
    ) -> Result<ChatImportResult, StoreError> {
        self.import_chat_with_progress(p, req, &|_| {}).await
    }

    /// [`Store::import_chat`], calling `progress` with the number of
    /// messages stored so far (every [`PROGRESS_EVERY`] and at the end), so
    /// a terminal can show how far one long transaction has got.
    pub async fn import_chat_with_progress(
        &self,
        p: &Principal,
        req: &ChatImportRequest<'_>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<ChatImportResult, StoreError> {
        let case_id = req.case_id;
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "chat.import", format!("case:{case_id}"))
            .await?;
        let s = req.summary;
        let now = now_text();
        let network = req.network.clone().unwrap_or_default();
        let room_id = self.ensure_room(&mut tx, p, req, &network, &now).await?;

        // Persons: one per participant handle (folded), reused across imports.
        let mut persons_added = 0;
        let mut new_persons: Vec<i64> = Vec::new();
        let mut new_identifiers: Vec<i64> = Vec::new();
        let mut person_of: HashMap<String, i64> = HashMap::new();
        let officer = req.officer_handle.as_deref().map(fold);
        let mut handles: Vec<(String, Option<String>, Option<String>, usize)> = s
            .participants
            .iter()
            .map(|m| {
                (
                    m.nick.clone(),
                    opt_time(m.first_seen),
                    opt_time(m.last_seen),
                    m.first_line,
                )
            })
            .collect();
        if let Some(o) = &req.officer_handle
            && !handles.iter().any(|h| fold(&h.0) == fold(o))
        {
            handles.push((o.clone(), None, None, 0));
        }
        for (nick, first, last, line) in &handles {
            let key = fold(nick);
            let source = format!("{}:{}", req.file, line);
            let role = if Some(&key) == officer.as_ref() {
                "other"
            } else {
                "suspect"
            };
            let existing: Option<i64> = sqlx::query(
                "SELECT person_id FROM chat_participants WHERE case_id = $1 AND handle = $2 \
                 AND person_id IS NOT NULL ORDER BY id LIMIT 1",
            )
            .bind(case_id)
            .bind(key.clone())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("person_id"))
            .transpose()?;
            let person_id = match existing {
                Some(id) => id,
                None => {
                    let id: i64 = sqlx::query(
                        "INSERT INTO persons (uid, case_id, role, label, created_by, created_at, source) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(new_uid())
                    .bind(case_id)
                    .bind(role)
                    .bind(nick.clone())
                    .bind(p.user_id)
                    .bind(now.clone())
                    .bind(source.clone())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?;
                    persons_added += 1;
                    new_persons.push(id);
                    id
                }
            };
            sqlx::query(
                "INSERT INTO chat_participants (case_id, room_id, handle, person_id, first_seen, \
                 last_seen, source) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (room_id, handle) DO NOTHING",
            )
            .bind(case_id)
            .bind(room_id)
            .bind(key.clone())
            .bind(person_id)
            .bind(first.clone())
            .bind(last.clone())
            .bind(source)
            .execute(&mut *tx)
            .await?;
            person_of.insert(key, person_id);
        }

        // Identifiers: each participant's handle, then the extracted ones:
        // owned ones on their owner's person, mentioned ones on the case
        // alone (no person), each with the line, time and speaker it came from.
        for (nick, first, last, line) in &handles {
            let Some(&person_id) = person_of.get(&fold(nick)) else {
                continue;
            };
            let Ok(mut ident) = NewIdentifier::of_kind(IdentifierKind::Handle, nick) else {
                continue;
            };
            ident.network = req.network.clone();
            ident.first_seen = first.clone();
            ident.last_seen = last.clone();
            let source = format!("{}:{}", req.file, line);
            if let Some(id) = self
                .insert_identifier_once(&mut tx, p, case_id, Some(person_id), &ident, &source)
                .await?
            {
                new_identifiers.push(id);
            }
        }
        for found in &s.identifiers {
            let owner = match (found.ownership, found.owner.as_deref()) {
                (Ownership::Own, Some(owner)) => match person_of.get(&fold(owner)) {
                    Some(&person_id) => Some(person_id),
                    None => continue,
                },
                (Ownership::Own, None) => continue,
                (Ownership::Mentioned, _) => None,
            };
            let Ok(mut ident) = NewIdentifier::of_kind(found.kind, &found.raw) else {
                continue;
            };
            let seen = opt_time(found.time);
            ident.first_seen = seen.clone();
            ident.last_seen = seen;
            let source = provenance(&req.file, found);
            if let Some(id) = self
                .insert_identifier_once(&mut tx, p, case_id, owner, &ident, &source)
                .await?
            {
                new_identifiers.push(id);
            }
        }
        let identifiers_added = new_identifiers.len();

        // Messages.
        let mut new_messages = Vec::new();
        for (done, m) in s.messages.iter().enumerate() {
            if done % PROGRESS_EVERY == 0 {
                progress(done);
            }
            let sent_at = opt_time(m.time);
            let row = sqlx::query(
                "INSERT INTO chat_messages (case_id, room_id, event_key, sent_at, handle, kind, text, \
                 addressed_to, created_by, created_at, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (case_id, event_key) DO NOTHING RETURNING id",
            )
            .bind(case_id)
            .bind(room_id)
            .bind(m.key.clone())
            .bind(sent_at.clone())
            .bind(m.nick.clone())
            .bind(m.kind.clone())
            .bind(m.text.clone())
            .bind(m.addressed_to.clone())
            .bind(p.user_id)
            .bind(now.clone())
            .bind(format!("{}:{}", req.file, m.line))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                new_messages.push(StoredMessage {
                    id: row.try_get("id")?,
                    case_id,
                    room: m.room.clone().unwrap_or_else(|| req.room.clone()),
                    handle: m.nick.clone(),
                    time: sent_at,
                    text: m.text.clone(),
                });
            }
        }

        progress(s.messages.len());

        // Room facts.
        let mut facts: Vec<(&str, Option<String>, usize, serde_json::Value)> = Vec::new();
        for g in &s.operators {
            facts.push(("operator", opt_time(g.time), g.line, json(g)?));
        }
        for n in &s.nick_changes {
            facts.push(("nick_change", opt_time(n.time), n.line, json(n)?));
        }
        for f in &s.file_offers {
            facts.push(("file_offer", opt_time(f.time), f.line, json(f)?));
        }
        for m in &s.participants {
            for h in &m.hostmasks {
                let detail = serde_json::json!({"nick": m.nick, "hostmask": h});
                facts.push((HOSTMASK_FACT, opt_time(m.first_seen), m.first_line, detail));
            }
        }
        let mut facts_added = 0;
        for (kind, at, line, detail) in facts {
            let r = sqlx::query(
                "INSERT INTO chat_room_facts (case_id, room_id, kind, happened_at, detail, source) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (room_id, kind, detail) DO NOTHING",
            )
            .bind(case_id)
            .bind(room_id)
            .bind(kind)
            .bind(at)
            .bind(detail.to_string())
            .bind(format!("{}:{}", req.file, line))
            .execute(&mut *tx)
            .await?;
            facts_added += r.rows_affected() as usize;
        }

        self.log(
            &mut tx,
            p,
            "chat.import",
            format!("chat_room:{room_id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({
                "file": req.file, "room": req.room, "messages_added": new_messages.len(),
                "persons_added": persons_added, "identifiers_added": identifiers_added,
                "unparsed_lines": s.unparsed_lines.len(),
            }),
        )
        .await?;
        // De-confliction, as `person add` and `identifier add` do it: exact
        // links and alerts to both sides for every new person and identifier,
        // in this transaction. Only new rows are linked, and alerts are keyed
        // by pair, so a re-import raises nothing new.
        for &id in &new_persons {
            self.link_new_person(&mut tx, p, id).await?;
        }
        for &id in &new_identifiers {
            self.link_new_identifier(&mut tx, p, id).await?;
        }
        tx.commit().await?;
        Ok(ChatImportResult {
            room_id,
            messages_added: new_messages.len(),
            persons_added,
            identifiers_added,
            facts_added,
            new_messages,
        })
    }

    async fn ensure_room(
        &self,
        tx: &mut Tx,
        p: &Principal,
        req: &ChatImportRequest<'_>,
        network: &str,
        now: &str,
    ) -> Result<i64, StoreError> {
        let found = sqlx::query(
            "SELECT id FROM chat_rooms WHERE case_id = $1 AND name = $2 AND network = $3",
        )
        .bind(req.case_id)
        .bind(req.room.clone())
        .bind(network.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = found {
            return Ok(r.try_get("id")?);
        }
        Ok(sqlx::query(
            "INSERT INTO chat_rooms (case_id, name, network, created_by, created_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(req.case_id)
        .bind(req.room.clone())
        .bind(network.to_string())
        .bind(p.user_id)
        .bind(now.to_string())
        .bind(req.file.clone())
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?)
    }

    /// Inserts an identifier unless the same (kind, normalised value) is
    /// already attached to that person (or, for a mentioned identifier with
    /// no person, already recorded as mentioned in the case); returns the new
    /// id. A repeated sighting of an owned identifier widens its first/last
    /// seen window instead, so an IP seen in two rooms carries both times.
    async fn insert_identifier_once(
        &self,
        tx: &mut Tx,
        p: &Principal,
        case_id: i64,
        person_id: Option<i64>,
        ident: &NewIdentifier,
        source: &str,
    ) -> Result<Option<i64>, StoreError> {
        let exists = match person_id {
            Some(pid) => {
                sqlx::query(
                    "SELECT id, first_seen, last_seen FROM identifiers \
                     WHERE person_id = $1 AND kind = $2 AND normalized = $3",
                )
                .bind(pid)
                .bind(ident.kind.as_str())
                .bind(ident.normalized.clone())
                .fetch_optional(&mut **tx)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT id, first_seen, last_seen FROM identifiers WHERE case_id = $1 \
                     AND person_id IS NULL AND kind = $2 AND normalized = $3",
                )
                .bind(case_id)
                .bind(ident.kind.as_str())
                .bind(ident.normalized.clone())
                .fetch_optional(&mut **tx)
                .await?
            }
        };
        let Some(row) = exists else {
            let id = self
                .insert_identifier(tx, p, case_id, person_id, ident, source)
                .await?;
            return Ok(Some(id));
        };
        if person_id.is_some() {
            let id: i64 = row.try_get("id")?;
            let first: Option<String> = row.try_get("first_seen")?;
            let last: Option<String> = row.try_get("last_seen")?;
            let earlier = match (&ident.first_seen, &first) {
                (Some(new), Some(old)) if new < old => Some(new.clone()),
                (Some(new), None) => Some(new.clone()),
                _ => None,
            };
            let later = match (&ident.last_seen, &last) {
                (Some(new), Some(old)) if new > old => Some(new.clone()),
                (Some(new), None) => Some(new.clone()),
                _ => None,
            };
            if earlier.is_some() || later.is_some() {
                sqlx::query("UPDATE identifiers SET first_seen = $1, last_seen = $2 WHERE id = $3")
                    .bind(earlier.or(first))
                    .bind(later.or(last))
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(None)
    }

    /// Streams every stored message of a case to `sink` in batches, for
    /// rebuilding the search index (after a restore, a corrupt or deleted
    /// index). The index is derived data of the messages, so whoever may
    /// read the case may rebuild its part; the rebuild is audited once.
    /// Returns the number of messages streamed.
    pub async fn chat_messages_for_reindex(
        &self,
        p: &Principal,
        case_id: i64,
        sink: &mut (dyn FnMut(&[StoredMessage]) -> Result<(), StoreError> + Send),
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let ca = self.case_access(&mut tx, p, case_id).await?;
        let d = vigil_domain::access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "chat.reindex",
                    format!("case:{case_id}"),
                    Some(case_id),
                    d,
                    other,
                )
                .await;
        }
        let mut after = 0i64;
        let mut total = 0u64;
        loop {
            let rows = sqlx::query(
                "SELECT m.id, m.sent_at, m.handle, m.text, r.name FROM chat_messages m \
                 JOIN chat_rooms r ON r.id = m.room_id \
                 WHERE m.case_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
            )
            .bind(case_id)
            .bind(after)
            .bind(REINDEX_BATCH)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            let batch = rows
                .iter()
                .map(|r| {
                    Ok(StoredMessage {
                        id: r.try_get("id")?,
                        case_id,
                        room: r.try_get("name")?,
                        handle: r.try_get("handle")?,
                        time: r.try_get("sent_at")?,
                        text: r.try_get("text")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            after = batch.last().map_or(after, |m| m.id);
            total += batch.len() as u64;
            sink(&batch)?;
        }
        self.log(
            &mut tx,
            p,
            "chat.reindex",
            format!("case:{case_id}"),
            Some(case_id),
            d,
            serde_json::json!({"messages": total}),
        )
        .await?;
        tx.commit().await?;
        Ok(total)
    }

    /// The cases whose messages `p` may search: the readable cases, with
    /// the search itself recorded in the audit log.
    pub async fn chat_search_scope(
        &self,
        p: &Principal,
        query: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let cases: Vec<i64> = self
            .list_cases(p)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut tx = self.begin_write().await?;
        self.log(
            &mut tx,
            p,
            "chat.search",
            "chat:search".to_string(),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"query": query, "cases": cases}),
        )
        .await?;
        tx.commit().await?;
        Ok(cases)
    }
}

// ----- reading rooms and messages (web and API) ---------------------------

/// A chat room as listed: where it lives and how much it holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatRoom {
    pub id: i64,
    pub case_id: i64,
    pub name: String,
    /// Empty when the log did not say.
    pub network: String,
    pub messages: i64,
    pub participants: i64,
    pub first_message: Option<String>,
    pub last_message: Option<String>,
    pub created_at: String,
    /// The file the room was first imported from.
    pub source: String,
}

/// One participant of a room.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatParticipant {
    /// The handle as first written (the person's label when known).
    pub handle: String,
    /// IRC-folded form, the room's key for this participant.
    pub handle_key: String,
    pub person_id: Option<i64>,
    /// Every `ident@host` seen for this handle, sorted.
    pub hostmasks: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Messages, actions and notices stored for this handle in the room.
    pub messages: i64,
    /// Currently holds a channel role (last grant not revoked).
    pub operator: bool,
    /// `FILE:LINE` of the first appearance.
    pub source: String,
}

/// A channel role given or taken, and by whom.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatOperatorGrant {
    pub nick: String,
    /// `owner`, `admin`, `operator` or `half-operator`.
    pub role: String,
    /// `false` when the role was taken away.
    pub granted: bool,
    pub by: String,
    pub time: Option<String>,
    pub source: String,
}

/// A nick change: a certain link between two handles.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatNickChange {
    pub old: String,
    pub new: String,
    pub time: Option<String>,
    pub source: String,
}

/// A DCC SEND offer (names and sizes only; no file content ever exists here).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatFileOffer {
    pub from: String,
    pub to: Option<String>,
    pub file: String,
    pub size: Option<u64>,
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub time: Option<String>,
    pub source: String,
}

/// Everything known about a room except its messages (paged separately).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatRoomDetail {
    pub room: ChatRoom,
    pub case_title: String,
    pub participants: Vec<ChatParticipant>,
    pub operators: Vec<ChatOperatorGrant>,
    pub nick_changes: Vec<ChatNickChange>,
    pub file_offers: Vec<ChatFileOffer>,
}

/// One stored message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: i64,
    pub room_id: i64,
    pub case_id: i64,
    pub sent_at: Option<String>,
    pub handle: String,
    /// `message`, `action` or `notice`.
    pub kind: String,
    pub text: String,
    pub addressed_to: Option<String>,
    /// `FILE:LINE`.
    pub source: String,
}

/// The fact kind under which an import records a participant's hostmask.
pub const HOSTMASK_FACT: &str = "hostmask";

const ROOM_SELECT: &str = "SELECT r.id, r.case_id, r.name, r.network, r.created_at, r.source, \
    (SELECT COUNT(*) FROM chat_messages m WHERE m.room_id = r.id) AS messages, \
    (SELECT COUNT(*) FROM chat_participants q WHERE q.room_id = r.id) AS participants, \
    (SELECT MIN(m.sent_at) FROM chat_messages m WHERE m.room_id = r.id) AS first_message, \
    (SELECT MAX(m.sent_at) FROM chat_messages m WHERE m.room_id = r.id) AS last_message \
    FROM chat_rooms r";

fn room_from_row(r: &sqlx::any::AnyRow) -> Result<ChatRoom, sqlx::Error> {
    Ok(ChatRoom {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        name: r.try_get("name")?,
        network: r.try_get("network")?,
        messages: r.try_get("messages")?,
        participants: r.try_get("participants")?,
        first_message: r.try_get("first_message")?,
        last_message: r.try_get("last_message")?,
        created_at: r.try_get("created_at")?,
        source: r.try_get("source")?,
    })
}

fn bad_fact(e: serde_json::Error) -> StoreError {
    StoreError::Config(format!("a stored room fact is invalid: {e}"))
}

impl Store {
    /// Loads a room's case and decides whether `p` may read it; refusals are
    /// audited and look like "not found" to other agencies.
    async fn readable_room(
        &self,
        p: &Principal,
        room_id: i64,
        action: &str,
    ) -> Result<(Tx, ChatRoom, Decision), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ROOM_SELECT} WHERE r.id = $1"
        )))
        .bind(room_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("chat room", room_id))?;
        let room = room_from_row(&row)?;
        let ca = self.case_access(&mut tx, p, room.case_id).await?;
        let d = vigil_domain::access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    action,
                    format!("chat_room:{room_id}"),
                    Some(room.case_id),
                    d,
                    other,
                )
                .await;
        }
        Ok((tx, room, d))
    }

    /// The rooms of one case, or of every case `p` may read.
    pub async fn list_chat_rooms(
        &self,
        p: &Principal,
        case_id: Option<i64>,
    ) -> Result<Vec<ChatRoom>, StoreError> {
        let cases: Vec<i64> = match case_id {
            Some(c) => vec![c],
            None => self.list_cases(p).await?.iter().map(|c| c.id).collect(),
        };
        let mut out = Vec::new();
        for c in cases {
            let mut tx = self.begin_write().await?;
            let ca = self.case_access(&mut tx, p, c).await?;
            let d = vigil_domain::access::can_read(p, &ca.scope(None, &ca.release));
            if !d.allowed() {
                let other = ca.agency_id != p.agency_id;
                return self
                    .refuse(tx, p, "chat.rooms", format!("case:{c}"), Some(c), d, other)
                    .await;
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{ROOM_SELECT} WHERE r.case_id = $1 ORDER BY r.name, r.network, r.id"
            )))
            .bind(c)
            .fetch_all(&mut *tx)
            .await?;
            let before = out.len();
            for r in &rows {
                out.push(room_from_row(r)?);
            }
            self.log(
                &mut tx,
                p,
                "chat.rooms",
                format!("case:{c}"),
                Some(c),
                d,
                serde_json::json!({"rooms": out.len() - before}),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(out)
    }

    /// A room's participants (with hostmasks and message counts), operator
    /// grants (who gave them), nick changes and file offers.
    pub async fn show_chat_room(
        &self,
        p: &Principal,
        room_id: i64,
    ) -> Result<ChatRoomDetail, StoreError> {
        let (mut tx, room, d) = self.readable_room(p, room_id, "chat.room").await?;
        let case_title: String = sqlx::query("SELECT title FROM cases WHERE id = $1")
            .bind(room.case_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("title")?;

        // Message counts per folded handle.
        let mut counts: HashMap<String, i64> = HashMap::new();
        for r in sqlx::query(
            "SELECT handle, COUNT(*) AS n FROM chat_messages WHERE room_id = $1 GROUP BY handle",
        )
        .bind(room_id)
        .fetch_all(&mut *tx)
        .await?
        {
            let h: String = r.try_get("handle")?;
            *counts.entry(fold(&h)).or_default() += r.try_get::<i64, _>("n")?;
        }

        let mut operators = Vec::new();
        let mut nick_changes = Vec::new();
        let mut file_offers = Vec::new();
        let mut hostmasks: HashMap<String, Vec<String>> = HashMap::new();
        for r in sqlx::query(
            "SELECT kind, detail, source FROM chat_room_facts WHERE room_id = $1 \
             ORDER BY happened_at, id",
        )
        .bind(room_id)
        .fetch_all(&mut *tx)
        .await?
        {
            let kind: String = r.try_get("kind")?;
            let detail: String = r.try_get("detail")?;
            let source: String = r.try_get("source")?;
            match kind.as_str() {
                "operator" => {
                    let g: vigil_chat::Grant = serde_json::from_str(&detail).map_err(bad_fact)?;
                    let role = serde_json::to_value(g.role)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    operators.push(ChatOperatorGrant {
                        nick: g.nick,
                        role,
                        granted: g.granted,
                        by: g.by,
                        time: opt_time(g.time),
                        source,
                    });
                }
                "nick_change" => {
                    let n: vigil_chat::NickChange =
                        serde_json::from_str(&detail).map_err(bad_fact)?;
                    nick_changes.push(ChatNickChange {
                        old: n.old,
                        new: n.new,
                        time: opt_time(n.time),
                        source,
                    });
                }
                "file_offer" => {
                    let f: vigil_chat::FileOffer =
                        serde_json::from_str(&detail).map_err(bad_fact)?;
                    file_offers.push(ChatFileOffer {
                        from: f.from,
                        to: f.to,
                        file: f.file,
                        size: f.size,
                        ip: f.ip,
                        port: f.port,
                        time: opt_time(f.time),
                        source,
                    });
                }
                HOSTMASK_FACT => {
                    let v: serde_json::Value = serde_json::from_str(&detail).map_err(bad_fact)?;
                    if let (Some(n), Some(h)) = (v["nick"].as_str(), v["hostmask"].as_str()) {
                        hostmasks.entry(fold(n)).or_default().push(h.to_owned());
                    }
                }
                _ => {}
            }
        }
        // Who holds a role now: the last grant or removal per nick decides.
        let mut holds: HashMap<String, bool> = HashMap::new();
        for g in &operators {
            holds.insert(fold(&g.nick), g.granted);
        }

        let mut participants = Vec::new();
        for r in sqlx::query(
            "SELECT q.handle, q.person_id, q.first_seen, q.last_seen, q.source, p.label \
             FROM chat_participants q LEFT JOIN persons p ON p.id = q.person_id \
             WHERE q.room_id = $1 ORDER BY q.first_seen, q.id",
        )
        .bind(room_id)
        .fetch_all(&mut *tx)
        .await?
        {
            let key: String = r.try_get("handle")?;
            let label: Option<String> = r.try_get("label")?;
            let mut masks = hostmasks.remove(&key).unwrap_or_default();
            masks.sort();
            masks.dedup();
            participants.push(ChatParticipant {
                handle: label
                    .filter(|l| fold(l) == key)
                    .unwrap_or_else(|| key.clone()),
                person_id: r.try_get("person_id")?,
                hostmasks: masks,
                first_seen: r.try_get("first_seen")?,
                last_seen: r.try_get("last_seen")?,
                messages: counts.get(&key).copied().unwrap_or(0),
                operator: holds.get(&key).copied().unwrap_or(false),
                source: r.try_get("source")?,
                handle_key: key,
            });
        }
        self.log(
            &mut tx,
            p,
            "chat.room",
            format!("chat_room:{room_id}"),
            Some(room.case_id),
            d,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(ChatRoomDetail {
            room,
            case_title,
            participants,
            operators,
            nick_changes,
            file_offers,
        })
    }

    /// One page of a room's messages in time order, and how many there are.
    pub async fn chat_room_messages(
        &self,
        p: &Principal,
        room_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<ChatMessage>), StoreError> {
        let (mut tx, room, d) = self.readable_room(p, room_id, "chat.messages").await?;
        let rows = sqlx::query(
            "SELECT id, room_id, case_id, sent_at, handle, kind, text, addressed_to, source \
             FROM chat_messages WHERE room_id = $1 ORDER BY sent_at, id LIMIT $2 OFFSET $3",
        )
        .bind(room_id)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(&mut *tx)
        .await?;
        let messages = rows
            .iter()
            .map(|r| {
                Ok(ChatMessage {
                    id: r.try_get("id")?,
                    room_id: r.try_get("room_id")?,
                    case_id: r.try_get("case_id")?,
                    sent_at: r.try_get("sent_at")?,
                    handle: r.try_get("handle")?,
                    kind: r.try_get("kind")?,
                    text: r.try_get("text")?,
                    addressed_to: r.try_get("addressed_to")?,
                    source: r.try_get("source")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        self.log(
            &mut tx,
            p,
            "chat.messages",
            format!("chat_room:{room_id}"),
            Some(room.case_id),
            d,
            serde_json::json!({"limit": limit, "offset": offset}),
        )
        .await?;
        tx.commit().await?;
        Ok((room.messages, messages))
    }

    /// The rooms of search hits, by message id, for the messages whose case
    /// `p` may read (others are left out, never revealed).
    pub async fn chat_message_rooms(
        &self,
        p: &Principal,
        message_ids: &[i64],
    ) -> Result<HashMap<i64, i64>, StoreError> {
        let mut out = HashMap::new();
        if message_ids.is_empty() {
            return Ok(out);
        }
        let mut tx = self.begin_write().await?;
        let placeholders: Vec<String> = (1..=message_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, room_id, case_id FROM chat_messages WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in message_ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&mut *tx).await?;
        let mut readable: HashMap<i64, bool> = HashMap::new();
        for r in rows {
            let case_id: i64 = r.try_get("case_id")?;
            let ok = match readable.get(&case_id) {
                Some(ok) => *ok,
                None => {
                    let ca = self.case_access(&mut tx, p, case_id).await?;
                    let ok =
                        vigil_domain::access::can_read(p, &ca.scope(None, &ca.release)).allowed();
                    readable.insert(case_id, ok);
                    ok
                }
            };
            if ok {
                out.insert(r.try_get("id")?, r.try_get("room_id")?);
            }
        }
        // Resolving hits is part of the search already audited by
        // `chat_search_scope`; nothing new is read here but room ids.
        tx.commit().await?;
        Ok(out)
    }
}
