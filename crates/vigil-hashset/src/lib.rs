//! Hash-set file formats, in and out: Project VIC VICS JSON (1.x and 2.0,
//! `#Media` hash sets and `#Cases` exports), INTERPOL ICSE CSV, plain CSV/TSV
//! hash lists and PDQ lists; and the category schemes their labels belong to.
//!
//! This crate is pure format code: no database, no matching, no files opened
//! by name. Readers take any `BufRead` and push entries to a callback as they
//! are parsed; writers take an iterator of entries and any `Write`. The store
//! and the CLI decide what a set is and where it lives.
//!
//! Invariants:
//! * **Streaming.** No reader holds more than one entry at a time; memory is
//!   flat in the file size apart from duplicate-`MediaID` detection (one bit
//!   per integer id, a hash-set entry per text id). A 654 MB VICS file parses
//!   in 2.6 MiB peak RSS (`bench/results/vigil-hashset.md`).
//! * **Lossless.** A reader keeps every field it does not understand in
//!   `extra`; writing an entry to its own format and reading it back yields an
//!   entry with [`HashEntry::same_content`] (VICS -> VICS, `#Cases` -> `#Cases`,
//!   ICSE -> ICSE, CSV -> CSV, PDQ list -> PDQ list).
//! * **One error policy** (see [`error`]): bad entries are reported with line
//!   (and column for JSON) and skipped; file-level corruption is fatal and the
//!   caller refuses the whole import; `strict` turns the former into the latter.
//! * **No media content** ever passes through here: digests and metadata only.
//!
//! ```
//! use std::ops::ControlFlow;
//! use vigil_hashset::{ImportOptions, VicsWriteOptions, import, write_vics};
//!
//! let file = br#"{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
//!   "value":[{"MediaID":1,"MD5":"00112233445566778899AABBCCDDEEFF","Category":1,"IsDistributed":"true"},
//!            {"MediaID":2,"MD5":"not hex"}]}"#;
//! let mut entries = Vec::new();
//! let report = import(&file[..], &ImportOptions::default(), |item| {
//!     match item {
//!         Ok(entry) => entries.push(entry),
//!         Err(bad) => eprintln!("skipped: {bad}"), // names line, column, MediaID, field
//!     }
//!     ControlFlow::Continue(())
//! })?;
//! assert_eq!((report.entries, report.errors), (1, 1));
//! assert!(entries[0].category.as_ref().unwrap().normalized.is_csam());
//!
//! let mut out = Vec::new();
//! write_vics(&mut out, &report.meta, &VicsWriteOptions::default(), &entries)?;
//! assert!(out.starts_with(b"{\"@odata.context\":\"http://github.com/VICSDATAMODEL/"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod category;
mod detect;
pub mod error;
mod lenient;
pub mod model;
mod pdqlist;
mod sink;
mod tabular;
pub mod vics;

use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;

pub use category::{Category, CategoryScheme, NormalizedCategory, UnknownCategory};
pub use detect::detect;
pub use error::{EntryError, EntryErrorKind, ExportError, ImportError, SourcePos};
pub use model::{
    AlternativeHash, CaseInfo, Format, HashEntry, HashSetMeta, MediaFile, VicsShape, WriteSummary,
};
pub use pdqlist::{read_pdq_list, write_pdq_list};
pub use tabular::{
    CSV_COLUMNS, CsvWriteOptions, ICSE_COLUMNS, read_delimited, read_icse, write_csv, write_icse,
};
pub use vics::{VicsWriteOptions, VicsWriter, read_vics, write_vics};

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `None`: detect from the first bytes ([`detect`]).
    pub format: Option<Format>,
    /// `None`: implied by the file (VICS profile `UK` -> UK, `CUSTOM` ->
    /// custom, otherwise Project VIC; a CSV category column -> custom).
    pub scheme: Option<CategoryScheme>,
    /// Stop at the first bad entry ([`ImportError::Entry`]) instead of
    /// reporting it and going on.
    pub strict: bool,
}

