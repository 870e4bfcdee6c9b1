//! The format-independent shape of a hash set: a header ([`HashSetMeta`]) and
//! a stream of [`HashEntry`] values.
//!
//! Invariant: everything a reader understood is in a typed field, everything
//! else is kept verbatim in an `extra` map, so that writing an entry back to
//! its own format and reading it again yields an equal entry
//! ([`HashEntry::same_content`]). Media content is never here: only digests
//! and metadata.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vigil_domain::{Md5, PdqHash, Sha1, Sha256};

use crate::category::{Category, CategoryScheme};
use crate::error::SourcePos;

/// The file formats this crate reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Project VIC VICS JSON (1.x `odata.metadata` or 2.0 `@odata.context`).
    Vics,
    /// INTERPOL ICSE hash export (`;`-delimited, fixed header).
    IcseCsv,
    /// CSV/TSV with a header naming hash columns; the delimiter byte.
    Delimited { delimiter: u8 },
    /// One 64-hex PDQ hash per line, optionally `,quality[,path]`.
    PdqList,
}

impl std::str::FromStr for Format {
    type Err = String;
    /// The names a command line or an API query would use: `vics`, `icse`
    /// (or `icse-csv`), `csv`, `tsv`, `pdq`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "vics" | "json" => Ok(Self::Vics),
            "icse" | "icse-csv" | "icse_csv" => Ok(Self::IcseCsv),
            "csv" => Ok(Self::Delimited { delimiter: b',' }),
            "tsv" => Ok(Self::Delimited { delimiter: b'\t' }),
            "pdq" | "pdq-list" => Ok(Self::PdqList),
            other => Err(format!(
                "unknown hash-set format {other:?} (vics, icse-csv, csv, tsv, pdq)"
            )),
        }
    }
}

impl Format {
    /// The media type of an export in this format, for HTTP `Content-Type`.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Vics => "application/json",
            Self::IcseCsv | Self::Delimited { delimiter: b',' } => "text/csv; charset=utf-8",
            Self::Delimited { delimiter: b'\t' } => "text/tab-separated-values; charset=utf-8",
            Self::Delimited { .. } | Self::PdqList => "text/plain; charset=utf-8",
        }
    }

    /// The usual file extension of an export in this format.
    pub fn extension(&self) -> &'static str {
        match self {
            Self::Vics => "json",
            Self::IcseCsv | Self::Delimited { delimiter: b',' } => "csv",
            Self::Delimited { delimiter: b'\t' } => "tsv",
            Self::Delimited { .. } | Self::PdqList => "txt",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vics => f.write_str("vics"),
            Self::IcseCsv => f.write_str("icse"),
            Self::Delimited { delimiter: b',' } => f.write_str("csv"),
            Self::Delimited { delimiter: b'\t' } => f.write_str("tsv"),
            Self::Delimited { delimiter } => write!(f, "csv (delimiter {:?})", *delimiter as char),
            Self::PdqList => f.write_str("pdq"),
        }
    }
}

/// The two VICS document shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VicsShape {
    /// `#Media`: `value` is a flat list of media records (a hash set).
    Media,
    /// `#Cases`: `value` is a list of cases, media under each case's `Media`.
    Cases,
}

/// A case of a VICS `#Cases` export: every case-level field (`CaseID`,
/// `CaseNumber`, `Contact*`, `SeizureDate`, ...) except `Media`, verbatim.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaseInfo {
    pub fields: Map<String, Value>,
}

impl CaseInfo {
    fn text(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
    pub fn case_id(&self) -> Option<String> {
        self.text("CaseID")
    }
    pub fn case_number(&self) -> Option<String> {
        self.text("CaseNumber")
    }
}

/// What a file says about the set as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HashSetMeta {
    pub format: Format,
    /// The scheme the categories were interpreted under.
    pub scheme: CategoryScheme,
    /// VICS: the raw `@odata.context` / `odata.metadata` value.
    pub vics_context: Option<String>,
    /// VICS: 1 for `odata.metadata` (1.x), 2 for `@odata.context` (2.0).
    pub vics_major: Option<u8>,
    /// VICS 2.0: the profile from the context URL (`Default`, `US`, `UK`, `CUSTOM`).
    pub vics_profile: Option<String>,
    /// VICS: the shape, from the context fragment or (if absent) the content.
    pub vics_shape: Option<VicsShape>,
    /// VICS `#Cases`: the cases, indexed by [`HashEntry::case`].
    pub cases: Vec<CaseInfo>,
    /// Top-level keys other than the context and `value`, verbatim.
    pub extra: Map<String, Value>,
}

