//! Query-path micro-benchmark for profiling (callgrind) and quick A/B runs:
//! loads the index saved at DIR/probe.vpdq (building and saving it from
//! DIR/db.bin the first time, or always with BUILD=1), answers the first NQ
//! queries of DIR/queries.bin one at a time on this thread REPEAT times,
//! then as one batch, and prints queries per CPU-second of each.
//!
//! `cargo run --release -p vigil-pdqindex --example probe -- DIR [NQ] [RADIUS] [REPEAT]`

use std::path::Path;

use vigil_domain::PdqHash;
use vigil_pdqindex::PdqIndex;

fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn read_hashes(path: &Path) -> Vec<PdqHash> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(32)
        .map(|c| {
            let mut b = [0u8; 32];
            b.copy_from_slice(c);
            PdqHash(b)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).map(String::as_str).unwrap_or("/tmp/pdqbench1m"));
    let nq: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let radius: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(31);
    let repeat: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let file = dir.join("probe.vpdq");
    // BUILD=1 builds in-process even if the file exists: a loaded index
    // starts on 4 KiB pages (see PdqIndex::load), a built one on huge pages.
    let loaded = if std::env::var_os("BUILD").is_some() {
        Err("BUILD set".to_string())
    } else {
        PdqIndex::load(&file).map_err(|e| e.to_string())
    };
    let index = match loaded {
        Ok(i) => i,
        Err(e) => {
            eprintln!("building ({e})");
            let db = read_hashes(&dir.join("db.bin"));
            let i = PdqIndex::build(db.iter().enumerate().map(|(i, h)| (i as i64, *h))).unwrap();
            i.save(&file).unwrap();
            i
        }
    };
    let queries = read_hashes(&dir.join("queries.bin"));
    let qs = &queries[..nq.min(queries.len())];
    for q in qs {
        let _ = index.query(q, radius);
    }
    for _ in 0..repeat {
        let mut results = 0usize;
        let c0 = cpu_seconds(libc::RUSAGE_THREAD);
        for q in qs {
            results += index.query(q, radius).len();
        }
        let c = cpu_seconds(libc::RUSAGE_THREAD) - c0;
        println!(
            "single: {} queries, {c:.3} s CPU = {:.0} q/CPU-s ({results} results)",
            qs.len(),
            qs.len() as f64 / c
        );
    }
    let single: Vec<_> = qs.iter().map(|q| index.query(q, radius)).collect();
    let c0 = cpu_seconds(libc::RUSAGE_SELF);
    let batch = index.query_batch(qs, radius);
    let c = cpu_seconds(libc::RUSAGE_SELF) - c0;
    let r: usize = batch.iter().map(Vec::len).sum();
    println!(
        "batch: {:.0} q/CPU-s ({r} results), identical to single: {}",
        qs.len() as f64 / c,
        batch == single
    );
}
