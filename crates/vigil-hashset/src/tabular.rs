//! Delimited text: INTERPOL ICSE hash exports and plain CSV/TSV hash lists.
//!
//! Both share one row reader driven by a column table; they differ in how the
//! header is recognised and which columns map to which field. ICSE columns
//! without a VICS counterpart (`Number of submissions`, `File Available`,
//! `Media Type`, `Baseline`) go to `extra` under PascalCase keys as typed JSON
//! values, so that ICSE -> Vigil -> ICSE and ICSE -> VICS -> ICSE keep them.
//!
//! Limits of CSV, by design: cells are trimmed (leading/trailing spaces do
//! not survive), `MediaFiles`/`AlternativeHashes` have no column, and `extra`
//! values come back as text (the writer writes non-text values as JSON).

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde_json::Value;
use vigil_domain::{Md5, PdqHash, Sha1, Sha256};

use crate::category::CategoryScheme;
use crate::error::{EntryError, EntryErrorKind, ExportError, ImportError, SourcePos};
use crate::lenient::{bool_text, quality_text, text_cell, u64_text};
use crate::model::{Format, HashEntry, HashSetMeta, WriteSummary};
use crate::sink::Sink;
use crate::{ImportOptions, ImportReport};

/// The ICSE export header, exactly (anchors.md §3.3, as IPED reads it).
pub const ICSE_COLUMNS: [&str; 12] = [
    "MD5",
    "SHA1",
    "PhotoDNA",
    "Image ID",
    "Is distributed",
    "Victim identified",
    "Offender identified",
    "Series name",
    "Number of submissions",
    "File Available",
    "Media Type",
    "Baseline",
];

/// The plain-CSV header the writer emits (before any extra columns).
pub const CSV_COLUMNS: [&str; 19] = [
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "category",
    "series",
    "media_id",
    "victim_identified",
    "offender_identified",
    "is_distributed",
    "is_precategorized",
    "is_suspected",
    "photodna",
    "media_size",
    "mime_type",
    "date_updated",
    "tags",
    "comments",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Md5,
    Sha1,
    Sha256,
    Pdq,
    PdqQuality,
    Category,
    Series,
    MediaId,
    VictimIdentified,
    OffenderIdentified,
    IsDistributed,
    IsPrecategorized,
    IsSuspected,
    PhotoDna,
    MediaSize,
    MimeType,
    DateUpdated,
    Tags,
    Comments,
}

