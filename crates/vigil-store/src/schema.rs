//! Versioned migrations, embedded in the binary.
//!
//! Each migration exists twice, once per backend, because DDL differs
//! (identity columns, trigger syntax); both must describe the same tables and
//! columns, which the store tests check by comparing the live schemas with
//! the backup table registry.

use sqlx::Row;

use crate::{Backend, Store, StoreError, now_text};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "records",
        sqlite: include_str!("../migrations/sqlite/0001_records.sql"),
        postgres: include_str!("../migrations/postgres/0001_records.sql"),
    },
    Migration {
        version: 2,
        name: "scans",
        sqlite: include_str!("../migrations/sqlite/0002_scans.sql"),
        postgres: include_str!("../migrations/postgres/0002_scans.sql"),
    },
];

/// The newest schema this program knows.
pub const SCHEMA_VERSION: i64 = 2;

fn checksum(sql: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Applies every migration the database lacks, each in its own transaction,
/// refusing to touch a database written by a newer Vigil or whose applied
/// migrations were edited after the fact.
pub(crate) async fn migrate(store: &Store) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS vigil_schema (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )
    .execute(store.pool())
    .await?;

    for m in MIGRATIONS {
        let sql = match store.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let mut tx = store.begin_write().await?;
        if store.backend() == Backend::Postgres {
            // Two servers starting at once must not both apply a migration.
            sqlx::query("SELECT pg_advisory_xact_lock(7412001)")
                .execute(&mut *tx)
                .await?;
        }
        let newest: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM vigil_schema")
            .fetch_one(&mut *tx)
            .await?
            .try_get("v")?;
        if let Some(found) = newest
            && found > SCHEMA_VERSION
        {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let applied = sqlx::query("SELECT checksum FROM vigil_schema WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await?;
        let sum = checksum(sql);
        if let Some(row) = applied {
            let stored: String = row.try_get("checksum")?;
            if stored != sum {
                return Err(StoreError::Config(format!(
                    "migration {} ({}) differs from the one applied to this database",
                    m.version, m.name
                )));
            }
            tx.commit().await?;
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO vigil_schema (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(sum)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The schema version recorded in the database.
pub(crate) async fn current_version(store: &Store) -> Result<i64, StoreError> {
    let v: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM vigil_schema")
        .fetch_one(store.pool())
        .await?
        .try_get("v")?;
    Ok(v.unwrap_or(0))
}
