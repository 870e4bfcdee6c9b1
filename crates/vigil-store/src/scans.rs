//! Scans of seized devices and their evidence items.
//!
//! A scan is keyed by (device, root path): running the same `vigil scan`
//! again after a crash finds the scan, learns which paths are already
//! recorded and continues with the rest, and because items are inserted with
//! `ON CONFLICT DO NOTHING` on (scan, path) a file is never recorded twice —
//! even if a batch was committed just before the process died. Items are
//! committed in batches, each batch one transaction with one audit entry.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use vigil_domain::access::{self};
use vigil_domain::records::parse_name;
use vigil_domain::{Capability, Decision, Principal};

use crate::{Store, StoreError, new_uid, now_text};

/// One file's record as the store keeps it: hashes and metadata, never
/// content.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct EvidenceItem {
    /// Relative path in the scanner's lossless text form.
    pub path: String,
    pub entry_type: String,
    pub link_target: Option<String>,
    pub size: Option<i64>,
    pub modified_at: Option<String>,
    pub created_at_fs: Option<String>,
    pub mime: Option<String>,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub pdq: Option<String>,
    pub pdq_quality: Option<i64>,
    /// The 8 dihedral PDQ hashes, comma-separated, reference order.
    pub pdq_dihedral: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub exif_orientation: Option<i64>,
    pub error: Option<String>,
}

impl EvidenceItem {
    const COLUMNS: &'static str = "path, entry_type, link_target, size, modified_at, created_at_fs, \
        mime, md5, sha1, sha256, pdq, pdq_quality, pdq_dihedral, width, height, exif_orientation, error";

    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(EvidenceItem {
            path: r.try_get("path")?,
            entry_type: r.try_get("entry_type")?,
            link_target: r.try_get("link_target")?,
            size: r.try_get("size")?,
            modified_at: r.try_get("modified_at")?,
            created_at_fs: r.try_get("created_at_fs")?,
            mime: r.try_get("mime")?,
            md5: r.try_get("md5")?,
            sha1: r.try_get("sha1")?,
            sha256: r.try_get("sha256")?,
            pdq: r.try_get("pdq")?,
            pdq_quality: r.try_get("pdq_quality")?,
            pdq_dihedral: r.try_get("pdq_dihedral")?,
            width: r.try_get("width")?,
            height: r.try_get("height")?,
            exif_orientation: r.try_get("exif_orientation")?,
            error: r.try_get("error")?,
        })
    }
}

/// A scan run and its totals (counted from the stored items, so a resumed
/// scan reports the whole device, not just the last run).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Scan {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub device_id: i64,
    pub device: String,
    pub root: String,
    pub status: String,
    pub files: i64,
    pub bytes: i64,
    pub images: i64,
    pub errors: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub created_by: String,
}

/// What `begin_scan` found: the scan to write to and the paths it already
/// holds (empty for a new scan).
#[derive(Debug, Clone)]
pub struct ScanStart {
    pub scan: Scan,
    pub resumed: bool,
    pub recorded_paths: std::collections::HashSet<String>,
}

const SCAN_SELECT: &str = "SELECT s.id, s.uid, s.case_id, s.device_id, d.label AS device, s.root, \
    s.status, s.started_at, s.finished_at, u.name AS created_by, \
    (SELECT COUNT(*) FROM evidence_items e WHERE e.scan_id = s.id) AS files, \
    (SELECT COALESCE(SUM(e.size), 0) FROM evidence_items e WHERE e.scan_id = s.id AND e.entry_type = 'file') AS bytes, \
    (SELECT COUNT(*) FROM evidence_items e WHERE e.scan_id = s.id AND e.pdq IS NOT NULL) AS images, \
    (SELECT COUNT(*) FROM evidence_items e WHERE e.scan_id = s.id AND e.error IS NOT NULL) AS errors \
    FROM scans s JOIN devices d ON d.id = s.device_id JOIN users u ON u.id = s.created_by";

fn scan_from_row(r: &AnyRow) -> Result<Scan, sqlx::Error> {
    Ok(Scan {
        id: r.try_get("id")?,
        uid: r.try_get("uid")?,
        case_id: r.try_get("case_id")?,
        device_id: r.try_get("device_id")?,
        device: r.try_get("device")?,
        root: r.try_get("root")?,
        status: r.try_get("status")?,
        files: r.try_get("files")?,
        bytes: r.try_get("bytes")?,
        images: r.try_get("images")?,
        errors: r.try_get("errors")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        created_by: r.try_get("created_by")?,
    })
}

