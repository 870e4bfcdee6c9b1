//! Project VIC VICS JSON (OData), versions 1.x and 2.0, `#Media` and `#Cases`.
//!
//! Output is always VICS 2.0 (`@odata.context` first, then `value`), the form
//! current tools expect; IPED, for instance, accepts a 2.0 file only with the
//! `Default` profile and with no top-level key besides those two, which is what
//! the writer produces unless the source set carried other top-level keys.

mod fields;
mod scan;

use std::borrow::Borrow;
use std::io::{BufWriter, Write};

pub use scan::read_vics;

use crate::category::CategoryScheme;
use crate::error::ExportError;
use crate::model::{HashEntry, HashSetMeta, VicsShape};

/// The context URL prefix of VICS 2.0.
pub const VICS2_BASE: &str = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml";

/// Profile and shape named by a context URL (`.../2.0.xml/<Profile>/$metadata#Media`
/// or `.../1.3.xml#Cases`).
pub(crate) fn parse_context(ctx: &str) -> (Option<String>, Option<VicsShape>) {
    let (path, fragment) = match ctx.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (ctx, None),
    };
    let shape = fragment.and_then(|f| {
        let f = f.split('/').next().unwrap_or(f);
        if f.eq_ignore_ascii_case("Media") {
            Some(VicsShape::Media)
        } else if f.eq_ignore_ascii_case("Cases") {
            Some(VicsShape::Cases)
        } else {
            None
        }
    });
    let profile = path
        .find(".xml/")
        .map(|i| &path[i + 5..])
        .and_then(|rest| rest.split('/').next())
        .filter(|p| !p.is_empty() && !p.starts_with('$'))
        .map(str::to_string);
    (profile, shape)
}

/// The scheme a VICS profile implies when the caller does not name one.
pub(crate) fn scheme_for_profile(profile: Option<&str>) -> CategoryScheme {
    match profile {
        Some(p) if p.eq_ignore_ascii_case("UK") => CategoryScheme::Uk,
        Some(p) if p.eq_ignore_ascii_case("CUSTOM") => CategoryScheme::Custom,
        _ => CategoryScheme::ProjectVicUs,
    }
}

fn profile_for_scheme(scheme: CategoryScheme) -> &'static str {
    match scheme {
        CategoryScheme::Uk => "UK",
        CategoryScheme::Custom => "CUSTOM",
        // DHS has no profile of its own: a DHS set re-imports correctly only
        // when the caller names the scheme (the store records it per set).
        CategoryScheme::ProjectVicUs | CategoryScheme::Dhs => "Default",
    }
}

/// Choices for VICS output; `Default` derives everything from the meta.
#[derive(Debug, Clone, Default)]
pub struct VicsWriteOptions {
    /// `None`: `Cases` if the meta has cases, else `Media`.
    pub shape: Option<VicsShape>,
    /// `None`: the source's profile, else one implied by the scheme.
    pub profile: Option<String>,
    /// Give entries without a `MediaID` their 1-based position in the
    /// output (in their case, for `Cases`), for readers that require one.
    /// Off by default: it adds a field, so such a round trip is not
    /// identical. Ids may collide with ids other entries already have.
    pub assign_media_ids: bool,
}

/// Incremental VICS 2.0 writer: header on creation, one entry per
/// [`VicsWriter::write`], footer on [`VicsWriter::finish`].
pub struct VicsWriter<'m, W: Write> {
    out: BufWriter<W>,
    meta: &'m HashSetMeta,
    shape: VicsShape,
    assign_media_ids: bool,
    /// Entries written to the current `Media`/`value` list.
    in_list: u64,
    /// Cases shape: the case whose `Media` list is open (`Some(None)` for the
    /// synthetic case of entries without one).
    open_case: Option<Option<u32>>,
    /// Cases with index below this were already written.
    next_case: u32,
    cases_written: u64,
    written: u64,
}

