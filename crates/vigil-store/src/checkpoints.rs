//! Signed audit checkpoints.
//!
//! The hash chain proves that nobody changed the log *in the middle*; it
//! cannot prove that nobody cut off its tail or recomputed every hash after a
//! rewrite. A checkpoint closes that gap: the head's `(seq, hash)` signed
//! with the local agency's minisign (Ed25519) key. [`Store::verify_audit`]
//! checks each checkpoint's signature and that the chain still passes
//! through each checkpointed `(seq, hash)`, so a truncated or rewritten log
//! is named even when every remaining link is consistent.
//!
//! Checkpoints are taken on demand (`vigil audit checkpoint`) and
//! automatically whenever the chain reaches a multiple of
//! [`AUTO_CHECKPOINT_EVERY`] entries, in the same transaction as that entry.
//! The signed text is an ordinary file, so an exported checkpoint can be
//! checked by `minisign -V` without Vigil.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::sync::{Arc, Mutex};
use vigil_domain::{Capability, Decision, Principal};

use vigil_share::secrecy::ExposeSecret;
use vigil_share::{AgencyKeys, PublicBundle};

use crate::records::Tx;
use crate::{Store, StoreError, now_text};

/// Every this many entries the appender signs the head (if the local agency
/// has keys).
pub const AUTO_CHECKPOINT_EVERY: i64 = 1000;

/// One signed checkpoint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditCheckpoint {
    pub id: i64,
    /// The audit entry the checkpoint covers (the head when it was taken).
    pub seq: i64,
    /// That entry's chain hash.
    pub hash: String,
    pub at: String,
    pub agency_id: i64,
    pub key_fingerprint: String,
    /// The signed text ([`checkpoint_message`]).
    pub message: String,
    /// The detached minisign signature of `message`.
    pub signature: String,
    /// Who asked for it; `None` for automatic checkpoints of system entries.
    pub created_by: Option<i64>,
    /// The minisign public key (base64, `RW…`) of the signing key, for
    /// `minisign -V -P`.
    pub public_key: Option<String>,
}

/// The exact text that is signed. Line-based and versioned so a reader
/// without Vigil can see what was attested.
pub fn checkpoint_message(seq: i64, hash: &str, at: &str, fingerprint: &str) -> String {
    format!("vigil-audit-checkpoint/1\nseq: {seq}\nhash: {hash}\nat: {at}\nkey: {fingerprint}\n")
}

fn trusted_comment(seq: i64, hash: &str) -> String {
    format!("vigil audit checkpoint seq={seq} hash={hash}")
}

const SELECT: &str = "SELECT c.id, c.seq, c.hash, c.at, c.agency_id, c.key_fingerprint, \
    c.message, c.signature, c.created_by, k.public_bundle FROM audit_checkpoints c \
    LEFT JOIN agency_keys k ON k.fingerprint = c.key_fingerprint AND k.agency_id = c.agency_id";

fn from_row(r: &AnyRow) -> Result<(AuditCheckpoint, Option<String>), StoreError> {
    let bundle: Option<String> = r.try_get("public_bundle")?;
    let public_key = bundle
        .as_deref()
        .and_then(|b| PublicBundle::from_json(b).ok())
        .map(|b| b.minisign_public_key_base64().to_string());
    Ok((
        AuditCheckpoint {
            id: r.try_get("id")?,
            seq: r.try_get("seq")?,
            hash: r.try_get("hash")?,
            at: r.try_get("at")?,
            agency_id: r.try_get("agency_id")?,
            key_fingerprint: r.try_get("key_fingerprint")?,
            message: r.try_get("message")?,
            signature: r.try_get("signature")?,
            created_by: r.try_get("created_by")?,
            public_key,
        },
        bundle,
    ))
}

/// The last signing keys opened, by fingerprint.
///
/// Why a cache: keys stored passphrase-protected (`VIGIL_KEY_PASSPHRASE`)
/// take an scrypt derivation to open — about a second at age's work factor —
/// and an automatic checkpoint falls due every [`AUTO_CHECKPOINT_EVERY`]
/// audit entries. Without the passphrase such keys cannot sign at all, and
/// the automatic checkpoints would silently stop; with it, they are opened
/// once per process.
static UNLOCKED: Mutex<Option<(String, Arc<AgencyKeys>)>> = Mutex::new(None);

fn unlocked_signing_keys(fingerprint: &str, stored: &str) -> Result<Arc<AgencyKeys>, StoreError> {
    if let Ok(guard) = UNLOCKED.lock()
        && let Some((fp, keys)) = guard.as_ref()
        && fp == fingerprint
    {
        return Ok(keys.clone());
    }
    let unusable = |e: vigil_share::KeyError| {
        StoreError::Config(format!(
            "the agency signing key is unusable: {e} ({} holds the key-encryption passphrase)",
            vigil_share::KEY_PASSPHRASE_ENV
        ))
    };
    let passphrase = vigil_share::key_passphrase_from_env();
    let secret = vigil_share::unprotect_secret(stored, passphrase.as_ref()).map_err(unusable)?;
    let keys = Arc::new(AgencyKeys::from_secret_json(secret.expose_secret()).map_err(unusable)?);
    if let Ok(mut guard) = UNLOCKED.lock() {
        *guard = Some((fingerprint.to_string(), keys.clone()));
    }
    Ok(keys)
}

