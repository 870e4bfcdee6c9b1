//! Search latency benchmark: builds an index of N synthetic messages and
//! measures p50/p99 latency of case-scoped queries.
//!
//! `cargo run --release -p vigil-search --example search_bench -- [messages] [dir]`
//! (default 2,000,000 messages in a temp dir). Prints build time and latency.

use std::time::Instant;

use time::macros::datetime;
use vigil_search::{MessageDoc, SearchIndex, SearchRequest};

/// xorshift64*: deterministic and dependency-free, so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Roughly Zipf-distributed index in 0..n (word frequencies in chat are).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

/// This process's user+system CPU seconds from /proc (Linux, 100 Hz ticks).
/// The benchmark machine is shared, so CPU per query is reported beside wall
/// latency: wall figures inflate when other jobs take the cores.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let tmp;
    let dir = match args.get(2) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = std::env::temp_dir().join(format!("vigil-search-bench-{}", std::process::id()));
            tmp.clone()
        }
    };
    let vocab: Vec<String> = (0..50_000).map(|i| format!("w{i:x}")).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let idx = SearchIndex::open(&dir)?;
    let t0 = Instant::now();
    let c0 = cpu_secs();
    let start = datetime!(2008-01-01 00:00 UTC);
    let mut batch = Vec::with_capacity(100_000);
    for i in 0..n {
        let words = 4 + (rng.next() % 12) as usize;
        let text: Vec<&str> = (0..words)
            .map(|_| vocab[rng.zipf(vocab.len())].as_str())
            .collect();
        batch.push(MessageDoc {
            message_id: i as i64,
            case_id: (rng.next() % 50) as i64,
            room: format!("#room{}", rng.next() % 200),
            handle: format!("user{}", rng.zipf(5000)),
            time: start + time::Duration::seconds((i as i64) * 30),
            text: text.join(" "),
        });
        if batch.len() == 100_000 {
            idx.add_batch(&batch)?;
            batch.clear();
        }
    }
    idx.add_batch(&batch)?;
    idx.commit()?;
    let build = t0.elapsed();
    let build_cpu = cpu_secs() - c0;
    println!(
        "indexed {n} messages in {:.1} s wall ({:.0} msg/s), {:.1} CPU-s ({:.0} msg per CPU-s), dir {}",
        build.as_secs_f64(),
        n as f64 / build.as_secs_f64(),
        build_cpu,
        n as f64 / build_cpu.max(0.01),
        dir.display()
    );

    let mut run = |label: &str,
                   mk: &mut dyn FnMut(&mut Rng) -> SearchRequest|
     -> Result<(), Box<dyn std::error::Error>> {
        let mut lat = Vec::new();
        let mut total_hits = 0usize;
        let c = cpu_secs();
        for _ in 0..500 {
            let req = mk(&mut rng);
            let t = Instant::now();
            let page = idx.search(&req)?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            total_hits += page.total;
        }
        let cpu_ms = (cpu_secs() - c) * 1000.0 / lat.len() as f64;
        lat.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
        println!(
            "{label}: wall p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; mean CPU {:.2} ms/query; mean hits {}",
            p(0.5),
            p(0.99),
            p(1.0),
            cpu_ms,
            total_hits / lat.len()
        );
        Ok(())
    };
    let cases = |rng: &mut Rng| (0..5).map(|_| (rng.next() % 50) as i64).collect::<Vec<_>>();
    run("1 word, 5 cases, top 20 + snippets", &mut |rng| {
        SearchRequest {
            query: vocab[rng.zipf(2000)].clone(),
            cases: cases(rng),
            limit: 20,
            ..Default::default()
        }
    })?;
    run("2 words AND, 5 cases", &mut |rng| SearchRequest {
        query: format!("{} {}", vocab[rng.zipf(500)], vocab[rng.zipf(500)]),
        cases: cases(rng),
        limit: 20,
        ..Default::default()
    })?;
    run("1 word + room + time range, 5 cases", &mut |rng| {
        SearchRequest {
            query: vocab[rng.zipf(200)].clone(),
            cases: cases(rng),
            room: Some(format!("#room{}", rng.next() % 200)),
            since: Some(datetime!(2008-06-01 00:00 UTC)),
            until: Some(datetime!(2009-06-01 00:00 UTC)),
            limit: 20,
            ..Default::default()
        }
    })?;
    run("rare word, all 50 cases", &mut |rng| SearchRequest {
        query: vocab[20_000 + (rng.next() % 30_000) as usize].clone(),
        cases: (0..50).collect(),
        limit: 20,
        ..Default::default()
    })?;
    if args.get(2).is_none() {
        drop(idx);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
