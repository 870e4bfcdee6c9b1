//! Sign-in for the network interfaces: password log-in with lock-out and
//! back-off, web sessions, and API tokens.
//!
//! Secrets (session cookies, API tokens) are 256 random bits shown to their
//! holder once; the database keeps only their SHA-256, so a copied database
//! or backup cannot be used to act as anyone. Every sign-in, failure,
//! lock-out, sign-out and token use is in the audit log with the request's
//! [`crate::Origin`] (interface and peer address).

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use vigil_domain::access;
use vigil_domain::records::parse_name;
use vigil_domain::{Capability, Decision, EventKind, Principal};

use crate::audit::{self, AuditRecord};
use crate::{Store, StoreError, now_text, timestamp_text};

/// Failed sign-ins in a row before an account is locked.
pub const LOCKOUT_THRESHOLD: i64 = 5;
/// The first lock lasts this long; each further failure doubles it.
pub const LOCKOUT_BASE_SECONDS: i64 = 30;
/// No lock lasts longer than this.
pub const LOCKOUT_MAX_SECONDS: i64 = 3600;
/// Prefix of API tokens, so a leaked one is recognisable in a scan of logs or
/// source code.
pub const TOKEN_PREFIX: &str = "vgl_";

/// The message for every refused sign-in: the same whether the user is
/// unknown, the password wrong or the account locked, so that sign-in
/// reveals nothing about which accounts exist.
pub const LOGIN_REFUSED: &str = "sign-in refused: bad user name or password, or account locked";

/// A new web session: `token` goes into the cookie and is never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub expires_at: String,
}

/// A valid session, resolved from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub principal: Principal,
    pub expires_at: String,
}

/// An API token's public facts (never the secret).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// Counts of visible events for a dashboard: one row per (kind, country,
/// date) with its count.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventCount {
    pub kind: EventKind,
    pub country: String,
    pub date: String,
    pub count: i64,
}

