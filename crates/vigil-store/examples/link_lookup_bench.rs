//! Benchmark: `lookup_identifier` latency with N synthetic identifiers.
//!
//! ```text
//! cargo run --release -p vigil-store --example link_lookup_bench -- [N] [LOOKUPS]
//! VIGIL_BENCH_DATABASE_URL=postgres://… cargo run --release … (PostgreSQL)
//! ```
//!
//! The identifiers are loaded directly with multi-row INSERTs (the load is
//! not what is measured); every lookup then goes through the store API
//! exactly as `vigil identifier lookup` does: authorisation, the indexed
//! (normalized, kind) search, de-confliction bookkeeping and the audit
//! entry, committed durably. All values are synthetic (`userN`,
//! `uN@example.org`, 2001:db8::/32 addresses).

use std::time::Instant;

use vigil_domain::{IdentifierKind, NewPerson, Release};
use vigil_store::Store;

fn value(i: u64) -> (IdentifierKind, String) {
    match i % 3 {
        0 => (IdentifierKind::Handle, format!("user_{i}")),
        1 => (IdentifierKind::Email, format!("u{i}@example.org")),
        _ => (
            IdentifierKind::Ip,
            format!("2001:db8::{:x}:{:x}", i >> 16, i & 0xffff),
        ),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let lookups: usize = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = match std::env::var("VIGIL_BENCH_DATABASE_URL") {
        Ok(url) => Store::open_postgres(&url).await?,
        Err(_) => Store::open_sqlite(&dir.path().join("bench.db")).await?,
    };
    let backend = store.backend().as_str();
    let alice = store
        .init(
            "Bench PS",
            "CA",
            Some("bench@example.ca"),
            "alice",
            "bench passphrase",
        )
        .await?;
    let case = store
        .create_case(&alice, "bench", None, &Release::Agency, "bench")
        .await?;
    let person = store
        .add_person(
            &alice,
            case.id,
            &NewPerson::parse("suspect", "bench_person")?,
            "bench",
        )
        .await?;
    let pool = store.raw_pool_for_tests();
    let t0 = Instant::now();
    let batch = 2000u64;
    let now = "2024-01-01T00:00:00.000000Z";
    let mut i = 0u64;
    while i < n {
        let end = (i + batch).min(n);
        let mut sql = String::from(
            "INSERT INTO identifiers (uid, case_id, person_id, kind, raw, normalized, created_by, \
             created_at, source) VALUES ",
        );
        for j in i..end {
            let (kind, raw) = value(j);
            let norm = vigil_domain::normalize::normalize(kind, &raw)?;
            if j > i {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('bench-{j}', {}, {}, '{}', '{raw}', '{norm}', {}, '{now}', 'bench:{j}')",
                case.id,
                person.id,
                kind.as_str(),
                alice.user_id
            ));
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await?;
        i = end;
    }
    sqlx::raw_sql("ANALYZE").execute(&pool).await?;
    let load = t0.elapsed();
    println!(
        "{backend}: loaded {n} identifiers in {:.1}s",
        load.as_secs_f64()
    );

    // every stored value is unique: a hit is one row; a third are misses
    let mut times = Vec::with_capacity(lookups);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for k in 0..lookups {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = if k % 3 == 2 {
            // a handle-shaped value that is not stored: a miss
            n + state % n
        } else {
            state % n
        };
        let idx = j - j % 3 + (k as u64 / 3 % 3);
        let (kind, raw) = value(idx);
        let t = Instant::now();
        let r = store.lookup_identifier(&alice, &raw, None).await?;
        times.push(t.elapsed());
        if idx < n && r.hits.is_empty() {
            return Err(format!("{raw} ({kind}) not found").into());
        }
    }
    times.sort();
    let pct = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{backend}: {lookups} lookups: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3,
    );
    store.close().await;
    Ok(())
}
