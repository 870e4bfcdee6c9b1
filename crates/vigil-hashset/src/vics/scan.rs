//! Streaming VICS reader.
//!
//! The outer structure (the top-level object, the `value` array, and for
//! `#Cases` each case object and its `Media` array) is walked by a small
//! scanner over a `BufRead`; each media record is copied out as one byte
//! slice and parsed with `serde_json::from_slice`. So only one record is ever
//! in memory, whatever the file size, and serde_json runs on its fast slice
//! path (its reader path pulls one byte at a time and was 4x slower).
//!
//! The scanner does not validate JSON beyond what it needs to find the end of
//! a value (strings, escapes, nesting): serde validates every slice it is
//! given, and the scanner checks the punctuation between values. It counts
//! lines and columns as it goes, so entries and errors carry exact positions;
//! a serde error inside a record is shifted by the record's start position.

use std::io::BufRead;
use std::ops::ControlFlow;

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::{EntryBuilder, KeySeed, entry_from_json};
use super::{parse_context, scheme_for_profile};
use crate::category::CategoryScheme;
use crate::error::{EntryError, ImportError, SourcePos};
use crate::model::{CaseInfo, Format, HashEntry, HashSetMeta, VicsShape};
use crate::sink::Sink;
use crate::{ImportOptions, ImportReport};

/// Byte source with line/column accounting (1-based; columns in bytes).
struct Scanner<R> {
    input: R,
    line: u64,
    /// Column of the next byte.
    column: u64,
}

impl<R: BufRead> Scanner<R> {
    fn pos(&self) -> SourcePos {
        SourcePos {
            line: self.line,
            column: Some(self.column),
        }
    }

    fn truncated(&self, what: &str) -> ImportError {
        ImportError::Truncated {
            pos: self.pos(),
            message: format!("end of file while reading {what}"),
        }
    }

    fn syntax(&self, message: impl Into<String>) -> ImportError {
        ImportError::Syntax {
            pos: self.pos(),
            message: message.into(),
        }
    }

    /// The next non-whitespace byte, not consumed; `None` at end of file.
    fn peek_non_ws(&mut self) -> Result<Option<u8>, ImportError> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let ws = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .count();
            if ws < buf.len() {
                let next = buf[ws];
                let (line, column) = count(&buf[..ws], self.line, self.column);
                self.input.consume(ws);
                (self.line, self.column) = (line, column);
                return Ok(Some(next));
            }
            let (line, column) = count(buf, self.line, self.column);
            let n = buf.len();
            self.input.consume(n);
            (self.line, self.column) = (line, column);
        }
    }

    /// Consumes the next non-whitespace byte if it is `expected`.
    fn eat(&mut self, expected: u8) -> Result<bool, ImportError> {
        if self.peek_non_ws()? == Some(expected) {
            self.input.consume(1);
            self.column += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Copies the next complete JSON value (after whitespace) into `out`.
    /// Strings, escapes and nesting are tracked; content is not validated.
    fn capture(&mut self, out: &mut Vec<u8>, what: &str) -> Result<(), ImportError> {
        out.clear();
        let Some(first) = self.peek_non_ws()? else {
            return Err(self.truncated(what));
        };
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut depth = 0u32;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                if scalar && !out.is_empty() {
                    return Ok(());
                }
                return Err(self.truncated(what));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        end = Some(i);
                        break;
                    }
                    continue;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if scalar && end == Some(0) && out.is_empty() {
                return Err(self.syntax(format!("expected {what}")));
            }
            let take = end.unwrap_or(buf.len());
            out.extend_from_slice(&buf[..take]);
            let (line, column) = count(&buf[..take], self.line, self.column);
            self.input.consume(take);
            (self.line, self.column) = (line, column);
            if end.is_some() {
                return Ok(());
            }
        }
    }
}

/// Line and column after `bytes`, starting from `(line, column)`.
fn count(bytes: &[u8], mut line: u64, mut column: u64) -> (u64, u64) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        None => column += bytes.len() as u64,
        Some(last) => {
            line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            column = (bytes.len() - last) as u64;
        }
    }
    (line, column)
}

/// Maps a serde_json error inside a slice that starts at `base` to a fatal
/// import error at the absolute position.
fn slice_error(e: &serde_json::Error, base: SourcePos) -> ImportError {
    let line = base.line + e.line() as u64 - 1;
    let column = if e.line() == 1 {
        base.column.unwrap_or(1) + e.column() as u64 - 1
    } else {
        e.column() as u64
    };
    let pos = SourcePos {
        line,
        column: Some(column),
    };
    let message = e.to_string();
    match e.classify() {
        serde_json::error::Category::Eof => ImportError::Truncated { pos, message },
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            ImportError::Syntax { pos, message }
        }
        serde_json::error::Category::Data => ImportError::Structure { pos, message },
    }
}

