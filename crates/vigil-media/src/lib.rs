//! The seized-device scanner: walks a folder read-only and reports, for every
//! entry, its metadata, its type by magic bytes, MD5 + SHA-1 + SHA-256 and,
//! for images, the PDQ perceptual hash — so that known material can be
//! counted without anyone viewing it.
//!
//! # Invariants
//!
//! * **Read-only.** Evidence files are opened only through one function
//!   (read-only, `O_NOFOLLOW`, `O_NONBLOCK`, `O_NOATIME` when permitted);
//!   nothing is ever created or written under the scanned root.
//! * **No content leaves the crate.** Records hold hashes and metadata only;
//!   file bytes live in per-worker buffers that are overwritten by the next
//!   files, and are never logged, written, cached beyond the batch, or returned.
//! * **Never follows symlinks** below the root (a symlink is reported as such,
//!   with its target text) and **never opens** FIFOs, sockets or devices.
//! * **One read per file**: the three digests are computed from the same
//!   bytes, and images up to [`ScanOptions::max_image_bytes`] are decoded
//!   from that same buffer; other files stream in `chunk_size` pieces. On
//!   CPUs with AVX-512, files up to 2 MiB get SHA-1/SHA-256 at once and their
//!   MD5 in a batch of up to 256 files / 32 MiB, 16 at a time in vector
//!   lanes (MD5 has no hardware support and was 60 % of the hashing CPU).
//!   Memory is bounded by `threads × (max(chunk_size, max_image_bytes) +
//!   32 MiB)` whatever the file sizes.
//! * **Per-entry problems are data, not failures**: an unreadable, vanished,
//!   truncated or corrupt file yields a record with [`FileRecord::error`]
//!   set, and the scan goes on. Only an unusable root, thread start-up or
//!   the caller's sink stop a scan.
//! * Names are kept as raw bytes ([`RawPath`]) with a reversible one-line
//!   text form; directory walking is iterative (no recursion), so depth is
//!   not limited by the stack.
//!
//! # Example
//!
//! ```no_run
//! use std::path::Path;
//! use vigil_media::{ScanOptions, Scanner};
//!
//! let scanner = Scanner::new(ScanOptions::default()).with_skip(|p| p.as_bytes() == b"done.jpg");
//! let root = Path::new("/mnt/evidence");
//! let total = scanner.count(root)?; // optional, fills progress totals
//! let mut batch = Vec::new();
//! let summary = scanner.scan(root, |rec| batch.push(rec))?;
//! println!("{} of {} files, {} errors", summary.files, total.files, summary.errors);
//! # Ok::<(), vigil_media::ScanError>(())
//! ```

mod content;
pub mod digest;
mod images;
pub mod magic;
mod md5lanes;
mod rawpath;
mod readonly;
mod record;
mod scan;

pub use digest::{Digests, MultiHasher, digest_bytes};
pub use images::{ImageHash, hash_images};
pub use magic::{FileType, MediaKind};
pub use rawpath::{RawPath, TextPathError};
pub use record::{EntryKind, ErrorKind, FileRecord, RecordError, Timestamp, UnixMeta};
pub use scan::{
    CountSummary, ProgressSnapshot, ScanError, ScanOptions, ScanProgress, ScanSummary, Scanner,
    SinkResult, SkipFn,
};
pub use vigil_pdq::{DecodeLimits, PdqOutput};
