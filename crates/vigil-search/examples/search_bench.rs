//! Chat search benchmark at scale (issue #5): builds an index of N generated
//! chat messages through the same writer calls the import uses, then measures
//! the latency of a realistic query mix, warm and single-threaded.
//!
//! ```text
//! cargo run --release -p vigil-search --example search_bench -- build DIR N
//! cargo run --release -p vigil-search --example search_bench -- query DIR N [PER_KIND]
//! ```
//!
//! `build` and `query` are separate processes so that the peak memory of the
//! indexer and of the searcher are reported separately; both regenerate the
//! same corpus model from a fixed seed, so `query` knows the rooms, handles,
//! phrases and time span that `build` wrote. `bench/vigil-chat/search.sh`
//! runs both and deletes the index afterwards.
//!
//! Why the corpus looks the way it does: latency depends on posting-list
//! lengths (Zipf vocabulary with a head of real chat words), on the number of
//! distinct terms (URLs, e-mail addresses and hashes add many rare ones), on
//! how documents are grouped (one import per room log, in time order, like
//! `vigil chat import`), and on filter selectivity (cases of very different
//! sizes, rooms active over months, handles with Zipf activity).

use std::time::Instant;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use vigil_search::{MessageDoc, SearchIndex, SearchRequest};

/// Same chunk size as `vigil chat import` hands to the writer.
const INDEX_CHUNK: usize = 5000;
const CASES: usize = 40;
const ROOMS_PER_CASE: usize = 10;
const HANDLES_PER_CASE: usize = 600;
const VOCAB: usize = 100_000;
const PHRASES: usize = 300;
const SEED: u64 = 0x0005_EEDC_A75E_A2C4;

/// Common chat words, most frequent first: the head of the Zipf vocabulary.
const HEAD: &[&str] = &[
    "i", "you", "the", "to", "a", "it", "and", "is", "lol", "that", "me", "in", "of", "no", "ok",
    "what", "so", "do", "yeah", "have", "u", "for", "my", "on", "not", "just", "be", "but", "im",
    "its", "this", "with", "get", "can", "was", "are", "know", "like", "if", "got", "dont", "we",
    "all", "at", "now", "yes", "here", "there", "out", "one", "up", "how", "new", "go", "good",
    "hi", "send", "want", "they", "haha", "pm", "link", "why", "time", "he", "who", "when", "see",
    "ya", "about", "need", "back", "from", "think", "more", "well", "any", "pics", "tonight",
    "channel", "hey", "please", "thanks", "sure", "wait", "guys", "ill", "them", "did", "will",
    "some", "then", "only", "too", "where", "server", "file", "files", "upload", "share", "vid",
    "nick", "room", "chat", "anyone", "tomorrow", "later", "sorry", "nice", "cool", "right",
    "really", "today", "maybe", "old", "first", "again", "still", "man", "bro", "dude", "pass",
    "password", "mirror", "down", "host", "set", "check", "msg", "dm", "brb", "afk", "gtg",
];
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "st", "tr", "kl", "sh", "ch",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ee"];
const FIRST: OffsetDateTime = datetime!(2024-01-01 00:00 UTC);
const LAST: OffsetDateTime = datetime!(2025-09-30 00:00 UTC);

/// xorshift64*: deterministic and dependency-free, so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Zipf(s) sampler over ranks 0..n by inverse CDF (binary search).
struct Zipf(Vec<f64>);
impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|r| {
                acc += 1.0 / (r as f64).powf(s);
                acc
            })
            .collect();
        for v in &mut cdf {
            *v /= acc;
        }
        Zipf(cdf)
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|&c| c < u).min(self.0.len() - 1)
    }
}

/// A pronounceable invented word for index `i` (unique per `i`).
fn synth_word(mut i: usize) -> String {
    let mut w = String::new();
    loop {
        w.push_str(ONSETS[i % ONSETS.len()]);
        i /= ONSETS.len();
        w.push_str(VOWELS[i % VOWELS.len()]);
        i /= VOWELS.len();
        if i == 0 {
            return w;
        }
        i -= 1;
    }
}

struct Room {
    case_id: i64,
    name: String,
    /// Indexes into the case's handles; activity is Zipf over this list.
    members: Vec<usize>,
    start: OffsetDateTime,
    end: OffsetDateTime,
    messages: usize,
}

/// Everything both phases derive from the seed.
struct Model {
    vocab: Vec<String>,
    words: Zipf,
    phrases: Vec<String>,
    handles: Vec<Vec<String>>,
    rooms: Vec<Room>,
}

