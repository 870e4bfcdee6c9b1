//! Test support: where the PostgreSQL test server is, and fresh databases on
//! it. Every test that needs PostgreSQL reads [`PG_ENV`]; when it is unset the
//! test runs on SQLite only and says that PostgreSQL was skipped, so the
//! suite passes on a laptop without a server.

pub mod webdriver;

use sqlx::Connection;

/// The environment variable naming the PostgreSQL server for tests
/// (`.ci/run` sets it).
pub const PG_ENV: &str = "VIGIL_TEST_DATABASE_URL";

/// The server URL, or `None` (printing that PostgreSQL tests are skipped).
pub fn pg_server_url() -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED PostgreSQL backend: {PG_ENV} is not set");
            None
        }
    }
}

/// Creates a new, empty database on the test server and returns its URL, so
/// tests can run in parallel without seeing each other's rows.
pub async fn fresh_postgres_url() -> Option<String> {
    let base = pg_server_url()?;
    sqlx::any::install_default_drivers();
    let name = format!("vigil_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but the server is unreachable: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let _ = conn.close().await;
    let (prefix, rest) = base.rsplit_once('/').unwrap_or((base.as_str(), ""));
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Some(format!("{prefix}/{name}{query}"))
}

/// A temporary directory that is removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"))
}
