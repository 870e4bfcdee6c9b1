//! Benchmark: [`Store::offender_graph`] on a synthetic operation of about
//! 100 k nodes and 1 M edges (issue 7), on SQLite or PostgreSQL.
//!
//! ```text
//! # seed once, then build in a fresh process (so peak RSS is the build's own)
//! cargo run --release -p vigil-store --example graph_build_bench -- seed DB [SCALE]
//! cargo run --release -p vigil-store --example graph_build_bench -- build DB [RUNS]
//! # DB is a SQLite file path, or a postgres:// URL of an empty database
//! ```
//!
//! What is seeded, at SCALE 1 (all synthetic: handles `hN`, persons
//! `suspect N`, `uN@example.org`, addresses in 192.0.2.0/24,
//! 198.51.100.0/24 and 203.0.113.0/24, hex strings standing in for hashes):
//! 50 cases of one operation, 1,500 rooms, 40,000 persons, 50,000 chat
//! handles each in 3 rooms (150,000 participants with activity spans), 600,000
//! messages of which 3 in 4 are addressed to someone in the room, 7,500
//! operator grants and 60,000 DCC offers as room facts, 10,000 e-mail/IP
//! identifiers, 2,000 seized devices (1,500 with the person they were
//! seized from) with 100 files each drawn from a pool of 200,000 SHA-256s,
//! and one file in ten an image whose PDQ is either unique or a
//! near-duplicate of one of 500 series.
//!
//! The rows are written with batched multi-row INSERTs straight into the
//! tables the chat import and the scanner fill (same columns, same formats),
//! because the load is not what is measured and a million audited API calls
//! would take hours; the cases and the users go through the store API. The
//! build is the real thing: authorisation, every query, the audit entry.

use std::time::Instant;

use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vigil_domain::Release;
use vigil_store::{GraphScope, Store};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const ID0: i64 = 1_000_000;
const CASES: u64 = 50;
const NET: &str = "irc.example.net";

async fn open(db: &str) -> Result<Store, Box<dyn std::error::Error>> {
    Ok(if db.starts_with("postgres://") {
        Store::open_postgres(db).await?
    } else {
        Store::open_sqlite(std::path::Path::new(db)).await?
    })
}

fn ts(minutes: u64) -> Result<String, Box<dyn std::error::Error>> {
    let base = OffsetDateTime::from_unix_timestamp(1_767_225_600)?; // 2026-01-01
    Ok((base + time::Duration::minutes(minutes as i64)).format(&Rfc3339)?)
}

/// Writes rows `head VALUES (..),(..)` in batches inside one transaction.
struct Batch<'a> {
    pool: &'a AnyPool,
    head: &'static str,
    rows: Vec<String>,
    total: u64,
}

impl<'a> Batch<'a> {
    fn new(pool: &'a AnyPool, head: &'static str) -> Self {
        Batch {
            pool,
            head,
            rows: Vec::new(),
            total: 0,
        }
    }
    async fn push(&mut self, row: String) -> Result<(), sqlx::Error> {
        self.rows.push(row);
        if self.rows.len() >= 1000 {
            self.flush().await?;
        }
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), sqlx::Error> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!("{} VALUES {}", self.head, self.rows.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(self.pool)
            .await?;
        self.total += self.rows.len() as u64;
        self.rows.clear();
        Ok(())
    }
}