#[derive(Debug, Clone)]
enum Col {
    Known(Field),
    ExtraU64(&'static str),
    ExtraBool(&'static str),
    ExtraText(String),
}

/// Lower-case alphanumerics only: `Victim identified`, `victim_identified`
/// and `VictimIdentified` are one column.
fn squash(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn plain_field(name: &str) -> Option<Field> {
    Some(match squash(name).as_str() {
        "md5" | "md5hash" => Field::Md5,
        "sha1" | "sha1hash" => Field::Sha1,
        "sha256" | "sha256hash" => Field::Sha256,
        "pdq" | "pdqhash" => Field::Pdq,
        "pdqquality" | "quality" => Field::PdqQuality,
        "category" => Field::Category,
        "series" | "seriesname" => Field::Series,
        "mediaid" | "imageid" => Field::MediaId,
        "victimidentified" => Field::VictimIdentified,
        "offenderidentified" => Field::OffenderIdentified,
        "isdistributed" | "distributed" => Field::IsDistributed,
        "isprecategorized" => Field::IsPrecategorized,
        "issuspected" => Field::IsSuspected,
        "photodna" => Field::PhotoDna,
        "mediasize" | "filesize" | "size" => Field::MediaSize,
        "mimetype" => Field::MimeType,
        "dateupdated" => Field::DateUpdated,
        "tags" => Field::Tags,
        "comments" => Field::Comments,
        _ => return None,
    })
}

fn is_hash(f: Field) -> bool {
    matches!(
        f,
        Field::Md5 | Field::Sha1 | Field::Sha256 | Field::Pdq | Field::PhotoDna
    )
}

fn icse_columns() -> Vec<Col> {
    use Field::*;
    vec![
        Col::Known(Md5),
        Col::Known(Sha1),
        Col::Known(PhotoDna),
        Col::Known(MediaId),
        Col::Known(IsDistributed),
        Col::Known(VictimIdentified),
        Col::Known(OffenderIdentified),
        Col::Known(Series),
        Col::ExtraU64("NumberOfSubmissions"),
        Col::ExtraBool("FileAvailable"),
        Col::ExtraText("MediaType".into()),
        Col::ExtraBool("Baseline"),
    ]
}

/// Whether a header line is the ICSE header (case and surrounding spaces
/// ignored; a trailing empty column from a trailing `;` tolerated).
pub(crate) fn is_icse_header(line: &str) -> bool {
    let mut cells: Vec<&str> = line
        .trim_end_matches(['\r', '\n'])
        .split(';')
        .map(str::trim)
        .collect();
    if cells.last() == Some(&"") {
        cells.pop();
    }
    cells.len() == ICSE_COLUMNS.len()
        && cells
            .iter()
            .zip(ICSE_COLUMNS)
            .all(|(c, k)| c.eq_ignore_ascii_case(k))
}

/// The most frequent of tab, `;`, `,` and `|` in a header line.
pub(crate) fn sniff_delimiter(line: &str) -> u8 {
    [b'\t', b';', b',', b'|']
        .into_iter()
        .map(|d| (line.bytes().filter(|&b| b == d).count(), d))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map_or(b',', |(_, d)| d)
}

/// Whether a header line names at least one known column.
pub(crate) fn is_plain_header(line: &str, delimiter: u8) -> bool {
    line.trim_end_matches(['\r', '\n'])
        .split(delimiter as char)
        .any(|c| plain_field(c.trim().trim_matches('"')).is_some())
}

fn apply(
    e: &mut HashEntry,
    col: &Col,
    cell: &str,
    scheme: CategoryScheme,
) -> Result<(), EntryErrorKind> {
    if cell.is_empty() {
        return Ok(());
    }
    match col {
        Col::ExtraU64(k) => {
            if let Some(n) = u64_text(cell)? {
                e.extra.insert((*k).into(), Value::from(n));
            }
        }
        Col::ExtraBool(k) => {
            if let Some(b) = bool_text(cell)? {
                e.extra.insert((*k).into(), Value::Bool(b));
            }
        }
        Col::ExtraText(k) => {
            e.extra.insert(k.clone(), Value::String(cell.into()));
        }
        Col::Known(f) => {
            match f {
                Field::Md5 => e.md5 = Some(Md5::from_hex(cell)?),
                Field::Sha1 => e.sha1 = Some(Sha1::from_hex(cell)?),
                Field::Sha256 => e.sha256 = Some(Sha256::from_hex(cell)?),
                Field::Pdq => e.pdq = Some(PdqHash::from_hex(cell)?),
                Field::PdqQuality => e.pdq_quality = quality_text(cell)?,
                Field::Category => {
                    e.category = Some(scheme.categorize(cell).map_err(|u| {
                        EntryErrorKind::UnknownCategory {
                            scheme: scheme.to_string(),
                            label: u.label,
                            known: scheme.known_labels().into(),
                        }
                    })?)
                }
                Field::Series => e.series = text_cell(cell),
                Field::MediaId => e.media_id = text_cell(cell),
                Field::VictimIdentified => e.victim_identified = bool_text(cell)?,
                Field::OffenderIdentified => e.offender_identified = bool_text(cell)?,
                Field::IsDistributed => e.is_distributed = bool_text(cell)?,
                Field::IsPrecategorized => e.is_precategorized = bool_text(cell)?,
                Field::IsSuspected => e.is_suspected = bool_text(cell)?,
                Field::PhotoDna => e.photodna = text_cell(cell),
                Field::MediaSize => e.media_size = u64_text(cell)?,
                Field::MimeType => e.mime_type = text_cell(cell),
                Field::DateUpdated => e.date_updated = text_cell(cell),
                Field::Tags => e.tags = text_cell(cell),
                Field::Comments => e.comments = text_cell(cell),
            }
        }
    }
    Ok(())
}

fn row_to_entry(
    record: &csv::StringRecord,
    header: &csv::StringRecord,
    cols: &[Col],
    scheme: CategoryScheme,
    pos: SourcePos,
) -> Result<HashEntry, EntryError> {
    if record.len() != cols.len() {
        return Err(EntryError::new(
            pos,
            EntryErrorKind::FieldCount {
                expected: cols.len(),
                found: record.len(),
            },
        ));
    }
    let mut e = HashEntry {
        pos,
        ..HashEntry::default()
    };
    // The id first, so that later errors can name it.
    if let Some(i) = cols
        .iter()
        .position(|c| matches!(c, Col::Known(Field::MediaId)))
    {
        e.media_id = text_cell(&record[i]);
    }
    for (i, (col, cell)) in cols.iter().zip(record.iter()).enumerate() {
        apply(&mut e, col, cell, scheme).map_err(|kind| EntryError {
            pos,
            media_id: e.media_id.clone(),
            field: Some(header.get(i).unwrap_or("?").to_string()),
            kind: Box::new(kind),
        })?;
    }
    if !e.has_hash() {
        return Err(EntryError {
            media_id: e.media_id.clone(),
            ..EntryError::new(pos, EntryErrorKind::NoHash)
        });
    }
    Ok(e)
}

/// Counts lines for the CSV reader, whose own line numbers are wrong after
/// skipped blank lines and with CRLF. The tap records every newline it hands
/// to csv (offset, and whether it ends a blank line); a record's line is one
/// plus the newlines before its byte offset, plus the blank lines csv skipped
/// at the start of the record. Only csv's read-ahead is ever queued.
struct NewlineTap<R> {
    inner: R,
    offset: u64,
    line_start: u64,
    blank: bool,
    newlines: Rc<RefCell<VecDeque<Newline>>>,
}

struct Newline {
    at: u64,
    line_start: u64,
    blank: bool,
}

impl<R: Read> Read for NewlineTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut q = self.newlines.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            let at = self.offset + i as u64;
            if b == b'\n' {
                q.push_back(Newline {
                    at,
                    line_start: self.line_start,
                    blank: self.blank,
                });
                self.line_start = at + 1;
                self.blank = true;
            } else if !b.is_ascii_whitespace() {
                self.blank = false;
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

struct LineCounter {
    newlines: Rc<RefCell<VecDeque<Newline>>>,
    passed: u64,
}

impl LineCounter {
    /// Line of a record starting at a byte offset; ask in increasing order.
    fn line_of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(byte) = pos.map(csv::Position::byte) else {
            return 0;
        };
        let mut q = self.newlines.borrow_mut();
        while q
            .front()
            .is_some_and(|nl| nl.at < byte || (nl.blank && nl.line_start >= byte))
        {
            q.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

fn read_rows<R, F>(
    input: R,
    delimiter: u8,
    header_check: impl FnOnce(&csv::StringRecord) -> Result<(Vec<Col>, CategoryScheme), String>,
    format: Format,
    opts: &ImportOptions,
    on_item: F,
) -> Result<ImportReport, ImportError>
where
    R: BufRead,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    let newlines = Rc::new(RefCell::new(VecDeque::new()));
    let mut lines = LineCounter {
        newlines: Rc::clone(&newlines),
        passed: 0,
    };
    let input = NewlineTap {
        inner: input,
        offset: 0,
        line_start: 0,
        blank: true,
        newlines,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        // Records end at `\n` only; the `\r` of CRLF is trimmed with the
        // last field. With the default terminator csv reports CRLF records one
        // line too early, and error messages must name the right line.
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(input);
    let mut header = csv::StringRecord::new();
    let fatal = |e: csv::Error, line: u64| -> ImportError {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => ImportError::Io(io),
            other => ImportError::Syntax {
                pos: SourcePos { line, column: None },
                message: format!("{other:?}"),
            },
        }
    };
    if !rdr.read_record(&mut header).map_err(|e| fatal(e, 1))? {
        return Err(ImportError::Header {
            line: 1,
            message: "empty file".into(),
        });
    }
    let header_line = lines.line_of(header.position());
    let (cols, scheme) = header_check(&header).map_err(|message| ImportError::Header {
        line: header_line,
        message,
    })?;
    let mut sink = Sink::new(on_item, opts.strict);
    let mut record = csv::StringRecord::new();
    loop {
        let item = match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.iter().all(str::is_empty) => continue,
            Ok(true) => {
                let line = lines.line_of(record.position());
                row_to_entry(
                    &record,
                    &header,
                    &cols,
                    scheme,
                    SourcePos { line, column: None },
                )
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. } => {
                    let line = lines.line_of(e.position());
                    Err(EntryError::new(
                        SourcePos { line, column: None },
                        EntryErrorKind::Csv(e.to_string()),
                    ))
                }
                _ => {
                    let line = lines.line_of(e.position());
                    return Err(fatal(e, line));
                }
            },
        };
        if sink.push(item).is_err() {
            return Err(sink.stop.take().unwrap_or(ImportError::Cancelled));
        }
    }
    Ok(ImportReport {
        meta: HashSetMeta::new(format, scheme),
        entries: sink.entries,
        errors: sink.errors,
    })
}

/// Reads an ICSE hash export. The header must be the ICSE header.
pub fn read_icse<R, F>(
    mut input: R,
    opts: &ImportOptions,
    on_item: F,
) -> Result<ImportReport, ImportError>
where
    R: BufRead,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    crate::skip_bom(&mut input)?;
    let scheme = opts.scheme.unwrap_or(CategoryScheme::ProjectVicUs);
    read_rows(
        input,
        b';',
        |h| {
            let mut cells: Vec<&str> = h.iter().collect();
            if cells.last() == Some(&"") {
                cells.pop();
            }
            if is_icse_header(&cells.join(";")) {
                let mut cols = icse_columns();
                // A trailing `;` gives every row an empty last cell.
                cols.extend((cells.len()..h.len()).map(|_| Col::ExtraText(String::new())));
                Ok((cols, scheme))
            } else {
                Err(format!(
                    "not the ICSE header (expected {:?})",
                    ICSE_COLUMNS.join(";")
                ))
            }
        },
        Format::IcseCsv,
        opts,
        on_item,
    )
}

/// Reads a CSV/TSV hash list with a header. `delimiter: None` sniffs it from
/// the header line. Unknown columns are kept in `extra` as strings.
pub fn read_delimited<R, F>(
    mut input: R,
    delimiter: Option<u8>,
    opts: &ImportOptions,
    on_item: F,
) -> Result<ImportReport, ImportError>
where
    R: BufRead,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    crate::skip_bom(&mut input)?;
    let delimiter = match delimiter {
        Some(d) => d,
        None => {
            let head = input.fill_buf()?;
            let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
            sniff_delimiter(&String::from_utf8_lossy(&head[..end]))
        }
    };
    let scheme_opt = opts.scheme;
    read_rows(
        input,
        delimiter,
        |h| {
            let cols: Vec<Col> = h
                .iter()
                .map(|name| match plain_field(name) {
                    Some(f) => Col::Known(f),
                    None => Col::ExtraText(name.to_string()),
                })
                .collect();
            if !cols
                .iter()
                .any(|c| matches!(c, Col::Known(f) if is_hash(*f)))
            {
                return Err("no hash column (md5, sha1, sha256, pdq or photodna)".into());
            }
            let has_category = cols
                .iter()
                .any(|c| matches!(c, Col::Known(Field::Category)));
            let scheme = scheme_opt.unwrap_or(if has_category {
                CategoryScheme::Custom
            } else {
                CategoryScheme::ProjectVicUs
            });
            Ok((cols, scheme))
        },
        Format::Delimited { delimiter },
        opts,
        on_item,
    )
}

fn flag(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn extra_cell(e: &HashEntry, key: &str) -> String {
    match e.extra.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Options of the plain-CSV writer.
#[derive(Debug, Clone)]
pub struct CsvWriteOptions {
    pub delimiter: u8,
    /// `extra` keys to write as additional columns after [`CSV_COLUMNS`].
    pub extra_columns: Vec<String>,
}

impl Default for CsvWriteOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            extra_columns: Vec::new(),
        }
    }
}

