//! Streaming VICS reader.
//!
//! The document is walked with serde visitors over the top-level object: only
//! one media record is ever materialised (as a `serde_json::Map`) before it is
//! converted and handed to the caller, so memory stays flat whatever the file
//! size (the only growth is the duplicate-`MediaID` set, 8 bytes per entry).
//!
//! Entry positions come from [`PosReader`], which counts lines and columns of
//! the bytes serde_json has consumed. serde_json reads one byte at a time and
//! peeks at most one ahead, and calls `visit_map` right after consuming `{`, so
//! the count at that moment is exactly the position of the entry's brace.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::{EntryBuilder, KeySeed};
use super::{parse_context, scheme_for_profile};
use crate::category::CategoryScheme;
use crate::error::{EntryError, ImportError, SourcePos};
use crate::model::{CaseInfo, Format, HashEntry, HashSetMeta, VicsShape};
use crate::sink::Sink;
use crate::{ImportOptions, ImportReport};

#[derive(Default)]
struct PosCell {
    line: Cell<u64>,
    column: Cell<u64>,
}

impl PosCell {
    fn get(&self) -> SourcePos {
        SourcePos {
            line: self.line.get() + 1,
            column: Some(self.column.get()),
        }
    }
}

/// A `Read` over a `BufRead` that counts the lines and columns handed out.
struct PosReader<R> {
    inner: R,
    pos: Rc<PosCell>,
}

impl<R: BufRead> Read for PosReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.inner.fill_buf()?;
        let n = avail.len().min(out.len());
        let (mut line, mut col) = (self.pos.line.get(), self.pos.column.get());
        for (o, &b) in out.iter_mut().zip(&avail[..n]) {
            *o = b;
            if b == b'\n' {
                line += 1;
                col = 0;
            } else {
                col += 1;
            }
        }
        self.pos.line.set(line);
        self.pos.column.set(col);
        self.inner.consume(n);
        Ok(n)
    }
}

struct State<F> {
    sink: Sink<F>,
    meta: HashSetMeta,
    forced_scheme: Option<CategoryScheme>,
    pos: Rc<PosCell>,
    saw_value: bool,
}

/// The private error message that means "stop: see `sink.stop`".
const STOP: &str = "vigil-hashset: stopped";

impl<F> State<F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    fn emit<E: de::Error>(
        &mut self,
        map: Map<String, Value>,
        pos: SourcePos,
        case: Option<u32>,
    ) -> Result<(), E> {
        let item = super::fields::entry_from_json(map, self.meta.scheme, pos, case);
        self.sink.push(item).map_err(|()| E::custom(STOP))
    }

    fn set_context(&mut self, key: &str, value: Value) {
        let major = if key.starts_with('@') { 2 } else { 1 };
        let text = match &value {
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        self.meta.vics_major = Some(major);
        if let Some(ctx) = &text {
            let (profile, shape) = parse_context(ctx);
            self.meta.vics_profile = profile;
            self.meta.vics_shape = shape;
            if self.forced_scheme.is_none() {
                self.meta.scheme = scheme_for_profile(self.meta.vics_profile.as_deref());
            }
            self.meta.vics_context = text;
        } else {
            self.meta.extra.insert(key.to_string(), value);
        }
    }
}

struct Top<'s, F>(&'s mut State<F>);
struct ValueList<'s, F>(&'s mut State<F>);
/// An element of `value`: a media record, or a case if it has `Media`.
struct Element<'s, F> {
    state: &'s mut State<F>,
    /// `None` for media nested in a case (their `Media` key is just a field).
    case_slot: Option<u32>,
    case: Option<u32>,
}
struct MediaList<'s, F> {
    state: &'s mut State<F>,
    case: u32,
}

impl<'de, F> DeserializeSeed<'de> for Top<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F> Visitor<'de> for Top<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a VICS document (a JSON object with a `value` array)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "@odata.context" | "odata.metadata" => {
                    let v: Value = map.next_value()?;
                    self.0.set_context(&key, v);
                }
                "value" => {
                    if self.0.saw_value {
                        return Err(de::Error::custom("duplicate `value` array"));
                    }
                    self.0.saw_value = true;
                    map.next_value_seed(ValueList(&mut *self.0))?;
                }
                _ => {
                    let v: Value = map.next_value()?;
                    self.0.meta.extra.insert(key, v);
                }
            }
        }
        Ok(())
    }
}