/// Builds an entry from a media object, straight into typed slots.
struct MediaVisitor {
    scheme: CategoryScheme,
    pos: SourcePos,
    case: Option<u32>,
}

impl<'de> Visitor<'de> for MediaVisitor {
    type Value = Result<HashEntry, EntryError>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a media record (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut builder = EntryBuilder::new(self.scheme, self.pos, self.case);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let v: Value = map.next_value()?;
            builder.set(key, v);
        }
        Ok(builder.finish())
    }
}

struct Reader<R, F> {
    scan: Scanner<R>,
    sink: Sink<F>,
    meta: HashSetMeta,
    forced_scheme: Option<CategoryScheme>,
    buf: Vec<u8>,
}

impl<R, F> Reader<R, F>
where
    R: BufRead,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    fn parse_captured<T: serde::de::DeserializeOwned>(
        &self,
        base: SourcePos,
    ) -> Result<T, ImportError> {
        serde_json::from_slice(&self.buf).map_err(|e| slice_error(&e, base))
    }

    fn next_value(&mut self, what: &str) -> Result<Value, ImportError> {
        self.scan.peek_non_ws()?;
        let base = self.scan.pos();
        self.scan.capture(&mut self.buf, what)?;
        self.parse_captured(base)
    }

    /// Reads an object key (and its colon).
    fn key(&mut self) -> Result<String, ImportError> {
        if self.scan.peek_non_ws()? != Some(b'"') {
            return Err(match self.scan.peek_non_ws()? {
                None => self.scan.truncated("an object key"),
                Some(_) => self.scan.syntax("expected an object key (a string)"),
            });
        }
        let base = self.scan.pos();
        self.scan.capture(&mut self.buf, "an object key")?;
        let key: String = self.parse_captured(base)?;
        if !self.scan.eat(b':')? {
            return Err(self.after_value_error("`:`"));
        }
        Ok(key)
    }

    fn after_value_error(&mut self, expected: &str) -> ImportError {
        match self.scan.peek_non_ws() {
            Err(e) => e,
            Ok(None) => self.scan.truncated("the document"),
            Ok(Some(_)) => self.scan.syntax(format!("expected {expected}")),
        }
    }

    /// After a member or element: `true` if another follows, `false` at the
    /// closing `close`.
    fn more(&mut self, close: u8) -> Result<bool, ImportError> {
        if self.scan.eat(b',')? {
            return Ok(true);
        }
        if self.scan.eat(close)? {
            return Ok(false);
        }
        Err(self.after_value_error(&format!("`,` or `{}`", close as char)))
    }

    fn emit(&mut self, item: Result<HashEntry, EntryError>) -> Result<(), ImportError> {
        self.sink
            .push(item)
            .map_err(|()| self.sink.stop.take().unwrap_or(ImportError::Cancelled))
    }

    fn media(&mut self, case: Option<u32>) -> Result<(), ImportError> {
        self.scan.peek_non_ws()?;
        let pos = self.scan.pos();
        self.scan.capture(&mut self.buf, "a media record")?;
        let visitor = MediaVisitor {
            scheme: self.meta.scheme,
            pos,
            case,
        };
        let mut de = serde_json::Deserializer::from_slice(&self.buf);
        let item = de
            .deserialize_map(visitor)
            .and_then(|item| de.end().map(|()| item))
            .map_err(|e| slice_error(&e, pos))?;
        self.emit(item)
    }

    /// An array of media records (a case's `Media`); `null` is empty.
    fn media_list(&mut self, case: u32) -> Result<(), ImportError> {
        if self.scan.peek_non_ws()? == Some(b'n') {
            let v = self.next_value("`Media`")?;
            return match v {
                Value::Null => Ok(()),
                _ => Err(self.scan.syntax("`Media` must be an array or null")),
            };
        }
        if !self.scan.eat(b'[')? {
            return Err(self.after_value_error("`[` (the `Media` array)"));
        }
        if self.scan.eat(b']')? {
            return Ok(());
        }
        loop {
            self.media(Some(case))?;
            if !self.more(b']')? {
                return Ok(());
            }
        }
    }

    /// An element of `value` in a document whose shape is not known to be
    /// `#Media`: a case if it has `Media` (or the context says `#Cases`),
    /// else a media record. Read member by member so that a case's media
    /// stream instead of being held whole.
    fn case_or_media(&mut self) -> Result<(), ImportError> {
        self.scan.peek_non_ws()?;
        let pos = self.scan.pos();
        if !self.scan.eat(b'{')? {
            let v = self.next_value("an element of `value`")?;
            return Err(ImportError::Structure {
                pos,
                message: format!("expected a media record or case object, found {v}"),
            });
        }
        let slot = u32::try_from(self.meta.cases.len()).map_err(|_| ImportError::Structure {
            pos,
            message: "too many cases".into(),
        })?;
        let mut fields = Map::new();
        let mut is_case = self.meta.vics_shape == Some(VicsShape::Cases);
        if !self.scan.eat(b'}')? {
            loop {
                let key = self.key()?;
                if key == "Media" {
                    is_case = true;
                    self.media_list(slot)?;
                } else {
                    let v = self.next_value("a value")?;
                    fields.insert(key, v);
                }
                if !self.more(b'}')? {
                    break;
                }
            }
        }
        if is_case {
            self.meta.cases.push(CaseInfo { fields });
            Ok(())
        } else {
            let item = entry_from_json(fields, self.meta.scheme, pos, None);
            self.emit(item)
        }
    }

    fn value_array(&mut self) -> Result<(), ImportError> {
        self.scan.peek_non_ws()?;
        let pos = self.scan.pos();
        if !self.scan.eat(b'[')? {
            let v = self.next_value("`value`")?;
            return Err(ImportError::Structure {
                pos,
                message: format!("`value` must be an array, found {v}"),
            });
        }
        if self.scan.eat(b']')? {
            return Ok(());
        }
        loop {
            if self.meta.vics_shape == Some(VicsShape::Media) {
                self.media(None)?;
            } else {
                self.case_or_media()?;
            }
            if !self.more(b']')? {
                return Ok(());
            }
        }
    }

    fn set_context(&mut self, key: String, value: Value) {
        self.meta.vics_major = Some(if key.starts_with('@') { 2 } else { 1 });
        match value {
            Value::String(ctx) => {
                let (profile, shape) = parse_context(&ctx);
                self.meta.vics_profile = profile;
                self.meta.vics_shape = shape;
                if self.forced_scheme.is_none() {
                    self.meta.scheme = scheme_for_profile(self.meta.vics_profile.as_deref());
                }
                self.meta.vics_context = Some(ctx);
            }
            other => {
                self.meta.extra.insert(key, other);
            }
        }
    }

    fn document(&mut self) -> Result<(), ImportError> {
        match self.scan.peek_non_ws()? {
            Some(b'{') => {
                self.scan.eat(b'{')?;
            }
            Some(_) => {
                return Err(ImportError::Structure {
                    pos: self.scan.pos(),
                    message: "expected a VICS document (a JSON object with a `value` array)".into(),
                });
            }
            None => return Err(self.scan.truncated("the document")),
        }
        let mut saw_value = false;
        if !self.scan.eat(b'}')? {
            loop {
                self.scan.peek_non_ws()?;
                let key_pos = self.scan.pos();
                let key = self.key()?;
                match key.as_str() {
                    "@odata.context" | "odata.metadata" => {
                        let v = self.next_value("the context")?;
                        self.set_context(key, v);
                    }
                    "value" => {
                        if saw_value {
                            return Err(ImportError::Structure {
                                pos: key_pos,
                                message: "duplicate `value` array".into(),
                            });
                        }
                        saw_value = true;
                        self.value_array()?;
                    }
                    _ => {
                        let v = self.next_value("a value")?;
                        self.meta.extra.insert(key, v);
                    }
                }
                if !self.more(b'}')? {
                    break;
                }
            }
        }
        if self.scan.peek_non_ws()?.is_some() {
            return Err(self.scan.syntax("trailing characters after the document"));
        }
        if !saw_value {
            return Err(ImportError::Structure {
                pos: SourcePos {
                    line: 1,
                    column: Some(1),
                },
                message: "no `value` array: not a VICS document".into(),
            });
        }
        Ok(())
    }
}

/// Reads a VICS 1.x or 2.0 document (`#Media` or `#Cases`), handing every
/// media record to `on_item` as it is parsed. See [`crate::error`] for the
/// error policy.
pub fn read_vics<R, F>(
    mut input: R,
    opts: &ImportOptions,
    on_item: F,
) -> Result<ImportReport, ImportError>
where
    R: BufRead,
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    crate::skip_bom(&mut input)?;
    let scheme = opts.scheme.unwrap_or_else(|| scheme_for_profile(None));
    let mut reader = Reader {
        scan: Scanner {
            input,
            line: 1,
            column: 1,
        },
        sink: Sink::new(on_item, opts.strict),
        meta: HashSetMeta::new(Format::Vics, scheme),
        forced_scheme: opts.scheme,
        buf: Vec::with_capacity(4096),
    };
    reader.document()?;
    let mut meta = reader.meta;
    if meta.vics_shape.is_none() {
        meta.vics_shape = Some(if meta.cases.is_empty() {
            VicsShape::Media
        } else {
            VicsShape::Cases
        });
    }
    Ok(ImportReport {
        meta,
        entries: reader.sink.entries,
        errors: reader.sink.errors,
    })
}
