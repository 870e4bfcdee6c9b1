//! PDQ hash lists: one 64-hex PDQ hash per line, optionally `,quality`
//! (ThreatExchange style), or `hash,quality,path` as Meta's
//! `pdq-photo-hasher` prints it (the path goes to `extra["path"]`).
//!
//! Empty lines, `#` comment lines and a `hash,...` header line are skipped. A path may itself contain
//! commas: only the first two commas split.

use std::borrow::Borrow;
use std::io::{BufRead, Write};
use std::ops::ControlFlow;

use serde_json::Value;
use vigil_domain::PdqHash;

use crate::category::CategoryScheme;
use crate::error::{EntryError, EntryErrorKind, ExportError, ImportError, SourcePos};
use crate::lenient::quality_text;
use crate::model::{Format, HashEntry, HashSetMeta, WriteSummary};
use crate::sink::Sink;
use crate::{ImportOptions, ImportReport};

/// Whether a line starts with a 64-hex field (the detector's test).
pub(crate) fn looks_like_pdq_line(line: &str) -> bool {
    let first = line.trim().split([',', '\t', ' ']).next().unwrap_or("");
    first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A header line of a PDQ list exported as CSV (`hash,quality`,
/// `signal_value,...`): its first column names the hash without being one of
/// the plain-CSV column names (those files read as CSV instead).
pub(crate) fn is_pdq_header(line: &str) -> bool {
    let first: String = line
        .trim()
        .split([',', '\t'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(first.as_str(), "hash" | "signal" | "signalvalue")
}

fn parse_line(line: &str, pos: SourcePos) -> Result<HashEntry, EntryError> {
    let mut parts = line.splitn(3, [',', '\t']);
    let hash = parts.next().unwrap_or("").trim();
    let mut e = HashEntry {
        pos,
        ..HashEntry::default()
    };
    e.pdq =
        Some(PdqHash::from_hex(hash).map_err(|h| EntryError::new(pos, h.into()).field("hash"))?);
    if let Some(q) = parts.next() {
        e.pdq_quality = quality_text(q).map_err(|k| EntryError::new(pos, k).field("quality"))?;
    }
    if let Some(path) = parts.next() {
        let path = path.trim_end_matches(['\r', '\n']);
        if !path.is_empty() {
            e.extra.insert("path".into(), Value::String(path.into()));
        }
    }
    Ok(e)
}

/// Reads a PDQ list; every line is one entry (or one entry error).
pub fn read_pdq_list<R, F>(
    mut input: R,
    opts: &ImportOptions,
    on_item: F,
) -> Result<ImportReport, ImportError>
where
    R: BufRead,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    crate::skip_bom(&mut input)?;
    let mut sink = Sink::new(on_item, opts.strict);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut seen_content = false;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let pos = SourcePos {
            line: line_no,
            column: None,
        };
        let item = match std::str::from_utf8(&buf) {
            Ok(text) => {
                let text = text.trim_end_matches(['\r', '\n']);
                if text.trim().is_empty() || text.trim_start().starts_with('#') {
                    continue;
                }
                let first = !seen_content;
                seen_content = true;
                if first && is_pdq_header(text) {
                    continue;
                }
                parse_line(text, pos)
            }
            Err(_) => Err(EntryError::new(
                pos,
                EntryErrorKind::BadValue {
                    expected: "UTF-8 text",
                    found: "invalid UTF-8".into(),
                },
            )),
        };
        if sink.push(item).is_err() {
            return Err(sink.stop.take().unwrap_or(ImportError::Cancelled));
        }
    }
    let scheme = opts.scheme.unwrap_or(CategoryScheme::ProjectVicUs);
    Ok(ImportReport {
        meta: HashSetMeta::new(Format::PdqList, scheme),
        entries: sink.entries,
        errors: sink.errors,
    })
}

/// Writes `hash[,quality[,path]]` lines: the quality when known, the path
/// when `extra["path"]` is text. Entries without PDQ are skipped and counted.
pub fn write_pdq_list<W, I>(out: W, entries: I) -> Result<WriteSummary, ExportError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<HashEntry>,
{
    let mut out = std::io::BufWriter::new(out);
    let mut s = WriteSummary {
        written: 0,
        skipped: 0,
    };
    for e in entries {
        let e = e.borrow();
        let Some(pdq) = e.pdq else {
            s.skipped += 1;
            continue;
        };
        write!(out, "{pdq}")?;
        let path = match e.extra.get("path") {
            Some(Value::String(p)) if !p.contains(['\n', '\r']) => Some(p),
            _ => None,
        };
        match (e.pdq_quality, path) {
            (Some(q), Some(p)) => write!(out, ",{q},{p}")?,
            (None, Some(p)) => write!(out, ",,{p}")?,
            (Some(q), None) => write!(out, ",{q}")?,
            (None, None) => {}
        }
        out.write_all(b"\n")?;
        s.written += 1;
    }
    out.flush()?;
    Ok(s)
}
