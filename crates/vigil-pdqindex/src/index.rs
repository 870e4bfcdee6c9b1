//! The index proper: layout, build, radius queries, insert/remove/compact.

use std::sync::OnceLock;

use rayon::prelude::*;
use vigil_domain::PdqHash;

use crate::batch::{BATCH_CHUNK, MIN_BATCH};
use crate::bits::{
    Lanes, MAX_DIR_BITS, MAX_TABLE_RADIUS, MIN_DIR_BITS, ball_size, dist, extract, masks, prefetch,
};
use crate::error::IndexError;

/// Meta's confident-match threshold; the radius the rest of Vigil uses.
pub const DEFAULT_RADIUS: u32 = PdqHash::DEFAULT_MAX_DISTANCE;
/// Number of row-id ("permutation") tables besides the row array itself.
pub const PERM_TABLES: usize = 7;
/// Substrings in the pigeonhole split: the row array's key plus the tables.
pub(crate) const SUBSTRINGS: usize = PERM_TABLES + 1;
/// At most this many variant hashes per logical query (PDQ's 8 dihedral
/// transforms: identity, 3 rotations, 4 flips).
pub const MAX_VARIANTS: usize = 8;
/// Row indices are `u32` with the top bits of each table entry spent on key
/// bits, so the main part holds fewer than 2^31 rows.
pub const MAX_HASHES: usize = (1usize << 31) - 1;

/// One answer: the caller's id and the Hamming distance to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Match {
    pub id: i64,
    pub distance: u32,
}

/// Geometry of the index, a pure function of the row count at build time
/// (and stored in the persisted file so a reader never has to re-derive it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Width `h` of every directory (free table and permutation tables).
    pub dir_bits: u32,
    /// Bits of a table entry holding the row index (`ceil(log2 rows)`).
    pub row_bits: u32,
    /// Key bits stored inline in a table entry above the row index.
    pub lo_bits: u32,
    /// Distance between the starts of consecutive table substrings.
    pub stride: u32,
}

impl Layout {
    pub fn for_rows(n: usize) -> Result<Layout, IndexError> {
        if n > MAX_HASHES {
            return Err(IndexError::TooManyHashes {
                requested: n,
                max: MAX_HASHES,
            });
        }
        // Directory of ~n/8 buckets: 8 directories of 4-byte offsets then
        // cost ~3.4 bytes per hash, and a bucket is ~8-16 entries (usually
        // one cache line of table entries). Measured at 10 M against ~n/16
        // (h = 19): 15 % more queries per CPU-second, because a probe costs
        // mostly its one random access and h = 20 halves the candidates
        // (each a further random row read) for 16 % more probes.
        let log = usize::BITS - 1 - n.max(1).leading_zeros();
        let dir_bits = log.saturating_sub(3).clamp(MIN_DIR_BITS, MAX_DIR_BITS);
        let row_bits = usize::BITS - (n.max(2) - 1).leading_zeros();
        Ok(Self::new(dir_bits, row_bits))
    }

    /// Whether a layout (e.g. read from a file) is one this build produces.
    pub fn is_valid(&self) -> bool {
        (MIN_DIR_BITS..=MAX_DIR_BITS).contains(&self.dir_bits)
            && (1..=31).contains(&self.row_bits)
            && *self == Self::new(self.dir_bits, self.row_bits)
    }

    /// Requires `dir_bits` in 4..=20 and `row_bits` in 1..=31.
    pub fn new(dir_bits: u32, row_bits: u32) -> Layout {
        let stride = (256 - dir_bits - EXT_BITS) / PERM_TABLES as u32;
        Layout {
            dir_bits,
            row_bits,
            lo_bits: (32 - row_bits).min(stride - dir_bits),
            stride,
        }
    }

    #[inline(always)]
    pub fn buckets(&self) -> usize {
        1usize << self.dir_bits
    }

    /// Key of the free table: the first `dir_bits` bits of the hash.
    #[inline(always)]
    pub fn key0(&self, l: &Lanes) -> u32 {
        extract(l, 0, self.dir_bits) as u32
    }

    /// The free table's inline extension: the `EXT_BITS` bits after key0.
    #[inline(always)]
    pub fn ext0(&self, l: &Lanes) -> u8 {
        extract(l, self.dir_bits, EXT_BITS) as u8
    }

    /// (directory key, inline low key) of permutation table `j`.
    #[inline(always)]
    pub fn perm_key(&self, l: &Lanes, j: usize) -> (u32, u32) {
        let start = self.dir_bits + EXT_BITS + j as u32 * self.stride;
        let k = extract(l, start, self.dir_bits + self.lo_bits);
        let hi = (k & ((1u64 << self.dir_bits) - 1)) as u32;
        (hi, (k >> self.dir_bits) as u32)
    }

    #[inline(always)]
    pub fn row_mask(&self) -> u32 {
        ((1u64 << self.row_bits) - 1) as u32
    }
}

/// Per-substring probe radii for a query radius `r`, by the generalised
/// pigeonhole principle: with `m` disjoint substrings and radii `t_i`
/// satisfying `sum t_i >= r + 1 - m`, any hash within `r` is within `t_i` of
/// the query on at least one substring (otherwise each substring contributes
/// `>= t_i + 1` and the total exceeds `r`). `t_i = -1` means "do not probe".
/// The `r + 1` increments go round-robin starting with the free table, whose
/// probes are sequential and therefore the cheapest.
pub(crate) fn thresholds(r: u32) -> [i32; SUBSTRINGS] {
    let inc = r as usize + 1;
    let mut t = [0i32; SUBSTRINGS];
    for (i, ti) in t.iter_mut().enumerate() {
        let extra = usize::from(i < inc % SUBSTRINGS);
        *ti = (inc / SUBSTRINGS + extra) as i32 - 1;
    }
    t
}

