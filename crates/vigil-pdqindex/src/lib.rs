//! Exact PDQ radius index for tens of millions of hashes, plus series
//! clustering.
//!
//! # What this crate owns
//!
//! The in-memory structure that answers "which stored PDQ hashes are within
//! Hamming distance `r` of this one?" during scans ([`PdqIndex`]), its
//! on-disk form ([`PdqIndex::save`], [`PdqIndex::load`]), and single-link
//! clustering of a scan's unknown images into series ([`cluster_series`]).
//! Ids are the caller's `i64` (database row ids of hash-set entries).
//!
//! # Design
//!
//! Multi-index hashing with the *generalised* pigeonhole principle, shaped by
//! a memory budget of ~64 bytes per hash (32 of which are the hash itself):
//!
//! * **Rows** (the 32-byte hashes) are stored once, sorted by their first
//!   `h` bits, with a directory of `2^h + 1` offsets. This "free table"
//!   indexes the first substring (`h` + 8 bits) without any row ids: a
//!   probed bucket is a contiguous run of rows, filtered first on a byte per
//!   row holding the next 8 bits (derived from the rows, not stored in the
//!   file), so only ~1 % of its rows are read in full. `h ≈ log2(n) − 3`
//!   (20 at 10 M, buckets of ~10 entries: a probe costs mostly its one
//!   random access, and the wider key halves the candidates).
//! * **Seven permutation tables** index seven further substrings. Each is a
//!   directory on `h` bits of its substring plus one `u32` per hash holding
//!   the row index in the low `ceil(log2 n)` bits and the *next* substring
//!   bits in the remaining high bits (8 at 10 M). Probing visits the
//!   directory buckets within radius `t` of the query and filters the
//!   entries of each bucket on the inline bits with a popcount (SIMD), so
//!   only ~140 hashes per table and query at 10 M need a random row read.
//! * **Probing** runs in two passes per table — all directory slots, then
//!   all buckets, each with software prefetch — so the core keeps many
//!   independent misses in flight; candidates from the tables are verified
//!   in a third pass with the same pattern (+15 % at 10 M, +40 % at 1 M over
//!   a single interleaved pipeline).
//! * **Radii**: with 8 substrings, any hash within `r` is within `t_i` of the
//!   query on some substring as soon as `Σ t_i ≥ r + 1 − 8` (a substring that
//!   is not probed counts `t_i = −1`). At `r = 31` every substring is probed
//!   at radius 3; at `r = 0` only the free table is, at radius 0. When the
//!   cost model says a linear scan is cheaper (huge radii, tiny sets) the
//!   query scans instead, so every radius 0..=256 is answered exactly.
//! * **Memory** at 10 M: 32 (hash) + 4 (id offset; 8 if ids span ≥ 2^32) +
//!   7 × 4 (tables) + ~3.4 (8 directories) + 1 (extension byte) + 1/8
//!   (tombstones) ≈ 68.5 bytes (measured RSS growth: 68.4 B/hash).
//! * The big arrays are advised onto transparent huge pages (`mem.rs`):
//!   probing is a few thousand random accesses into hundreds of MB, and
//!   4 KiB pages made most of them TLB misses (+25-50 % queries/CPU-s).
//! * **Changes** without rebuild: inserts go to a pending list scanned
//!   linearly by queries; removals set a tombstone bit (found through the
//!   free table's directory, hence `remove(id, hash)`); [`PdqIndex::compact`]
//!   (automatic once the pending list is large) rebuilds in about a build's
//!   time. No background threads.
//! * **Batch** queries ([`PdqIndex::query_batch`]) run on rayon's pool in
//!   chunks of up to 4,096 queries whose probes are grouped by table window
//!   (`batch.rs`): each ~160 KB window of a table is loaded once and serves
//!   every probe of the chunk that lands in it (1.66× the single-query rate
//!   per CPU-second at 10 M). Small batches run query by query; radii beyond
//!   the tables use a tiled scan (query chunks × L2-sized tiles).
//! * Hot loops are compiled twice more with `#[target_feature]` (AVX-512
//!   VPOPCNTDQ; POPCNT) and chosen at run time; the portable build is the
//!   same code. `unsafe` is limited to those dispatch calls, the AVX-512
//!   entry filter (masked loads and compress-stores, 16 entries at a time),
//!   the prefetch hint and `madvise`.
//!
//! # Invariants
//!
//! * Answers are exact: equal to a brute-force scan of the live hashes
//!   (property-tested, also after inserts, removals and save → load).
//! * Results are sorted by (distance, id); a `(row, id)` pair appears once.
//! * `rows.len() < 2^31`; every table entry's row index is `< rows.len()`
//!   and directories are monotone ending at the table length (checked when
//!   loading a file, so a bad file is an error, never a panic).

mod batch;
mod bits;
mod cluster;
mod error;
mod index;
mod mem;
mod persist;

pub use cluster::{Cluster, cluster_series};
pub use error::IndexError;
pub use index::{
    DEFAULT_RADIUS, IndexStats, MAX_HASHES, MAX_VARIANTS, Match, PERM_TABLES, PdqIndex,
};
pub use persist::FORMAT_VERSION;
