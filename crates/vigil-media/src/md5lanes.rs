//! Multi-buffer MD5: up to 16 independent messages hashed at once in the
//! 32-bit lanes of AVX-512 registers.
//!
//! MD5 has no hardware support and is ~60 % of the CPU the three digests
//! cost; one MD5 stream is a chain of dependent additions that a core cannot
//! speed up, but 16 unrelated streams fill a vector register. Measured on the
//! project VM: ~4.5 GB per CPU-second for 16 lanes against ~0.5 for the
//! md-5 crate (examples/md5x16_probe.rs). The scanner therefore hashes the
//! small files and images of a batch together here, while SHA-1 and SHA-256
//! (which have SHA-NI) run per file.
//!
//! Correctness does not depend on the vector path: without AVX-512, or for
//! lanes left alone at the end of a batch, the md-5 crate's compression
//! function continues from the lane's state. Tests compare every path with
//! the md-5 crate on random lengths.

use md5::Digest as _;
use vigil_domain::Md5;

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Below this many messages, lanes would mostly idle: use one stream each.
const MIN_BATCH: usize = 4;

/// Whether batching pays off on this CPU (else `md5_many` is one stream
/// per buffer and batching would only add a copy).
pub(crate) fn lanes_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// MD5 of every buffer, in order.
pub(crate) fn md5_many(bufs: &[&[u8]]) -> Vec<Md5> {
    #[cfg(target_arch = "x86_64")]
    if bufs.len() >= MIN_BATCH && std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: AVX-512F is available (checked just above).
        return unsafe { x86::md5_many_avx512(bufs) };
    }
    bufs.iter().map(|b| md5_one(b)).collect()
}

pub(crate) fn md5_one(bytes: &[u8]) -> Md5 {
    Md5(md5::Md5::digest(bytes).into())
}

/// The final one or two blocks of `msg`: its last `len % 64` bytes, 0x80,
/// zeros, and the bit length (RFC 1321 padding). Returns the buffer and
/// how many of its bytes (64 or 128) are blocks.
fn padded_tail(msg: &[u8]) -> ([u8; 128], usize) {
    let rest = &msg[msg.len() / 64 * 64..];
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let used = if rest.len() < 56 { 64 } else { 128 };
    let bits = (msg.len() as u64).wrapping_mul(8);
    tail[used - 8..used].copy_from_slice(&bits.to_le_bytes());
    (tail, used)
}

fn state_bytes(state: &[u32; 4]) -> Md5 {
    let mut out = [0u8; 16];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    Md5(out)
}