fn random_secret() -> String {
    let mut buf = [0u8; 32];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The stored form of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn later(seconds: i64) -> String {
    timestamp_text(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

impl Store {
    async fn audit_auth(
        &self,
        actor: Option<&Principal>,
        action: &str,
        target: String,
        decision: Decision,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        audit::append(
            self,
            &mut tx,
            actor,
            AuditRecord {
                action,
                target,
                case_id: None,
                decision,
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Password sign-in for the network interfaces: refuses a locked account
    /// without checking the password, counts failures, and locks the account
    /// for an exponentially growing time after [`LOCKOUT_THRESHOLD`] failures
    /// in a row. Success resets the count. Every outcome is audited (by
    /// [`Store::authenticate`] or here) without the password.
    pub async fn login(&self, user_name: &str, password: &str) -> Result<Principal, StoreError> {
        let name: String = user_name.trim().chars().take(64).collect();
        let row = sqlx::query("SELECT id, failed_logins, locked_until FROM users WHERE name = $1")
            .bind(name.clone())
            .fetch_optional(self.pool())
            .await?;
        let now = now_text();
        if let Some(r) = &row {
            let locked_until: Option<String> = r.try_get("locked_until")?;
            if locked_until.as_deref().is_some_and(|t| t > now.as_str()) {
                self.audit_auth(
                    None,
                    "auth.login",
                    format!("user:{name}"),
                    Decision::Deny("account locked"),
                    serde_json::json!({"user": name, "locked_until": locked_until}),
                )
                .await?;
                return Err(StoreError::Denied(LOGIN_REFUSED.into()));
            }
        }
        match self.authenticate(&name, password).await {
            Ok(p) => {
                sqlx::query(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                )
                .bind(p.user_id)
                .execute(self.pool())
                .await?;
                Ok(p)
            }
            Err(StoreError::Denied(_)) => {
                if let Some(r) = &row {
                    let id: i64 = r.try_get("id")?;
                    let failed: i64 = r.try_get::<i64, _>("failed_logins")? + 1;
                    let lock = if failed >= LOCKOUT_THRESHOLD {
                        let steps = (failed - LOCKOUT_THRESHOLD).min(20) as u32;
                        let secs = LOCKOUT_BASE_SECONDS
                            .saturating_mul(1i64 << steps)
                            .min(LOCKOUT_MAX_SECONDS);
                        Some((later(secs), secs))
                    } else {
                        None
                    };
                    sqlx::query(
                        "UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3",
                    )
                    .bind(failed)
                    .bind(lock.as_ref().map(|l| l.0.clone()))
                    .bind(id)
                    .execute(self.pool())
                    .await?;
                    if let Some((until, secs)) = lock {
                        self.audit_auth(
                            None,
                            "auth.lockout",
                            format!("user:{id}"),
                            Decision::Deny("too many failed sign-ins"),
                            serde_json::json!({"user": name, "failed": failed,
                                "locked_until": until, "seconds": secs}),
                        )
                        .await?;
                    }
                }
                Err(StoreError::Denied(LOGIN_REFUSED.into()))
            }
            Err(e) => Err(e),
        }
    }

    /// Opens a web session for a principal that has just signed in.
    pub async fn create_session(
        &self,
        p: &Principal,
        ttl_seconds: i64,
    ) -> Result<NewSession, StoreError> {
        let token = random_secret();
        let expires_at = later(ttl_seconds);
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at, address) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(secret_hash(&token))
        .bind(p.user_id)
        .bind(now_text())
        .bind(expires_at.clone())
        .bind(self.origin.address.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(
            &mut tx,
            p,
            "auth.session.open",
            format!("session:{id}"),
            None,
            Decision::Allow("signed in"),
            serde_json::json!({"expires_at": expires_at}),
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession { token, expires_at })
    }

    /// Resolves a session cookie: `None` for an unknown, expired or revoked
    /// session or a disabled user.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id, s.expires_at, s.revoked_at, u.name FROM web_sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(secret_hash(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: String = row.try_get("expires_at")?;
        let revoked: Option<String> = row.try_get("revoked_at")?;
        if revoked.is_some() || expires_at.as_str() <= now_text().as_str() {
            return Ok(None);
        }
        let name: String = row.try_get("name")?;
        match self.principal(&name).await {
            Ok(principal) => Ok(Some(Session {
                id: row.try_get("id")?,
                principal,
                expires_at,
            })),
            Err(StoreError::Denied(_)) | Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Ends a session (sign-out). Unknown tokens are ignored.
    pub async fn revoke_session(&self, token: &str) -> Result<(), StoreError> {
        let Some(s) = self.session(token).await? else {
            return Ok(());
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE web_sessions SET revoked_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(s.id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            &s.principal,
            "auth.session.close",
            format!("session:{}", s.id),
            None,
            Decision::Allow("signed out"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an API token for the principal; the secret is returned once
    /// and only its hash is kept.
    pub async fn create_api_token(
        &self,
        p: &Principal,
        name: &str,
        expires_days: Option<i64>,
    ) -> Result<(ApiToken, String), StoreError> {
        let name = parse_name("name", name)?;
        if let Some(d) = expires_days
            && !(1..=3650).contains(&d)
        {
            return Err(vigil_domain::ValidationError::new(
                "expires-days",
                &d.to_string(),
                "must be between 1 and 3650",
            )
            .into());
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let expires_at = expires_days.map(|d| later(d * 86_400));
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(p.user_id)
        .bind(name.clone())
        .bind(secret_hash(&secret))
        .bind(now_text())
        .bind(expires_at.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(
            &mut tx,
            p,
            "auth.token.create",
            format!("token:{id}"),
            None,
            Decision::Allow("own token"),
            serde_json::json!({"name": name, "expires_at": expires_at}),
        )
        .await?;
        let token = self.fetch_token(&mut tx, id).await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    async fn fetch_token(
        &self,
        tx: &mut crate::records::Tx,
        id: i64,
    ) -> Result<ApiToken, StoreError> {
        let row = sqlx::query(
            "SELECT t.id, u.name AS user_name, t.name, t.created_at, t.expires_at, t.revoked_at, \
             t.last_used_at, t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("token", id))?;
        token_from_row(&row)
    }

    /// The principal's own tokens; administrators see their agency's.
    pub async fn list_api_tokens(&self, p: &Principal) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, u.name AS user_name, t.name, t.created_at, t.expires_at, t.revoked_at, \
             t.last_used_at, t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.user_id = $1 OR ($2 = 1 AND u.agency_id = $3) ORDER BY t.id",
        )
        .bind(p.user_id)
        .bind(i64::from(p.can(Capability::ManageUsers)))
        .bind(p.agency_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token: the holder's own, or any of the agency's for an
    /// administrator. Others' tokens look "not found".
    pub async fn revoke_api_token(&self, p: &Principal, id: i64) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT t.user_id, u.agency_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("token", id))?;
        let (owner, agency): (i64, i64) = (row.try_get("user_id")?, row.try_get("agency_id")?);
        let allowed = owner == p.user_id
            || (agency == p.agency_id && access::require(p, Capability::ManageUsers).allowed());
        if !allowed {
            return self
                .refuse(
                    tx,
                    p,
                    "auth.token.revoke",
                    format!("token:{id}"),
                    None,
                    Decision::Deny("token of another user"),
                    true,
                )
                .await;
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "auth.token.revoke",
            format!("token:{id}"),
            None,
            Decision::Allow("own token or administrator"),
            serde_json::json!({}),
        )
        .await?;
        let token = self.fetch_token(&mut tx, id).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Resolves a bearer token to its principal. Unknown, revoked and expired
    /// tokens are refused and audited; a token's use is audited on its first
    /// use and then at most once an hour (with `last_used_at`), so that a
    /// busy client does not turn every read into a write.
    pub async fn token_principal(&self, secret: &str) -> Result<Principal, StoreError> {
        let refused = || StoreError::Denied("invalid or expired API token".into());
        let row = sqlx::query(
            "SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.name FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(secret_hash(secret))
        .fetch_optional(self.pool())
        .await?;
        let now = now_text();
        let Some(row) = row else {
            self.audit_auth(
                None,
                "auth.token.use",
                "token:unknown".into(),
                Decision::Deny("unknown token"),
                serde_json::json!({}),
            )
            .await?;
            return Err(refused());
        };
        let id: i64 = row.try_get("id")?;
        let expires: Option<String> = row.try_get("expires_at")?;
        let revoked: Option<String> = row.try_get("revoked_at")?;
        let last_used: Option<String> = row.try_get("last_used_at")?;
        let name: String = row.try_get("name")?;
        let why = if revoked.is_some() {
            Some("revoked token")
        } else if expires.as_deref().is_some_and(|e| e <= now.as_str()) {
            Some("expired token")
        } else {
            None
        };
        if let Some(why) = why {
            self.audit_auth(
                None,
                "auth.token.use",
                format!("token:{id}"),
                Decision::Deny(why),
                serde_json::json!({"user": name}),
            )
            .await?;
            return Err(refused());
        }
        let p = match self.principal(&name).await {
            Ok(p) => p,
            Err(StoreError::Denied(_)) => return Err(refused()),
            Err(e) => return Err(e),
        };
        let hour_ago = timestamp_text(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
        if last_used.as_deref().is_none_or(|t| t < hour_ago.as_str()) {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            self.log(
                &mut tx,
                &p,
                "auth.token.use",
                format!("token:{id}"),
                None,
                Decision::Allow("valid token"),
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(p)
    }

    /// Counts of the events the principal may read in the cases of one
    /// operation (or of all readable cases), for the outcomes dashboard.
    /// Authorised per case (and per person's own marking) and audited.
    pub async fn event_counts(
        &self,
        p: &Principal,
        operation: Option<&str>,
    ) -> Result<Vec<EventCount>, StoreError> {
        self.require(p, Capability::ReadCase, "dashboard.read")
            .await?;
        let mut tx = self.begin_write().await?;
        let case_ids: Vec<i64> = match operation {
            Some(op) => {
                sqlx::query(
                    "SELECT c.id FROM cases c JOIN operations o ON o.id = c.operation_id \
                 WHERE o.name = $1 ORDER BY c.id",
                )
                .bind(op.trim().to_string())
                .fetch_all(&mut *tx)
                .await?
            }
            None => {
                sqlx::query("SELECT id FROM cases ORDER BY id")
                    .fetch_all(&mut *tx)
                    .await?
            }
        }
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
        let mut counts: std::collections::BTreeMap<(EventKind, String, String), i64> =
            Default::default();
        let mut read_cases = Vec::new();
        for case_id in case_ids {
            let ca = self.case_access(&mut tx, p, case_id).await?;
            let rows = sqlx::query(
                "SELECT e.kind, e.country, e.date, p.release FROM events e \
                 JOIN persons p ON p.id = e.person_id WHERE e.case_id = $1",
            )
            .bind(case_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut any = false;
            for r in &rows {
                let release: Option<String> = r.try_get("release")?;
                let release = release
                    .as_deref()
                    .map(vigil_domain::Release::parse)
                    .transpose()?;
                if !access::can_read(p, &ca.scope(release.as_ref(), &ca.release)).allowed() {
                    continue;
                }
                any = true;
                let kind: String = r.try_get("kind")?;
                let key = (
                    EventKind::parse("kind", &kind)?,
                    r.try_get::<String, _>("country")?,
                    r.try_get::<String, _>("date")?,
                );
                *counts.entry(key).or_default() += 1;
            }
            if any || access::can_read(p, &ca.scope(None, &ca.release)).allowed() {
                read_cases.push(case_id);
            }
        }
        self.log(
            &mut tx,
            p,
            "dashboard.read",
            operation.map_or("dashboard".into(), |o| format!("operation:{o}")),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"cases": read_cases}),
        )
        .await?;
        tx.commit().await?;
        Ok(counts
            .into_iter()
            .map(|((kind, country, date), count)| EventCount {
                kind,
                country,
                date,
                count,
            })
            .collect())
    }
}

fn token_from_row(row: &sqlx::any::AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user: row.try_get("user_name")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}