/// Caller ids in row order. Database row ids nearly always span less than
/// 2^32, so they are stored as `u32` offsets from the smallest (4 bytes per
/// hash instead of 8); any other set falls back to plain `i64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdColumn {
    Narrow { base: i64, off: Vec<u32> },
    Wide(Vec<i64>),
}

impl IdColumn {
    pub fn from_ids(ids: Vec<i64>) -> IdColumn {
        let (Some(&min), Some(&max)) = (ids.iter().min(), ids.iter().max()) else {
            return IdColumn::Narrow {
                base: 0,
                off: Vec::new(),
            };
        };
        if (i128::from(max) - i128::from(min)) <= i128::from(u32::MAX) {
            let off = ids
                .iter()
                .map(|&id| (i128::from(id) - i128::from(min)) as u32)
                .collect();
            IdColumn::Narrow { base: min, off }
        } else {
            IdColumn::Wide(ids)
        }
    }

    #[inline(always)]
    pub fn get(&self, row: usize) -> i64 {
        match self {
            // base + off never overflows: off was computed as id - base.
            IdColumn::Narrow { base, off } => base.wrapping_add(i64::from(off[row])),
            IdColumn::Wide(v) => v[row],
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            IdColumn::Narrow { off, .. } => off.capacity() * 4,
            IdColumn::Wide(v) => v.capacity() * 8,
        }
    }
}

/// A permutation table: row indices grouped by the table's directory key,
/// each entry `row | lo << row_bits` carrying `lo_bits` more key bits so that
/// most non-candidates are rejected without touching their row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PermTable {
    pub entries: Vec<u32>,
}

/// Bits of the free table's substring kept in a byte per row beside the
/// rows, so that a probed bucket is filtered on one byte per row and only
/// ~1 % of its rows (the survivors) are read in full.
pub(crate) const EXT_BITS: u32 = 8;

/// Sizes and memory of an index, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Hashes a query can return (rows + pending − tombstones).
    pub live: usize,
    /// Rows in the compacted main part (tombstoned ones included).
    pub rows: usize,
    pub tombstones: usize,
    /// Inserted since the last compaction, answered by a linear scan.
    pub pending: usize,
    /// Heap bytes held by the index (capacity, not length).
    pub heap_bytes: usize,
    pub dir_bits: u32,
    pub row_bits: u32,
    pub lo_bits: u32,
}

/// An exact in-memory PDQ radius index. See the crate documentation for the
/// design. Cheap to share between threads (`&PdqIndex` is `Sync`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdqIndex {
    pub(crate) layout: Layout,
    /// Hashes sorted by `layout.key0` (the free table).
    pub(crate) rows: Vec<Lanes>,
    /// `layout.ext0` of every row (derived from `rows`; not persisted).
    pub(crate) ext: Vec<u8>,
    pub(crate) ids: IdColumn,
    /// The directories of the free table (slot 0) and of the seven tables
    /// (slots 1..=7), each `2^h + 1` offsets: `dir(s)[k]..dir(s)[k+1]` is
    /// bucket `k`. One allocation so that it can live on huge pages (each
    /// directory alone is just over 2 MiB at 10 M, too small to hold an
    /// aligned huge page, and its probes are the first miss of every seek).
    pub(crate) dirs: Vec<u32>,
    pub(crate) tables: Vec<PermTable>,
    /// Tombstone bitmap over rows.
    pub(crate) dead: Vec<u64>,
    pub(crate) dead_count: usize,
    /// Inserted since the last compaction.
    pub(crate) pending_rows: Vec<Lanes>,
    pub(crate) pending_ids: Vec<i64>,
}

/// Queries cost-model constants (nanoseconds, roughly, on the target CPU).
const SEEK_NS: f64 = 15.0;
const ENTRY_NS: f64 = 0.15;
const CAND_NS: f64 = 15.0;
const SCAN_ROW_NS: f64 = 1.0;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Generic,
    Popcnt,
    Avx512,
}

pub(crate) fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vl")
                && std::is_x86_feature_detected!("avx512vpopcntdq")
                && std::is_x86_feature_detected!("popcnt")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("bmi2")
            {
                return Isa::Avx512;
            }
            if std::is_x86_feature_detected!("popcnt") {
                return Isa::Popcnt;
            }
        }
        Isa::Generic
    })
}

/// Scratch buffers of one querying thread.
#[derive(Default)]
struct Scratch {
    hits: Vec<(u32, u32)>,
    cands: Vec<u32>,
    /// Bucket ranges of the current probe pass.
    ranges: Vec<(u32, u32, u32)>,
    /// Probe the tables even where the cost model prefers a scan (tests).
    force_index: bool,
}

/// Rows per tile of the batch scan: 8192 × 32 B = 256 KiB, well inside the
/// 1 MiB L2, so every query of a chunk reuses the tile from cache.
const SCAN_TILE: usize = 8192;
/// Queries sharing one pass over the data base in the batch scan.
const SCAN_QUERY_CHUNK: usize = 64;

impl PdqIndex {
    /// An index with nothing in it.
    pub fn new() -> PdqIndex {
        Self::build_lanes(Vec::new(), Vec::new()).unwrap_or_else(|_| unreachable!())
    }

