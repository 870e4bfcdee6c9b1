//! The append-only, hash-chained audit log.
//!
//! Every entry's `hash` is SHA-256 over a canonical JSON array of its fields
//! and the previous entry's hash; `seq` runs 1, 2, 3… without gaps. So
//! editing a row breaks its hash, deleting or inserting one breaks the `seq`
//! run or the `prev_hash` link, and swapping two breaks both — and
//! [`Store::verify_audit`] names the first entry where that happens. Triggers
//! (SQLite and PostgreSQL) refuse UPDATE and DELETE from the application; the
//! chain is what catches someone who bypasses them.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use vigil_domain::{Decision, Principal};

use crate::{Backend, Store, StoreError, now_text};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where a request came from: the interface and, for the network ones, the
/// peer address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub interface: &'static str,
    pub address: Option<String>,
}

impl Default for Origin {
    fn default() -> Self {
        Origin {
            interface: "cli",
            address: None,
        }
    }
}

impl Origin {
    fn text(&self) -> String {
        match &self.address {
            Some(a) => format!("{}:{a}", self.interface),
            None => self.interface.to_string(),
        }
    }
}

/// One audit row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub agency_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub case_id: Option<i64>,
    pub origin: String,
    pub outcome: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at,
            self.user_id,
            self.user_name,
            self.agency_id,
            self.action,
            self.target,
            self.case_id,
            self.origin,
            self.outcome,
            self.detail,
            self.prev_hash
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(AuditEntry {
            seq: row.try_get("seq")?,
            at: row.try_get("at")?,
            user_id: row.try_get("user_id")?,
            user_name: row.try_get("user_name")?,
            agency_id: row.try_get("agency_id")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            case_id: row.try_get("case_id")?,
            origin: row.try_get("origin")?,
            outcome: row.try_get("outcome")?,
            detail: row.try_get("detail")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        })
    }
}

/// What one audited action was, before it is chained.
pub(crate) struct AuditRecord<'a> {
    pub action: &'a str,
    pub target: String,
    pub case_id: Option<i64>,
    pub decision: Decision,
    pub detail: serde_json::Value,
}

