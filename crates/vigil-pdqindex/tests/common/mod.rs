//! Helpers shared by the integration tests: data generators and the
//! brute-force reference the index must equal.
#![allow(dead_code)]

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use vigil_domain::PdqHash;
use vigil_pdqindex::Match;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn random_hash(r: &mut StdRng) -> PdqHash {
    let mut b = [0u8; 32];
    r.fill(&mut b);
    PdqHash(b)
}

/// `h` with exactly `k` distinct bits flipped.
pub fn flip(r: &mut StdRng, h: &PdqHash, k: u32) -> PdqHash {
    let mut out = *h;
    let mut bits: Vec<usize> = (0..256).collect();
    for i in 0..k as usize {
        let j = r.random_range(i..256);
        bits.swap(i, j);
        let b = bits[i];
        out.0[b / 8] ^= 1 << (b % 8);
    }
    out
}

/// Random hashes plus near-duplicates of some of them at distances 0..=40,
/// as real collections have.
pub fn clustered_set(r: &mut StdRng, n: usize) -> Vec<(i64, PdqHash)> {
    let mut v: Vec<(i64, PdqHash)> = Vec::with_capacity(n);
    for i in 0..n {
        let h = if i > 0 && r.random_bool(0.4) {
            let src = v[r.random_range(0..v.len())].1;
            let k = r.random_range(0..=40);
            flip(r, &src, k)
        } else {
            random_hash(r)
        };
        v.push((r.random_range(-5..(n as i64 * 2)), h));
    }
    v
}

/// Every entry of `set` within `radius` of `q`, sorted by (distance, id).
pub fn brute(set: &[(i64, PdqHash)], q: &PdqHash, radius: u32) -> Vec<Match> {
    let mut v: Vec<Match> = set
        .iter()
        .filter_map(|(id, h)| {
            let d = h.distance(q);
            (d <= radius).then_some(Match {
                id: *id,
                distance: d,
            })
        })
        .collect();
    v.sort_unstable_by_key(|m| (m.distance, m.id));
    v
}

/// Queries: near-duplicates of stored hashes (some at the exact radius and
/// one beyond) and fresh random hashes.
pub fn queries(r: &mut StdRng, set: &[(i64, PdqHash)], count: usize, radius: u32) -> Vec<PdqHash> {
    (0..count)
        .map(|i| {
            if set.is_empty() || i % 4 == 3 {
                return random_hash(r);
            }
            let src = set[r.random_range(0..set.len())].1;
            let k = match i % 4 {
                0 => radius.min(256),
                1 => (radius + 1).min(256),
                _ => r.random_range(0..=radius.min(256)),
            };
            flip(r, &src, k)
        })
        .collect()
}
