//! Opens the backends a test runs against: always a fresh SQLite file, and a
//! fresh PostgreSQL database when `VIGIL_TEST_DATABASE_URL` is set.

#![allow(dead_code)]

use vigil_store::Store;

pub struct Backend {
    pub name: &'static str,
    pub store: Store,
    pub _dir: Option<tempfile::TempDir>,
}

pub async fn fresh_sqlite() -> Backend {
    let dir = vigil_testkit::tempdir();
    let store = Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    Backend {
        name: "sqlite",
        store,
        _dir: Some(dir),
    }
}

pub async fn fresh_postgres_url() -> Option<String> {
    vigil_testkit::fresh_postgres_url().await
}

pub async fn backends() -> Vec<Backend> {
    let mut v = vec![fresh_sqlite().await];
    if let Some(url) = fresh_postgres_url().await {
        let store = Store::open_postgres(&url).await.unwrap();
        v.push(Backend {
            name: "postgres",
            store,
            _dir: None,
        });
    }
    v
}