impl HashSetMeta {
    pub fn new(format: Format, scheme: CategoryScheme) -> Self {
        Self {
            format,
            scheme,
            vics_context: None,
            vics_major: None,
            vics_profile: None,
            vics_shape: None,
            cases: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// One file a VICS media record was found as (`MediaFiles[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MediaFile {
    pub file_name: Option<String>,
    pub file_path: Option<String>,
    /// `MD5`, `Created`, `Written`, `Accessed`, `Unallocated`, `Deleted`,
    /// `Parent*`, `PhysicalLocation`, `SourceID`, ... verbatim.
    pub extra: Map<String, Value>,
}

/// An `AlternativeHashes[]` element that is not absorbed into a typed field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlternativeHash {
    pub hash_name: Option<String>,
    pub hash_value: Option<String>,
    pub extra: Map<String, Value>,
}

/// One known medium: its digests and what is known about it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HashEntry {
    /// Where the entry starts in its source file (not part of its content).
    pub pos: SourcePos,
    /// VICS `#Cases`: index into [`HashSetMeta::cases`].
    pub case: Option<u32>,
    /// VICS `MediaID` / ICSE `Image ID`, as text.
    pub media_id: Option<String>,
    pub md5: Option<Md5>,
    pub sha1: Option<Sha1>,
    pub sha256: Option<Sha256>,
    pub pdq: Option<PdqHash>,
    /// PDQ quality 0..=100.
    pub pdq_quality: Option<u8>,
    /// Opaque PhotoDNA signature (base64 or hex, never interpreted).
    pub photodna: Option<String>,
    pub category: Option<Category>,
    pub series: Option<String>,
    pub victim_identified: Option<bool>,
    pub offender_identified: Option<bool>,
    pub is_distributed: Option<bool>,
    /// Kept, but do not triage on it: one real export had it `true` on all
    /// 19,209 entries while every `Category` was null (anchors.md §4.2).
    /// `category` is what counts.
    pub is_precategorized: Option<bool>,
    pub is_suspected: Option<bool>,
    pub media_size: Option<u64>,
    pub mime_type: Option<String>,
    pub date_updated: Option<String>,
    pub tags: Option<String>,
    pub comments: Option<String>,
    pub media_files: Vec<MediaFile>,
    pub alternative_hashes: Vec<AlternativeHash>,
    /// Every other field, verbatim (VICS `Exifs`, `RelativeFilePath`, OData
    /// annotations; ICSE `NumberOfSubmissions`, `FileAvailable`, `MediaType`,
    /// `Baseline`; unknown CSV columns as strings; PDQ-list `path`).
    pub extra: Map<String, Value>,
}

impl HashEntry {
    /// Equality of everything but the source position: what a round trip
    /// through a writer and a reader must preserve.
    pub fn same_content(&self, other: &Self) -> bool {
        let mut a = self.clone();
        a.pos = SourcePos::default();
        let mut b = other.clone();
        b.pos = SourcePos::default();
        a == b
    }

    pub(crate) fn has_hash(&self) -> bool {
        self.md5.is_some()
            || self.sha1.is_some()
            || self.sha256.is_some()
            || self.pdq.is_some()
            || self.photodna.is_some()
    }
}

/// Counts of an export to a format that cannot hold every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteSummary {
    pub written: u64,
    /// Entries the format has no room for (a PDQ list without PDQ; an ICSE
    /// row without MD5, SHA-1 or PhotoDNA), skipped rather than written as
    /// rows that would not read back.
    pub skipped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in [
            Format::Vics,
            Format::IcseCsv,
            Format::Delimited { delimiter: b',' },
            Format::Delimited { delimiter: b'\t' },
            Format::PdqList,
        ] {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert!("xml".parse::<Format>().is_err());
    }
}
