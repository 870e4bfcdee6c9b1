//! Benchmark of the PDQ index on the data set written by
//! `bench/vigil-pdqindex/bench.py gen` (see that script and
//! `bench/results/vigil-pdqindex.md`).
//!
//! `cargo run --release -p vigil-pdqindex --example bench -- DIR [TRUTH_NQ] [RADIUS]`
//!
//! Reports build time, memory (RSS growth and heap accounting), save/load
//! time, queries per CPU-second one query at a time on one thread and as a
//! batch on all rayon threads, the tiled linear scan's rate, and recall
//! against the scan (first TRUTH_NQ queries) and FAISS's flat index
//! (`truth.txt`, if the FAISS half of the benchmark ran).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Instant;

use vigil_domain::PdqHash;
use vigil_pdqindex::{Match, PdqIndex, cluster_series};

fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
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

fn as_set(v: &[Match]) -> BTreeSet<(i64, u32)> {
    v.iter().map(|m| (m.id, m.distance)).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).map(String::as_str).unwrap_or("/tmp/pdqbench1m"));
    let truth_nq: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let radius: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(31);
    let db = read_hashes(&dir.join("db.bin"));
    let queries = read_hashes(&dir.join("queries.bin"));
    let n = db.len();
    println!(
        "data: {n} hashes, {} queries, radius {radius}, rayon threads {}",
        queries.len(),
        rayon::current_num_threads()
    );

    // Build.
    let rss0 = status_kib("VmRSS:");
    let (w0, c0) = (Instant::now(), cpu_seconds(libc::RUSAGE_SELF));
    let index = PdqIndex::build(db.iter().enumerate().map(|(i, h)| (i as i64, *h))).unwrap();
    let (build_wall, build_cpu) = (
        w0.elapsed().as_secs_f64(),
        cpu_seconds(libc::RUSAGE_SELF) - c0,
    );
    let rss1 = status_kib("VmRSS:");
    let st = index.stats();
    let rss_delta = (rss1.saturating_sub(rss0)) * 1024;
    println!(
        "build: {build_wall:.2} s wall, {build_cpu:.2} s CPU; RSS +{:.1} MiB = {:.1} B/hash; heap {:.1} B/hash; peak RSS {:.0} MiB; layout dir_bits {} row_bits {} lo_bits {}",
        rss_delta as f64 / 1048576.0,
        rss_delta as f64 / n as f64,
        st.heap_bytes as f64 / n as f64,
        status_kib("VmHWM:") as f64 / 1024.0,
        st.dir_bits,
        st.row_bits,
        st.lo_bits
    );

    // One query at a time, this thread only.
    let mut answers: Vec<Vec<Match>> = Vec::with_capacity(queries.len());
    let mut lat = Vec::with_capacity(queries.len());
    let c0 = cpu_seconds(libc::RUSAGE_THREAD);
    let w0 = Instant::now();
    for q in &queries {
        let t = Instant::now();
        answers.push(index.query(q, radius));
        lat.push(t.elapsed().as_secs_f64());
    }
    let (w1, c1) = (
        w0.elapsed().as_secs_f64(),
        cpu_seconds(libc::RUSAGE_THREAD) - c0,
    );
    lat.sort_by(f64::total_cmp);
    let results: usize = answers.iter().map(Vec::len).sum();
    let matched = answers.iter().filter(|a| !a.is_empty()).count();
    println!(
        "single: {} queries in {c1:.3} s CPU ({w1:.3} s wall) = {:.0} q/CPU-s; latency median {:.0} us, p99 {:.0} us; {results} results, {matched} queries matched",
        queries.len(),
        queries.len() as f64 / c1,
        lat[lat.len() / 2] * 1e6,
        lat[lat.len() * 99 / 100] * 1e6
    );

    // Batch on all threads.
    let c0 = cpu_seconds(libc::RUSAGE_SELF);
    let w0 = Instant::now();
    let batch = index.query_batch(&queries, radius);
    let (w1, c1) = (
        w0.elapsed().as_secs_f64(),
        cpu_seconds(libc::RUSAGE_SELF) - c0,
    );
    println!(
        "batch: {c1:.3} s CPU, {w1:.3} s wall = {:.0} q/CPU-s, {:.0} q/s wall; identical to single: {}",
        queries.len() as f64 / c1,
        queries.len() as f64 / w1,
        batch == answers
    );

    // Tiled linear scan on the first truth_nq queries: rate and truth.
    let tq = &queries[..truth_nq.min(queries.len())];
    let c0 = cpu_seconds(libc::RUSAGE_SELF);
    let w0 = Instant::now();
    let truth = index.query_batch_scan(tq, radius);
    let (w1, c1) = (
        w0.elapsed().as_secs_f64(),
        cpu_seconds(libc::RUSAGE_SELF) - c0,
    );
    println!(
        "scan: {} queries, {c1:.2} s CPU, {w1:.2} s wall = {:.0} q/CPU-s ({:.2} G cmp/CPU-s), {:.0} q/s wall",
        tq.len(),
        tq.len() as f64 / c1,
        tq.len() as f64 * n as f64 / c1 / 1e9,
        tq.len() as f64 / w1
    );
    let mut want = 0usize;
    let mut found = 0usize;
    let mut extra = 0usize;
    for (t, a) in truth.iter().zip(&answers) {
        let (t, a) = (as_set(t), as_set(a));
        want += t.len();
        found += t.intersection(&a).count();
        extra += a.difference(&t).count();
    }
    println!(
        "recall vs scan ({} queries): {found}/{want} = {:.4}, extra {extra}",
        tq.len(),
        if want == 0 {
            1.0
        } else {
            found as f64 / want as f64
        }
    );

    // FAISS flat truth, if present (distances strictly below 32 = <= 31).
    if let Ok(text) = std::fs::read_to_string(dir.join("truth.txt")) {
        let mut ft: HashMap<usize, BTreeSet<(i64, u32)>> = HashMap::new();
        for l in text.lines() {
            // FAISS may print the distance as a float ("28.0").
            let f: Vec<f64> = l.split(' ').filter_map(|x| x.parse().ok()).collect();
            if f.len() == 3 {
                ft.entry(f[0] as usize)
                    .or_default()
                    .insert((f[1] as i64, f[2] as u32));
            }
        }
        let fnq = ft.keys().max().map_or(0, |m| m + 1);
        let (mut w, mut fd, mut ex) = (0, 0, 0);
        for (i, a) in answers.iter().enumerate().take(fnq) {
            let a = as_set(a);
            let t = ft.remove(&i).unwrap_or_default();
            w += t.len();
            fd += t.intersection(&a).count();
            ex += a.difference(&t).count();
        }
        println!("recall vs FAISS flat (first {fnq} queries with results): {fd}/{w}, extra {ex}");
    }

    // Persist and load.
    let path = dir.join("index.vpdq");
    let w0 = Instant::now();
    index.save(&path).unwrap();
    let save_s = w0.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let c0 = cpu_seconds(libc::RUSAGE_SELF);
    let w0 = Instant::now();
    let loaded = PdqIndex::load(&path).unwrap();
    let (load_wall, load_cpu) = (
        w0.elapsed().as_secs_f64(),
        cpu_seconds(libc::RUSAGE_SELF) - c0,
    );
    let same = loaded.query(&queries[0], radius) == answers[0];
    println!(
        "persist: save {save_s:.2} s, file {:.1} MiB ({:.1} B/hash); load {load_wall:.3} s wall, {load_cpu:.3} s CPU; first answer identical: {same}",
        size as f64 / 1048576.0,
        size as f64 / n as f64
    );
    let c0 = cpu_seconds(libc::RUSAGE_THREAD);
    let mut same_all = true;
    for (q, a) in queries.iter().zip(&answers) {
        same_all &= loaded.query(q, radius) == *a;
    }
    let c1 = cpu_seconds(libc::RUSAGE_THREAD) - c0;
    println!(
        "after load: {:.0} q/CPU-s single-threaded (4 KiB pages until khugepaged collapses them); all answers identical: {same_all}",
        queries.len() as f64 / c1
    );
    let _ = std::fs::remove_file(&path);
    drop(loaded);
    drop(index);

    // Series clustering of a scan-sized set: the first 100k rows (they hold
    // near-duplicate groups of the generator's cluster centres).
    let items: Vec<(i64, PdqHash)> = db
        .iter()
        .take(100_000)
        .enumerate()
        .map(|(i, h)| (i as i64, *h))
        .collect();
    let c0 = cpu_seconds(libc::RUSAGE_SELF);
    let w0 = Instant::now();
    let clusters = cluster_series(&items, radius).unwrap();
    let (w1, c1) = (
        w0.elapsed().as_secs_f64(),
        cpu_seconds(libc::RUSAGE_SELF) - c0,
    );
    let series = clusters.iter().filter(|c| c.len() >= 2).count();
    println!(
        "cluster: {} items, radius {radius}: {c1:.2} s CPU, {w1:.2} s wall; {} clusters, {series} with >= 2 members, largest {}",
        items.len(),
        clusters.len(),
        clusters.first().map_or(0, |c| c.len())
    );
}
