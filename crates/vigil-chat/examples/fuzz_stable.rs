//! Stable-Rust stand-in for the cargo-fuzz targets in `fuzz/` (cargo-fuzz
//! needs nightly). Mutates the test corpus and random bytes and feeds them
//! to one parser until the time budget ends; a panic saves the input to
//! `fuzz-crash-<target>-<n>.bin` and exits non-zero.
//!
//! `cargo run --release -p vigil-chat --example fuzz_stable -- <target> <seconds>`
//! targets: irssi weechat hexchat mirc jsonl csv detect

use std::panic;
use std::time::{Duration, Instant};

use vigil_chat::{Format, ParseOptions, detect, parse, summarize};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that steer mutations into the parsers' interesting branches.
const DICT: &[&[u8]] = &[
    b"-!- ",
    b" has joined ",
    b" has quit ",
    b"mode/#r [+o a] by b",
    b"<@",
    b"> ",
    b"\t-->\t",
    b"\t<--\t",
    b"\t--\t",
    b"\t *\t",
    b"**** BEGIN LOGGING AT Mon Mar  2 23:39:58 2009",
    b"Session Start: Mon Mar 02 23:39:58 2009",
    b"[23:59] ",
    b"* ",
    b"\x01DCC SEND f 3221225985 5000 99\x01",
    b"--- Day changed Tue Mar 03 2009",
    b"Mar 02 23:40:05 ",
    b"2009-03-02 23:40:05\t",
    b"{\"time\":1,\"from\":\"a\",\"text\":\"",
    b"time,from,text\n",
    b"my skype is ",
    b"@example.com",
    b"2001:db8::",
    b"\xe9\x80\xff",
    b"\x03\x02",
    b" is now known as ",
    b"gives channel operator status to ",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut d = if rng.below(10) == 0 {
        (0..rng.below(512)).map(|_| rng.next() as u8).collect()
    } else {
        seeds[rng.below(seeds.len())].clone()
    };
    for _ in 0..1 + rng.below(8) {
        let len = d.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 => {
                let tok = DICT[rng.below(DICT.len())];
                let at = rng.below(len + 1);
                d.splice(at..at, tok.iter().copied());
            }
            2 if len > 1 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                d.drain(a..b);
            }
            3 if len > 1 => {
                let a = rng.below(len);
                let b = (a + rng.below(200)).min(len);
                let chunk = d[a..b].to_vec();
                let at = rng.below(len + 1);
                d.splice(at..at, chunk);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(300)).min(other.len());
                    let at = rng.below(len + 1);
                    d.splice(at..at, other[a..b].iter().copied());
                }
            }
            _ => {
                let at = rng.below(len + 1);
                d.insert(at, rng.next() as u8);
            }
        }
    }
    d
}

fn run(target: &str, data: &[u8]) {
    let fmt = match target {
        "detect" => {
            let _ = detect(data);
            if let Ok(log) = parse(data, &ParseOptions::default()) {
                let _ = summarize(&log);
            }
            return;
        }
        t => t.parse::<Format>().ok(),
    };
    if let Ok(log) = parse(
        data,
        &ParseOptions {
            format: fmt,
            ..Default::default()
        },
    ) {
        let s = summarize(&log);
        // Every reported line number must exist.
        assert!(
            log.events
                .iter()
                .all(|e| e.line >= 1 && e.line <= log.total_lines)
        );
        assert!(
            s.unparsed_lines
                .iter()
                .all(|u| u.line >= 1 && u.line <= log.total_lines)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).cloned().unwrap_or_else(|| "detect".into());
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(data_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    seeds.push(b"{\"time\":\"2021-05-01T10:00:00Z\",\"from\":\"a\",\"text\":\"mail me at a@example.com\"}\n".to_vec());
    seeds.push(b"time,from,to,text\n2021-05-01T10:00:00Z,a,b,\"hi, there\"\n".to_vec());
    panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(0xC0FFEE ^ secs);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut execs: u64 = 0;
    let mut crashes = 0;
    while Instant::now() < end {
        for _ in 0..100 {
            let input = mutate(&mut rng, &seeds);
            let ok = panic::catch_unwind(|| run(&target, &input)).is_ok();
            execs += 1;
            if !ok {
                let name = format!("fuzz-crash-{target}-{crashes}.bin");
                let _ = std::fs::write(&name, &input);
                eprintln!("PANIC on input saved to {name}");
                crashes += 1;
            }
        }
    }
    println!("{target}: {execs} executions in {secs} s, {crashes} crashes");
    if crashes > 0 {
        std::process::exit(1);
    }
}