/// Appends one entry inside the caller's transaction, so the entry and the
/// change it describes commit or roll back together.
pub(crate) async fn append(
    store: &Store,
    tx: &mut sqlx::AnyConnection,
    actor: Option<&Principal>,
    rec: AuditRecord<'_>,
) -> Result<(), StoreError> {
    let head = match store.backend() {
        // The lock serialises appenders so two transactions cannot chain
        // onto the same head (SHARE ROW EXCLUSIVE conflicts with itself but
        // not with plain readers). Lock and head read go in one simple-query
        // message: one round trip instead of two, on the path of every
        // audited call. Each statement of the message takes its own snapshot
        // (READ COMMITTED), so the head is read after the lock is held.
        Backend::Postgres => {
            sqlx::raw_sql(
                "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE; \
                 SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            )
            // Not fetch_optional: sqlx's Any driver would look at the first
            // result only, which is the LOCK's (no row).
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .next()
        }
        // SQLite: the caller's BEGIN IMMEDIATE already holds the write lock.
        Backend::Sqlite => {
            sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
        }
    };
    let (seq, prev_hash) = match head {
        Some(row) => (row.try_get::<i64, _>("seq")? + 1, row.try_get("hash")?),
        None => (1, GENESIS.to_string()),
    };
    let outcome = match rec.decision {
        Decision::Allow(_) => "allowed".to_string(),
        Decision::Deny(reason) => format!("denied: {reason}"),
    };
    let mut detail = rec.detail;
    if let (Decision::Allow(reason), serde_json::Value::Object(map)) = (rec.decision, &mut detail) {
        map.insert("because".into(), reason.into());
    }
    let mut entry = AuditEntry {
        seq,
        at: now_text(),
        user_id: actor.map(|p| p.user_id),
        user_name: actor
            .map(|p| p.user_name.clone())
            .unwrap_or_else(|| "system".into()),
        agency_id: actor.map(|p| p.agency_id),
        action: rec.action.to_string(),
        target: rec.target,
        case_id: rec.case_id,
        origin: store.origin.text(),
        outcome,
        detail: detail.to_string(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, at, user_id, user_name, agency_id, action, target, case_id, \
         origin, outcome, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(entry.seq)
    .bind(entry.at)
    .bind(entry.user_id)
    .bind(entry.user_name)
    .bind(entry.agency_id)
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.case_id)
    .bind(entry.origin)
    .bind(entry.outcome)
    .bind(entry.detail)
    .bind(entry.prev_hash)
    .bind(entry.hash.clone())
    .execute(&mut *tx)
    .await?;
    if entry.seq % crate::checkpoints::AUTO_CHECKPOINT_EVERY == 0 {
        // A key that cannot be read must not stop audited work; the
        // on-demand `vigil audit checkpoint` reports that error instead.
        match crate::checkpoints::sign_head(tx, entry.seq, &entry.hash, entry.user_id).await {
            Ok(_) | Err(StoreError::Config(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditVerification {
    pub entries: i64,
    pub ok: bool,
    /// The first entry at which the chain breaks, and how.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
    pub head_hash: Option<String>,
    /// Signed checkpoints found valid (all of them when `ok`).
    pub checkpoints: i64,
    /// The first checkpoint that failed, if one did.
    pub bad_checkpoint: Option<i64>,
}

/// Filters for reading the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub case_id: Option<i64>,
    pub user_name: Option<String>,
    /// RFC 3339 or YYYY-MM-DD lower bound on `at`.
    pub since: Option<String>,
    pub limit: Option<i64>,
}

impl Store {
    /// Walks the whole chain from the first entry and reports the first
    /// modified, deleted, inserted or reordered entry; then checks every
    /// signed checkpoint: its signature, and that the chain still passes
    /// through the `(seq, hash)` it attests (so a truncated tail or a chain
    /// rewritten and re-hashed after the checkpoint is named too).
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, user_id, user_name, agency_id, action, target, case_id, origin, \
             outcome, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let mut expected_prev = GENESIS.to_string();
        let mut count = 0i64;
        let mut hashes: Vec<String> = Vec::with_capacity(rows.len());
        for (expected_seq, row) in (1i64..).zip(rows.iter()) {
            let e = AuditEntry::from_row(row)?;
            count += 1;
            let problem = if e.seq != expected_seq {
                Some(if e.seq > expected_seq {
                    format!(
                        "entries {expected_seq}..{} are missing (deleted)",
                        e.seq - 1
                    )
                } else {
                    format!("entry {} is out of sequence (inserted or reordered)", e.seq)
                })
            } else if e.prev_hash != expected_prev {
                Some(format!(
                    "entry {} does not follow entry {} (inserted, deleted or reordered)",
                    e.seq,
                    e.seq - 1
                ))
            } else if e.compute_hash() != e.hash {
                Some(format!("entry {} was modified after it was written", e.seq))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Ok(AuditVerification {
                    entries: rows.len() as i64,
                    ok: false,
                    first_bad_seq: Some(e.seq.min(expected_seq)),
                    problem: Some(problem),
                    head_hash: None,
                    checkpoints: 0,
                    bad_checkpoint: None,
                });
            }
            hashes.push(e.hash.clone());
            expected_prev = e.hash;
        }
        let mut good = 0i64;
        for (cp, bundle) in crate::checkpoints::all(self).await? {
            let problem = if let Some(p) =
                crate::checkpoints::check_signature(&cp, bundle.as_deref())
            {
                Some((cp.seq, p))
            } else if cp.seq > count {
                Some((
                    count + 1,
                    format!(
                        "the log ends at entry {count} but signed checkpoint {} covers entry {}: \
                         entries {}..{} were deleted (tail truncated)",
                        cp.id,
                        cp.seq,
                        count + 1,
                        cp.seq
                    ),
                ))
            } else if usize::try_from(cp.seq - 1).ok().and_then(|i| hashes.get(i)) != Some(&cp.hash)
            {
                Some((
                    cp.seq,
                    format!(
                        "entry {} differs from signed checkpoint {}: the chain was rewritten",
                        cp.seq, cp.id
                    ),
                ))
            } else {
                None
            };
            if let Some((seq, problem)) = problem {
                return Ok(AuditVerification {
                    entries: count,
                    ok: false,
                    first_bad_seq: Some(seq),
                    problem: Some(problem),
                    head_hash: None,
                    checkpoints: good,
                    bad_checkpoint: Some(cp.id),
                });
            }
            good += 1;
        }
        Ok(AuditVerification {
            entries: count,
            ok: true,
            first_bad_seq: None,
            problem: None,
            head_hash: (count > 0).then_some(expected_prev),
            checkpoints: good,
            bad_checkpoint: None,
        })
    }

    /// Reads audit entries, newest last. Requires the read-audit capability;
    /// reading the log is itself audited.
    pub async fn audit_log(
        &self,
        p: &Principal,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.require(p, vigil_domain::Capability::ReadAudit, "audit.read")
            .await?;
        let mut sql = String::from(
            "SELECT seq, at, user_id, user_name, agency_id, action, target, case_id, origin, \
             outcome, detail, prev_hash, hash FROM audit_log WHERE (agency_id = $1 OR agency_id IS NULL)",
        );
        let mut n = 1;
        if filter.case_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND case_id = ${n}"));
        }
        if filter.user_name.is_some() {
            n += 1;
            sql.push_str(&format!(" AND user_name = ${n}"));
        }
        if filter.since.is_some() {
            n += 1;
            sql.push_str(&format!(" AND at >= ${n}"));
        }
        sql.push_str(" ORDER BY seq");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {}", limit.max(0)));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(p.agency_id);
        if let Some(c) = filter.case_id {
            q = q.bind(c);
        }
        if let Some(u) = &filter.user_name {
            q = q.bind(u.clone());
        }
        if let Some(s) = &filter.since {
            q = q.bind(s.clone());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| AuditEntry::from_row(r).map_err(StoreError::from))
            .collect()
    }
}