impl Model {
    fn new(total: usize) -> Model {
        let mut rng = Rng(SEED);
        let mut seen = std::collections::HashSet::new();
        let mut vocab: Vec<String> = Vec::with_capacity(VOCAB);
        for w in HEAD {
            if seen.insert(w.to_string()) {
                vocab.push(w.to_string());
            }
        }
        let mut i = 0;
        while vocab.len() < VOCAB {
            let w = synth_word(i * 7919 % 2_000_000 + i / 2_000_000);
            i += 1;
            if w.len() >= 2 && seen.insert(w.clone()) {
                vocab.push(w);
            }
        }
        // Planted collocations ("send me the link"-like), so phrase queries
        // have real matches: 2–4 words from the upper-middle of the vocabulary.
        let phrases = (0..PHRASES)
            .map(|_| {
                let n = 2 + rng.below(3);
                (0..n)
                    .map(|_| vocab[rng.below(3000)].as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let handles: Vec<Vec<String>> = (0..CASES)
            .map(|c| {
                (0..HANDLES_PER_CASE)
                    .map(|h| {
                        let base = synth_word(c * HANDLES_PER_CASE + h + 500);
                        let mut s = match rng.below(4) {
                            0 => format!("{base}{}", rng.below(100)),
                            1 => format!("{base}_{}", synth_word(rng.below(400))),
                            2 => format!("[{base}]"),
                            _ => base,
                        };
                        if rng.chance(0.3) {
                            s = s[..1].to_uppercase() + &s[1..];
                        }
                        // Unique per case: the index in the case is appended.
                        format!("{s}{h:03}")
                    })
                    .collect()
            })
            .collect();
        // Room sizes: Zipf-like weights, so a few big rooms hold most messages
        // and cases differ a lot in size (case filters of varied selectivity).
        let nrooms = CASES * ROOMS_PER_CASE;
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..nrooms).collect();
            for k in (1..o.len()).rev() {
                o.swap(k, rng.below(k + 1));
            }
            o
        };
        let weights: Vec<f64> = (0..nrooms).map(|r| 1.0 / (order[r] as f64 + 3.0)).collect();
        let wsum: f64 = weights.iter().sum();
        let span = (LAST - FIRST).whole_days();
        let mut rooms: Vec<Room> = (0..nrooms)
            .map(|r| {
                let case = r / ROOMS_PER_CASE;
                let members = (20 + rng.below(300)).min(HANDLES_PER_CASE);
                let mut m: Vec<usize> = (0..HANDLES_PER_CASE).collect();
                for k in 0..members {
                    m.swap(k, k + rng.below(HANDLES_PER_CASE - k));
                }
                m.truncate(members);
                let days = 60 + rng.below(400) as i64;
                let start = FIRST + Duration::days(rng.below((span - days).max(1) as usize) as i64);
                Room {
                    case_id: case as i64 + 1,
                    name: format!("#{}-{}", synth_word(r + 9000), synth_word(r + 777)),
                    members: m,
                    start,
                    end: start + Duration::days(days),
                    messages: (weights[r] / wsum * total as f64) as usize,
                }
            })
            .collect();
        let assigned: usize = rooms.iter().map(|r| r.messages).sum();
        if let Some(r) = rooms.first_mut() {
            r.messages += total - assigned;
        }
        Model {
            words: Zipf::new(vocab.len(), 1.05),
            vocab,
            phrases,
            handles,
            rooms,
        }
    }

    fn handle(&self, room: &Room, k: usize) -> &str {
        &self.handles[(room.case_id - 1) as usize][room.members[k]]
    }

    /// One chat line: mostly short, Zipf words, sometimes a mention, a
    /// planted phrase, a URL, an e-mail address, an IP or a hash.
    fn text(&self, rng: &mut Rng, room: &Room, member_zipf: &Zipf) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(16);
        if rng.chance(0.08) {
            parts.push(format!("{}:", self.handle(room, member_zipf.sample(rng))));
        }
        let len = 1 + (-(1.0 - rng.unit()).ln() * 6.0) as usize;
        for _ in 0..len.min(40) {
            parts.push(self.vocab[self.words.sample(rng)].clone());
        }
        if rng.chance(0.02) {
            let at = rng.below(parts.len() + 1);
            parts.insert(at, self.phrases[rng.below(PHRASES)].clone());
        }
        let r = rng.unit();
        if r < 0.03 {
            parts.push(format!(
                "https://{}.example.com/{}/{:08x}",
                self.vocab[rng.below(5000)],
                self.vocab[rng.below(20000)],
                rng.next() as u32
            ));
        } else if r < 0.037 {
            parts.push(format!(
                "{}@example.net",
                self.vocab[1000 + rng.below(20000)]
            ));
        } else if r < 0.042 {
            parts.push(format!("198.51.100.{}", rng.below(256)));
        } else if r < 0.045 {
            parts.push(format!("{:016x}{:016x}", rng.next(), rng.next()));
        } else if r < 0.075 {
            parts.push(rng.below(1000).to_string());
        }
        let mut s = parts.join(" ");
        if rng.chance(0.1) {
            s[..1].make_ascii_uppercase();
        }
        match rng.below(12) {
            0 => s.push('?'),
            1 => s.push('!'),
            2 => s.push_str("..."),
            _ => {}
        }
        s
    }
}