/// Continues a lane on one core: the rest of its whole blocks, then its tail.
fn finish_scalar(mut state: [u32; 4], blocks: &[u8], tail: &[u8]) -> Md5 {
    let (whole, _) = blocks.as_chunks::<64>();
    md5::block_api::compress(&mut state, whole);
    let (t, _) = tail.as_chunks::<64>();
    md5::block_api::compress(&mut state, t);
    state_bytes(&state)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{INIT, Md5, finish_scalar, padded_tail, state_bytes};

    const LANES: usize = 16;
    /// When this few lanes are left busy and nothing waits, one stream each
    /// is faster than a mostly idle vector.
    const SCALAR_BELOW: usize = 6;

    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

    /// Where a lane currently reads: whole blocks of its message, then its
    /// padded tail.
    #[derive(Clone, Copy)]
    enum Phase {
        Body,
        Tail,
    }

    #[derive(Clone, Copy)]
    struct Lane {
        msg: usize,
        phase: Phase,
        /// Byte offset into the current region (message body or tail).
        pos: usize,
        /// Whole blocks left in the current region.
        left: usize,
    }

    /// # Safety
    /// AVX-512F must be available.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn md5_many_avx512(bufs: &[&[u8]]) -> Vec<Md5> {
        let mut out = vec![Md5([0; 16]); bufs.len()];
        let tails: Vec<([u8; 128], usize)> = bufs.iter().map(|b| padded_tail(b)).collect();
        let mut states = [INIT; LANES];
        let mut lanes: [Option<Lane>; LANES] = [None; LANES];
        // Longest first, so that lanes run out of work at about the same
        // time instead of one long message finishing alone.
        let mut order: Vec<usize> = (0..bufs.len()).collect();
        order.sort_unstable_by_key(|&i| std::cmp::Reverse(bufs[i].len()));
        let mut next = 0;
        let start = |msg: usize| {
            let body = bufs[msg].len() / 64;
            if body > 0 {
                Lane {
                    msg,
                    phase: Phase::Body,
                    pos: 0,
                    left: body,
                }
            } else {
                Lane {
                    msg,
                    phase: Phase::Tail,
                    pos: 0,
                    left: tails[msg].1 / 64,
                }
            }
        };
        loop {
            for (lane, state) in lanes.iter_mut().zip(states.iter_mut()) {
                if lane.is_none() && next < bufs.len() {
                    *lane = Some(start(order[next]));
                    *state = INIT;
                    next += 1;
                }
            }
            let busy = lanes.iter().flatten().count();
            if busy == 0 {
                break;
            }
            if busy < SCALAR_BELOW && next == bufs.len() {
                for (lane, state) in lanes.iter().zip(states) {
                    let Some(l) = lane else { continue };
                    let tail = &tails[l.msg].0[..tails[l.msg].1];
                    out[l.msg] = match l.phase {
                        Phase::Body => finish_scalar(
                            state,
                            &bufs[l.msg][l.pos..bufs[l.msg].len() / 64 * 64],
                            tail,
                        ),
                        Phase::Tail => finish_scalar(state, &[], &tail[l.pos..]),
                    };
                }
                break;
            }
            let k = lanes.iter().flatten().map(|l| l.left).min().unwrap_or(0);
            let mut regions: [&[u8]; LANES] = [&[0u8; 64]; LANES];
            let mut active = [false; LANES];
            for (i, lane) in lanes.iter().enumerate() {
                if let Some(l) = lane {
                    let region: &[u8] = match l.phase {
                        Phase::Body => &bufs[l.msg][l.pos..l.pos + k * 64],
                        Phase::Tail => &tails[l.msg].0[l.pos..l.pos + k * 64],
                    };
                    regions[i] = region;
                    active[i] = true;
                }
            }
            // SAFETY: AVX-512F is enabled for this function; every active
            // region holds exactly `k` blocks, idle lanes read one block.
            unsafe { compress16(&mut states, &regions, &active, k) };
            for (lane, state) in lanes.iter_mut().zip(states.iter()) {
                let Some(l) = lane else { continue };
                l.pos += k * 64;
                l.left -= k;
                if l.left == 0 {
                    match l.phase {
                        Phase::Body => {
                            *l = Lane {
                                msg: l.msg,
                                phase: Phase::Tail,
                                pos: 0,
                                left: tails[l.msg].1 / 64,
                            };
                        }
                        Phase::Tail => {
                            out[l.msg] = state_bytes(state);
                            *lane = None;
                        }
                    }
                }
            }
        }
        out
    }

    /// Runs `blocks` MD5 blocks on each active lane. Idle lanes compute on
    /// their one dummy block and their state is not written back.
    #[target_feature(enable = "avx512f")]
    unsafe fn compress16(
        states: &mut [[u32; 4]; LANES],
        regions: &[&[u8]; LANES],
        active: &[bool; LANES],
        blocks: usize,
    ) {
        let mut words = [[0u32; LANES]; 4];
        for (lane, s) in states.iter().enumerate() {
            for w in 0..4 {
                words[w][lane] = s[w];
            }
        }
        // SAFETY (all loads/stores below): each pointer addresses a local
        // array of exactly 16 u32 (64 bytes) or a region block of 64 bytes
        // within its slice (checked by slicing).
        let mut st = words.map(|w| unsafe { _mm512_loadu_si512(w.as_ptr().cast()) });
        let mut scratch = [0u32; LANES * 16];
        let column: [i32; 16] = core::array::from_fn(|l| (l * 16) as i32);
        let column = unsafe { _mm512_loadu_si512(column.as_ptr().cast()) };
        for blk in 0..blocks {
            for (lane, region) in regions.iter().enumerate() {
                let at = if active[lane] { blk * 64 } else { 0 };
                let block = &region[at..at + 64];
                let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
                unsafe { _mm512_storeu_si512(scratch[lane * 16..].as_mut_ptr().cast(), v) };
            }
            let mut m = [_mm512_setzero_si512(); 16];
            for (j, w) in m.iter_mut().enumerate() {
                // SAFETY: indices l*16 + j < 256 stay inside `scratch`.
                *w = unsafe { _mm512_i32gather_epi32::<4>(column, scratch[j..].as_ptr().cast()) };
            }
            let saved = st;
            for i in 0..64 {
                let [a, b, c, d] = st;
                let (f, g) = match i / 16 {
                    0 => (_mm512_ternarylogic_epi32::<0xca>(b, c, d), i),
                    1 => (_mm512_ternarylogic_epi32::<0xe4>(b, c, d), (5 * i + 1) % 16),
                    2 => (_mm512_ternarylogic_epi32::<0x96>(b, c, d), (3 * i + 5) % 16),
                    _ => (_mm512_ternarylogic_epi32::<0x39>(b, c, d), (7 * i) % 16),
                };
                let t = _mm512_add_epi32(
                    _mm512_add_epi32(a, f),
                    _mm512_add_epi32(m[g], _mm512_set1_epi32(K[i] as i32)),
                );
                let s = _mm512_set1_epi32(S[(i / 16) * 4 + i % 4] as i32);
                st = [d, _mm512_add_epi32(_mm512_rolv_epi32(t, s), b), b, c];
            }
            for (x, y) in st.iter_mut().zip(saved) {
                *x = _mm512_add_epi32(*x, y);
            }
        }
        for (w, v) in words.iter_mut().zip(st) {
            unsafe { _mm512_storeu_si512(w.as_mut_ptr().cast(), v) };
        }
        for (lane, s) in states.iter_mut().enumerate() {
            if active[lane] {
                for w in 0..4 {
                    s[w] = words[w][lane];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 32) as u8
            })
            .collect()
    }

    #[test]
    fn padding_boundaries_and_uneven_batches_match_md5_crate() {
        // Every tail shape (0..=130 bytes) and some multi-block messages,
        // in one batch, so lanes finish at different times and are refilled.
        let mut msgs: Vec<Vec<u8>> = (0..=130).map(|n| bytes(n, n as u64)).collect();
        msgs.extend([4096, 100_003, 1 << 20, 7].iter().map(|&n| bytes(n, 99)));
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let got = md5_many(&refs);
        for (m, g) in msgs.iter().zip(&got) {
            assert_eq!(*g, md5_one(m), "length {}", m.len());
        }
    }

    #[test]
    fn scalar_finish_continues_a_lane_state() {
        let msg = bytes(1000, 5);
        let (tail, used) = padded_tail(&msg);
        assert_eq!(
            finish_scalar(INIT, &msg[..960], &tail[..used]),
            md5_one(&msg)
        );
    }

    proptest! {
        #[test]
        fn random_batches_match_md5_crate(lens in proptest::collection::vec(0usize..3000, 0..40), seed in any::<u64>()) {
            let msgs: Vec<Vec<u8>> = lens.iter().enumerate().map(|(i, &n)| bytes(n, seed ^ i as u64)).collect();
            let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
            let got = md5_many(&refs);
            prop_assert_eq!(got.len(), msgs.len());
            for (m, g) in msgs.iter().zip(&got) {
                prop_assert_eq!(*g, md5_one(m));
            }
        }
    }
}