/// Signs `(seq, hash)` with the local agency's active key inside `tx`.
/// Returns `None` when the instance has no keys yet (nothing to sign with);
/// a key that cannot be read is an error for on-demand checkpoints and
/// skipped by automatic ones (the caller decides).
pub(crate) async fn sign_head(
    tx: &mut sqlx::AnyConnection,
    seq: i64,
    hash: &str,
    created_by: Option<i64>,
) -> Result<Option<AuditCheckpoint>, StoreError> {
    let key = sqlx::query(
        "SELECT k.agency_id, k.fingerprint, k.secret FROM agency_keys k \
         JOIN agencies a ON a.id = k.agency_id WHERE a.is_local = 1 AND k.active = 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(key) = key else {
        return Ok(None);
    };
    let agency_id: i64 = key.try_get("agency_id")?;
    let fingerprint: String = key.try_get("fingerprint")?;
    let secret: String = key.try_get("secret")?;
    let keys = unlocked_signing_keys(&fingerprint, &secret)?;
    let at = now_text();
    let message = checkpoint_message(seq, hash, &at, &fingerprint);
    let signature = keys
        .sign_detached(message.as_bytes(), &trusted_comment(seq, hash))
        .map_err(|e| StoreError::Config(format!("cannot sign the checkpoint: {e}")))?;
    let id: i64 = sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, agency_id, key_fingerprint, message, \
         signature, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(seq)
    .bind(hash.to_string())
    .bind(at.clone())
    .bind(agency_id)
    .bind(fingerprint.clone())
    .bind(message.clone())
    .bind(signature.clone())
    .bind(created_by)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    Ok(Some(AuditCheckpoint {
        id,
        seq,
        hash: hash.to_string(),
        at,
        agency_id,
        key_fingerprint: fingerprint,
        message,
        signature,
        created_by,
        public_key: Some(
            keys.public_bundle()
                .minisign_public_key_base64()
                .to_string(),
        ),
    }))
}

/// Why one checkpoint does not hold, if it does not.
pub(crate) fn check_signature(cp: &AuditCheckpoint, bundle: Option<&str>) -> Option<String> {
    let Some(bundle) = bundle else {
        return Some(format!(
            "checkpoint {} (entry {}) is signed by key {}, which is not one of this instance's keys",
            cp.id, cp.seq, cp.key_fingerprint
        ));
    };
    let bundle = match PublicBundle::from_json(bundle) {
        Ok(b) => b,
        Err(e) => return Some(format!("checkpoint {}: its key is unreadable: {e}", cp.id)),
    };
    if cp.message != checkpoint_message(cp.seq, &cp.hash, &cp.at, &cp.key_fingerprint) {
        return Some(format!(
            "checkpoint {} (entry {}) was altered: its signed text does not match its fields",
            cp.id, cp.seq
        ));
    }
    match bundle.verify_detached(cp.message.as_bytes(), &cp.signature) {
        Err(e) => Some(format!(
            "checkpoint {} (entry {}) has an invalid signature ({e}): forged or altered",
            cp.id, cp.seq
        )),
        Ok(comment) if comment != trusted_comment(cp.seq, &cp.hash) => Some(format!(
            "checkpoint {} (entry {}) was altered: its signed comment names another entry",
            cp.id, cp.seq
        )),
        Ok(_) => None,
    }
}

/// Every checkpoint in the order taken, with its key's public bundle.
pub(crate) async fn all(
    store: &Store,
) -> Result<Vec<(AuditCheckpoint, Option<String>)>, StoreError> {
    let sql = format!("{SELECT} ORDER BY c.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

impl Store {
    /// Signs the current head of the audit chain now. Needs read-audit
    /// (supervisors, agency administrators) and the local agency's keys
    /// (`vigil keys generate`). The request is itself an audit entry, and the
    /// checkpoint covers it.
    pub async fn audit_checkpoint(&self, p: &Principal) -> Result<AuditCheckpoint, StoreError> {
        self.require(p, Capability::ReadAudit, "audit.checkpoint")
            .await?;
        let mut tx: Tx = self.begin_write().await?;
        if !self.is_local_agency(&mut tx, p.agency_id).await? {
            return self
                .refuse(
                    tx,
                    p,
                    "audit.checkpoint",
                    "audit".into(),
                    None,
                    Decision::Deny("only the agency this instance belongs to signs its log"),
                    false,
                )
                .await;
        }
        self.log(
            &mut tx,
            p,
            "audit.checkpoint",
            "audit".into(),
            None,
            Decision::Allow("role grants capability"),
            serde_json::json!({}),
        )
        .await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_one(&mut *tx)
            .await?;
        let seq: i64 = head.try_get("seq")?;
        let hash: String = head.try_get("hash")?;
        let cp = sign_head(&mut tx, seq, &hash, Some(p.user_id))
            .await?
            .ok_or_else(|| {
                StoreError::Conflict(
                    "this agency has no signing key yet: run `vigil keys generate`".into(),
                )
            })?;
        tx.commit().await?;
        Ok(cp)
    }

    /// The checkpoints, newest last. Read-audit only; audited.
    pub async fn audit_checkpoints(
        &self,
        p: &Principal,
    ) -> Result<Vec<AuditCheckpoint>, StoreError> {
        self.require(p, Capability::ReadAudit, "audit.checkpoints")
            .await?;
        let mut tx = self.begin_write().await?;
        self.log(
            &mut tx,
            p,
            "audit.checkpoints",
            "audit".into(),
            None,
            Decision::Allow("role grants capability"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(all(self).await?.into_iter().map(|(c, _)| c).collect())
    }
}