impl Store {
    fn scan_select(&self) -> String {
        // PostgreSQL's SUM(bigint) is numeric, which the Any driver cannot
        // decode; cast it back.
        match self.backend() {
            crate::Backend::Postgres => SCAN_SELECT.replace(
                "COALESCE(SUM(e.size), 0)",
                "CAST(COALESCE(SUM(e.size), 0) AS BIGINT)",
            ),
            crate::Backend::Sqlite => SCAN_SELECT.to_string(),
        }
    }

    async fn fetch_scan(
        &self,
        tx: &mut crate::records::Tx,
        scan_id: i64,
    ) -> Result<Scan, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE s.id = $1",
            self.scan_select()
        )))
        .bind(scan_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("scan", scan_id))?;
        Ok(scan_from_row(&row)?)
    }

    /// Starts a scan of `root` on the device labelled `device` in a case, or
    /// finds the earlier run of the same scan to resume it.
    pub async fn begin_scan(
        &self,
        p: &Principal,
        case_id: i64,
        device: &str,
        root: &str,
    ) -> Result<ScanStart, StoreError> {
        let device_label = parse_name("device", device)?;
        self.require(p, Capability::RunScans, "scan.start").await?;
        let device = self
            .ensure_device(p, case_id, &device_label, "scan")
            .await?;
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "scan.start", format!("case:{case_id}"))
            .await?;
        let existing = sqlx::query("SELECT id FROM scans WHERE device_id = $1 AND root = $2")
            .bind(device.id)
            .bind(root.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let (scan_id, resumed) = match existing {
            Some(row) => (row.try_get::<i64, _>("id")?, true),
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO scans (uid, case_id, device_id, root, status, started_at, created_by) \
                     VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id",
                )
                .bind(new_uid())
                .bind(case_id)
                .bind(device.id)
                .bind(root.to_string())
                .bind(now_text())
                .bind(p.user_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                (id, false)
            }
        };
        if resumed {
            sqlx::query("UPDATE scans SET status = 'running', finished_at = NULL WHERE id = $1")
                .bind(scan_id)
                .execute(&mut *tx)
                .await?;
        }
        let recorded_paths = sqlx::query("SELECT path FROM evidence_items WHERE scan_id = $1")
            .bind(scan_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("path"))
            .collect::<Result<_, _>>()?;
        self.log(
            &mut tx,
            p,
            if resumed { "scan.resume" } else { "scan.start" },
            format!("scan:{scan_id}"),
            Some(case_id),
            Decision::Allow("run-scans"),
            serde_json::json!({"device": device_label, "root": root}),
        )
        .await?;
        let scan = self.fetch_scan(&mut tx, scan_id).await?;
        tx.commit().await?;
        Ok(ScanStart {
            scan,
            resumed,
            recorded_paths,
        })
    }

    /// Records a batch of evidence items in one transaction. Paths already
    /// recorded for the scan are left as they are (a crash-and-resume can
    /// present a file twice). Returns how many were new.
    pub async fn record_evidence(
        &self,
        p: &Principal,
        scan_id: i64,
        items: &[EvidenceItem],
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let scan = self.fetch_scan(&mut tx, scan_id).await?;
        let (mut tx, _) = self
            .authorize_case_write(
                tx,
                p,
                scan.case_id,
                "scan.record",
                format!("scan:{scan_id}"),
            )
            .await?;
        if !p.can(Capability::RunScans) {
            let d = access::require(p, Capability::RunScans);
            return self
                .refuse(
                    tx,
                    p,
                    "scan.record",
                    format!("scan:{scan_id}"),
                    Some(scan.case_id),
                    d,
                    false,
                )
                .await;
        }
        let now = now_text();
        let mut added = 0u64;
        for item in items {
            let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO evidence_items (scan_id, case_id, device_id, {}, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
                 ON CONFLICT (scan_id, path) DO NOTHING",
                EvidenceItem::COLUMNS
            )))
            .bind(scan_id)
            .bind(scan.case_id)
            .bind(scan.device_id)
            .bind(item.path.clone())
            .bind(item.entry_type.clone())
            .bind(item.link_target.clone())
            .bind(item.size)
            .bind(item.modified_at.clone())
            .bind(item.created_at_fs.clone())
            .bind(item.mime.clone())
            .bind(item.md5.clone())
            .bind(item.sha1.clone())
            .bind(item.sha256.clone())
            .bind(item.pdq.clone())
            .bind(item.pdq_quality)
            .bind(item.pdq_dihedral.clone())
            .bind(item.width)
            .bind(item.height)
            .bind(item.exif_orientation)
            .bind(item.error.clone())
            .bind(now.clone())
            .execute(&mut *tx)
            .await?;
            added += r.rows_affected();
        }
        self.log(
            &mut tx,
            p,
            "scan.record",
            format!("scan:{scan_id}"),
            Some(scan.case_id),
            Decision::Allow("run-scans"),
            serde_json::json!({"items": items.len(), "new": added}),
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Marks a scan complete and returns its totals.
    pub async fn finish_scan(&self, p: &Principal, scan_id: i64) -> Result<Scan, StoreError> {
        let mut tx = self.begin_write().await?;
        let scan = self.fetch_scan(&mut tx, scan_id).await?;
        let (mut tx, _) = self
            .authorize_case_write(
                tx,
                p,
                scan.case_id,
                "scan.finish",
                format!("scan:{scan_id}"),
            )
            .await?;
        sqlx::query("UPDATE scans SET status = 'complete', finished_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(scan_id)
            .execute(&mut *tx)
            .await?;
        let scan = self.fetch_scan(&mut tx, scan_id).await?;
        self.log(
            &mut tx,
            p,
            "scan.finish",
            format!("scan:{scan_id}"),
            Some(scan.case_id),
            Decision::Allow("run-scans"),
            serde_json::json!({"files": scan.files, "images": scan.images, "errors": scan.errors}),
        )
        .await?;
        tx.commit().await?;
        Ok(scan)
    }

    /// A scan and (optionally) its items, if the principal may read its case.
    pub async fn show_scan(
        &self,
        p: &Principal,
        scan_id: i64,
        with_items: bool,
    ) -> Result<(Scan, Vec<EvidenceItem>), StoreError> {
        let mut tx = self.begin_write().await?;
        let scan = self.fetch_scan(&mut tx, scan_id).await?;
        let ca = self.case_access(&mut tx, p, scan.case_id).await?;
        let d = access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "scan.read",
                    format!("scan:{scan_id}"),
                    Some(scan.case_id),
                    d,
                    other,
                )
                .await;
        }
        let items = if with_items {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM evidence_items WHERE scan_id = $1 ORDER BY path",
                EvidenceItem::COLUMNS
            )))
            .bind(scan_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(EvidenceItem::from_row)
            .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        self.log(
            &mut tx,
            p,
            "scan.read",
            format!("scan:{scan_id}"),
            Some(scan.case_id),
            d,
            serde_json::json!({"items": with_items}),
        )
        .await?;
        tx.commit().await?;
        Ok((scan, items))
    }

    /// Scans of a case (or all readable cases).
    pub async fn list_scans(
        &self,
        p: &Principal,
        case_id: Option<i64>,
    ) -> Result<Vec<Scan>, StoreError> {
        let cases: Vec<i64> = match case_id {
            Some(c) => vec![c],
            None => self.list_cases(p).await?.iter().map(|c| c.id).collect(),
        };
        let mut out = Vec::new();
        for c in cases {
            let mut tx = self.begin_write().await?;
            let ca = self.case_access(&mut tx, p, c).await?;
            let d = access::can_read(p, &ca.scope(None, &ca.release));
            if !d.allowed() {
                let other = ca.agency_id != p.agency_id;
                return self
                    .refuse(tx, p, "scan.list", format!("case:{c}"), Some(c), d, other)
                    .await;
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE s.case_id = $1 ORDER BY s.id",
                self.scan_select()
            )))
            .bind(c)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                out.push(scan_from_row(r)?);
            }
            self.log(
                &mut tx,
                p,
                "scan.list",
                format!("case:{c}"),
                Some(c),
                d,
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(out)
    }
}

impl Store {
    /// One page of a scan's evidence items (by path) and how many there are:
    /// a device can hold tens of thousands of files, more than one answer
    /// should carry.
    pub async fn scan_items(
        &self,
        p: &Principal,
        scan_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<EvidenceItem>), StoreError> {
        let mut tx = self.begin_write().await?;
        let scan = self.fetch_scan(&mut tx, scan_id).await?;
        let ca = self.case_access(&mut tx, p, scan.case_id).await?;
        let d = access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "scan.items",
                    format!("scan:{scan_id}"),
                    Some(scan.case_id),
                    d,
                    other,
                )
                .await;
        }
        let items = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM evidence_items WHERE scan_id = $1 ORDER BY path LIMIT $2 OFFSET $3",
            EvidenceItem::COLUMNS
        )))
        .bind(scan_id)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(EvidenceItem::from_row)
        .collect::<Result<Vec<_>, _>>()?;
        self.log(
            &mut tx,
            p,
            "scan.items",
            format!("scan:{scan_id}"),
            Some(scan.case_id),
            d,
            serde_json::json!({"limit": limit, "offset": offset}),
        )
        .await?;
        tx.commit().await?;
        Ok((scan.files, items))
    }
}