    /// Builds an index over `(id, hash)` pairs. Ids need not be unique (a
    /// hash set may list one hash under several entries); every pair is
    /// returned by queries that reach it.
    pub fn build<I>(entries: I) -> Result<PdqIndex, IndexError>
    where
        I: IntoIterator<Item = (i64, PdqHash)>,
    {
        let (ids, rows): (Vec<i64>, Vec<Lanes>) =
            entries.into_iter().map(|(id, h)| (id, h.lanes())).unzip();
        Self::build_lanes(rows, ids)
    }

    pub(crate) fn build_lanes(rows_in: Vec<Lanes>, ids_in: Vec<i64>) -> Result<Self, IndexError> {
        let n = rows_in.len();
        let layout = Layout::for_rows(n)?;
        let nb = layout.buckets();

        // Counting sort of the rows by key0: the free table needs no ids.
        let mut free_dir = vec![0u32; nb + 1];
        for l in &rows_in {
            free_dir[layout.key0(l) as usize + 1] += 1;
        }
        for i in 0..nb {
            free_dir[i + 1] += free_dir[i];
        }
        let mut pos = free_dir[..nb].to_vec();
        let mut rows: Vec<Lanes> = crate::mem::zeroed(n);
        let mut ids = vec![0i64; n];
        for (l, id) in rows_in.into_iter().zip(ids_in) {
            let p = &mut pos[layout.key0(&l) as usize];
            rows[*p as usize] = l;
            ids[*p as usize] = id;
            *p += 1;
        }
        drop(pos);

        let built: Vec<(Vec<u32>, PermTable)> = (0..PERM_TABLES)
            .into_par_iter()
            .map(|j| build_table(&layout, &rows, j))
            .collect();
        let mut dirs: Vec<u32> = crate::mem::zeroed(SUBSTRINGS * (nb + 1));
        dirs[..nb + 1].copy_from_slice(&free_dir);
        let mut tables = Vec::with_capacity(PERM_TABLES);
        for (j, (dir, table)) in built.into_iter().enumerate() {
            dirs[(j + 1) * (nb + 1)..(j + 2) * (nb + 1)].copy_from_slice(&dir);
            tables.push(table);
        }

        Ok(PdqIndex {
            layout,
            ext: ext_bytes(&layout, &rows),
            dead: vec![0u64; n.div_ceil(64)],
            dead_count: 0,
            rows,
            ids: IdColumn::from_ids(ids),
            dirs,
            tables,
            pending_rows: Vec::new(),
            pending_ids: Vec::new(),
        })
    }