impl<'m, W: Write> VicsWriter<'m, W> {
    pub fn new(
        out: W,
        meta: &'m HashSetMeta,
        opts: &VicsWriteOptions,
    ) -> Result<Self, ExportError> {
        let shape = opts.shape.unwrap_or(if meta.cases.is_empty() {
            VicsShape::Media
        } else {
            VicsShape::Cases
        });
        let profile = opts
            .profile
            .clone()
            .or_else(|| meta.vics_profile.clone())
            .unwrap_or_else(|| profile_for_scheme(meta.scheme).to_string());
        let fragment = match shape {
            VicsShape::Media => "Media",
            VicsShape::Cases => "Cases",
        };
        let context = format!("{VICS2_BASE}/{profile}/$metadata#{fragment}");
        let mut out = BufWriter::with_capacity(1 << 16, out);
        out.write_all(b"{\"@odata.context\":")?;
        serde_json::to_writer(&mut out, &context)?;
        out.write_all(b",\"value\":[")?;
        Ok(Self {
            out,
            meta,
            shape,
            assign_media_ids: opts.assign_media_ids,
            in_list: 0,
            open_case: None,
            next_case: 0,
            cases_written: 0,
            written: 0,
        })
    }

    fn separator(&mut self, count: u64) -> Result<(), ExportError> {
        self.out
            .write_all(if count == 0 { b"\n" } else { b",\n" })?;
        Ok(())
    }

    fn close_case(&mut self) -> Result<(), ExportError> {
        if self.open_case.take().is_some() {
            self.out.write_all(b"]}")?;
        }
        Ok(())
    }

    /// Writes a case object up to its open `Media` list.
    fn open_case(&mut self, case: Option<u32>) -> Result<(), ExportError> {
        self.separator(self.cases_written)?;
        self.cases_written += 1;
        self.out.write_all(b"{")?;
        if let Some(idx) = case {
            let info = self
                .meta
                .cases
                .get(idx as usize)
                .ok_or_else(|| ExportError::Entry {
                    index: self.written,
                    message: format!(
                        "case index {idx} but the set has {} cases",
                        self.meta.cases.len()
                    ),
                })?;
            for (k, v) in info.fields.iter().filter(|(k, _)| k.as_str() != "Media") {
                serde_json::to_writer(&mut self.out, k)?;
                self.out.write_all(b":")?;
                serde_json::to_writer(&mut self.out, v)?;
                self.out.write_all(b",")?;
            }
        }
        self.out.write_all(b"\"Media\":[")?;
        self.open_case = Some(case);
        self.in_list = 0;
        Ok(())
    }

    /// Writes cases `next_case..upto` with empty `Media`, so that cases
    /// without entries survive a round trip.
    fn empty_cases_until(&mut self, upto: u32) -> Result<(), ExportError> {
        while self.next_case < upto {
            self.open_case(Some(self.next_case))?;
            self.close_case()?;
            self.next_case += 1;
        }
        Ok(())
    }

    pub fn write(&mut self, entry: &HashEntry) -> Result<(), ExportError> {
        if self.shape == VicsShape::Cases && self.open_case != Some(entry.case) {
            self.close_case()?;
            if let Some(idx) = entry.case
                && idx >= self.next_case
            {
                self.empty_cases_until(idx)?;
                self.next_case = idx + 1;
            }
            self.open_case(entry.case)?;
        }
        self.separator(self.in_list)?;
        let fallback_id = self.assign_media_ids.then_some(self.in_list + 1);
        serde_json::to_writer(&mut self.out, &fields::VicsMedia(entry, fallback_id))?;
        self.in_list += 1;
        self.written += 1;
        Ok(())
    }

    /// Closes the document and returns the underlying writer (flushed).
    pub fn finish(mut self) -> Result<W, ExportError> {
        if self.shape == VicsShape::Cases {
            self.close_case()?;
            let total = u32::try_from(self.meta.cases.len()).unwrap_or(u32::MAX);
            self.empty_cases_until(total)?;
        }
        self.out.write_all(b"\n]")?;
        for (k, v) in &self.meta.extra {
            self.out.write_all(b",")?;
            serde_json::to_writer(&mut self.out, k)?;
            self.out.write_all(b":")?;
            serde_json::to_writer(&mut self.out, v)?;
        }
        self.out.write_all(b"}\n")?;
        self.out
            .into_inner()
            .map_err(|e| ExportError::Io(e.into_error()))
    }

    /// Entries written so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}

/// Writes `entries` as one VICS 2.0 document; returns the number written.
pub fn write_vics<W, I>(
    out: W,
    meta: &HashSetMeta,
    opts: &VicsWriteOptions,
    entries: I,
) -> Result<u64, ExportError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<HashEntry>,
{
    let mut w = VicsWriter::new(out, meta, opts)?;
    for e in entries {
        w.write(e.borrow())?;
    }
    let n = w.written();
    w.finish()?;
    Ok(n)
}
