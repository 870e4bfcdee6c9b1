//! Batch mode: many queries answered per pass over the tables.
//!
//! One query probes ~1,350 buckets per substring at 10 M hashes, each a
//! random access into a 40 MB table, and that access is nearly all of its
//! cost. A batch of `Q` queries makes `Q × 1,350` probes per substring, so
//! here they are first grouped by *window* — the top bits of the bucket key,
//! 2^WINDOW_BITS consecutive buckets, ~160 KB of table and 16 KB of
//! directory — with one counting pass and one scatter pass, and then answered window
//! by window: the window is read from memory once and every probe landing
//! in it is served from L1/L2. With a few thousand queries per chunk each
//! window is hit by thousands of probes, so the tables are effectively
//! streamed instead of sought. Candidates from the tables are verified
//! afterwards with a prefetched pass over the rows, as in the single path.
//!
//! The answers are exactly those of [`PdqIndex::query`] (same pigeonhole
//! radii, same filters, same verification), which the tests check.

use crate::bits::{Lanes, dist, masks, prefetch};
use crate::index::{EntryFilter, PdqIndex, SUBSTRINGS, filter_entries};

/// Buckets per window: 2^12 buckets ≈ 39 k entries at 10 M (156 KB of
/// table entries, 16 KB of directory), small enough to stay in L2 while its
/// probes are served, and few enough windows (256) that the scatter's
/// write streams stay in L1 (measured +9 % over 2^10 at 10 M).
const WINDOW_BITS: u32 = 12;
/// Queries per chunk: at 10 M, 4,096 queries make 5.5 M probes per
/// substring (44 MB of probe records), ~5 per bucket, so every window is
/// loaded once and reused thousands of times.
pub(crate) const BATCH_CHUNK: usize = 4096;
/// Below this many queries per thread the per-query path is used (too few
/// probes per window for the grouping to pay).
pub(crate) const MIN_BATCH: usize = 256;

impl PdqIndex {
    /// Rows within `r` of each query of `qs` (`qs.len() < 2^24`), sorted by
    /// row, one entry per row, tombstones dropped: what
    /// [`PdqIndex::query_rows`] gives for each query, computed per window.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,popcnt,avx2,bmi2")]
    pub(crate) fn batch_rows_avx512(
        &self,
        qs: &[Lanes],
        r: u32,
        t: &[i32; SUBSTRINGS],
    ) -> Vec<Vec<(u32, u32)>> {
        self.batch_rows_impl(qs, r, t, |bucket, f, out| {
            // SAFETY: only reached from `batch_rows_avx512`, which is only
            // called after runtime detection of AVX-512F and VPOPCNTDQ.
            unsafe { crate::index::filter_entries_avx512(bucket, f, out) }
        })
    }

    pub(crate) fn batch_rows_generic(
        &self,
        qs: &[Lanes],
        r: u32,
        t: &[i32; SUBSTRINGS],
    ) -> Vec<Vec<(u32, u32)>> {
        self.batch_rows_impl(qs, r, t, filter_entries)
    }

    #[inline(always)]
    fn batch_rows_impl(
        &self,
        qs: &[Lanes],
        r: u32,
        t: &[i32; SUBSTRINGS],
        filter: impl Fn(&[u32], EntryFilter, &mut Vec<u32>),
    ) -> Vec<Vec<(u32, u32)>> {
        let lay = self.layout;
        let m = masks(lay.dir_bits);
        let wbits = WINDOW_BITS.min(lay.dir_bits);
        let nwin = 1usize << (lay.dir_bits - wbits);
        let mut hits: Vec<(u32, u32, u32)> = Vec::new(); // (query, row, distance)
        let mut cands: Vec<(u32, u32)> = Vec::new(); // (row, query)
        let mut tmp: Vec<u32> = Vec::new();
        let mut probes: Vec<u64> = Vec::new();
        let mut keys: Vec<(u32, u32)> = Vec::with_capacity(qs.len());
        let mut count = vec![0usize; nwin + 1];
        for (sub, &ts) in t.iter().enumerate() {
            if ts < 0 {
                continue;
            }
            let ms = m.up_to(ts as usize);
            keys.clear();
            keys.extend(qs.iter().map(|q| {
                if sub == 0 {
                    (lay.key0(q), u32::from(lay.ext0(q)))
                } else {
                    lay.perm_key(q, sub - 1)
                }
            }));
            // Counting pass, then scatter: probes grouped by window.
            count.iter_mut().for_each(|c| *c = 0);
            for &(qhi, _) in &keys {
                for &mk in ms {
                    count[((qhi ^ mk) >> wbits) as usize + 1] += 1;
                }
            }
            for w in 0..nwin {
                count[w + 1] += count[w];
            }
            let total = count[nwin];
            probes.clear();
            probes.resize(total, 0);
            let mut pos = count[..nwin].to_vec();
            for (qi, &(qhi, _)) in keys.iter().enumerate() {
                for &mk in ms {
                    let k = qhi ^ mk;
                    let budget = ts as u32 - mk.count_ones();
                    let p = &mut pos[(k >> wbits) as usize];
                    probes[*p] = u64::from(k) << 32 | u64::from(budget) << 24 | qi as u64;
                    *p += 1;
                }
            }
            drop(pos);
            // Serve window by window.
            let dir = self.dir(sub);
            for &p in &probes {
                let k = (p >> 32) as usize;
                let (a, b) = (dir[k] as usize, dir[k + 1] as usize);
                if a == b {
                    continue;
                }
                let budget = (p >> 24) as u32 & 0xff;
                let qi = (p & 0xff_ffff) as u32;
                let qlo = keys[qi as usize].1;
                if sub == 0 {
                    let q = &qs[qi as usize];
                    let qext = qlo as u8;
                    for (i, &x) in self.ext[a..b].iter().enumerate() {
                        if (x ^ qext).count_ones() <= budget {
                            let d = dist(&self.rows[a + i], q);
                            if d <= r {
                                hits.push((qi, (a + i) as u32, d));
                            }
                        }
                    }
                } else {
                    let f = EntryFilter {
                        row_bits: lay.row_bits,
                        row_mask: lay.row_mask(),
                        qlo,
                        budget,
                    };
                    tmp.clear();
                    filter(&self.tables[sub - 1].entries[a..b], f, &mut tmp);
                    cands.extend(tmp.iter().map(|&row| (row, qi)));
                }
            }
        }
        // Verify the table candidates.
        const AHEAD: usize = 16;
        let rows = &self.rows;
        for i in 0..cands.len() {
            if let Some(&(next, _)) = cands.get(i + AHEAD) {
                prefetch(rows.as_ptr().wrapping_add(next as usize));
            }
            let (row, qi) = cands[i];
            let d = dist(&rows[row as usize], &qs[qi as usize]);
            if d <= r {
                hits.push((qi, row, d));
            }
        }
        let mut out: Vec<Vec<(u32, u32)>> = vec![Vec::new(); qs.len()];
        for (qi, row, d) in hits {
            out[qi as usize].push((row, d));
        }
        for h in &mut out {
            h.sort_unstable();
            h.dedup_by_key(|x| x.0);
            if self.dead_count > 0 {
                h.retain(|&(row, _)| !self.is_dead(row as usize));
            }
        }
        out
    }
}
