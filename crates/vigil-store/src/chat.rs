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
