//! Bit-level helpers: substring extraction, flip-mask enumeration, distances
//! and software prefetch.

use std::sync::OnceLock;

/// A hash as four little-endian 64-bit lanes (`PdqHash::lanes`); bit `k` of
/// the 256-bit string is bit `k % 64` of lane `k / 64`.
pub(crate) type Lanes = [u64; 4];

/// Hamming distance between two hashes in lane form.
#[inline(always)]
pub(crate) fn dist(a: &Lanes, b: &Lanes) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// `len` (<= 57) consecutive bits starting at bit `start`, as an integer
/// whose bit 0 is bit `start` of the hash. Requires `start + len <= 256`.
#[inline(always)]
pub(crate) fn extract(l: &Lanes, start: u32, len: u32) -> u64 {
    debug_assert!(len <= 57 && start + len <= 256);
    let word = (start / 64) as usize;
    let off = start % 64;
    let mut v = l[word & 3] >> off;
    if off != 0 && off + len > 64 {
        v |= l[(word + 1) & 3] << (64 - off);
    }
    if len >= 64 {
        v
    } else {
        v & ((1u64 << len) - 1)
    }
}

/// Largest per-table probe radius served by the precomputed mask lists.
/// Beyond it a scan is cheaper anyway (C(20, <=7) = 137,980 probes per table).
pub(crate) const MAX_TABLE_RADIUS: usize = 6;

/// All `bits`-bit masks of Hamming weight 0..=MAX_TABLE_RADIUS, ordered by
/// weight, so that "every mask of weight <= t" is the prefix `list[..ends[t]]`.
pub(crate) struct Masks {
    pub list: Vec<u32>,
    pub ends: [usize; MAX_TABLE_RADIUS + 1],
}

impl Masks {
    /// The masks of weight `<= t` (t in 0..=MAX_TABLE_RADIUS).
    #[inline]
    pub fn up_to(&self, t: usize) -> &[u32] {
        &self.list[..self.ends[t.min(MAX_TABLE_RADIUS)]]
    }
}

fn build_masks(bits: u32) -> Masks {
    let mut list = Vec::new();
    let mut ends = [0usize; MAX_TABLE_RADIUS + 1];
    for (w, end) in ends.iter_mut().enumerate() {
        let w = w as u32;
        if w == 0 {
            list.push(0);
        } else if w <= bits {
            // Gosper's hack: next integer with the same popcount.
            let mut m: u64 = (1u64 << w) - 1;
            let limit = 1u64 << bits;
            while m < limit {
                list.push(m as u32);
                let c = m & m.wrapping_neg();
                let r = m + c;
                m = (((r ^ m) >> 2) / c) | r;
            }
        }
        *end = list.len();
    }
    Masks { list, ends }
}

/// Directory widths supported by the index.
pub(crate) const MIN_DIR_BITS: u32 = 4;
pub(crate) const MAX_DIR_BITS: u32 = 20;

/// Shared, lazily built mask lists for a directory width (4..=20 bits).
pub(crate) fn masks(bits: u32) -> &'static Masks {
    static CACHE: [OnceLock<Masks>; (MAX_DIR_BITS + 1) as usize] =
        [const { OnceLock::new() }; (MAX_DIR_BITS + 1) as usize];
    let b = bits.min(MAX_DIR_BITS);
    CACHE[b as usize].get_or_init(|| build_masks(b))
}

/// Number of masks of weight <= t over `bits` bits (saturating, as f64).
pub(crate) fn ball_size(bits: u32, t: i32) -> f64 {
    if t < 0 {
        return 0.0;
    }
    let mut total = 0.0;
    let mut c = 1.0;
    for k in 0..=(t as u32).min(bits) {
        if k > 0 {
            c = c * f64::from(bits - k + 1) / f64::from(k);
        }
        total += c;
    }
    total
}

/// Hint the CPU to fetch the cache line holding `p`. A pure performance hint:
/// prefetching never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: `_mm_prefetch` needs only SSE, which every x86_64 CPU has
        // (it is in the target's baseline), and a prefetch never faults or
        // dereferences in the language sense, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_complete_and_ordered_by_weight() {
        let m = build_masks(10);
        assert_eq!(m.up_to(0), &[0]);
        assert_eq!(m.up_to(1).len(), 11);
        assert_eq!(m.up_to(3).len() as f64, ball_size(10, 3));
        let mut all: Vec<u32> = m.up_to(6).to_vec();
        for w in m.list.windows(2) {
            assert!(w[0].count_ones() <= w[1].count_ones());
        }
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), m.up_to(6).len());
        assert!(all.iter().all(|&x| x < 1024 && x.count_ones() <= 6));
    }

    #[test]
    fn small_widths_saturate() {
        let m = build_masks(4);
        assert_eq!(m.up_to(6).len(), 16);
    }

    #[test]
    fn extract_crosses_lanes() {
        let l = [0u64, 1u64 << 63, 0b101, 0];
        assert_eq!(extract(&l, 127, 3), 0b011);
        assert_eq!(extract(&l, 128, 3), 0b101);
        assert_eq!(extract(&l, 200, 56), 0);
        let ones = [u64::MAX; 4];
        assert_eq!(extract(&ones, 250, 6), 63);
    }
}