    /// Hashes a query can currently return.
    pub fn len(&self) -> usize {
        self.rows.len() - self.dead_count + self.pending_rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> IndexStats {
        let entries: usize = self.tables.iter().map(|t| t.entries.capacity() * 4).sum();
        let heap_bytes = self.rows.capacity() * 32
            + self.ext.capacity()
            + self.ids.heap_bytes()
            + self.dirs.capacity() * 4
            + entries
            + self.dead.capacity() * 8
            + self.pending_rows.capacity() * 32
            + self.pending_ids.capacity() * 8
            + self.tables.capacity() * std::mem::size_of::<PermTable>();
        IndexStats {
            live: self.len(),
            rows: self.rows.len(),
            tombstones: self.dead_count,
            pending: self.pending_rows.len(),
            heap_bytes,
            dir_bits: self.layout.dir_bits,
            row_bits: self.layout.row_bits,
            lo_bits: self.layout.lo_bits,
        }
    }

    /// Adds one hash. It is answered at once (from a small pending list that
    /// queries scan linearly) and moved into the tables by the next
    /// compaction, which runs automatically when the pending list outgrows
    /// `max(4,096, rows / 256)` — so scanning it costs at most ~10 % of a
    /// query (39 k hashes ≈ 40 µs at 10 M, where a query costs ~0.5 ms) while
    /// a rebuild (~5 s CPU at 10 M) is amortised over as many inserts — or
    /// when [`PdqIndex::compact`] is called. Bulk loads should use
    /// [`PdqIndex::build`] instead.
    pub fn insert(&mut self, id: i64, hash: &PdqHash) -> Result<(), IndexError> {
        let total = self.rows.len() + self.pending_rows.len() + 1;
        if total > MAX_HASHES {
            return Err(IndexError::TooManyHashes {
                requested: total,
                max: MAX_HASHES,
            });
        }
        self.pending_rows.push(hash.lanes());
        self.pending_ids.push(id);
        if self.pending_rows.len() > (self.rows.len() / 256).max(4096) {
            self.compact()?;
        }
        Ok(())
    }

    /// Removes one `(id, hash)` pair; returns whether it was present. The
    /// hash is required so that removal finds the row through the free
    /// table's directory instead of an id → row map, which would cost 8-16
    /// more bytes per hash (the database always knows an entry's hash).
    pub fn remove(&mut self, id: i64, hash: &PdqHash) -> bool {
        let l = hash.lanes();
        let k = self.layout.key0(&l) as usize;
        let dir = self.dir(0);
        let (s, e) = (dir[k] as usize, dir[k + 1] as usize);
        for row in s..e {
            if self.rows[row] == l && self.ids.get(row) == id && !self.is_dead(row) {
                self.dead[row / 64] |= 1u64 << (row % 64);
                self.dead_count += 1;
                return true;
            }
        }
        if let Some(p) = self
            .pending_rows
            .iter()
            .zip(&self.pending_ids)
            .position(|(r, &i)| *r == l && i == id)
        {
            self.pending_rows.swap_remove(p);
            self.pending_ids.swap_remove(p);
            return true;
        }
        false
    }

    /// Rebuilds the tables from the live rows and the pending list, dropping
    /// tombstones. Runs in the caller's thread (plus rayon for the tables);
    /// about the cost of a build.
    pub fn compact(&mut self) -> Result<(), IndexError> {
        let live = self.len();
        let mut rows = Vec::with_capacity(live);
        let mut ids = Vec::with_capacity(live);
        for row in 0..self.rows.len() {
            if !self.is_dead(row) {
                rows.push(self.rows[row]);
                ids.push(self.ids.get(row));
            }
        }
        rows.append(&mut self.pending_rows);
        ids.append(&mut self.pending_ids);
        *self = Self::build_lanes(rows, ids)?;
        Ok(())
    }

    /// Directory of substring `s` (0 = free table, 1..=7 = tables).
    #[inline(always)]
    pub(crate) fn dir(&self, s: usize) -> &[u32] {
        let len = self.layout.buckets() + 1;
        &self.dirs[s * len..(s + 1) * len]
    }

    #[inline(always)]
    pub(crate) fn is_dead(&self, row: usize) -> bool {
        self.dead[row / 64] >> (row % 64) & 1 == 1
    }

    /// All stored hashes within `radius` (inclusive) of `hash`, sorted by
    /// (distance, id). Exact for every radius: radii beyond what the tables
    /// serve cheaply are answered by a linear scan.
    pub fn query(&self, hash: &PdqHash, radius: u32) -> Vec<Match> {
        let mut s = Scratch::default();
        let q = hash.lanes();
        self.query_rows(&q, radius, &mut s);
        let mut out = self.rows_to_matches(&s.hits);
        self.scan_pending(&q, radius, &mut out);
        sort_matches(&mut out);
        out
    }

    /// One logical query given as up to [`MAX_VARIANTS`] hashes (e.g. the 8
    /// dihedral transforms of an image): the union of their answers, each id
    /// once with its smallest distance.
    pub fn query_variants(
        &self,
        variants: &[PdqHash],
        radius: u32,
    ) -> Result<Vec<Match>, IndexError> {
        check_variants(variants.len())?;
        let mut s = Scratch::default();
        Ok(self.query_variants_with(variants, radius, &mut s))
    }

    fn query_variants_with(
        &self,
        variants: &[PdqHash],
        radius: u32,
        s: &mut Scratch,
    ) -> Vec<Match> {
        let mut all: Vec<(u32, u32)> = Vec::new();
        let mut out = Vec::new();
        for v in variants {
            let q = v.lanes();
            self.query_rows(&q, radius, s);
            all.extend_from_slice(&s.hits);
            self.scan_pending(&q, radius, &mut out);
        }
        dedup_min(&mut all);
        out.extend(self.rows_to_matches(&all));
        // Pending entries have no row number: dedup them by (id, hash) is not
        // possible here, so dedup the whole answer by id keeping the minimum.
        out.sort_unstable_by_key(|m| (m.id, m.distance));
        out.dedup_by_key(|m| m.id);
        sort_matches(&mut out);
        out
    }

    /// Many queries at once (a whole scan), on all rayon threads. Result `i`
    /// answers `queries[i]`. Radii served by the tables run the windowed
    /// batch mode (`batch.rs`: the probes of up to 4,096 queries grouped by
    /// table window, so each window is read once per chunk) when each
    /// thread gets at least 256 queries, else one query per task; larger
    /// radii run a tiled scan (chunks of queries against L2-sized tiles of
    /// the data base) so the memory traffic is shared.
    pub fn query_batch(&self, queries: &[PdqHash], radius: u32) -> Vec<Vec<Match>> {
        let t = thresholds(radius);
        if self.plan_scan(&t) && self.rows.len() > SCAN_TILE {
            return self.scan_batch(queries, radius);
        }
        if let Some(chunk) = self.batch_chunk(queries.len(), &t) {
            return self.windowed_batch(queries, radius, chunk);
        }
        queries
            .par_iter()
            .map_init(Scratch::default, |s, h| {
                let q = h.lanes();
                self.query_rows(&q, radius, s);
                let mut out = self.rows_to_matches(&s.hits);
                self.scan_pending(&q, radius, &mut out);
                sort_matches(&mut out);
                out
            })
            .collect()
    }

    /// The windowed batch mode (`batch.rs`) in chunks of `chunk` queries on
    /// rayon's pool. Requires radii the tables serve.
    fn windowed_batch(&self, queries: &[PdqHash], radius: u32, chunk: usize) -> Vec<Vec<Match>> {
        let t = thresholds(radius);
        let batch_rows = |qs: &[Lanes]| match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `isa()` returned Avx512 only after runtime
            // detection of every feature `batch_rows_avx512` enables.
            Isa::Avx512 => unsafe { self.batch_rows_avx512(qs, radius, &t) },
            _ => self.batch_rows_generic(qs, radius, &t),
        };
        let lanes: Vec<Lanes> = queries.iter().map(|h| h.lanes()).collect();
        lanes
            .par_chunks(chunk)
            .flat_map_iter(|qs| {
                let hits = batch_rows(qs);
                hits.into_iter().zip(qs).map(|(h, q)| {
                    let mut out = self.rows_to_matches(&h);
                    self.scan_pending(q, radius, &mut out);
                    sort_matches(&mut out);
                    out
                })
            })
            .collect()
    }

    /// [`PdqIndex::query_batch`] forced through the windowed batch mode
    /// whatever the batch size (radius <= 55): lets tests exercise it on
    /// small batches.
    #[doc(hidden)]
    pub fn query_batch_windowed(&self, queries: &[PdqHash], radius: u32) -> Vec<Vec<Match>> {
        let t = thresholds(radius);
        if !t.iter().all(|&x| x <= MAX_TABLE_RADIUS as i32) {
            return self.query_batch(queries, radius);
        }
        self.windowed_batch(queries, radius, 97)
    }