impl<'de, F> DeserializeSeed<'de> for ValueList<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for ValueList<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of media records or cases")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let slot = u32::try_from(self.0.meta.cases.len()).map_err(de::Error::custom)?;
            let element = Element {
                state: &mut *self.0,
                case_slot: Some(slot),
                case: None,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
        }
    }
}

impl<'de, F> DeserializeSeed<'de> for Element<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F> Visitor<'de> for Element<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a media record or case object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let pos = self.state.pos.get();
        // Fast path, when the element is known to be a media record (the
        // context said `#Media`, or it sits in a case's `Media`): fields go
        // straight into typed slots, no intermediate map.
        if self.case_slot.is_none() || self.state.meta.vics_shape == Some(VicsShape::Media) {
            let mut builder = EntryBuilder::new(self.state.meta.scheme, pos, self.case);
            while let Some(key) = map.next_key_seed(KeySeed)? {
                let v: Value = map.next_value()?;
                builder.set(key, v);
            }
            return self
                .state
                .sink
                .push(builder.finish())
                .map_err(|()| de::Error::custom(STOP));
        }
        let mut fields = Map::new();
        let mut is_case = false;
        while let Some(key) = map.next_key::<String>()? {
            match self.case_slot {
                Some(slot) if key == "Media" => {
                    is_case = true;
                    map.next_value_seed(MediaList {
                        state: &mut *self.state,
                        case: slot,
                    })?;
                }
                _ => {
                    let v: Value = map.next_value()?;
                    fields.insert(key, v);
                }
            }
        }
        let cases_doc = self.state.meta.vics_shape == Some(VicsShape::Cases);
        match self.case_slot {
            Some(_) if is_case || cases_doc => {
                self.state.meta.cases.push(CaseInfo { fields });
                Ok(())
            }
            _ => self.state.emit(fields, pos, self.case),
        }
    }
}

impl<'de, F> DeserializeSeed<'de> for MediaList<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, F> Visitor<'de> for MediaList<'_, F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of media records (or null)")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let element = Element {
                state: &mut *self.state,
                case_slot: None,
                case: Some(self.case),
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
        }
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
    F: FnMut(Result<HashEntry, EntryError>) -> std::ops::ControlFlow<()>,
{
    crate::skip_bom(&mut input)?;
    let pos = Rc::new(PosCell::default());
    let scheme = opts.scheme.unwrap_or_else(|| scheme_for_profile(None));
    let mut state = State {
        sink: Sink::new(on_item, opts.strict),
        meta: HashSetMeta::new(Format::Vics, scheme),
        forced_scheme: opts.scheme,
        pos: Rc::clone(&pos),
        saw_value: false,
    };
    let reader = PosReader { inner: input, pos };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = Top(&mut state).deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = result {
        if let Some(stop) = state.sink.stop.take() {
            return Err(stop);
        }
        let pos = SourcePos {
            line: e.line() as u64,
            column: Some(e.column() as u64),
        };
        let message = e.to_string();
        return Err(match e.classify() {
            serde_json::error::Category::Io => ImportError::Io(e.into()),
            serde_json::error::Category::Eof => ImportError::Truncated { pos, message },
            serde_json::error::Category::Syntax => ImportError::Syntax { pos, message },
            serde_json::error::Category::Data => ImportError::Structure { pos, message },
        });
    }
    if !state.saw_value {
        return Err(ImportError::Structure {
            pos: SourcePos {
                line: 1,
                column: Some(1),
            },
            message: "no `value` array: not a VICS document".into(),
        });
    }
    if state.meta.vics_shape.is_none() {
        state.meta.vics_shape = Some(if state.meta.cases.is_empty() {
            VicsShape::Media
        } else {
            VicsShape::Cases
        });
    }
    Ok(ImportReport {
        meta: state.meta,
        entries: state.sink.entries,
        errors: state.sink.errors,
    })
}
