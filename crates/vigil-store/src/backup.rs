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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Int,
    Real,
    Text,
}

use Col::{Int, Real, Text};

/// A table as the live schema describes it. The backup reads the schema
/// instead of keeping its own list, so a migration that adds a table or a
/// column is backed up without anyone remembering to register it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, Col)>,
    key: Vec<String>,
    /// Columns that reference rows of the same table, possibly later ones:
    /// restored as NULL and filled in by a second pass.
    self_refs: Vec<String>,
    /// Tables this one references (restored first).
    parents: Vec<String>,
}

fn col_type(declared: &str) -> Result<Col, StoreError> {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        Ok(Int)
    } else if t.contains("real")
        || t.contains("double")
        || t.contains("float")
        || t.contains("numeric")
    {
        Ok(Real)
    } else if t.contains("text") || t.contains("char") {
        Ok(Text)
    } else {
        Err(StoreError::Backup(format!(
            "column type {declared:?} is not supported by backups"
        )))
    }
}

async fn names(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    arg: Option<&str>,
) -> Result<Vec<Vec<String>>, StoreError> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    if let Some(a) = arg {
        q = q.bind(a.to_string());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.try_get::<String, _>(i).map_err(StoreError::from))
                .collect()
        })
        .collect()
}

/// Reads every application table (all but the migration ledger) with its
/// columns, key and foreign keys, in an order where parents precede children.
async fn schema_tables(
    store: &Store,
    conn: &mut sqlx::AnyConnection,
) -> Result<Vec<Table>, StoreError> {
    let (tables_sql, cols_sql, pk_sql, fk_sql) = match store.backend() {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'vigil_schema' ORDER BY name",
            "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
            "SELECT \"from\", \"table\" FROM pragma_foreign_key_list($1)",
        ),
        Backend::Postgres => (
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> 'vigil_schema' ORDER BY table_name",
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            "SELECT k.column_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name \
             AND k.table_schema = c.table_schema AND k.table_name = c.table_name \
             WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() \
             AND c.table_name = $1 ORDER BY k.ordinal_position",
            "SELECT k.column_name::text, u.table_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name \
             AND k.table_schema = c.table_schema \
             JOIN information_schema.constraint_column_usage u ON u.constraint_name = c.constraint_name \
             AND u.constraint_schema = c.table_schema \
             WHERE c.constraint_type = 'FOREIGN KEY' AND c.table_schema = current_schema() \
             AND c.table_name = $1",
        ),
    };
    let mut tables = Vec::new();
    for row in names(conn, tables_sql, None).await? {
        let name = row[0].clone();
        let mut columns = Vec::new();
        for c in names(conn, cols_sql, Some(&name)).await? {
            columns.push((c[0].clone(), col_type(&c[1])?));
        }
        let mut key: Vec<String> = names(conn, pk_sql, Some(&name))
            .await?
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        if key.is_empty() {
            key = columns.iter().map(|c| c.0.clone()).collect();
        }
        let mut self_refs = Vec::new();
        let mut parents = Vec::new();
        for fk in names(conn, fk_sql, Some(&name)).await? {
            if fk[1] == name {
                self_refs.push(fk[0].clone());
            } else if !parents.contains(&fk[1]) {
                parents.push(fk[1].clone());
            }
        }
        tables.push(Table {
            name,
            columns,
            key,
            self_refs,
            parents,
        });
    }
    // Parents first (Kahn's algorithm; the schema has no cycles apart from
    // self references, which are deferred).
    let mut ordered: Vec<Table> = Vec::new();
    while !tables.is_empty() {
        let ready = tables
            .iter()
            .position(|t| {
                t.parents
                    .iter()
                    .all(|p| ordered.iter().any(|o| &o.name == p))
            })
            .ok_or_else(|| StoreError::Backup("foreign keys form a cycle".into()))?;
        ordered.push(tables.remove(ready));
    }
    Ok(ordered)
}

/// Table and column names a backup of this database covers.
pub async fn backup_columns(store: &Store) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let mut conn = store.pool().acquire().await?;
    Ok(schema_tables(store, &mut conn)
        .await?
        .into_iter()
        .map(|t| (t.name, t.columns.into_iter().map(|c| c.0).collect()))
        .collect())
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
        // A backup holds every agency's records: only the administrators of
        // the agency this instance belongs to may take one (a partner
        // agency's administrator would otherwise read unreleased records).
        let mut check = self.begin_write().await?;
        if !self.is_local_agency(&mut check, p.agency_id).await? {
            return self
                .refuse(
                    check,
                    p,
                    "instance.backup",
                    "instance".into(),
                    None,
                    vigil_domain::Decision::Deny(
                        "only the agency this instance belongs to takes backups",
                    ),
                    false,
                )
                .await;
        }
        check.rollback().await?;
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
        let tables = schema_tables(self, &mut tx).await?;
        for t in &tables {
            let cols: Vec<&str> = t.columns.iter().map(|c| c.0.as_str()).collect();
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {}",
                cols.join(", "),
                t.name,
                t.key.join(", ")
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
                        Real => row
                            .try_get::<Option<f64>, _>(i)?
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
            tables: tables.len(),
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
        let tables = schema_tables(self, &mut tx).await?;
        for t in &tables {
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
            let table = tables.iter().find(|t| t.name == name).ok_or_else(|| {
                StoreError::Backup(format!("line {}: unknown table {name:?}", i + 2))
            })?;
            let values = v["r"]
                .as_array()
                .filter(|a| a.len() == table.columns.len())
                .ok_or_else(|| StoreError::Backup(format!("line {}: wrong column count", i + 2)))?;
            let cols: Vec<&str> = table.columns.iter().map(|c| c.0.as_str()).collect();
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
                    deferred.push((table, col.as_str(), values[0].clone(), value.clone()));
                    &serde_json::Value::Null
                } else {
                    value
                };
                q = match ty {
                    Int => q.bind(value.as_i64()),
                    Real => q.bind(value.as_f64()),
                    Text => q.bind(value.as_str().map(str::to_string)),
                };
            }
            q.execute(&mut *tx).await?;
        }
        for (table, col, key, value) in deferred {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {} SET {col} = $1 WHERE {} = $2",
                table.name, table.columns[0].0
            )))
            .bind(value.as_i64())
            .bind(key.as_i64())
            .execute(&mut *tx)
            .await?;
        }
        if self.backend() == Backend::Postgres {
            for t in tables
                .iter()
                .filter(|t| t.columns.iter().any(|c| c.0 == "id"))
            {
                // setval is strict: for a table without a sequence on `id`
                // the sequence name is NULL and nothing happens.
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
