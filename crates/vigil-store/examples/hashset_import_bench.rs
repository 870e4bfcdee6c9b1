//! Benchmark: `Store::import_hash_set` of a hash-set file into a fresh
//! database, the store half of `vigil hashset import` without the CLI's
//! process start-up.
//!
//! ```text
//! cargo run --release -p vigil-store --example hashset_import_bench -- FILE
//! VIGIL_BENCH_DATABASE_URL=postgres://… cargo run --release … (PostgreSQL)
//! ```
//!
//! The URL must name an empty database (the import creates the schema).
//! Prints wall time, this process's CPU time (user + system, all threads,
//! from `/proc/self/stat`), entries per second both ways and peak RSS
//! (`VmHWM`); on PostgreSQL also the CPU the `postgres` processes used
//! meanwhile (read from `/proc`, so only for a server on this machine). The
//! PDQ index refresh that the CLI runs after an import is timed separately.
//! A second import of the same file is timed too: it must be refused as
//! already imported (idempotence), cheaply.

use std::time::Instant;

use sha2::{Digest, Sha256};
use vigil_store::{HashSetImportOptions, ImportStatus, Store};

/// utime + stime of a process, in seconds (clock ticks of 10 ms).
fn proc_cpu(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces: split after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn self_cpu() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| proc_cpu(&s))
        .unwrap_or(f64::NAN)
}

/// CPU seconds used so far by every live process called `postgres`.
fn postgres_cpu() -> f64 {
    let mut total = 0.0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return f64::NAN;
    };
    for e in dir.flatten() {
        let path = e.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        if stat.contains("(postgres)")
            && let Some(c) = proc_cpu(&stat)
        {
            total += c;
        }
    }
    total
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args()
        .nth(1)
        .ok_or("usage: hashset_import_bench FILE")?;
    let bytes_total = std::fs::metadata(&file)?.len();
    let sha = {
        let mut h = Sha256::new();
        let mut f = std::fs::File::open(&file)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        hex::encode(h.finalize())
    };
    let dir = tempfile::tempdir()?;
    let store = match std::env::var("VIGIL_BENCH_DATABASE_URL") {
        Ok(url) => Store::open_postgres(&url).await?,
        Err(_) => Store::open_sqlite(&dir.path().join("bench.db")).await?,
    };
    let backend = store.backend().as_str();
    let admin = store
        .init("Bench Unit", "CA", None, "alice", "bench passphrase")
        .await?;
    store
        .add_user(&admin, "erin", None, "forensic-examiner", None)
        .await?;
    let erin = store.principal("erin").await?;
    let opts = HashSetImportOptions {
        name: "bench".into(),
        format: None,
        scheme: None,
        source: Some("synthetic benchmark data".into()),
        file_name: "bench.json".into(),
        file_sha256: sha,
        file_size: bytes_total,
        replace: false,
        max_distance: None,
    };

    let (cpu0, pg0, t0) = (self_cpu(), postgres_cpu(), Instant::now());
    let mut errors = 0u64;
    let outcome = store
        .import_hash_set(
            &erin,
            &opts,
            std::fs::File::open(&file)?,
            |_| errors += 1,
            |_| {},
        )
        .await?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = self_cpu() - cpu0;
    let pg = postgres_cpu() - pg0;
    let n = outcome.added as f64;
    println!(
        "{backend}: read {} added {} errors {errors}: wall {wall:.1} s ({:.0} entries/s), \
         client CPU {cpu:.1} s ({:.0} entries/CPU-s), peak RSS {} KiB",
        outcome.read,
        outcome.added,
        n / wall,
        n / cpu,
        peak_rss_kib()
    );
    if backend == "postgres" {
        println!(
            "{backend}: postgres server CPU {pg:.1} s; client + server {:.0} entries/CPU-s",
            n / (cpu + pg)
        );
    }

    let (cpu0, t0) = (self_cpu(), Instant::now());
    let pdq = store.refresh_pdq_index(&erin).await?;
    println!(
        "{backend}: PDQ index refresh ({pdq} hashes): wall {:.1} s, CPU {:.1} s",
        t0.elapsed().as_secs_f64(),
        self_cpu() - cpu0
    );

    let t0 = Instant::now();
    let again = store
        .import_hash_set(&erin, &opts, std::fs::File::open(&file)?, |_| {}, |_| {})
        .await?;
    if again.status != ImportStatus::AlreadyImported {
        return Err(format!("re-import was {:?}, not already-imported", again.status).into());
    }
    println!(
        "{backend}: re-import of the same file: already imported in {:.3} s; peak RSS {} KiB",
        t0.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
    store.close().await;
    Ok(())
}
