//! Retention as data: a case carries the date until which its data may be
//! kept and the legal basis for keeping it; `retention_review` lists the
//! cases whose date has come, for the supervisors and administrators who
//! must decide (extend with a new basis, or delete).
//!
//! Reviewing is an oversight duty, so it needs the read-audit capability
//! (supervisors, agency administrators), sees only the caller's own agency's
//! cases, and is audited like any read.

use serde::Serialize;
use sqlx::Row;
use vigil_domain::records::{format_date, parse_date};
use vigil_domain::{Capability, Decision, Principal, Release, ValidationError};

use crate::{Case, Store, StoreError};

/// A case whose retention date is on or before the review date.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RetentionDue {
    pub case_id: i64,
    pub title: String,
    pub retention_until: String,
    pub retention_basis: Option<String>,
    /// Days between the retention date and the review date (0 = due today).
    pub days_overdue: i64,
}

/// What `vigil case update` and `PATCH /api/cases/{id}` may change; absent
/// fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseUpdate {
    pub title: Option<String>,
    pub release: Option<Release>,
    /// YYYY-MM-DD.
    pub retention_until: Option<String>,
    pub retention_basis: Option<String>,
}

impl CaseUpdate {
    fn touches_retention(&self) -> bool {
        self.retention_until.is_some() || self.retention_basis.is_some()
    }
}

impl Store {
    /// Applies a [`CaseUpdate`]: the retention rule through
    /// [`set_case_retention`](Self::set_case_retention), then title and
    /// release through [`update_case`](Self::update_case) — each authorised
    /// and audited as its own change. An update naming nothing is invalid.
    ///
    /// Why here: the CLI and the API must accept and refuse the same
    /// updates. Why this order: the title is checked before anything is
    /// written and the retention rule (whose basis rule needs the stored
    /// one) goes first, so a refused update changes nothing.
    pub async fn apply_case_update(
        &self,
        p: &Principal,
        case_id: i64,
        update: &CaseUpdate,
    ) -> Result<Case, StoreError> {
        if let Some(t) = &update.title {
            vigil_domain::records::parse_name("title", t)?;
        }
        let mut case = None;
        if update.touches_retention() {
            case = Some(
                self.set_case_retention(
                    p,
                    case_id,
                    update.retention_until.as_deref(),
                    update.retention_basis.as_deref(),
                )
                .await?,
            );
        }
        if update.title.is_some() || update.release.is_some() {
            case = Some(
                self.update_case(p, case_id, update.title.as_deref(), update.release.as_ref())
                    .await?,
            );
        }
        case.ok_or_else(|| {
            ValidationError::new(
                "update",
                "",
                "nothing to update: give a title, a release or a retention date/basis",
            )
            .into()
        })
    }

    /// Sets a case's retention rule. A date needs a legal basis (given now or
    /// already recorded); the basis alone may be corrected. Write-case on the
    /// case, audited with the old and new rule.
    pub async fn set_case_retention(
        &self,
        p: &Principal,
        case_id: i64,
        until: Option<&str>,
        basis: Option<&str>,
    ) -> Result<Case, StoreError> {
        let until = until
            .map(|u| parse_date("retention-until", u).map(format_date))
            .transpose()?;
        let basis = basis
            .map(|b| vigil_domain::records::parse_name("retention-basis", b))
            .transpose()?;
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "case.retention", format!("case:{case_id}"))
            .await?;
        let old = sqlx::query("SELECT retention_until, retention_basis FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *tx)
            .await?;
        let old_until: Option<String> = old.try_get("retention_until")?;
        let old_basis: Option<String> = old.try_get("retention_basis")?;
        if until.is_some() && basis.is_none() && old_basis.is_none() {
            return Err(ValidationError::new(
                "retention-basis",
                "",
                "a retention date needs its legal basis (--retention-basis)",
            )
            .into());
        }
        let new_until = until.clone().or(old_until.clone());
        let new_basis = basis.clone().or(old_basis.clone());
        sqlx::query("UPDATE cases SET retention_until = $1, retention_basis = $2 WHERE id = $3")
            .bind(new_until.clone())
            .bind(new_basis.clone())
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "case.retention",
            format!("case:{case_id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({
                "from": {"until": old_until, "basis": old_basis},
                "to": {"until": new_until, "basis": new_basis},
            }),
        )
        .await?;
        let case = self.fetch_case(&mut tx, case_id).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// The caller's agency's cases whose retention date is on or before
    /// `as_of` (YYYY-MM-DD; default today), oldest first.
    pub async fn retention_review(
        &self,
        p: &Principal,
        as_of: Option<&str>,
    ) -> Result<Vec<RetentionDue>, StoreError> {
        let as_of = match as_of {
            Some(d) => parse_date("as-of", d)?,
            None => time::OffsetDateTime::now_utc().date(),
        };
        self.require(p, Capability::ReadAudit, "retention.review")
            .await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, title, retention_until, retention_basis FROM cases \
             WHERE agency_id = $1 AND retention_until IS NOT NULL AND retention_until <= $2 \
             ORDER BY retention_until, id",
        )
        .bind(p.agency_id)
        .bind(format_date(as_of))
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for r in &rows {
            let until: String = r.try_get("retention_until")?;
            let days = parse_date("retention_until", &until)
                .map(|d| (as_of - d).whole_days())
                .unwrap_or(0);
            due.push(RetentionDue {
                case_id: r.try_get("id")?,
                title: r.try_get("title")?,
                retention_until: until,
                retention_basis: r.try_get("retention_basis")?,
                days_overdue: days,
            });
        }
        self.log(
            &mut tx,
            p,
            "retention.review",
            format!("agency:{}", p.agency_id),
            None,
            Decision::Allow("role grants capability"),
            serde_json::json!({"as_of": format_date(as_of), "due": due.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(due)
    }
}
