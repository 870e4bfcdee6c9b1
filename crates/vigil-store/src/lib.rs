//! Vigil's storage: one repository over an embedded SQLite file or a
//! PostgreSQL server.
//!
//! Everything above this crate (CLI, server, importers) goes through
//! [`Store`], and every operation on case data takes the acting
//! [`Principal`]: the store asks [`vigil_domain::access`] for a decision,
//! records the decision in the hash-chained audit log *in the same
//! transaction* as the change, and only then touches the data. There is no
//! method that reads or writes case data without a principal.
//!
//! Both backends run the same SQL through sqlx's `Any` driver: placeholders
//! are `$1…` (SQLite accepts them too), ids are 64-bit integers, times are
//! RFC 3339 UTC text and flags are 0/1 integers, so one implementation and
//! one test suite cover both. The per-backend differences — DDL, how a write
//! transaction takes its lock, sequence repair after a restore — are
//! confined to [`Backend`] and the two migration folders.

mod audit;
mod auth;
mod backup;
mod chat;
mod checkpoints;
mod error;
mod graph;
mod hashsets;
mod links;
mod records;
mod retention;
mod scans;
mod schema;
mod sealing;
mod share;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use audit::{AuditEntry, AuditFilter, AuditVerification, Origin};
pub use auth::*;
pub use backup::{BackupSummary, RestoreSummary, backup_columns};
pub use chat::*;
pub use checkpoints::{AUTO_CHECKPOINT_EVERY, AuditCheckpoint, checkpoint_message};
pub use error::StoreError;
pub use graph::{GraphCounts, GraphScope, StoreGraph};
pub use hashsets::*;
pub use links::*;
pub use records::*;
pub use retention::{CaseUpdate, RetentionDue};
pub use scans::*;
pub use schema::SCHEMA_VERSION;
pub use sealing::{
    KEY_PASSPHRASE_ENV, KeyUnlock, OpenedPackage, PackageFile, Recipient, attribution_note,
    key_passphrase_from_env, open_agency_keys, person_input,
};
pub use share::*;
pub use vigil_domain::Principal;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool plus the facts needed to run Vigil's SQL on it.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    origin: Origin,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) an embedded SQLite database file and brings
    /// its schema up to date.
    ///
    /// WAL lets readers (and `vigil backup`) run while a scan writes;
    /// `synchronous=FULL` makes every acknowledged commit durable, which the
    /// brief demands even at some write cost.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let path_text = path.to_str().ok_or_else(|| {
            StoreError::Config(format!("database path {path:?} is not valid UTF-8"))
        })?;
        let url = format!("sqlite://{path_text}?mode=rwc");
        Self::connect(&url, Backend::Sqlite).await
    }

    /// Opens a PostgreSQL database by URL and brings its schema up to date.
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Config(
                "database URL must start with postgres:// or postgresql://".into(),
            ));
        }
        Self::connect(url, Backend::Postgres).await
    }

    async fn connect(url: &str, backend: Backend) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("bad database URL: {e}")))?;
        let pool_options = match backend {
            // One writer at a time is SQLite's model anyway; a single pooled
            // connection avoids lock-upgrade deadlocks between our own
            // connections. Other processes are handled by busy_timeout and
            // BEGIN IMMEDIATE.
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
                             PRAGMA synchronous = FULL;",
                        )
                        .await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => AnyPoolOptions::new().max_connections(8),
        };
        let pool = pool_options.connect_with(options).await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL;").await?;
        }
        let store = Store {
            pool,
            backend,
            origin: Origin::default(),
        };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// Returns a handle that records `origin` (interface and address) in the
    /// audit entries it writes.
    pub fn with_origin(&self, origin: Origin) -> Store {
        Store {
            pool: self.pool.clone(),
            backend: self.backend,
            origin,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write: on SQLite it takes the write
    /// lock up front (`BEGIN IMMEDIATE`) so that reading the audit chain head
    /// and appending to it cannot interleave with another process.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The current time as stored: RFC 3339, UTC, microseconds, `Z`.
pub(crate) fn now_text() -> String {
    timestamp_text(time::OffsetDateTime::now_utc())
}

/// Formats any instant the way the store keeps times, so text order is time
/// order.
pub fn timestamp_text(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

pub(crate) fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Store {
    /// The underlying pool, for tests that inspect or tamper with rows the
    /// way someone with direct database access could. Not for application
    /// code: everything else goes through authorised methods.
    #[doc(hidden)]
    pub fn raw_pool_for_tests(&self) -> AnyPool {
        self.pool.clone()
    }
}
