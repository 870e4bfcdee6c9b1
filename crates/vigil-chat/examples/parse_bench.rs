//! Import-parse throughput on a generated log.
//!
//! `cargo run --release -p vigil-chat --example parse_bench -- [lines] [format]`
//! (default 1,000,000 lines, irssi; formats: irssi, weechat). Prints lines/s
//! for parse alone and for parse + extraction + room analysis (`summarize`).

use std::fmt::Write as _;
use std::time::Instant;

use vigil_chat::{Format, ParseOptions, Zone, parse, summarize};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "anyone", "got", "new", "set", "pm", "me", "the", "folder", "later", "ok", "lol", "trade",
    "link", "up", "now", "brb", "who", "has", "it",
];
const EXTRAS: &[&str] = &[
    "my skype is live:user.x{}",
    "mail me at trader{}@example.com",
    "get it at http://files{}.example.net/a.zip",
    "md5 d41d8cd98f00b204e9800998ecf84{:03}",
    "add me on kik: kik_user{}",
    "from 203.0.113.{} now",
];

fn generate(lines: usize, format: Format) -> Vec<u8> {
    let mut rng = Rng(42);
    let mut out = String::with_capacity(lines * 70);
    let nicks: Vec<String> = (0..2000).map(|i| format!("nick{i}")).collect();
    if format == Format::Irssi {
        out.push_str("--- Log opened Mon Mar 02 00:00:00 2009\n");
    }
    let mut minute: u64 = 0;
    let mut day = 2;
    for i in 0..lines {
        if i % 40 == 0 {
            minute += 1;
            if minute == 24 * 60 {
                minute = 0;
                day += 1;
                if format == Format::Irssi {
                    let _ = writeln!(out, "--- Day changed Tue Mar {day:02} 2009");
                }
            }
        }
        let (h, m) = (minute / 60, minute % 60);
        let nick = &nicks[(rng.next() % nicks.len() as u64) as usize];
        let r = rng.next() % 100;
        let mut text = String::new();
        for _ in 0..(3 + rng.next() % 8) {
            text.push_str(rng.pick(WORDS));
            text.push(' ');
        }
        if r < 10 {
            text.push_str(
                &rng.pick(EXTRAS)
                    .replace("{}", &(rng.next() % 250).to_string())
                    .replace("{:03}", &format!("{:03}", rng.next() % 1000)),
            );
        }
        let ip = format!("198.51.100.{}", rng.next() % 250);
        match format {
            Format::Weechat => {
                let ts = format!("2009-03-{day:02} {h:02}:{m:02}:{:02}", i % 60);
                match r {
                    90..=94 => writeln!(out, "{ts}\t-->\t{nick} (~{nick}@{ip}) has joined #bench"),
                    95..=97 => {
                        writeln!(out, "{ts}\t<--\t{nick} (~{nick}@{ip}) has quit (Quit: bye)")
                    }
                    98 => writeln!(out, "{ts}\t--\tMode #bench [+o {nick}] by nick0"),
                    _ => writeln!(out, "{ts}\t@{nick}\t{text}"),
                }
            }
            _ => {
                let ts = format!("{h:02}:{m:02}");
                match r {
                    90..=94 => writeln!(out, "{ts} -!- {nick} [~{nick}@{ip}] has joined #bench"),
                    95..=97 => writeln!(out, "{ts} -!- {nick} [~{nick}@{ip}] has quit [Quit: bye]"),
                    98 => writeln!(out, "{ts} -!- mode/#bench [+o {nick}] by nick0"),
                    _ => writeln!(out, "{ts} <@{nick}> {text}"),
                }
            }
        }
        .expect("writing to a String cannot fail");
    }
    out.into_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lines: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let format: Format = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(Format::Irssi);
    let data = generate(lines, format);
    println!("{format}: {lines} lines, {:.1} MB", data.len() as f64 / 1e6);
    let opts = ParseOptions {
        format: None,
        zone: Zone::parse("Europe/London").expect("known zone"),
        base_date: None,
    };
    for round in 0..3 {
        let t = Instant::now();
        let log = parse(&data, &opts).expect("generated log parses");
        let parse_s = t.elapsed().as_secs_f64();
        let t2 = Instant::now();
        let s = summarize(&log);
        let sum_s = t2.elapsed().as_secs_f64();
        println!(
            "round {round}: parse {:.2} s = {:.0} lines/s ({:.0} MB/s); parse+summarize {:.2} s = {:.0} lines/s; events {}, identifiers {}, unparsed {}",
            parse_s,
            lines as f64 / parse_s,
            data.len() as f64 / 1e6 / parse_s,
            parse_s + sum_s,
            lines as f64 / (parse_s + sum_s),
            log.events.len(),
            s.identifiers.len(),
            log.unparsed.len()
        );
    }
}
