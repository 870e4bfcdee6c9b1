//! Typed errors of the index, its persisted file and clustering.

use std::path::PathBuf;

/// Everything that can go wrong building, changing, saving or loading an
/// index. Loading never panics on a bad file: every defect maps to a variant.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a Vigil PDQ index file (bad magic)")]
    BadMagic { path: PathBuf },
    #[error("{path}: unsupported index file version {found} (this build reads {supported})")]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path} is truncated: {what}")]
    Truncated { path: PathBuf, what: &'static str },
    #[error("{path}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    ChecksumMismatch {
        path: PathBuf,
        stored: u32,
        computed: u32,
    },
    #[error("{path} is corrupt: {what}")]
    Corrupt { path: PathBuf, what: String },
    #[error("the index holds at most {max} hashes (asked for {requested})")]
    TooManyHashes { requested: usize, max: usize },
    #[error("a logical query takes 1..={max} variant hashes, got {got}")]
    BadVariantCount { got: usize, max: usize },
}
