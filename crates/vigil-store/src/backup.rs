//! Backup and restore as a portable, checksummed JSON Lines dump.
//!
//! A logical dump (rather than copying the SQLite file) works the same on
//! both backends, can move an agency from SQLite to PostgreSQL, and is read
//! inside one snapshot transaction, so `vigil backup` of a database that is
//! being written to is still consistent. The file is: a header line, one line
//! per row (`{"t": table, "r": [values…]}`), and a trailer with the row count
//! and the SHA-256 of every preceding line, which restore checks before it
//! writes anything.

use std::io::{BufRead, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::schema::{SCHEMA_VERSION, current_version};
use crate::{Backend, Store, StoreError, now_text};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Int,
    Text,
}

struct Table {
    name: &'static str,
    key: &'static str,
    columns: &'static [(&'static str, Col)],
    /// Columns that reference rows of the same table, possibly later ones:
    /// restored as NULL and filled in by a second pass.
    self_refs: &'static [&'static str],
    /// Has an identity column whose sequence must be moved past the restored
    /// ids on PostgreSQL.
    identity: bool,
}

use Col::{Int, Text};

/// Every table in dependency order. `tests/store.rs` checks this list against
/// the live schema of both backends, so a migration that adds a column
/// without adding it here fails the tests.
const TABLES: &[Table] = &[
    Table {
        name: "agencies",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("name", Text),
            ("country", Text),
            ("contact", Text),
            ("is_local", Int),
            ("created_at", Text),
        ],
    },
    Table {
        name: "users",
        key: "id",
        identity: true,
        self_refs: &["created_by"],
        columns: &[
            ("id", Int),
            ("agency_id", Int),
            ("name", Text),
            ("roles", Text),
            ("password_hash", Text),
            ("disabled", Int),
            ("failed_logins", Int),
            ("locked_until", Text),
            ("created_at", Text),
            ("created_by", Int),
        ],
    },
    Table {
        name: "operations",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("name", Text),
            ("created_by", Int),
            ("created_at", Text),
        ],
    },
    Table {
        name: "cases",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("title", Text),
            ("operation_id", Int),
            ("agency_id", Int),
            ("release", Text),
            ("retention_until", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("source", Text),
        ],
    },
    Table {
        name: "case_members",
        key: "case_id, user_id",
        identity: false,
        self_refs: &[],
        columns: &[
            ("case_id", Int),
            ("user_id", Int),
            ("added_by", Int),
            ("added_at", Text),
        ],
    },
    Table {
        name: "persons",
        key: "id",
        identity: true,
        self_refs: &["merged_into"],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("case_id", Int),
            ("role", Text),
            ("label", Text),
            ("country", Text),
            ("release", Text),
            ("merged_into", Int),
            ("created_by", Int),
            ("created_at", Text),
            ("source", Text),
        ],
    },
    Table {
        name: "identifiers",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("case_id", Int),
            ("person_id", Int),
            ("kind", Text),
            ("raw", Text),
            ("normalized", Text),
            ("network", Text),
            ("port", Int),
            ("first_seen", Text),
            ("last_seen", Text),
            ("release", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("source", Text),
        ],
    },
    Table {
        name: "devices",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("case_id", Int),
            ("person_id", Int),
            ("label", Text),
            ("description", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("source", Text),
        ],
    },
    Table {
        name: "events",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("case_id", Int),
            ("person_id", Int),
            ("kind", Text),
            ("date", Text),
            ("country", Text),
            ("agency_id", Int),
            ("details", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("source", Text),
        ],
    },
    Table {
        name: "notes",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("case_id", Int),
            ("person_id", Int),
            ("body", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("source", Text),
        ],
    },
    Table {
        name: "scans",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("uid", Text),
            ("case_id", Int),
            ("device_id", Int),
            ("root", Text),
            ("status", Text),
            ("files", Int),
            ("bytes", Int),
            ("images", Int),
            ("errors", Int),
            ("started_at", Text),
            ("finished_at", Text),
            ("created_by", Int),
        ],
    },
    Table {
        name: "evidence_items",
        key: "id",
        identity: true,
        self_refs: &[],
        columns: &[
            ("id", Int),
            ("scan_id", Int),
            ("case_id", Int),
            ("device_id", Int),
            ("path", Text),
            ("entry_type", Text),
            ("link_target", Text),
            ("size", Int),
            ("modified_at", Text),
            ("created_at_fs", Text),
            ("mime", Text),
            ("md5", Text),
            ("sha1", Text),
            ("sha256", Text),
            ("pdq", Text),
            ("pdq_quality", Int),
            ("pdq_dihedral", Text),
            ("width", Int),
            ("height", Int),
            ("exif_orientation", Int),
            ("error", Text),
            ("recorded_at", Text),
        ],
    },
    Table {
        name: "audit_log",
        key: "seq",
        identity: false,
        self_refs: &[],
        columns: &[
            ("seq", Int),
            ("at", Text),
            ("user_id", Int),
            ("user_name", Text),
            ("agency_id", Int),
            ("action", Text),
            ("target", Text),
            ("case_id", Int),
            ("origin", Text),
            ("outcome", Text),
            ("detail", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
    },
];

/// Table and column names the backup covers, for the schema-drift test.
pub fn backup_columns() -> Vec<(&'static str, Vec<&'static str>)> {
    TABLES
        .iter()
        .map(|t| (t.name, t.columns.iter().map(|c| c.0).collect()))
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub rows: u64,
    pub tables: usize,
    pub sha256: String,
    pub schema_version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreSummary {
    pub rows: u64,
    pub schema_version: i64,
}

#[derive(Serialize, serde::Deserialize)]
struct Header {
    vigil_backup: u32,
    schema_version: i64,
    backend: String,
    created_at: String,
}

#[derive(Serialize, serde::Deserialize)]
struct Trailer {
    end: bool,
    rows: u64,
    sha256: String,
}

fn write_line(out: &mut impl Write, hasher: &mut Sha256, line: &str) -> std::io::Result<()> {
    hasher.update(line.as_bytes());
    hasher.update(b"\n");
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

impl Store {
    /// Writes a consistent snapshot of the whole database to `out`.
    ///
    /// Backups are an administrator's job and are audited after the snapshot
    /// is taken (so the entry is not part of the backup it describes).
    pub async fn backup(
        &self,
        p: &crate::Principal,
        out: &mut impl Write,
    ) -> Result<BackupSummary, StoreError> {
        self.require(p, vigil_domain::Capability::ManageUsers, "instance.backup")
            .await?;
        let mut tx = match self.backend() {
            // A read transaction in WAL mode sees one snapshot for its whole
            // life; the first SELECT fixes it.
            Backend::Sqlite => self.pool().begin().await?,
            Backend::Postgres => {
                self.pool()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let version: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM vigil_schema")
            .fetch_one(&mut *tx)
            .await?
            .try_get("v")?;
        let schema_version = version.unwrap_or(0);
        let mut hasher = Sha256::new();
        let header = Header {
            vigil_backup: 1,
            schema_version,
            backend: self.backend().as_str().into(),
            created_at: now_text(),
        };
        let header_line =
            serde_json::to_string(&header).map_err(|e| StoreError::Backup(e.to_string()))?;
        write_line(out, &mut hasher, &header_line)?;
        let mut rows = 0u64;
        for t in TABLES {
            let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {}",
                cols.join(", "),
                t.name,
                t.key
            );
            let fetched = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await?;
            for row in &fetched {
                let mut values = Vec::with_capacity(t.columns.len());
                for (i, (_, ty)) in t.columns.iter().enumerate() {
                    let v = match ty {
                        Int => row
                            .try_get::<Option<i64>, _>(i)?
                            .map_or(serde_json::Value::Null, Into::into),
                        Text => row
                            .try_get::<Option<String>, _>(i)?
                            .map_or(serde_json::Value::Null, Into::into),
                    };
                    values.push(v);
                }
                let line = serde_json::json!({"t": t.name, "r": values}).to_string();
                write_line(out, &mut hasher, &line)?;
                rows += 1;
            }
        }
        tx.commit().await?;
        let sha256 = hex::encode(hasher.finalize());
        let trailer = serde_json::to_string(&Trailer {
            end: true,
            rows,
            sha256: sha256.clone(),
        })
        .map_err(|e| StoreError::Backup(e.to_string()))?;
        out.write_all(trailer.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(BackupSummary {
            rows,
            tables: TABLES.len(),
            sha256,
            schema_version,
        })
    }

    /// Restores a backup into this database, which must be empty (freshly
    /// created). The file's checksum is verified before anything is written,
    /// and the whole restore is one transaction.
    pub async fn restore(&self, input: impl BufRead) -> Result<RestoreSummary, StoreError> {
        let lines: Vec<String> = input.lines().collect::<Result<_, _>>()?;
        let (trailer_line, body) = lines
            .split_last()
            .ok_or_else(|| StoreError::Backup("empty file".into()))?;
        let trailer: Trailer = serde_json::from_str(trailer_line)
            .map_err(|_| StoreError::Backup("missing trailer: the file is truncated".into()))?;
        let mut hasher = Sha256::new();
        for l in body {
            hasher.update(l.as_bytes());
            hasher.update(b"\n");
        }
        if hex::encode(hasher.finalize()) != trailer.sha256 || !trailer.end {
            return Err(StoreError::Backup(
                "checksum mismatch: the file was altered or damaged".into(),
            ));
        }
        let (header_line, rows) = body
            .split_first()
            .ok_or_else(|| StoreError::Backup("missing header".into()))?;
        let header: Header = serde_json::from_str(header_line)
            .map_err(|e| StoreError::Backup(format!("bad header: {e}")))?;
        if header.vigil_backup != 1 {
            return Err(StoreError::Backup(format!(
                "unsupported backup format {}",
                header.vigil_backup
            )));
        }
        if header.schema_version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: header.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        if rows.len() as u64 != trailer.rows {
            return Err(StoreError::Backup("row count mismatch".into()));
        }
        if header.schema_version != current_version(self).await? {
            return Err(StoreError::Backup(format!(
                "backup is schema version {}, database is {}",
                header.schema_version,
                current_version(self).await?
            )));
        }
        let mut tx = self.begin_write().await?;
        for t in TABLES {
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n FROM {}",
                t.name
            )))
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if n > 0 {
                return Err(StoreError::Backup(format!(
                    "the target database is not empty (table {} has {n} rows); restore into a new database",
                    t.name
                )));
            }
        }
        let mut deferred: Vec<(&Table, &str, serde_json::Value, serde_json::Value)> = Vec::new();
        for (i, line) in rows.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| StoreError::Backup(format!("line {}: {e}", i + 2)))?;
            let name = v["t"].as_str().unwrap_or_default();
            let table = TABLES.iter().find(|t| t.name == name).ok_or_else(|| {
                StoreError::Backup(format!("line {}: unknown table {name:?}", i + 2))
            })?;
            let values = v["r"]
                .as_array()
                .filter(|a| a.len() == table.columns.len())
                .ok_or_else(|| StoreError::Backup(format!("line {}: wrong column count", i + 2)))?;
            let cols: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
            let placeholders: Vec<String> = (1..=cols.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                table.name,
                cols.join(", "),
                placeholders.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((col, ty), value) in table.columns.iter().zip(values) {
                let value = if table.self_refs.contains(col) && !value.is_null() {
                    deferred.push((table, col, values[0].clone(), value.clone()));
                    &serde_json::Value::Null
                } else {
                    value
                };
                q = match ty {
                    Int => q.bind(value.as_i64()),
                    Text => q.bind(value.as_str().map(str::to_string)),
                };
            }
            q.execute(&mut *tx).await?;
        }
        for (table, col, key, value) in deferred {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {} SET {col} = $1 WHERE {} = $2",
                table.name, table.key
            )))
            .bind(value.as_i64())
            .bind(key.as_i64())
            .execute(&mut *tx)
            .await?;
        }
        if self.backend() == Backend::Postgres {
            for t in TABLES.iter().filter(|t| t.identity) {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {0}), 0) + 1, false)",
                    t.name
                )))
                .execute(&mut *tx)
                .await?;
            }
        } else {
            // AUTOINCREMENT keeps its high-water mark in sqlite_sequence,
            // which the inserts above already advanced.
        }
        tx.commit().await?;
        Ok(RestoreSummary {
            rows: trailer.rows,
            schema_version: header.schema_version,
        })
    }
}