async fn seed(db: &str, scale: f64) -> Result<(), Box<dyn std::error::Error>> {
    let store = open(db).await?;
    let admin = store
        .init(
            "Bench Unit",
            "CA",
            Some("bench@example.ca"),
            "alice",
            "bench passphrase",
        )
        .await?;
    store
        .add_user(&admin, "ana", None, "investigator,analyst", None)
        .await?;
    let p = store.principal("ana").await?;
    let mut cases = Vec::new();
    for c in 0..CASES {
        let case = store
            .create_case(
                &p,
                &format!("Bench logs {c}"),
                Some("Bench"),
                &Release::Agency,
                "bench",
            )
            .await?;
        cases.push(case.id);
    }
    let pool = store.raw_pool_for_tests();
    let n = |x: f64| ((x * scale).round() as u64).max(1);
    let (persons, handles, rooms) = (n(40_000.0), n(50_000.0), n(1_500.0));
    let (messages, offers, grants) = (n(600_000.0), n(60_000.0), n(7_500.0));
    let (idents, devices, owned) = (n(10_000.0), n(2_000.0), n(1_500.0));
    let (files_per_device, hash_pool, series) = (100u64, n(200_000.0), n(500.0));
    let uid = p.user_id;
    let now = ts(0)?;
    let case_of = |i: u64| cases[(i % CASES) as usize];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t0 = Instant::now();

    let mut b = Batch::new(
        &pool,
        "INSERT INTO persons (id, uid, case_id, role, label, created_by, created_at, source)",
    );
    for i in 0..persons {
        b.push(format!(
            "({}, 'bench-p{i}', {}, 'suspect', 'suspect {i}', {uid}, '{now}', 'bench')",
            ID0 + i as i64,
            case_of(i)
        ))
        .await?;
    }
    b.flush().await?;
    let mut b = Batch::new(
        &pool,
        "INSERT INTO chat_rooms (id, case_id, name, network, created_by, created_at, source)",
    );
    for r in 0..rooms {
        b.push(format!(
            "({}, {}, '#room{r}', '{NET}', {uid}, '{now}', 'bench')",
            ID0 + r as i64,
            case_of(r)
        ))
        .await?;
    }
    b.flush().await?;
    // Rooms of a case: r with r % CASES == case index.
    let rooms_per_case = rooms.div_ceil(CASES);
    let room_in_case = |c: u64, k: u64| -> u64 { (k % rooms_per_case) * CASES + c };

    // Participants: each handle in 3 rooms of its person's case, active
    // for about a day somewhere in a 60-day window.
    let mut members: Vec<Vec<u64>> = vec![Vec::new(); rooms as usize];
    let mut b = Batch::new(
        &pool,
        "INSERT INTO chat_participants (case_id, room_id, handle, person_id, first_seen, \
         last_seen, source)",
    );
    for h in 0..handles {
        let person = h % persons;
        let c = person % CASES;
        let mut taken = Vec::new();
        for _ in 0..3 {
            let r = room_in_case(c, rng.below(rooms_per_case));
            if r >= rooms || taken.contains(&r) {
                continue;
            }
            taken.push(r);
            members[r as usize].push(h);
            let start = rng.below(60 * 24 * 60);
            let len = 60 + rng.below(24 * 60);
            b.push(format!(
                "({}, {}, 'h{h}', {}, '{}', '{}', 'bench')",
                case_of(c),
                ID0 + r as i64,
                ID0 + person as i64,
                ts(start)?,
                ts(start + len)?
            ))
            .await?;
        }
    }
    b.flush().await?;
    let participants = b.total;

    let mut b = Batch::new(
        &pool,
        "INSERT INTO chat_messages (case_id, room_id, event_key, sent_at, handle, kind, text, \
         addressed_to, created_by, created_at, source)",
    );
    for m in 0..messages {
        let r = rng.below(rooms);
        let ms = &members[r as usize];
        if ms.len() < 2 {
            continue;
        }
        let from = ms[rng.below(ms.len() as u64) as usize];
        let to = if rng.below(4) < 3 {
            let t = ms[rng.below(ms.len() as u64) as usize];
            if t == from {
                "NULL".to_string()
            } else {
                format!("'h{t}'")
            }
        } else {
            "NULL".to_string()
        };
        b.push(format!(
            "({}, {}, 'bench:{m}', '{}', 'h{from}', 'message', 'synthetic text {m}', {to}, {uid}, \
             '{now}', 'bench')",
            case_of(r),
            ID0 + r as i64,
            ts(rng.below(60 * 24 * 60))?
        ))
        .await?;
    }
    b.flush().await?;
    let messages = b.total;

    let mut b = Batch::new(
        &pool,
        "INSERT INTO chat_room_facts (case_id, room_id, kind, happened_at, detail, source)",
    );
    for i in 0..grants + offers {
        let r = rng.below(rooms);
        let ms = &members[r as usize];
        if ms.len() < 2 {
            continue;
        }
        let a = ms[rng.below(ms.len() as u64) as usize];
        let c = ms[rng.below(ms.len() as u64) as usize];
        let (kind, detail) = if i < grants {
            (
                "operator",
                format!(r#"{{"nick":"h{a}","by":"h{c}","granted":true,"role":"op","line":{i}}}"#),
            )
        } else {
            (
                "file_offer",
                format!(r#"{{"from":"h{a}","to":"h{c}","file":"set_{i}.zip","line":{i}}}"#),
            )
        };
        b.push(format!(
            "({}, {}, '{kind}', '{}', '{detail}', 'bench')",
            case_of(r),
            ID0 + r as i64,
            ts(rng.below(60 * 24 * 60))?
        ))
        .await?;
    }
    b.flush().await?;
    let facts = b.total;

    let mut b = Batch::new(
        &pool,
        "INSERT INTO identifiers (uid, case_id, person_id, kind, raw, normalized, created_by, \
         created_at, source)",
    );
    let nets = ["192.0.2", "198.51.100", "203.0.113"];
    for i in 0..idents {
        let person = rng.below(persons);
        let (kind, v) = if i % 5 == 0 {
            let net = nets[rng.below(3) as usize];
            ("ip", format!("{net}.{}", 1 + rng.below(254)))
        } else {
            ("email", format!("u{i}@example.org"))
        };
        b.push(format!(
            "('bench-i{i}', {}, {}, '{kind}', '{v}', '{v}', {uid}, '{now}', 'bench')",
            case_of(person),
            ID0 + person as i64
        ))
        .await?;
    }
    b.flush().await?;

    let mut b = Batch::new(
        &pool,
        "INSERT INTO devices (id, uid, case_id, person_id, label, created_by, created_at, source)",
    );
    let mut sb = Batch::new(
        &pool,
        "INSERT INTO scans (id, uid, case_id, device_id, root, status, started_at, created_by)",
    );
    for d in 0..devices {
        // Device d is seized from person d (same case) when owned.
        let person = if d < owned && d < persons {
            (ID0 + d as i64).to_string()
        } else {
            "NULL".into()
        };
        b.push(format!(
            "({}, 'bench-d{d}', {}, {person}, 'device {d}', {uid}, '{now}', 'bench')",
            ID0 + d as i64,
            case_of(d)
        ))
        .await?;
        sb.push(format!(
            "({}, 'bench-s{d}', {}, {}, '/mnt/d{d}', 'complete', '{now}', {uid})",
            ID0 + d as i64,
            case_of(d),
            ID0 + d as i64
        ))
        .await?;
    }
    b.flush().await?;
    sb.flush().await?;
    let series_base: Vec<[u8; 32]> = (0..series)
        .map(|_| {
            let mut h = [0u8; 32];
            for x in h.iter_mut() {
                *x = rng.next() as u8;
            }
            h
        })
        .collect();
    let mut b = Batch::new(
        &pool,
        "INSERT INTO evidence_items (scan_id, case_id, device_id, path, entry_type, size, sha256, \
         pdq, recorded_at)",
    );
    for d in 0..devices {
        for f in 0..files_per_device {
            let k = rng.below(hash_pool);
            let pdq = if f % 10 == 0 {
                let mut h = [0u8; 32];
                if rng.below(4) == 0 {
                    h = series_base[rng.below(series) as usize];
                    h[rng.below(32) as usize] ^= 1 << rng.below(8);
                } else {
                    for x in h.iter_mut() {
                        *x = rng.next() as u8;
                    }
                }
                format!("'{}'", hex::encode(h))
            } else {
                "NULL".into()
            };
            b.push(format!(
                "({}, {}, {}, 'f/{f}.jpg', 'file', 1000, '{k:064x}', {pdq}, '{}')",
                ID0 + d as i64,
                case_of(d),
                ID0 + d as i64,
                ts(60 * 24 * 90 + d)?
            ))
            .await?;
        }
    }
    b.flush().await?;
    println!(
        "seeded {} in {:.1} s: {persons} persons, {handles} handles, {rooms} rooms, \
         {participants} participants, {messages} messages, {facts} room facts, {idents} \
         identifiers, {devices} devices ({owned} with a person), {} files",
        store.backend().as_str(),
        t0.elapsed().as_secs_f64(),
        b.total
    );
    Ok(())
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses).
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime, stime are fields 14 and 15 of the full line: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of every PostgreSQL server process (the build's queries run
/// there; other sessions' work is included, so read it with the load).
fn postgres_cpu_seconds() -> f64 {
    let mut total = 0.0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return f64::NAN;
    };
    for e in dir.flatten() {
        let path = e.path().join("stat");
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue;
        };
        if !stat.contains("(postgres)") {
            continue;
        }
        let Some(rest) = stat.rsplit(')').next() else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let t = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
        total += (t(11) + t(12)) / 100.0;
    }
    total
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn build(db: &str, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let store = open(db).await?;
    let p = store.principal("ana").await?;
    let pg = db.starts_with("postgres://");
    for run in 1..=runs {
        let (w0, c0, s0) = (Instant::now(), cpu_seconds(), postgres_cpu_seconds());
        let g = store
            .offender_graph(&p, &GraphScope::Operation("Bench".into()))
            .await?;
        let (wall, cpu) = (w0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        let server = if pg {
            format!(
                ", postgres processes {:.1} CPU-s",
                postgres_cpu_seconds() - s0
            )
        } else {
            String::new()
        };
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        for e in g.graph.edges() {
            *kinds.entry(e.kind().as_str()).or_default() += 1;
        }
        let mut nk = std::collections::BTreeMap::<&str, usize>::new();
        for n in g.graph.nodes() {
            *nk.entry(n.kind().as_str()).or_default() += 1;
        }
        println!(
            "run {run} {}: {} nodes, {} edges in {wall:.2} s wall, {cpu:.2} CPU-s{server}; \
             peak RSS {:.0} MiB",
            store.backend().as_str(),
            g.graph.node_count(),
            g.graph.edge_count(),
            peak_rss_mib()
        );
        if run == 1 {
            println!("  nodes: {nk:?}");
            println!("  edges: {kinds:?}");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: graph_build_bench seed DB [SCALE] | build DB [RUNS]";
    let (Some(mode), Some(db)) = (args.get(1), args.get(2)) else {
        return Err(usage.into());
    };
    match mode.as_str() {
        "seed" => seed(db, args.get(3).map_or(Ok(1.0), |s| s.parse())?).await,
        "build" => build(db, args.get(3).map_or(Ok(1), |s| s.parse())?).await,
        _ => Err(usage.into()),
    }
}