/// What an import saw, once the whole file was read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub meta: HashSetMeta,
    /// Entries handed to the callback as `Ok`.
    pub entries: u64,
    /// Entry errors handed to the callback (each one a skipped entry).
    pub errors: u64,
}

/// Skips a UTF-8 byte-order mark, which some VICS exporters write.
pub(crate) fn skip_bom<R: BufRead>(r: &mut R) -> std::io::Result<()> {
    const BOM: &[u8; 3] = b"\xEF\xBB\xBF";
    let buf = r.fill_buf()?;
    if buf.len() >= BOM.len() || buf.is_empty() {
        if buf.starts_with(BOM) {
            r.consume(BOM.len());
        }
        return Ok(());
    }
    // A buffer smaller than the mark: match it byte by byte. A partial
    // match is consumed, but `EF` not followed by `BB BF` is not UTF-8 text
    // in any of our formats anyway.
    for &b in BOM {
        if r.fill_buf()?.first() != Some(&b) {
            break;
        }
        r.consume(1);
    }
    Ok(())
}

/// Reads a hash set in any supported format, detected unless
/// `opts.format` names it. Each entry, or the error that replaced it, goes
/// to `on_item` in file order; returning `ControlFlow::Break` stops the read
/// with [`ImportError::Cancelled`].
pub fn import<R, F>(input: R, opts: &ImportOptions, on_item: F) -> Result<ImportReport, ImportError>
where
    R: Read,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    let mut input = BufReader::with_capacity(1 << 16, input);
    skip_bom(&mut input)?;
    let head = input.fill_buf()?;
    // Some Windows tools write UTF-16; every reader here expects UTF-8.
    if head.starts_with(b"\xFF\xFE") {
        return Err(ImportError::Encoding("UTF-16LE"));
    }
    if head.starts_with(b"\xFE\xFF") {
        return Err(ImportError::Encoding("UTF-16BE"));
    }
    let format = match opts.format {
        Some(f) => f,
        None => detect(head).ok_or(ImportError::UnknownFormat)?,
    };
    match format {
        Format::Vics => read_vics(input, opts, on_item),
        Format::IcseCsv => read_icse(input, opts, on_item),
        Format::Delimited { delimiter } => read_delimited(input, Some(delimiter), opts, on_item),
        Format::PdqList => read_pdq_list(input, opts, on_item),
    }
}

/// Writes `entries` in `format` (VICS 2.0 with the set's `meta` header,
/// CSV/TSV with the standard columns, ICSE CSV, or a PDQ list) and returns
/// what was written and what the format could not hold. One function so the
/// CLI's `hashset export` and the API's export give the same bytes.
pub fn write_format<W, I>(
    format: Format,
    out: W,
    meta: &HashSetMeta,
    entries: I,
) -> Result<model::WriteSummary, ExportError>
where
    W: std::io::Write,
    I: IntoIterator,
    I::Item: std::borrow::Borrow<HashEntry>,
{
    match format {
        Format::Vics => {
            let written = write_vics(out, meta, &VicsWriteOptions::default(), entries)?;
            Ok(model::WriteSummary {
                written,
                skipped: 0,
            })
        }
        Format::Delimited { delimiter } => {
            let written = write_csv(
                out,
                &CsvWriteOptions {
                    delimiter,
                    extra_columns: Vec::new(),
                },
                entries,
            )?;
            Ok(model::WriteSummary {
                written,
                skipped: 0,
            })
        }
        Format::IcseCsv => write_icse(out, entries),
        Format::PdqList => write_pdq_list(out, entries),
    }
}

/// Convenience for small sets and tests: reads everything into memory,
/// returning the entries and the entry errors separately.
pub fn import_all<R: Read>(
    input: R,
    opts: &ImportOptions,
) -> Result<(ImportReport, Vec<HashEntry>, Vec<EntryError>), ImportError> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let report = import(input, opts, |item| {
        match item {
            Ok(e) => entries.push(e),
            Err(e) => errors.push(e),
        }
        ControlFlow::Continue(())
    })?;
    Ok((report, entries, errors))
}