/// CPU time of the calling thread (the search is single-threaded).
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// CPU time of the whole process (all threads: tantivy indexes and merges
/// on its own threads).
fn process_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: as above.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// A `/proc/self/status` field in MiB (VmHWM, VmRSS, RssAnon, RssFile).
fn status_mib(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn build(dir: &std::path::Path, n: usize, model: &Model) -> BoxResult<()> {
    let mut rng = Rng(SEED ^ 0xB111D);
    let t0 = Instant::now();
    let c0 = process_cpu();
    let (mut max_anon, mut gen_cpu) = (0.0f64, 0.0f64);
    let idx = SearchIndex::open(dir)?;
    let mut next_id = 1i64;
    let mut batch = Vec::with_capacity(INDEX_CHUNK);
    // One import per room log, in room order: each is `add_batch` per chunk
    // of 5,000 and one `commit`, as `vigil chat import` does.
    for (ri, room) in model.rooms.iter().enumerate() {
        let members = Zipf::new(room.members.len(), 1.0);
        let step = (room.end - room.start).as_seconds_f64() / room.messages.max(1) as f64;
        let mut left = room.messages;
        while left > 0 {
            let g = thread_cpu();
            let take = left.min(INDEX_CHUNK);
            for _ in 0..take {
                let k = room.messages - left;
                left -= 1;
                let jitter = rng.unit() * step;
                batch.push(MessageDoc {
                    message_id: next_id,
                    case_id: room.case_id,
                    room: room.name.clone(),
                    handle: model.handle(room, members.sample(&mut rng)).to_owned(),
                    time: room.start + Duration::seconds_f64(k as f64 * step + jitter),
                    text: model.text(&mut rng, room, &members),
                });
                next_id += 1;
            }
            gen_cpu += thread_cpu() - g;
            idx.add_batch(&batch)?;
            batch.clear();
        }
        idx.commit()?;
        max_anon = max_anon.max(status_mib("RssAnon"));
        if ri % 40 == 39 {
            eprintln!(
                "  {} rooms, {} messages, {:.0} s, load {}",
                ri + 1,
                next_id - 1,
                t0.elapsed().as_secs_f64(),
                loadavg()
            );
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = process_cpu() - c0;
    let index_cpu = cpu - gen_cpu;
    println!("indexed messages        {}", next_id - 1);
    println!("imports (commits)       {}", model.rooms.len());
    println!(
        "build wall              {wall:.1} s ({:.0} msg/s wall)",
        n as f64 / wall
    );
    println!("build CPU, all threads  {cpu:.1} s, of which generating the text {gen_cpu:.1} s");
    println!(
        "indexing rate           {:.0} msg per CPU-s (indexing CPU only, incl. merges and commits)",
        n as f64 / index_cpu.max(0.01)
    );
    println!("segments                {}", idx.num_segments());
    println!(
        "index size on disk      {:.1} MiB ({:.1} B/message)",
        dir_bytes(dir) as f64 / 1048576.0,
        dir_bytes(dir) as f64 / n as f64
    );
    println!(
        "peak RSS                {:.0} MiB (VmHWM; anonymous max {max_anon:.0} MiB, the rest is mmap'd index pages)",
        status_mib("VmHWM")
    );
    println!("load average at end     {}", loadavg());
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Common,
    Rare,
    And2,
    Phrase,
    Handle,
    Room,
    Dates,
    HandleOnly,
}

const KINDS: [(Kind, &str); 8] = [
    (Kind::Common, "common term"),
    (Kind::Rare, "rare term"),
    (Kind::And2, "two terms (AND)"),
    (Kind::Phrase, "phrase"),
    (Kind::Handle, "term + handle"),
    (Kind::Room, "term + room"),
    (Kind::Dates, "term + 30-day range"),
    (Kind::HandleOnly, "handle only, no text"),
];

/// One query of a kind. Half the queries are scoped to every case (a
/// supervisor), half to 3 random cases (an investigator); room and handle
/// filters name rooms and handles of the cases in scope.
fn make_query(kind: Kind, rng: &mut Rng, m: &Model) -> SearchRequest {
    let cases: Vec<i64> = if rng.chance(0.5) {
        (1..=CASES as i64).collect()
    } else {
        (0..3).map(|_| rng.below(CASES) as i64 + 1).collect()
    };
    let pick_case = cases[rng.below(cases.len())];
    let mid = |rng: &mut Rng| m.vocab[rng.below(500)].clone();
    let mut req = SearchRequest {
        cases,
        limit: 20,
        ..Default::default()
    };
    match kind {
        Kind::Common => req.query = m.vocab[rng.below(30)].clone(),
        Kind::Rare => req.query = m.vocab[20_000 + rng.below(VOCAB - 20_000)].clone(),
        Kind::And2 => {
            req.query = format!(
                "{} {}",
                m.vocab[30 + rng.below(400)],
                m.vocab[30 + rng.below(400)]
            )
        }
        Kind::Phrase => req.query = format!("\"{}\"", m.phrases[rng.below(PHRASES)]),
        Kind::Handle | Kind::HandleOnly => {
            // A handle from a room of the case, chosen by activity.
            let room =
                &m.rooms[(pick_case as usize - 1) * ROOMS_PER_CASE + rng.below(ROOMS_PER_CASE)];
            let z = Zipf::new(room.members.len(), 1.0);
            let h = m.handle(room, z.sample(rng)).to_lowercase();
            req.handle = Some(h);
            if kind == Kind::Handle {
                req.query = m.vocab[rng.below(60)].clone();
            }
        }
        Kind::Room => {
            let room =
                &m.rooms[(pick_case as usize - 1) * ROOMS_PER_CASE + rng.below(ROOMS_PER_CASE)];
            req.room = Some(room.name.to_uppercase());
            req.query = mid(rng);
        }
        Kind::Dates => {
            let span = (LAST - FIRST).whole_days() - 30;
            let since = FIRST + Duration::days(rng.below(span as usize) as i64);
            req.since = Some(since);
            req.until = Some(since + Duration::days(30));
            req.query = mid(rng);
        }
    }
    req
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn query(dir: &std::path::Path, m: &Model, per_kind: usize) -> BoxResult<()> {
    let idx = SearchIndex::open(dir)?;
    println!(
        "index: {} messages, {} segments, {:.1} MiB; load {}",
        idx.num_docs(),
        idx.num_segments(),
        dir_bytes(dir) as f64 / 1048576.0,
        loadavg()
    );
    // Interleave the kinds, as a user would; warm up with a different seed.
    let schedule = |seed: u64, n: usize| {
        let mut rng = Rng(seed);
        let mut qs: Vec<(usize, SearchRequest)> = Vec::with_capacity(n * KINDS.len());
        for _ in 0..n {
            for (k, (kind, _)) in KINDS.iter().enumerate() {
                qs.push((k, make_query(*kind, &mut rng, m)));
            }
        }
        for i in (1..qs.len()).rev() {
            qs.swap(i, rng.below(i + 1));
        }
        qs
    };
    let warm = Instant::now();
    for (_, req) in schedule(SEED ^ 0x3A53, per_kind / 2 + 1) {
        idx.search(&req)?;
    }
    println!(
        "warm-up {:.1} s ({} queries)",
        warm.elapsed().as_secs_f64(),
        (per_kind / 2 + 1) * KINDS.len()
    );
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); KINDS.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); KINDS.len()];
    let mut hits = vec![0usize; KINDS.len()];
    let mut empty = vec![0usize; KINDS.len()];
    let mut unhighlighted = vec![0usize; KINDS.len()];
    let (c0, t0) = (process_cpu(), Instant::now());
    for (k, req) in schedule(SEED ^ 0x9E11, per_kind) {
        let (t, c) = (Instant::now(), thread_cpu());
        let page = idx.search(&req)?;
        let dc = thread_cpu() - c;
        wall[k].push(t.elapsed().as_secs_f64() * 1000.0);
        cpu[k].push(dc * 1000.0);
        hits[k] += page.total;
        if page.hits.is_empty() {
            empty[k] += 1;
        }
        // Honesty check: text queries must come back highlighted.
        if !req.query.is_empty() && page.hits.iter().any(|h| h.highlights.is_empty()) {
            unhighlighted[k] += 1;
        }
    }
    let total_wall = t0.elapsed().as_secs_f64();
    let total_cpu = process_cpu() - c0;
    println!(
        "measured {} queries in {total_wall:.1} s wall, {total_cpu:.1} CPU-s (process); load {}",
        per_kind * KINDS.len(),
        loadavg()
    );
    println!(
        "| query | n | wall p50 | wall p95 | wall p99 | CPU p50 | CPU p95 | CPU p99 | mean CPU | mean hits | no hits |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let row = |label: &str, w: &mut Vec<f64>, c: &mut Vec<f64>, h: usize, e: usize| {
        w.sort_by(f64::total_cmp);
        c.sort_by(f64::total_cmp);
        let n = w.len().max(1);
        println!(
            "| {label} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} |",
            w.len(),
            pct(w, 0.5),
            pct(w, 0.95),
            pct(w, 0.99),
            pct(c, 0.5),
            pct(c, 0.95),
            pct(c, 0.99),
            c.iter().sum::<f64>() / n as f64,
            h / n,
            e
        );
    };
    let (mut all_w, mut all_c) = (Vec::new(), Vec::new());
    for (k, (_, label)) in KINDS.iter().enumerate() {
        all_w.extend_from_slice(&wall[k]);
        all_c.extend_from_slice(&cpu[k]);
        row(label, &mut wall[k], &mut cpu[k], hits[k], empty[k]);
    }
    let (h, e) = (hits.iter().sum(), empty.iter().sum());
    row("**all**", &mut all_w, &mut all_c, h, e);
    let bad: usize = unhighlighted.iter().sum();
    if bad > 0 {
        return Err(format!("{bad} text queries returned hits without highlights").into());
    }

    // What `vigil chat search` and `GET /api/chat/search` pay on top: both
    // open the index for every request.
    let mut open_ms = Vec::new();
    let mut open_cpu = Vec::new();
    for i in 0..20 {
        let (t, c) = (Instant::now(), thread_cpu());
        let fresh = SearchIndex::open(dir)?;
        fresh.search(&SearchRequest {
            query: m.vocab[i % 30].clone(),
            cases: (1..=CASES as i64).collect(),
            limit: 20,
            ..Default::default()
        })?;
        open_cpu.push((thread_cpu() - c) * 1000.0);
        open_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    open_ms.sort_by(f64::total_cmp);
    open_cpu.sort_by(f64::total_cmp);
    println!(
        "open + common-term search (per CLI/API request), 20 runs: wall p50 {:.2} ms, max {:.2} ms; thread CPU p50 {:.2} ms",
        pct(&open_ms, 0.5),
        pct(&open_ms, 1.0),
        pct(&open_cpu, 0.5)
    );
    println!(
        "peak RSS {:.0} MiB (VmHWM), anonymous now {:.0} MiB, file-backed now {:.0} MiB",
        status_mib("VmHWM"),
        status_mib("RssAnon"),
        status_mib("RssFile")
    );
    Ok(())
}

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: search_bench build DIR MESSAGES | query DIR MESSAGES [PER_KIND]";
    let (mode, dir, n) = match (args.get(1), args.get(2), args.get(3)) {
        (Some(m), Some(d), Some(n)) => (
            m.as_str(),
            std::path::PathBuf::from(d),
            n.parse::<usize>()
                .map_err(|e| format!("MESSAGES {n:?}: {e}; {usage}"))?,
        ),
        _ => return Err(usage.into()),
    };
    let t = Instant::now();
    let model = Model::new(n);
    eprintln!("corpus model in {:.2} s", t.elapsed().as_secs_f64());
    match mode {
        "build" => {
            if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
                return Err(format!(
                    "{}: not empty; build wants a fresh directory",
                    dir.display()
                )
                .into());
            }
            build(&dir, n, &model)
        }
        "query" => {
            let per_kind = match args.get(4) {
                Some(s) => s
                    .parse::<usize>()
                    .map_err(|e| format!("PER_KIND {s:?}: {e}; {usage}"))?,
                None => 500,
            };
            query(&dir, &model, per_kind)
        }
        "sample" => {
            // Prints a few generated messages, to eyeball the corpus.
            let mut rng = Rng(1);
            for room in model.rooms.iter().take(3) {
                let z = Zipf::new(room.members.len(), 1.0);
                for _ in 0..8 {
                    println!(
                        "{} {} <{}> {}",
                        room.case_id,
                        room.name,
                        model.handle(room, z.sample(&mut rng)),
                        model.text(&mut rng, room, &z)
                    );
                }
            }
            Ok(())
        }
        other => Err(format!("unknown mode {other:?}; {usage}").into()),
    }
}