    /// Queries per chunk of the windowed batch mode, or `None` where the
    /// per-query path is better (few queries per thread).
    fn batch_chunk(&self, nq: usize, t: &[i32; SUBSTRINGS]) -> Option<usize> {
        let per_thread = nq.div_ceil(rayon::current_num_threads().max(1));
        let servable = t.iter().all(|&x| x <= MAX_TABLE_RADIUS as i32);
        (servable && per_thread >= MIN_BATCH).then(|| per_thread.min(BATCH_CHUNK))
    }

    /// [`PdqIndex::query_batch`] for logical queries of 1..=8 variants each.
    pub fn query_batch_variants<Q>(
        &self,
        queries: &[Q],
        radius: u32,
    ) -> Result<Vec<Vec<Match>>, IndexError>
    where
        Q: AsRef<[PdqHash]> + Sync,
    {
        for q in queries {
            check_variants(q.as_ref().len())?;
        }
        Ok(queries
            .par_iter()
            .map_init(Scratch::default, |s, q| {
                self.query_variants_with(q.as_ref(), radius, s)
            })
            .collect())
    }

    /// [`PdqIndex::query`] forced through the tables whenever the radius is
    /// servable by them (`radius <= 55`), even where the cost model would
    /// scan: lets tests exercise the probing code on small sets.
    #[doc(hidden)]
    pub fn query_probing(&self, hash: &PdqHash, radius: u32) -> Vec<Match> {
        let mut s = Scratch {
            force_index: true,
            ..Scratch::default()
        };
        let q = hash.lanes();
        self.query_rows(&q, radius, &mut s);
        let mut out = self.rows_to_matches(&s.hits);
        self.scan_pending(&q, radius, &mut out);
        sort_matches(&mut out);
        out
    }

    /// Every live hash within `radius`, by a plain linear scan: the reference
    /// the index is tested against, and the answer for huge radii.
    pub fn query_scan(&self, hash: &PdqHash, radius: u32) -> Vec<Match> {
        let q = hash.lanes();
        let mut hits = Vec::new();
        self.dispatch_scan(&q, radius, &mut hits);
        let mut out = self.rows_to_matches(&hits);
        self.scan_pending(&q, radius, &mut out);
        sort_matches(&mut out);
        out
    }

    fn rows_to_matches(&self, hits: &[(u32, u32)]) -> Vec<Match> {
        hits.iter()
            .map(|&(row, d)| Match {
                id: self.ids.get(row as usize),
                distance: d,
            })
            .collect()
    }

    fn scan_pending(&self, q: &Lanes, r: u32, out: &mut Vec<Match>) {
        for (l, &id) in self.pending_rows.iter().zip(&self.pending_ids) {
            let d = dist(l, q);
            if d <= r {
                out.push(Match { id, distance: d });
            }
        }
    }

    /// Whether a linear scan is cheaper than probing with radii `t` (or the
    /// radii exceed the precomputed mask lists).
    fn plan_scan(&self, t: &[i32; SUBSTRINGS]) -> bool {
        if t.iter().any(|&x| x > MAX_TABLE_RADIUS as i32) {
            return true;
        }
        let n = self.rows.len() as f64;
        let l = &self.layout;
        let per_bucket = n / l.buckets() as f64;
        let key_space = 2f64.powi((l.dir_bits + l.lo_bits) as i32);
        let mut cost = 0.0;
        for (i, &ti) in t.iter().enumerate() {
            let seeks = ball_size(l.dir_bits, ti);
            if i == 0 {
                let rows_read = ball_size(l.dir_bits + EXT_BITS, ti) * n
                    / 2f64.powi((l.dir_bits + EXT_BITS) as i32);
                cost += seeks * (SEEK_NS + per_bucket * ENTRY_NS) + rows_read * CAND_NS;
            } else {
                let cands = ball_size(l.dir_bits + l.lo_bits, ti) * n / key_space;
                cost += seeks * (SEEK_NS + per_bucket * ENTRY_NS) + cands * CAND_NS;
            }
        }
        cost > n * SCAN_ROW_NS
    }