/// Writes a plain CSV/TSV with the [`CSV_COLUMNS`] header; returns the count.
pub fn write_csv<W, I>(out: W, opts: &CsvWriteOptions, entries: I) -> Result<u64, ExportError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<HashEntry>,
{
    let mut w = csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .from_writer(out);
    let mut header: Vec<&str> = CSV_COLUMNS.to_vec();
    header.extend(opts.extra_columns.iter().map(String::as_str));
    w.write_record(&header)?;
    let mut n = 0;
    for e in entries {
        let e = e.borrow();
        let mut row = vec![
            opt(e.md5),
            opt(e.sha1),
            opt(e.sha256),
            opt(e.pdq),
            opt(e.pdq_quality),
            e.category
                .as_ref()
                .map(|c| c.raw.clone())
                .unwrap_or_default(),
            e.series.clone().unwrap_or_default(),
            e.media_id.clone().unwrap_or_default(),
            flag(e.victim_identified).into(),
            flag(e.offender_identified).into(),
            flag(e.is_distributed).into(),
            flag(e.is_precategorized).into(),
            flag(e.is_suspected).into(),
            e.photodna.clone().unwrap_or_default(),
            opt(e.media_size),
            e.mime_type.clone().unwrap_or_default(),
            e.date_updated.clone().unwrap_or_default(),
            e.tags.clone().unwrap_or_default(),
            e.comments.clone().unwrap_or_default(),
        ];
        row.extend(opts.extra_columns.iter().map(|k| extra_cell(e, k)));
        w.write_record(&row)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// Writes an ICSE hash export (`;`, the exact ICSE header, hashes in upper
/// case, flags as `true`/`false`). Entries with none of ICSE's hashes (MD5,
/// SHA-1, PhotoDNA) are skipped and counted.
pub fn write_icse<W, I>(out: W, entries: I) -> Result<WriteSummary, ExportError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<HashEntry>,
{
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    w.write_record(ICSE_COLUMNS)?;
    let mut summary = WriteSummary::default();
    for e in entries {
        let e = e.borrow();
        if e.md5.is_none() && e.sha1.is_none() && e.photodna.is_none() {
            summary.skipped += 1;
            continue;
        }
        let upper = |s: Option<String>| s.map(|h| h.to_ascii_uppercase()).unwrap_or_default();
        w.write_record([
            upper(e.md5.map(|h| h.to_hex())),
            upper(e.sha1.map(|h| h.to_hex())),
            e.photodna.clone().unwrap_or_default(),
            e.media_id.clone().unwrap_or_default(),
            flag(e.is_distributed).into(),
            flag(e.victim_identified).into(),
            flag(e.offender_identified).into(),
            e.series.clone().unwrap_or_default(),
            extra_cell(e, "NumberOfSubmissions"),
            extra_cell(e, "FileAvailable"),
            extra_cell(e, "MediaType"),
            extra_cell(e, "Baseline"),
        ])?;
        summary.written += 1;
    }
    w.flush()?;
    Ok(summary)
}
