//! Corrupted input never panics: thousands of randomly mutated and truncated
//! copies of the fixtures go through every reader, which must return either
//! entries, entry errors or a fatal error. (A panic fails the test.)

use std::ops::ControlFlow;

use vigil_hashset::*;

const FIXTURES: &[&[u8]] = &[
    include_bytes!("data/vics2_media.json"),
    include_bytes!("data/vics1_media.json"),
    include_bytes!("data/vics2_cases.json"),
    include_bytes!("data/icse.csv"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const NASTY: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"-1",
    b"1e999",
    b"\\u0000",
    b"\xff\xfe",
    b";",
    b"\n",
    b"\r\n",
    b"\xEF\xBB\xBF",
    b"\"Media\":[",
    b"\"MediaID\":1,",
    b"true",
];

fn mutate(r: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    for _ in 0..=r.below(4) {
        match r.below(4) {
            0 if !v.is_empty() => {
                let cut = r.below(v.len());
                v.truncate(cut);
            }
            1 if !v.is_empty() => {
                let i = r.below(v.len());
                v[i] = r.next() as u8;
            }
            2 => {
                let i = r.below(v.len() + 1);
                let piece = NASTY[r.below(NASTY.len())];
                v.splice(i..i, piece.iter().copied());
            }
            _ if !v.is_empty() => {
                let i = r.below(v.len());
                let j = (i + r.below(40)).min(v.len());
                v.drain(i..j);
            }
            _ => {}
        }
    }
    v
}

#[test]
fn mutated_inputs_never_panic() {
    let mut r = Rng(0x5EED);
    let formats = [
        None,
        Some(Format::Vics),
        Some(Format::IcseCsv),
        Some(Format::Delimited { delimiter: b';' }),
        Some(Format::PdqList),
    ];
    let mut outcomes = [0u32; 3];
    for round in 0..3000 {
        let src = FIXTURES[round % FIXTURES.len()];
        let input = mutate(&mut r, src);
        let opts = ImportOptions {
            format: formats[r.below(formats.len())],
            strict: r.below(4) == 0,
            ..ImportOptions::default()
        };
        let mut errors = 0;
        let result = import(&input[..], &opts, |item| {
            if let Err(e) = item {
                // Every entry error names a real line.
                assert!(e.pos.line >= 1, "{e}");
                errors += 1;
            }
            ControlFlow::Continue(())
        });
        match result {
            Ok(_) if errors == 0 => outcomes[0] += 1,
            Ok(_) => outcomes[1] += 1,
            Err(e) => {
                let _ = e.to_string();
                outcomes[2] += 1;
            }
        }
    }
    // The mutations exercise all three outcomes of the policy.
    assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
}