    /// Rows within `r` of `q` (deduplicated, tombstones dropped) into
    /// `s.hits`, via the ISA-specific compilation of the same code.
    fn query_rows(&self, q: &Lanes, r: u32, s: &mut Scratch) {
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `isa()` returned Avx512 only after runtime detection of
            // every feature `query_rows_avx512` enables.
            Isa::Avx512 => unsafe { self.query_rows_avx512(q, r, s) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: popcnt was detected at runtime.
            Isa::Popcnt => unsafe { self.query_rows_popcnt(q, r, s) },
            _ => self.query_rows_generic(q, r, s),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,popcnt,avx2,bmi2")]
    fn query_rows_avx512(&self, q: &Lanes, r: u32, s: &mut Scratch) {
        self.query_rows_impl(q, r, s, |bucket, f, cands| {
            // SAFETY: this closure only runs inside `query_rows_avx512`,
            // which is only called after runtime detection of AVX-512F and
            // VPOPCNTDQ.
            unsafe { filter_entries_avx512(bucket, f, cands) }
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn query_rows_popcnt(&self, q: &Lanes, r: u32, s: &mut Scratch) {
        self.query_rows_impl(q, r, s, filter_entries)
    }

    #[inline(always)]
    fn query_rows_generic(&self, q: &Lanes, r: u32, s: &mut Scratch) {
        self.query_rows_impl(q, r, s, filter_entries)
    }

    #[inline(always)]
    fn query_rows_impl(
        &self,
        q: &Lanes,
        r: u32,
        s: &mut Scratch,
        filter: impl Fn(&[u32], EntryFilter, &mut Vec<u32>),
    ) {
        s.hits.clear();
        let t = thresholds(r);
        let servable = t.iter().all(|&x| x <= MAX_TABLE_RADIUS as i32);
        if self.plan_scan(&t) && !(s.force_index && servable) {
            scan_rows(&self.rows, 0, q, r, &mut s.hits);
        } else {
            let lay = self.layout;
            let m = masks(lay.dir_bits);
            let rows = &self.rows;
            if t[0] >= 0 {
                let t0 = t[0] as u32;
                let hits = &mut s.hits;
                let qext = lay.ext0(q);
                probe(
                    &mut s.ranges,
                    self.dir(0),
                    &self.ext,
                    lay.key0(q),
                    m.up_to(t0 as usize),
                    |mask, bucket, start| {
                        let budget = t0 - mask.count_ones();
                        for (i, &x) in bucket.iter().enumerate() {
                            if (x ^ qext).count_ones() <= budget {
                                let row = start + i;
                                let d = dist(&rows[row], q);
                                if d <= r {
                                    hits.push((row as u32, d));
                                }
                            }
                        }
                    },
                );
            }
            s.cands.clear();
            let row_bits = lay.row_bits;
            let row_mask = lay.row_mask();
            for (j, table) in self.tables.iter().enumerate() {
                let tj = t[j + 1];
                if tj < 0 {
                    continue;
                }
                let tj = tj as u32;
                let (qhi, qlo) = lay.perm_key(q, j);
                let cands = &mut s.cands;
                probe(
                    &mut s.ranges,
                    self.dir(j + 1),
                    &table.entries,
                    qhi,
                    m.up_to(tj as usize),
                    |mask, bucket, _| {
                        let f = EntryFilter {
                            row_bits,
                            row_mask,
                            qlo,
                            budget: tj - mask.count_ones(),
                        };
                        filter(bucket, f, cands);
                    },
                );
            }
            const AHEAD: usize = 16;
            let c = &s.cands;
            for i in 0..c.len() {
                if let Some(&next) = c.get(i + AHEAD) {
                    prefetch(rows.as_ptr().wrapping_add(next as usize));
                }
                let row = c[i];
                let d = dist(&rows[row as usize], q);
                if d <= r {
                    s.hits.push((row, d));
                }
            }
            s.hits.sort_unstable();
            s.hits.dedup_by_key(|h| h.0);
        }
        if self.dead_count > 0 {
            s.hits.retain(|&(row, _)| !self.is_dead(row as usize));
        }
    }

    fn dispatch_scan(&self, q: &Lanes, r: u32, hits: &mut Vec<(u32, u32)>) {
        let mut s = Scratch {
            hits: std::mem::take(hits),
            ..Scratch::default()
        };
        s.hits.clear();
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: features detected at runtime by `isa()`.
            Isa::Avx512 => unsafe { scan_rows_avx512(&self.rows, q, r, &mut s.hits) },
            _ => scan_rows(&self.rows, 0, q, r, &mut s.hits),
        }
        if self.dead_count > 0 {
            s.hits.retain(|&(row, _)| !self.is_dead(row as usize));
        }
        *hits = s.hits;
    }

    /// Batch answers by a tiled linear scan whatever the radius: chunks of
    /// queries against L2-sized tiles of the rows, on all rayon threads. The
    /// reference for recall checks and the measure of the scan limit.
    pub fn query_batch_scan(&self, queries: &[PdqHash], radius: u32) -> Vec<Vec<Match>> {
        self.scan_batch(queries, radius)
    }

    fn scan_batch(&self, queries: &[PdqHash], radius: u32) -> Vec<Vec<Match>> {
        let lanes: Vec<Lanes> = queries.iter().map(|h| h.lanes()).collect();
        lanes
            .par_chunks(SCAN_QUERY_CHUNK)
            .flat_map_iter(|chunk| {
                let mut hits: Vec<Vec<(u32, u32)>> = vec![Vec::new(); chunk.len()];
                match isa() {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: features detected at runtime by `isa()`.
                    Isa::Avx512 => unsafe {
                        scan_tiles_avx512(&self.rows, chunk, radius, &mut hits)
                    },
                    _ => scan_tiles(&self.rows, chunk, radius, &mut hits),
                }
                hits.into_iter().zip(chunk).map(|(mut h, q)| {
                    if self.dead_count > 0 {
                        h.retain(|&(row, _)| !self.is_dead(row as usize));
                    }
                    let mut out = self.rows_to_matches(&h);
                    self.scan_pending(q, radius, &mut out);
                    sort_matches(&mut out);
                    out
                })
            })
            .collect()
    }
}

impl Default for PdqIndex {
    fn default() -> Self {
        Self::new()
    }
}

fn check_variants(n: usize) -> Result<(), IndexError> {
    if n == 0 || n > MAX_VARIANTS {
        return Err(IndexError::BadVariantCount {
            got: n,
            max: MAX_VARIANTS,
        });
    }
    Ok(())
}

fn sort_matches(v: &mut [Match]) {
    v.sort_unstable_by_key(|m| (m.distance, m.id));
}

/// Keep one (row, distance) per row, the smallest distance.
fn dedup_min(v: &mut Vec<(u32, u32)>) {
    v.sort_unstable();
    v.dedup_by_key(|h| h.0);
}

/// Parameters of the inline-key filter of one probed bucket.
#[derive(Clone, Copy)]
pub(crate) struct EntryFilter {
    pub row_bits: u32,
    pub row_mask: u32,
    pub qlo: u32,
    pub budget: u32,
}

/// Appends the row of every entry whose inline key bits are within
/// `budget` of the query's.
#[inline(always)]
pub(crate) fn filter_entries(bucket: &[u32], f: EntryFilter, cands: &mut Vec<u32>) {
    for &e in bucket {
        if ((e >> f.row_bits) ^ f.qlo).count_ones() <= f.budget {
            cands.push(e & f.row_mask);
        }
    }
}

/// [`filter_entries`] 16 entries per instruction: shift, xor, VPOPCNTD,
/// compare, and a compress-store of the survivors' rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
pub(crate) unsafe fn filter_entries_avx512(bucket: &[u32], f: EntryFilter, cands: &mut Vec<u32>) {
    use std::arch::x86_64::*;
    cands.reserve(bucket.len());
    let shift = _mm_cvtsi32_si128(f.row_bits as i32);
    let q = _mm512_set1_epi32(f.qlo as i32);
    let budget = _mm512_set1_epi32(f.budget as i32);
    let rmask = _mm512_set1_epi32(f.row_mask as i32);
    let mut len = cands.len();
    let out = cands.as_mut_ptr();
    let mut at = 0usize;
    while at < bucket.len() {
        let rem = bucket.len() - at;
        let lanes: u16 = if rem >= 16 {
            u16::MAX
        } else {
            (1u16 << rem) - 1
        };
        // SAFETY: the masked load reads only the `lanes` elements, all
        // inside `bucket[at..]`.
        let e = unsafe { _mm512_maskz_loadu_epi32(lanes, bucket.as_ptr().add(at).cast()) };
        let pc = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_srl_epi32(e, shift), q));
        let keep = _mm512_mask_cmple_epu32_mask(lanes, pc, budget);
        // SAFETY: at most `bucket.len()` values are stored in total, and
        // capacity was reserved for that many past the initial length.
        unsafe {
            _mm512_mask_compressstoreu_epi32(out.add(len).cast(), keep, _mm512_and_si512(e, rmask))
        };
        len += keep.count_ones() as usize;
        at += 16;
    }
    // SAFETY: elements up to `len` were initialised by the stores above,
    // and `len <= capacity` (see above).
    unsafe { cands.set_len(len) };
}

/// `layout.ext0` of every row.
pub(crate) fn ext_bytes(layout: &Layout, rows: &[Lanes]) -> Vec<u8> {
    let mut ext: Vec<u8> = crate::mem::zeroed(rows.len());
    for (x, l) in ext.iter_mut().zip(rows) {
        *x = layout.ext0(l);
    }
    ext
}

fn build_table(layout: &Layout, rows: &[Lanes], j: usize) -> (Vec<u32>, PermTable) {
    let nb = layout.buckets();
    let mut dir = vec![0u32; nb + 1];
    // Keys are recomputed in the second pass rather than kept: a key
    // vector per table (8 B/hash, in rayon's thread arenas) would stay in
    // the allocator's heap after the build and inflate the process RSS.
    for l in rows {
        dir[layout.perm_key(l, j).0 as usize + 1] += 1;
    }
    for i in 0..nb {
        dir[i + 1] += dir[i];
    }
    let mut pos = dir[..nb].to_vec();
    let mut entries: Vec<u32> = crate::mem::zeroed(rows.len());
    for (row, l) in rows.iter().enumerate() {
        let (hi, lo) = layout.perm_key(l, j);
        let p = &mut pos[hi as usize];
        entries[*p as usize] = row as u32 | ((u64::from(lo) << layout.row_bits) as u32);
        *p += 1;
    }
    (dir, PermTable { entries })
}

/// Visits the non-empty buckets `qkey ^ mask` for every mask. Each visit is
/// a random access into a multi-megabyte array, so the work is split in two
/// tight passes whose loads are independent of each other — first every
/// directory slot (prefetched `DIR_AHEAD` masks ahead), then every bucket
/// (prefetched `DATA_AHEAD` buckets ahead) — letting the core keep many misses in
/// flight instead of one dependent directory → bucket chain per probe.
#[inline(always)]
fn probe<T>(
    ranges: &mut Vec<(u32, u32, u32)>,
    dir: &[u32],
    data: &[T],
    qkey: u32,
    masks: &[u32],
    mut f: impl FnMut(u32, &[T], usize),
) {
    // Distances measured at 10 M on a loaded host (DRAM latency ~200 ns
    // against ~25 instructions of work per bucket).
    const DIR_AHEAD: usize = 32;
    const DATA_AHEAD: usize = 48;
    ranges.clear();
    for (v, &m) in masks.iter().enumerate() {
        if let Some(&next) = masks.get(v + DIR_AHEAD) {
            prefetch(dir.as_ptr().wrapping_add((qkey ^ next) as usize));
        }
        let k = (qkey ^ m) as usize;
        let (s, e) = (dir[k], dir[k + 1]);
        if s < e {
            ranges.push((m, s, e));
        }
    }
    for (v, &(m, s, e)) in ranges.iter().enumerate() {
        if let Some(&(_, next, end)) = ranges.get(v + DATA_AHEAD) {
            // first and last element: a bucket often straddles two lines
            prefetch(data.as_ptr().wrapping_add(next as usize));
            prefetch(data.as_ptr().wrapping_add(end as usize - 1));
        }
        let (s, e) = (s as usize, e as usize);
        f(m, &data[s..e], s);
    }
}

/// Rows of `rows` (numbered from `first`) within `r` of `q`.
#[inline(always)]
fn scan_rows(rows: &[Lanes], first: u32, q: &Lanes, r: u32, hits: &mut Vec<(u32, u32)>) {
    for (i, row) in rows.iter().enumerate() {
        let d = dist(row, q);
        if d <= r {
            hits.push((first + i as u32, d));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,popcnt,avx2,bmi2")]
fn scan_rows_avx512(rows: &[Lanes], q: &Lanes, r: u32, hits: &mut Vec<(u32, u32)>) {
    scan_rows(rows, 0, q, r, hits)
}

/// Tiled scan: every query of `qs` against each L2-sized tile in turn.
#[inline(always)]
fn scan_tiles(rows: &[Lanes], qs: &[Lanes], r: u32, hits: &mut [Vec<(u32, u32)>]) {
    for (ti, tile) in rows.chunks(SCAN_TILE).enumerate() {
        let first = (ti * SCAN_TILE) as u32;
        for (q, h) in qs.iter().zip(hits.iter_mut()) {
            scan_rows(tile, first, q, r, h);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,popcnt,avx2,bmi2")]
fn scan_tiles_avx512(rows: &[Lanes], qs: &[Lanes], r: u32, hits: &mut [Vec<(u32, u32)>]) {
    scan_tiles(rows, qs, r, hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_satisfy_the_pigeonhole_bound() {
        for r in 0..300u32 {
            let t = thresholds(r);
            let sum: i32 = t.iter().sum();
            assert!(sum >= r as i32 + 1 - SUBSTRINGS as i32, "r={r}");
            assert!(t.iter().all(|&x| x >= -1));
        }
        assert_eq!(thresholds(31), [3; 8]);
        assert_eq!(thresholds(0), [0, -1, -1, -1, -1, -1, -1, -1]);
    }

    #[test]
    fn layouts_fit_their_entries() {
        for n in [0usize, 1, 2, 3, 1000, 1 << 20, 10_000_000, MAX_HASHES] {
            let l = Layout::for_rows(n).unwrap();
            assert!(l.is_valid());
            assert!(l.row_bits + l.lo_bits <= 32);
            assert!(n <= 1 << l.row_bits);
            assert!(l.dir_bits + l.lo_bits <= l.stride);
            assert!(l.dir_bits + EXT_BITS + 6 * l.stride + l.dir_bits + l.lo_bits <= 256);
        }
        assert!(Layout::for_rows(MAX_HASHES + 1).is_err());
        assert_eq!(Layout::for_rows(10_000_000).unwrap().dir_bits, 20);
    }

    /// Every ISA build of the probing code answers the same (the machine
    /// running the tests picks one of them for the public entry points).
    #[test]
    fn portable_and_dispatched_paths_agree() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut rows: Vec<Lanes> = (0..30_000)
            .map(|_| [next(), next(), next(), next()])
            .collect();
        // near-duplicates at distances up to ~40
        for i in 0..3000 {
            let mut r = rows[i];
            for _ in 0..(i % 20) {
                let b = next() % 256;
                r[(b / 64) as usize] ^= 1 << (b % 64);
            }
            rows.push(r);
        }
        let ids: Vec<i64> = (0..rows.len() as i64).collect();
        let index = PdqIndex::build_lanes(rows.clone(), ids).unwrap();
        for radius in [0, 7, 20, 31, 45, 55] {
            for q in rows.iter().step_by(997) {
                let mut a = Scratch {
                    force_index: true,
                    ..Scratch::default()
                };
                let mut b = Scratch {
                    force_index: true,
                    ..Scratch::default()
                };
                index.query_rows_generic(q, radius, &mut a);
                index.query_rows(q, radius, &mut b);
                assert_eq!(a.hits, b.hits, "radius {radius}");
                let mut want: Vec<(u32, u32)> = index
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i as u32, dist(r, q)))
                    .filter(|&(_, d)| d <= radius)
                    .collect();
                want.sort_unstable();
                assert_eq!(a.hits, want);
            }
        }
    }

    /// The portable build of the windowed batch mode answers what the
    /// single-query path answers (the public entry points use the AVX-512
    /// build where available, which the integration tests cover).
    #[test]
    fn portable_windowed_batch_agrees() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut rows: Vec<Lanes> = (0..20_000)
            .map(|_| [next(), next(), next(), next()])
            .collect();
        let mut qs = Vec::new();
        for i in 0..600 {
            let mut r = rows[i * 7];
            for _ in 0..(i % 36) {
                let b = next() % 256;
                r[(b / 64) as usize] ^= 1 << (b % 64);
            }
            qs.push(r);
            if i % 3 == 0 {
                rows.push(r);
            }
        }
        let ids: Vec<i64> = (0..rows.len() as i64).collect();
        let index = PdqIndex::build_lanes(rows, ids).unwrap();
        for radius in [0, 9, 31, 44] {
            let t = thresholds(radius);
            let got = index.batch_rows_generic(&qs, radius, &t);
            for (q, g) in qs.iter().zip(&got) {
                let mut s = Scratch {
                    force_index: true,
                    ..Scratch::default()
                };
                index.query_rows_generic(q, radius, &mut s);
                assert_eq!(*g, s.hits, "radius {radius}");
            }
        }
    }

    #[test]
    fn narrow_and_wide_ids() {
        let c = IdColumn::from_ids(vec![5, -3, 7]);
        assert!(matches!(c, IdColumn::Narrow { base: -3, .. }));
        assert_eq!((c.get(0), c.get(1), c.get(2)), (5, -3, 7));
        let w = IdColumn::from_ids(vec![i64::MIN, i64::MAX]);
        assert!(matches!(w, IdColumn::Wide(_)));
        assert_eq!((w.get(0), w.get(1)), (i64::MIN, i64::MAX));
    }
}
