//! Errors of the readers and writers, and the one policy that governs them.
//!
//! **Policy.** Two kinds of failure, never mixed up:
//!
//! * An [`EntryError`] is a problem confined to one entry (a bad hex digest, an
//!   unknown category, a duplicate `MediaID`, a CSV row with a bad flag). The
//!   reader hands it to the caller's callback *instead of* that entry, skips the
//!   entry, and goes on: the rest of the file is still a valid set. With
//!   [`crate::ImportOptions::strict`] the first entry error instead ends the
//!   import as [`ImportError::Entry`].
//! * An [`ImportError`] is file-level: I/O failure, truncated or syntactically
//!   broken JSON, a missing `value` array, a CSV header without a hash column.
//!   After one, the entries already handed out are *not* a set anyone exported:
//!   the caller must refuse the whole import (roll back what it stored).
//!
//! Every error names where it happened: the 1-based line, and for JSON the
//! 1-based column (in bytes) of the entry's opening brace or of the syntax
//! error, plus the `MediaID` and field name when known.

use std::fmt;

use vigil_domain::HexError;

/// Where an entry (or an error) starts in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SourcePos {
    /// 1-based line; for CSV the line the record starts on.
    pub line: u64,
    /// 1-based byte column, known for JSON input only.
    pub column: Option<u64>,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {c}", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// What was wrong with one entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryErrorKind {
    #[error(transparent)]
    BadHash(#[from] HexError),
    #[error("unknown category {label:?} for scheme {scheme} (known: {known})")]
    UnknownCategory {
        scheme: String,
        label: String,
        known: String,
    },
    #[error("duplicate MediaID {0:?} (first occurrence kept)")]
    DuplicateMediaId(String),
    #[error("expected {expected}, found {found}")]
    BadValue {
        expected: &'static str,
        found: String,
    },
    #[error("entry has no hash (MD5, SHA-1, SHA-256, PDQ or PhotoDNA)")]
    NoHash,
    #[error("record has {found} fields, header has {expected}")]
    FieldCount { expected: usize, found: usize },
    #[error("malformed CSV record: {0}")]
    Csv(String),
}

/// One entry could not be read; it was skipped (see the module policy).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct EntryError {
    pub pos: SourcePos,
    pub media_id: Option<String>,
    /// The field (JSON key or CSV column) at fault, if one is.
    pub field: Option<String>,
    /// Boxed to keep `Result<_, EntryError>` small on the hot path.
    pub kind: Box<EntryErrorKind>,
}

impl EntryError {
    pub(crate) fn new(pos: SourcePos, kind: EntryErrorKind) -> Self {
        Self {
            pos,
            media_id: None,
            field: None,
            kind: Box::new(kind),
        }
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl EntryError {
    /// The error as one `FILE:LINE: message` line (with the column, MediaID
    /// and field when known) — the form the CLI prints and the API returns,
    /// so an officer finds the entry in the file either way.
    pub fn located(&self, file: &str) -> String {
        let mut msg = String::new();
        if let Some(c) = self.pos.column {
            msg.push_str(&format!("column {c}: "));
        }
        if let Some(id) = &self.media_id {
            msg.push_str(&format!("MediaID {id}: "));
        }
        if let Some(f) = &self.field {
            msg.push_str(&format!("field {f}: "));
        }
        msg.push_str(&self.kind.to_string());
        format!("{file}:{}: {msg}", self.pos.line)
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.pos)?;
        if let Some(id) = &self.media_id {
            write!(f, " (MediaID {id})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// The file as a whole could not be read; refuse the whole import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "unrecognised hash-set format (not VICS JSON, ICSE CSV, CSV/TSV with a hash column, or a PDQ list)"
    )]
    UnknownFormat,
    #[error("{0} input: convert it to UTF-8 first")]
    Encoding(&'static str),
    #[error("file truncated at {pos}: {message}")]
    Truncated { pos: SourcePos, message: String },
    #[error("syntax error at {pos}: {message}")]
    Syntax { pos: SourcePos, message: String },
    #[error("unexpected structure at {pos}: {message}")]
    Structure { pos: SourcePos, message: String },
    #[error("bad header at line {line}: {message}")]
    Header { line: u64, message: String },
    #[error("strict import stopped at the first bad entry: {0}")]
    Entry(Box<EntryError>),
    #[error("import cancelled by the caller")]
    Cancelled,
}

impl ImportError {
    /// The refusal as one `FILE:LINE: message` line (`FILE: message` when
    /// the error has no line), saying that nothing changed.
    pub fn located(&self, file: &str) -> String {
        let line = match self {
            ImportError::Truncated { pos, .. }
            | ImportError::Syntax { pos, .. }
            | ImportError::Structure { pos, .. } => Some(pos.line),
            ImportError::Header { line, .. } => Some(*line),
            ImportError::Entry(entry) => return entry.located(file),
            _ => None,
        };
        match line {
            Some(l) => format!("{file}:{l}: {self}; import refused, nothing changed"),
            None => format!("{file}: {self}; import refused, nothing changed"),
        }
    }
}

/// A writer failed. Output written so far is incomplete and must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON serialisation: {0}")]
    Json(#[from] serde_json::Error),
    #[error("CSV writing: {0}")]
    Csv(#[from] csv::Error),
    #[error("entry {index}: {message}")]
    Entry { index: u64, message: String },
}
