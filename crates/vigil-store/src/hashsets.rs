//! Hash sets (agency data), their entries, matching against them, and the
//! triage summary of a scan.
//!
//! **Ownership and access.** A hash set belongs to the agency that imported
//! it. Hashes of abuse material are personal data, so a set is readable
//! (listed, shown, exported, matched against) only by users of that agency
//! with `read-case`; importing, replacing and deleting need
//! `manage-hash-sets`. Matching a scan also needs read access to the scan's
//! case. Every call is audited.
//!
//! **Import error policy** (the one of `vigil_hashset::error`): an entry
//! error (bad hex, unknown category, duplicate `MediaID`, …) is handed to the
//! caller with its line and column and the entry is skipped; the valid
//! entries are kept. A file-level error (truncated or broken JSON, a CSV
//! header without a hash column, I/O) refuses the whole import: the
//! transaction is rolled back and nothing changes
//! ([`HashSetImportError::Refused`]). The file is parsed on a blocking
//! thread and handed over in batches through a bounded channel, and the
//! entries are inserted in multi-row batches inside one transaction, so
//! memory stays flat whatever the file size.
//!
//! **Idempotence.** Re-importing a file whose SHA-256 the set already
//! recorded changes nothing. Entries are keyed within their set (by case and
//! `MediaID` when the entry has one, otherwise by a digest of its whole
//! content), so importing an overlapping file adds only what is new.
//! `replace` swaps the set's entries in the same single transaction.
//!
//! **Lossless.** Every field of an entry has a column; the composite ones
//! (`MediaFiles`, `AlternativeHashes`) and the unknown fields (`extra`) are
//! kept as JSON text, and the set's header (`HashSetMeta`: VICS context,
//! cases, top-level extras) as JSON text on the set, so import → export →
//! import yields the same entries.
//!
//! **PDQ index.** Near-duplicate matching uses one [`PdqIndex`] over the PDQ
//! hashes of all sets, ids being `hash_entries.id`. It is persisted beside
//! the SQLite file (`<db>.pdqidx`, stamp in `<db>.pdqidx.gen`) or, on
//! PostgreSQL, in a cache directory (`$VIGIL_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/vigil`, else `~/.cache/vigil`). The stamp is the random
//! `pdq_generation` that every change to a set's entries renews; a process
//! loads the file when the stamps agree (milliseconds) and rebuilds it from
//! the store otherwise.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use vigil_domain::access;
use vigil_domain::records::parse_name;
use vigil_domain::{Capability, Decision, Md5, PdqHash, Principal, Sha1, Sha256, ValidationError};
use vigil_hashset::{
    CategoryScheme, EntryError, EntryErrorKind, Format, HashEntry, HashSetMeta, ImportError,
    ImportOptions, NormalizedCategory, SourcePos,
};
use vigil_pdqindex::PdqIndex;

use crate::records::Tx;
use crate::{Backend, Store, StoreError, new_uid, now_text};

/// Entries per multi-row INSERT (28 columns: 14,000 parameters, within
/// both SQLite's and PostgreSQL's limits).
const INSERT_BATCH: usize = 500;
/// Entries per page when reading a set back.
const PAGE: i64 = 5000;
/// Default single-link radius for grouping unknown images into series.
pub const DEFAULT_SERIES_RADIUS: u32 = 31;

// ----- public types -------------------------------------------------------

/// A hash set as listed: what it is, where it came from, how big it is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HashSetInfo {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub agency: String,
    pub scheme: String,
    pub format: String,
    pub source: Option<String>,
    pub max_distance: u32,
    pub entries: i64,
    pub pdq_entries: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
}

/// One import of a file into a set: the provenance the issue asks for.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HashSetImportRecord {
    pub file_name: String,
    pub file_sha256: String,
    pub file_size: i64,
    pub format: String,
    pub source: Option<String>,
    pub replaced: bool,
    pub added: i64,
    pub already_present: i64,
    pub errors: i64,
    pub imported_at: String,
    pub imported_by: String,
}

/// A set with its provenance and category counts.
#[derive(Debug, Clone, Serialize)]
pub struct HashSetDetail {
    pub set: HashSetInfo,
    pub imports: Vec<HashSetImportRecord>,
    /// Normalised category label → entries.
    pub categories: BTreeMap<String, i64>,
    /// The file header kept for lossless export.
    #[serde(skip)]
    pub meta: HashSetMeta,
}

/// What `vigil hashset import` was asked to do.
#[derive(Debug, Clone)]
pub struct HashSetImportOptions {
    pub name: String,
    /// `None`: detected from the file.
    pub format: Option<Format>,
    /// `None`: the existing set's scheme, else implied by the file.
    pub scheme: Option<CategoryScheme>,
    pub source: Option<String>,
    /// The file's name as given (provenance).
    pub file_name: String,
    /// Lower-case hex SHA-256 of the whole file (provenance, idempotence).
    pub file_sha256: String,
    pub file_size: u64,
    pub replace: bool,
    /// Near-duplicate radius for this set (default 31).
    pub max_distance: Option<u32>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ImportStatus {
    /// A new set was created.
    Created,
    /// Entries were added to an existing set.
    Merged,
    /// The set's entries were replaced.
    Replaced,
    /// The set already holds this file (same SHA-256): nothing changed.
    AlreadyImported,
}

/// The result of an import that happened (possibly with entry errors).
#[derive(Debug, Clone, Serialize)]
pub struct HashSetImportOutcome {
    pub status: ImportStatus,
    pub set: HashSetInfo,
    pub format: String,
    /// Valid entries read from the file.
    pub read: u64,
    pub added: u64,
    /// Valid entries the set already held (same key).
    pub already_present: u64,
    /// Entries removed by `replace`.
    pub removed: u64,
    /// Entry errors (each one a skipped entry).
    pub errors: u64,
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HashSetImportError {
    /// File-level error: the whole import was refused, nothing changed.
    #[error("import refused: {0}")]
    Refused(ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for HashSetImportError {
    fn from(e: sqlx::Error) -> Self {
        HashSetImportError::Store(e.into())
    }
}

/// A hash to look up.
#[derive(Debug, Clone)]
pub enum MatchQuery {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Pdq {
        hash: PdqHash,
        quality: Option<u8>,
        /// The eight dihedral variants (reference order), when known; used
        /// with [`MatchOptions::dihedral`].
        dihedral: Option<Vec<PdqHash>>,
    },
}

impl MatchQuery {
    fn kind(&self) -> &'static str {
        match self {
            MatchQuery::Md5(_) => "md5",
            MatchQuery::Sha1(_) => "sha1",
            MatchQuery::Sha256(_) => "sha256",
            MatchQuery::Pdq { .. } => "pdq",
        }
    }
    fn hex(&self) -> String {
        match self {
            MatchQuery::Md5(h) => h.to_hex(),
            MatchQuery::Sha1(h) => h.to_hex(),
            MatchQuery::Sha256(h) => h.to_hex(),
            MatchQuery::Pdq { hash, .. } => hash.to_hex(),
        }
    }
}

/// How to match.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Overrides every set's own PDQ radius.
    pub max_distance: Option<u32>,
    /// Also match the query's rotations and mirror images.
    pub dihedral: bool,
}

/// One match, with everything needed to defend it: which set, which entry,
/// which hash, which category, what distance.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HashMatch {
    pub set: String,
    pub set_id: i64,
    pub entry_id: i64,
    pub media_id: Option<String>,
    /// `md5`, `sha1`, `sha256` (exact) or `pdq` (near-duplicate).
    pub kind: String,
    /// The entry's hash that matched.
    pub hash: String,
    /// Normalised category (`csam`, `csam-a`, `custom:…`; `uncategorized`
    /// when the entry has none).
    pub category: String,
    pub category_raw: Option<String>,
    pub series: Option<String>,
    pub victim_identified: Option<bool>,
    pub distance: u32,
    /// Matched through a rotated or mirrored variant of the query.
    pub dihedral: bool,
    /// Which variant matched (`rot90`, `flipx`, … see [`TRANSFORMS`]) when
    /// `dihedral`; none for a direct match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
}

/// Names of the eight dihedral variants, in the order the scanner stores
/// them (vigil-pdq's reference order and names); index 0 is the image as it
/// is. The reference names reflections by their axis: `flipy` reflects
/// across the vertical axis (a left-right mirror), `flipx` across the
/// horizontal one (upside down), `flipplus1`/`flipminus1` across the
/// diagonals.
pub const TRANSFORMS: [&str; 8] = [
    "original",
    "rot90",
    "rot180",
    "rot270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
];

fn transform_name(t: u8) -> Option<String> {
    (t != 0).then(|| {
        TRANSFORMS
            .get(usize::from(t))
            .unwrap_or(&"dihedral")
            .to_string()
    })
}

/// The answer to one query.
#[derive(Debug, Clone, Serialize)]
pub struct MatchAnswer {
    pub kind: String,
    pub query: String,
    pub quality: Option<u8>,
    /// PDQ quality below 50: near-duplicate matches are unreliable.
    pub unreliable: bool,
    pub matches: Vec<HashMatch>,
}

/// How to summarise a scan.
#[derive(Debug, Clone)]
pub struct TriageOptions {
    pub matching: MatchOptions,
    /// Single-link radius for grouping unknown images into series.
    pub series_radius: u32,
    /// Re-match even if stored matches are current.
    pub rematch: bool,
}

impl Default for TriageOptions {
    fn default() -> Self {
        TriageOptions {
            // A scan is matched with rotations and mirror images too:
            // flipped copies are what re-posting tools produce, and the
            // scanner already computed the eight variants.
            matching: MatchOptions {
                dihedral: true,
                ..MatchOptions::default()
            },
            series_radius: DEFAULT_SERIES_RADIUS,
            rematch: false,
        }
    }
}

/// A group of similar unknown images.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnknownSeries {
    pub size: usize,
    /// Up to five member paths, as examples.
    pub examples: Vec<String>,
}

/// Unknown images grouped by PDQ similarity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SeriesSummary {
    pub radius: u32,
    /// Groups of two or more images.
    pub count: usize,
    pub largest: usize,
    /// Unknown images similar to no other.
    pub singletons: usize,
    /// The twenty largest groups.
    pub groups: Vec<UnknownSeries>,
}

/// A known series (the sets' `Series` field) found in the scan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KnownSeries {
    pub series: String,
    pub sets: Vec<String>,
    /// Evidence items matching entries of the series.
    pub images: i64,
    pub victim_identified: Option<bool>,
    /// "victim identified", "unidentified — priority" or "victim status unknown".
    pub status: String,
}

/// Distances of near-duplicate matches.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct DistanceStats {
    pub min: u32,
    pub max: u32,
    /// Distance → items.
    pub histogram: BTreeMap<u32, i64>,
}

/// What a scan found, for the examiner: counts, never content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TriageSummary {
    pub scan_id: i64,
    pub files: i64,
    pub images: i64,
    pub errors: i64,
    /// Category → items matched exactly (MD5/SHA-1/SHA-256).
    pub known: BTreeMap<String, i64>,
    /// Category → items matched only by PDQ.
    pub near_duplicates: BTreeMap<String, i64>,
    /// Category → distances of those near-duplicate matches (best per item).
    pub near_duplicate_distances: BTreeMap<String, DistanceStats>,
    /// Near-duplicate items whose PDQ quality is below 50.
    pub unreliable_near_duplicates: i64,
    /// Transform (`flipx`, `rot90`, …) → near-duplicate items found only
    /// through that rotated or mirrored variant of their hash.
    pub near_duplicate_transforms: BTreeMap<String, i64>,
    pub unknown_images: i64,
    pub series: SeriesSummary,
    pub known_series: Vec<KnownSeries>,
    pub generation: String,
}

/// Counts of a `match --scan` run.
#[derive(Debug, Clone, Serialize)]
pub struct ScanMatchRun {
    pub scan_id: i64,
    pub exact: u64,
    pub near: u64,
    pub generation: String,
}

// ----- categories ---------------------------------------------------------

/// The stable text form of a normalised category (a map key in summaries).
pub fn category_label(c: &NormalizedCategory) -> String {
    match c {
        NormalizedCategory::Uncategorized => "uncategorized".into(),
        NormalizedCategory::NonPertinent => "non-pertinent".into(),
        NormalizedCategory::Csam => "csam".into(),
        NormalizedCategory::CsamA => "csam-a".into(),
        NormalizedCategory::CsamB => "csam-b".into(),
        NormalizedCategory::CsamC => "csam-c".into(),
        NormalizedCategory::ExploitiveNonCsam => "exploitive-non-csam".into(),
        NormalizedCategory::CgiAnimation => "cgi-animation".into(),
        NormalizedCategory::Comparison => "comparison".into(),
        NormalizedCategory::ExtremePornography => "extreme-pornography".into(),
        NormalizedCategory::Custom(s) => format!("custom:{s}"),
    }
}

fn parse_category_label(s: &str) -> Option<NormalizedCategory> {
    Some(match s {
        "uncategorized" => NormalizedCategory::Uncategorized,
        "non-pertinent" => NormalizedCategory::NonPertinent,
        "csam" => NormalizedCategory::Csam,
        "csam-a" => NormalizedCategory::CsamA,
        "csam-b" => NormalizedCategory::CsamB,
        "csam-c" => NormalizedCategory::CsamC,
        "exploitive-non-csam" => NormalizedCategory::ExploitiveNonCsam,
        "cgi-animation" => NormalizedCategory::CgiAnimation,
        "comparison" => NormalizedCategory::Comparison,
        "extreme-pornography" => NormalizedCategory::ExtremePornography,
        other => NormalizedCategory::Custom(other.strip_prefix("custom:")?.to_string()),
    })
}

/// Which category an item counts under when it matches several entries:
/// the most severe.
fn severity(label: &str) -> u8 {
    match label {
        "csam-a" => 0,
        "csam-b" => 1,
        "csam-c" => 2,
        "csam" => 3,
        "exploitive-non-csam" => 4,
        "extreme-pornography" => 5,
        "cgi-animation" => 6,
        "comparison" => 8,
        "non-pertinent" => 9,
        "uncategorized" => 10,
        _ => 7,
    }
}

const UNCATEGORIZED: &str = "uncategorized";

fn parse_scheme(s: &str) -> Result<CategoryScheme, StoreError> {
    s.parse::<CategoryScheme>()
        .map_err(|e| ValidationError::new("scheme", s, e).into())
}

// ----- rows ---------------------------------------------------------------

const SET_SELECT: &str = "SELECT s.id, s.uid, s.name, a.name AS agency, s.agency_id, s.scheme, \
    s.format, s.source, s.max_distance, s.meta, s.created_at, u.name AS created_by, s.updated_at, \
    (SELECT COUNT(*) FROM hash_entries h WHERE h.set_id = s.id) AS entries, \
    (SELECT COUNT(*) FROM hash_entries h WHERE h.set_id = s.id AND h.pdq IS NOT NULL) AS pdq_entries \
    FROM hash_sets s JOIN agencies a ON a.id = s.agency_id JOIN users u ON u.id = s.created_by";

struct SetRow {
    info: HashSetInfo,
    agency_id: i64,
    meta: String,
}

fn set_from_row(r: &AnyRow) -> Result<SetRow, StoreError> {
    let max: i64 = r.try_get("max_distance")?;
    Ok(SetRow {
        info: HashSetInfo {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            name: r.try_get("name")?,
            agency: r.try_get("agency")?,
            scheme: r.try_get("scheme")?,
            format: r.try_get("format")?,
            source: r.try_get("source")?,
            max_distance: u32::try_from(max).unwrap_or(PdqHash::DEFAULT_MAX_DISTANCE),
            entries: r.try_get("entries")?,
            pdq_entries: r.try_get("pdq_entries")?,
            created_at: r.try_get("created_at")?,
            created_by: r.try_get("created_by")?,
            updated_at: r.try_get("updated_at")?,
        },
        agency_id: r.try_get("agency_id")?,
        meta: r.try_get("meta")?,
    })
}

const ENTRY_COLUMNS: [&str; 28] = [
    "set_id",
    "entry_key",
    "seq",
    "line",
    "case_index",
    "media_id",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "photodna",
    "category_raw",
    "category",
    "series",
    "victim_identified",
    "offender_identified",
    "is_distributed",
    "is_precategorized",
    "is_suspected",
    "media_size",
    "mime_type",
    "date_updated",
    "tags",
    "comments",
    "media_files",
    "alternative_hashes",
    "extra",
];

/// The multi-row INSERT of `rows` entries for `backend`: `?` placeholders
/// on SQLite, `$N` on PostgreSQL (see [`Store::insert_entries`] for why).
/// A key the set already holds is skipped, so re-importing adds nothing.
fn insert_entries_sql(backend: Backend, rows: usize) -> String {
    let n = ENTRY_COLUMNS.len();
    let mut sql = format!(
        "INSERT INTO hash_entries ({}) VALUES ",
        ENTRY_COLUMNS.join(", ")
    );
    sql.reserve(rows * n * 7);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for j in 0..n {
            if j > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(i * n + j + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (set_id, entry_key) DO NOTHING");
    sql
}

fn flag(b: Option<bool>) -> Option<i64> {
    b.map(i64::from)
}

fn unflag(v: Option<i64>) -> Option<bool> {
    v.map(|x| x != 0)
}

fn json_or_null<T: Serialize>(v: &T, empty: bool) -> Result<Option<String>, StoreError> {
    if empty {
        return Ok(None);
    }
    serde_json::to_string(v)
        .map(Some)
        .map_err(|e| StoreError::Config(format!("cannot encode entry JSON: {e}")))
}

/// The key that makes an entry unique within its set: its case and
/// `MediaID` when it has one (the reader already refused duplicates), else a
/// digest of its whole content (so identical hash-list lines collapse).
fn entry_key(e: &HashEntry) -> Result<String, StoreError> {
    use sha2::{Digest, Sha256 as ShaHasher};
    if let Some(id) = &e.media_id {
        let case = e.case.map(|c| c.to_string()).unwrap_or_default();
        return Ok(format!("m:{case}:{id}"));
    }
    let mut c = e.clone();
    c.pos = SourcePos::default();
    let text = serde_json::to_string(&c)
        .map_err(|e| StoreError::Config(format!("cannot encode entry JSON: {e}")))?;
    Ok(format!(
        "c:{}",
        hex::encode(ShaHasher::digest(text.as_bytes()))
    ))
}

fn decode_json<T: serde::de::DeserializeOwned + Default>(
    v: Option<String>,
    what: &str,
) -> Result<T, StoreError> {
    match v {
        None => Ok(T::default()),
        Some(s) => serde_json::from_str(&s)
            .map_err(|e| StoreError::Config(format!("stored {what} is not valid JSON: {e}"))),
    }
}

fn hex_col<T>(
    r: &AnyRow,
    col: &str,
    parse: fn(&str) -> Result<T, vigil_domain::HexError>,
) -> Result<Option<T>, StoreError> {
    let v: Option<String> = r.try_get(col)?;
    v.as_deref()
        .map(parse)
        .transpose()
        .map_err(|e| StoreError::Config(format!("stored {col} is invalid: {e}")))
}

/// Rebuilds an entry from its row.
fn entry_from_row(r: &AnyRow) -> Result<HashEntry, StoreError> {
    let line: Option<i64> = r.try_get("line")?;
    let case: Option<i64> = r.try_get("case_index")?;
    let quality: Option<i64> = r.try_get("pdq_quality")?;
    let size: Option<i64> = r.try_get("media_size")?;
    let raw: Option<String> = r.try_get("category_raw")?;
    let label: Option<String> = r.try_get("category")?;
    let category = match (raw, label) {
        (Some(raw), Some(label)) => Some(vigil_hashset::Category {
            raw,
            normalized: parse_category_label(&label).ok_or_else(|| {
                StoreError::Config(format!("stored category {label:?} is unknown"))
            })?,
        }),
        _ => None,
    };
    Ok(HashEntry {
        pos: SourcePos {
            line: line.and_then(|l| u64::try_from(l).ok()).unwrap_or(0),
            column: None,
        },
        case: case.and_then(|c| u32::try_from(c).ok()),
        media_id: r.try_get("media_id")?,
        md5: hex_col(r, "md5", Md5::from_hex)?,
        sha1: hex_col(r, "sha1", Sha1::from_hex)?,
        sha256: hex_col(r, "sha256", Sha256::from_hex)?,
        pdq: hex_col(r, "pdq", PdqHash::from_hex)?,
        pdq_quality: quality.and_then(|q| u8::try_from(q).ok()),
        photodna: r.try_get("photodna")?,
        category,
        series: r.try_get("series")?,
        victim_identified: unflag(r.try_get("victim_identified")?),
        offender_identified: unflag(r.try_get("offender_identified")?),
        is_distributed: unflag(r.try_get("is_distributed")?),
        is_precategorized: unflag(r.try_get("is_precategorized")?),
        is_suspected: unflag(r.try_get("is_suspected")?),
        media_size: size.and_then(|s| u64::try_from(s).ok()),
        mime_type: r.try_get("mime_type")?,
        date_updated: r.try_get("date_updated")?,
        tags: r.try_get("tags")?,
        comments: r.try_get("comments")?,
        media_files: decode_json(r.try_get("media_files")?, "MediaFiles")?,
        alternative_hashes: decode_json(r.try_get("alternative_hashes")?, "AlternativeHashes")?,
        extra: decode_json(r.try_get("extra")?, "extra")?,
    })
}

/// Messages from the parsing thread to the inserting task.
enum Parsed {
    Entries(Vec<HashEntry>),
    Error(EntryError),
    Done(Result<vigil_hashset::ImportReport, ImportError>),
}

fn format_name(f: Format) -> String {
    match f {
        Format::IcseCsv => "icse-csv".into(),
        other => other.to_string(),
    }
}

// ----- the persisted PDQ index ---------------------------------------------

/// A loaded index and the generation it reflects.
pub(crate) struct LoadedIndex {
    generation: String,
    index: PdqIndex,
}

fn index_cache() -> &'static Mutex<HashMap<String, Arc<LoadedIndex>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<LoadedIndex>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("VIGIL_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("vigil"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("vigil"))
}

fn stamp_path(index: &Path) -> PathBuf {
    let mut s = index.as_os_str().to_owned();
    s.push(".gen");
    PathBuf::from(s)
}

fn read_stamp(index: &Path) -> Option<String> {
    std::fs::read_to_string(stamp_path(index))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Loads the persisted index if its stamp is `generation`. The stamp is read
/// before and after the load so that a concurrent rewrite is never mistaken
/// for the wanted generation.
fn load_persisted(path: &Path, generation: &str) -> Option<PdqIndex> {
    if read_stamp(path).as_deref() != Some(generation) {
        return None;
    }
    let index = PdqIndex::load(path).ok()?;
    (read_stamp(path).as_deref() == Some(generation)).then_some(index)
}

/// Saves index then stamp; the stamp is removed first so a crash between the
/// two leaves "stale", never a wrong stamp.
fn save_persisted(path: &Path, index: &PdqIndex, generation: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let stamp = stamp_path(path);
    match std::fs::remove_file(&stamp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    index.save(path).map_err(std::io::Error::other)?;
    let mut tmp = stamp.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, generation)?;
    std::fs::rename(&tmp, &stamp)
}

// ----- the store methods -------------------------------------------------

impl Store {
    async fn fetch_set_by_name(
        &self,
        tx: &mut Tx,
        name: &str,
    ) -> Result<Option<SetRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SET_SELECT} WHERE s.name = $1"
        )))
        .bind(name.trim().to_string())
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(set_from_row).transpose()
    }

    async fn fetch_set(&self, tx: &mut Tx, id: i64) -> Result<SetRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SET_SELECT} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found("hash set", id))?;
        set_from_row(&row)
    }

    /// Finds a set the principal may read: their own agency's, with
    /// `read-case`. Others' sets look "not found"; refusals are audited.
    async fn readable_set(
        &self,
        tx: Tx,
        p: &Principal,
        name: &str,
        action: &str,
    ) -> Result<(Tx, SetRow), StoreError> {
        let mut tx = tx;
        let set = self.fetch_set_by_name(&mut tx, name).await?;
        match set {
            Some(s) if s.agency_id == p.agency_id && p.can(Capability::ReadCase) => Ok((tx, s)),
            Some(s) if s.agency_id == p.agency_id => {
                let d = access::require(p, Capability::ReadCase);
                self.refuse(
                    tx,
                    p,
                    action,
                    format!("hashset:{}", s.info.id),
                    None,
                    d,
                    false,
                )
                .await
            }
            Some(s) => self
                .refuse(
                    tx,
                    p,
                    action,
                    format!("hashset:{}", s.info.id),
                    None,
                    Decision::Deny("hash sets are agency data"),
                    true,
                )
                .await
                .map_err(|_| StoreError::not_found("hash set", name)),
            None => Err(StoreError::not_found("hash set", name)),
        }
    }

    async fn bump_generation(&self, tx: &mut Tx) -> Result<String, StoreError> {
        let generation = new_uid();
        let now = now_text();
        let updated = sqlx::query(
            "UPDATE hash_set_state SET pdq_generation = $1, changed_at = $2 WHERE id = 1",
        )
        .bind(generation.clone())
        .bind(now.clone())
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO hash_set_state (id, pdq_generation, changed_at) VALUES (1, $1, $2)",
            )
            .bind(generation.clone())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(generation)
    }

    /// The current PDQ generation stamp ("empty" before any set exists).
    async fn pdq_generation(&self) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT pdq_generation FROM hash_set_state WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get("pdq_generation")?,
            None => "empty".into(),
        })
    }

    /// Where this database's PDQ index lives on disk, if anywhere.
    pub async fn pdq_index_path(&self) -> Result<Option<PathBuf>, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let rows = sqlx::query("SELECT name, file FROM pragma_database_list")
                    .fetch_all(self.pool())
                    .await?;
                for r in rows {
                    let name: String = r.try_get("name")?;
                    let file: Option<String> = r.try_get("file")?;
                    if name == "main" {
                        return Ok(file
                            .filter(|f| !f.is_empty())
                            .map(|f| PathBuf::from(format!("{f}.pdqidx"))));
                    }
                }
                Ok(None)
            }
            Backend::Postgres => {
                let row = sqlx::query(
                    "SELECT current_database()::text AS db, \
                     COALESCE(host(inet_server_addr()), 'local') AS host, \
                     COALESCE(inet_server_port(), 0)::bigint AS port",
                )
                .fetch_one(self.pool())
                .await?;
                let db: String = row.try_get("db")?;
                let host: String = row.try_get("host")?;
                let port: i64 = row.try_get("port")?;
                let safe = |s: &str| -> String {
                    s.chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect()
                };
                Ok(cache_dir().map(|d| {
                    d.join(format!(
                        "pg-{}-{}-{port}-{}.pdqidx",
                        safe(&host),
                        port,
                        safe(&db)
                    ))
                }))
            }
        }
    }

    /// The PDQ index of all sets: from this process's cache, from the file
    /// beside the database when its stamp is current, or rebuilt from the
    /// store (and saved). Must not be called while holding a transaction
    /// (SQLite has one connection).
    pub(crate) async fn pdq_index(&self) -> Result<Arc<LoadedIndex>, StoreError> {
        let generation = self.pdq_generation().await?;
        let path = self.pdq_index_path().await?;
        let key = match &path {
            Some(p) => p.display().to_string(),
            None => format!("memory:{generation}"),
        };
        if let Ok(cache) = index_cache().lock()
            && let Some(hit) = cache.get(&key)
            && hit.generation == generation
        {
            return Ok(hit.clone());
        }
        let loaded = match &path {
            Some(p) => {
                let (p2, g2) = (p.clone(), generation.clone());
                tokio::task::spawn_blocking(move || load_persisted(&p2, &g2))
                    .await
                    .ok()
                    .flatten()
            }
            None => None,
        };
        let index = match loaded {
            Some(i) => i,
            None => {
                let mut pairs: Vec<(i64, PdqHash)> = Vec::new();
                let mut after = 0i64;
                loop {
                    let rows = sqlx::query(
                        "SELECT id, pdq FROM hash_entries WHERE pdq IS NOT NULL AND id > $1 \
                         ORDER BY id LIMIT 100000",
                    )
                    .bind(after)
                    .fetch_all(self.pool())
                    .await?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in &rows {
                        let id: i64 = r.try_get("id")?;
                        let hex: String = r.try_get("pdq")?;
                        if let Ok(h) = PdqHash::from_hex(&hex) {
                            pairs.push((id, h));
                        }
                        after = id;
                    }
                }
                let (p2, g2) = (path.clone(), generation.clone());
                tokio::task::spawn_blocking(move || -> Result<PdqIndex, StoreError> {
                    let index = PdqIndex::build(pairs)
                        .map_err(|e| StoreError::Config(format!("PDQ index: {e}")))?;
                    if let Some(p) = p2 {
                        // A cache that cannot be written only costs the next
                        // process a rebuild.
                        let _ = save_persisted(&p, &index, &g2);
                    }
                    Ok(index)
                })
                .await
                .map_err(|e| StoreError::Config(format!("PDQ index build: {e}")))??
            }
        };
        let loaded = Arc::new(LoadedIndex { generation, index });
        if let Ok(mut cache) = index_cache().lock() {
            cache.insert(key, loaded.clone());
        }
        Ok(loaded)
    }

    /// Makes sure the persisted PDQ index is current (after an import), so
    /// the next process answers at once. Returns the number of PDQ hashes.
    pub async fn refresh_pdq_index(&self, p: &Principal) -> Result<usize, StoreError> {
        self.require(p, Capability::ReadCase, "hashset.index")
            .await?;
        Ok(self.pdq_index().await?.index.len())
    }

    // ----- import ----------------------------------------------------------

    /// Imports a hash-set file (see the module doc for the error policy).
    /// `on_error` receives each entry error; `on_progress` the running count
    /// of entries read.
    pub async fn import_hash_set<R>(
        &self,
        p: &Principal,
        opts: &HashSetImportOptions,
        input: R,
        mut on_error: impl FnMut(&EntryError),
        mut on_progress: impl FnMut(u64),
    ) -> Result<HashSetImportOutcome, HashSetImportError>
    where
        R: Read + Send + 'static,
    {
        let name = parse_name("hash set", &opts.name).map_err(StoreError::from)?;
        if let Some(d) = opts.max_distance
            && d > 256
        {
            return Err(StoreError::Invalid(ValidationError::new(
                "max-distance",
                &d.to_string(),
                "PDQ distances are 0..=256",
            ))
            .into());
        }
        let sha = opts.file_sha256.trim().to_ascii_lowercase();
        if Sha256::from_hex(&sha).is_err() {
            return Err(StoreError::Invalid(ValidationError::new(
                "file sha256",
                &sha,
                "expected 64 hex digits",
            ))
            .into());
        }
        self.require(p, Capability::ManageHashSets, "hashset.import")
            .await?;

        let mut tx = self.begin_write().await?;
        let existing = self.fetch_set_by_name(&mut tx, &name).await?;
        if let Some(s) = &existing
            && s.agency_id != p.agency_id
        {
            let target = format!("hashset:{}", s.info.id);
            return Err(self
                .refuse::<()>(
                    tx,
                    p,
                    "hashset.import",
                    target,
                    None,
                    Decision::Deny("the set belongs to another agency"),
                    false,
                )
                .await
                .err()
                .unwrap_or_else(|| StoreError::Denied("hash set of another agency".into()))
                .into());
        }
        let existing_scheme = existing
            .as_ref()
            .map(|s| parse_scheme(&s.info.scheme))
            .transpose()?;
        if let (Some(a), Some(b)) = (existing_scheme, opts.scheme)
            && a != b
        {
            return Err(StoreError::Conflict(format!(
                "hash set {name:?} uses the {a} scheme, not {b}"
            ))
            .into());
        }
        // Same file again: nothing to do (but the attempt is audited).
        if let Some(s) = &existing
            && !opts.replace
        {
            let seen: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM hash_set_imports WHERE set_id = $1 AND file_sha256 = $2",
            )
            .bind(s.info.id)
            .bind(sha.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if seen > 0 {
                self.log(
                    &mut tx,
                    p,
                    "hashset.import",
                    format!("hashset:{}", s.info.id),
                    None,
                    Decision::Allow("manage-hash-sets"),
                    serde_json::json!({"file": opts.file_name, "sha256": sha, "unchanged": true}),
                )
                .await?;
                tx.commit().await?;
                return Ok(HashSetImportOutcome {
                    status: ImportStatus::AlreadyImported,
                    format: s.info.format.clone(),
                    set: s.info.clone(),
                    read: 0,
                    added: 0,
                    already_present: 0,
                    removed: 0,
                    errors: 0,
                });
            }
        }

        let now = now_text();
        let max_distance = i64::from(opts.max_distance.unwrap_or(PdqHash::DEFAULT_MAX_DISTANCE));
        let (set_id, status, old_meta) = match &existing {
            Some(s) => {
                let meta: HashSetMeta = serde_json::from_str(&s.meta).map_err(|e| {
                    StoreError::Config(format!("stored hash-set header is invalid: {e}"))
                })?;
                let status = if opts.replace {
                    ImportStatus::Replaced
                } else {
                    ImportStatus::Merged
                };
                (s.info.id, status, Some(meta))
            }
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO hash_sets (uid, agency_id, name, scheme, format, source, \
                     max_distance, meta, created_at, created_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8, $9, $8) RETURNING id",
                )
                .bind(new_uid())
                .bind(p.agency_id)
                .bind(name.clone())
                .bind(
                    opts.scheme
                        .unwrap_or(CategoryScheme::ProjectVicUs)
                        .as_str()
                        .to_string(),
                )
                .bind(opts.format.map(format_name).unwrap_or_default())
                .bind(opts.source.clone())
                .bind(max_distance)
                .bind(now.clone())
                .bind(p.user_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                (id, ImportStatus::Created, None)
            }
        };

        let mut removed = 0u64;
        if opts.replace && existing.is_some() {
            sqlx::query("DELETE FROM scan_matches WHERE set_id = $1")
                .bind(set_id)
                .execute(&mut *tx)
                .await?;
            removed = sqlx::query("DELETE FROM hash_entries WHERE set_id = $1")
                .bind(set_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        // Entries of a merged file keep their order after the set's, and
        // their case indices after the set's cases.
        let (mut seq, case_offset) = match (&old_meta, opts.replace) {
            (Some(meta), false) => {
                let max_seq: Option<i64> =
                    sqlx::query("SELECT MAX(seq) AS m FROM hash_entries WHERE set_id = $1")
                        .bind(set_id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("m")?;
                (
                    max_seq.unwrap_or(0),
                    u32::try_from(meta.cases.len()).unwrap_or(u32::MAX),
                )
            }
            _ => (0, 0),
        };

        // Parse on a blocking thread; batches come back through a bounded
        // channel, so at most a few batches are in memory at once.
        let import_opts = ImportOptions {
            format: opts.format,
            scheme: opts.scheme.or(existing_scheme),
            strict: false,
        };
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Parsed>(4);
        let parser = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(INSERT_BATCH);
            let report = vigil_hashset::import(input, &import_opts, |item| {
                let sent = match item {
                    Ok(e) => {
                        batch.push(e);
                        if batch.len() == INSERT_BATCH {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(INSERT_BATCH));
                            sender.blocking_send(Parsed::Entries(full)).is_ok()
                        } else {
                            true
                        }
                    }
                    Err(e) => sender.blocking_send(Parsed::Error(e)).is_ok(),
                };
                if sent {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            });
            if !batch.is_empty() && report.is_ok() {
                let _ = sender.blocking_send(Parsed::Entries(batch));
            }
            let _ = sender.blocking_send(Parsed::Done(report));
        });

        let mut read = 0u64;
        let mut added = 0u64;
        let mut errors = 0u64;
        let mut outcome: Option<Result<vigil_hashset::ImportReport, ImportError>> = None;
        let mut failure: Option<StoreError> = None;
        while let Some(msg) = receiver.recv().await {
            match msg {
                Parsed::Entries(mut entries) => {
                    let mut rows = Vec::with_capacity(entries.len());
                    for mut e in entries.drain(..) {
                        if let Some(c) = e.case {
                            e.case = Some(c.saturating_add(case_offset));
                        }
                        if e.media_size.is_some_and(|s| i64::try_from(s).is_err()) {
                            errors += 1;
                            on_error(&EntryError {
                                pos: e.pos,
                                media_id: e.media_id.clone(),
                                field: Some("MediaSize".into()),
                                kind: Box::new(EntryErrorKind::BadValue {
                                    expected: "a size below 2^63",
                                    found: e.media_size.unwrap_or(0).to_string(),
                                }),
                            });
                            continue;
                        }
                        seq += 1;
                        rows.push((seq, e));
                    }
                    read += rows.len() as u64;
                    if failure.is_none() {
                        match self.insert_entries(&mut tx, set_id, &rows).await {
                            Ok(n) => added += n,
                            Err(e) => failure = Some(e),
                        }
                    }
                    on_progress(read);
                }
                Parsed::Error(e) => {
                    errors += 1;
                    on_error(&e);
                }
                Parsed::Done(r) => outcome = Some(r),
            }
            if failure.is_some() {
                // Stop the parser: dropping the receiver makes its sends fail.
                break;
            }
        }
        drop(receiver);
        let _ = parser.await;
        if let Some(e) = failure {
            return Err(e.into());
        }
        let report = match outcome {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                tx.rollback().await?;
                let mut tx = self.begin_write().await?;
                self.log(
                    &mut tx,
                    p,
                    "hashset.import",
                    format!("hashset-name:{name}"),
                    None,
                    Decision::Allow("manage-hash-sets"),
                    serde_json::json!({"file": opts.file_name, "sha256": sha, "refused": e.to_string()}),
                )
                .await?;
                tx.commit().await?;
                return Err(HashSetImportError::Refused(e));
            }
            None => {
                return Err(
                    StoreError::Config("the hash-set reader stopped unexpectedly".into()).into(),
                );
            }
        };

        // The set's header: the file's, or (merging) the set's with the new
        // file's cases appended.
        let scheme = report.meta.scheme;
        let meta = match (old_meta, opts.replace) {
            (Some(mut m), false) => {
                m.cases.extend(report.meta.cases.iter().cloned());
                m
            }
            _ => report.meta.clone(),
        };
        let meta_text = serde_json::to_string(&meta)
            .map_err(|e| StoreError::Config(format!("cannot encode the set header: {e}")))?;
        let format = format_name(report.meta.format);
        let set_format = if status == ImportStatus::Merged {
            existing
                .as_ref()
                .map(|s| s.info.format.clone())
                .unwrap_or_else(|| format.clone())
        } else {
            format.clone()
        };
        sqlx::query(
            "UPDATE hash_sets SET scheme = $1, format = $2, meta = $3, updated_at = $4, \
             source = COALESCE($5, source), max_distance = COALESCE($6, max_distance) WHERE id = $7",
        )
        .bind(scheme.as_str().to_string())
        .bind(set_format)
        .bind(meta_text)
        .bind(now.clone())
        .bind(opts.source.clone())
        .bind(opts.max_distance.map(i64::from))
        .bind(set_id)
        .execute(&mut *tx)
        .await?;
        let already_present = read - added;
        sqlx::query(
            "INSERT INTO hash_set_imports (set_id, file_name, file_sha256, file_size, format, \
             source, replaced, added, already_present, errors, imported_at, imported_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(set_id)
        .bind(opts.file_name.clone())
        .bind(sha.clone())
        .bind(i64::try_from(opts.file_size).unwrap_or(i64::MAX))
        .bind(format.clone())
        .bind(opts.source.clone())
        .bind(i64::from(opts.replace))
        .bind(added as i64)
        .bind(already_present as i64)
        .bind(errors as i64)
        .bind(now)
        .bind(p.user_id)
        .execute(&mut *tx)
        .await?;
        if added > 0 || removed > 0 {
            self.bump_generation(&mut tx).await?;
        }
        self.log(
            &mut tx,
            p,
            "hashset.import",
            format!("hashset:{set_id}"),
            None,
            Decision::Allow("manage-hash-sets"),
            serde_json::json!({
                "name": name, "file": opts.file_name, "sha256": sha, "format": format,
                "scheme": scheme.as_str(), "replace": opts.replace, "read": read,
                "added": added, "already_present": already_present, "removed": removed,
                "errors": errors,
            }),
        )
        .await?;
        let set = self.fetch_set(&mut tx, set_id).await?.info;
        tx.commit().await?;
        Ok(HashSetImportOutcome {
            status,
            set,
            format,
            read,
            added,
            already_present,
            removed,
            errors,
        })
    }

    /// Inserts one batch of entries with a single multi-row statement and
    /// returns how many were new.
    ///
    /// Placeholders are backend-specific on purpose. SQLite resolves a
    /// `$N` parameter by a linear search of the statement's parameter
    /// names, and sqlx asks for every parameter's name on every execution,
    /// so binding a 14,000-parameter `$N` statement cost ~98 M list steps
    /// per batch — most of the ~580 µs of CPU per entry imports used to
    /// take. Anonymous `?` parameters have no name and are bound in
    /// O(1) each. PostgreSQL numbers its parameters in the protocol and
    /// needs `$N`.
    async fn insert_entries(
        &self,
        tx: &mut Tx,
        set_id: i64,
        rows: &[(i64, HashEntry)],
    ) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let sql = insert_entries_sql(self.backend(), rows.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, e) in rows {
            let key = entry_key(e)?;
            q = q
                .bind(set_id)
                .bind(key)
                .bind(*seq)
                .bind(i64::try_from(e.pos.line).ok())
                .bind(e.case.map(i64::from))
                .bind(e.media_id.clone())
                .bind(e.md5.map(|h| h.to_hex()))
                .bind(e.sha1.map(|h| h.to_hex()))
                .bind(e.sha256.map(|h| h.to_hex()))
                .bind(e.pdq.map(|h| h.to_hex()))
                .bind(e.pdq_quality.map(i64::from))
                .bind(e.photodna.clone())
                .bind(e.category.as_ref().map(|c| c.raw.clone()))
                .bind(e.category.as_ref().map(|c| category_label(&c.normalized)))
                .bind(e.series.clone())
                .bind(flag(e.victim_identified))
                .bind(flag(e.offender_identified))
                .bind(flag(e.is_distributed))
                .bind(flag(e.is_precategorized))
                .bind(flag(e.is_suspected))
                .bind(e.media_size.and_then(|s| i64::try_from(s).ok()))
                .bind(e.mime_type.clone())
                .bind(e.date_updated.clone())
                .bind(e.tags.clone())
                .bind(e.comments.clone())
                .bind(json_or_null(&e.media_files, e.media_files.is_empty())?)
                .bind(json_or_null(
                    &e.alternative_hashes,
                    e.alternative_hashes.is_empty(),
                )?)
                .bind(json_or_null(&e.extra, e.extra.is_empty())?);
        }
        Ok(q.execute(&mut **tx).await?.rows_affected())
    }

    // ----- reading sets ---------------------------------------------------

    /// The agency's hash sets (needs `read-case`).
    pub async fn list_hash_sets(&self, p: &Principal) -> Result<Vec<HashSetInfo>, StoreError> {
        self.require(p, Capability::ReadCase, "hashset.list")
            .await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SET_SELECT} WHERE s.agency_id = $1 ORDER BY s.name"
        )))
        .bind(p.agency_id)
        .fetch_all(&mut *tx)
        .await?;
        let sets = rows
            .iter()
            .map(|r| set_from_row(r).map(|s| s.info))
            .collect::<Result<Vec<_>, _>>()?;
        self.log(
            &mut tx,
            p,
            "hashset.list",
            format!("agency:{}", p.agency_id),
            None,
            Decision::Allow("agency hash sets"),
            serde_json::json!({"sets": sets.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(sets)
    }

    /// A set with its provenance and category counts.
    pub async fn show_hash_set(
        &self,
        p: &Principal,
        name: &str,
    ) -> Result<HashSetDetail, StoreError> {
        let tx = self.begin_write().await?;
        let (mut tx, set) = self.readable_set(tx, p, name, "hashset.show").await?;
        let detail = self.set_detail(&mut tx, set).await?;
        self.log(
            &mut tx,
            p,
            "hashset.show",
            format!("hashset:{}", detail.set.id),
            None,
            Decision::Allow("agency hash set"),
            serde_json::json!({"name": detail.set.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(detail)
    }

    async fn set_detail(&self, tx: &mut Tx, set: SetRow) -> Result<HashSetDetail, StoreError> {
        let imports = sqlx::query(
            "SELECT i.file_name, i.file_sha256, i.file_size, i.format, i.source, i.replaced, \
             i.added, i.already_present, i.errors, i.imported_at, u.name AS imported_by \
             FROM hash_set_imports i JOIN users u ON u.id = i.imported_by \
             WHERE i.set_id = $1 ORDER BY i.id",
        )
        .bind(set.info.id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(HashSetImportRecord {
                file_name: r.try_get("file_name")?,
                file_sha256: r.try_get("file_sha256")?,
                file_size: r.try_get("file_size")?,
                format: r.try_get("format")?,
                source: r.try_get("source")?,
                replaced: r.try_get::<i64, _>("replaced")? != 0,
                added: r.try_get("added")?,
                already_present: r.try_get("already_present")?,
                errors: r.try_get("errors")?,
                imported_at: r.try_get("imported_at")?,
                imported_by: r.try_get("imported_by")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let mut categories = BTreeMap::new();
        for r in sqlx::query(
            "SELECT category, COUNT(*) AS n FROM hash_entries WHERE set_id = $1 GROUP BY category",
        )
        .bind(set.info.id)
        .fetch_all(&mut **tx)
        .await?
        {
            let c: Option<String> = r.try_get("category")?;
            categories.insert(c.unwrap_or_else(|| UNCATEGORIZED.into()), r.try_get("n")?);
        }
        let meta: HashSetMeta = serde_json::from_str(&set.meta)
            .map_err(|e| StoreError::Config(format!("stored hash-set header is invalid: {e}")))?;
        Ok(HashSetDetail {
            set: set.info,
            imports,
            categories,
            meta,
        })
    }

    /// Starts an export: returns the set (with its header) and audits it.
    /// Entries then come from [`Store::export_hash_set_entries`].
    pub async fn open_hash_set_export(
        &self,
        p: &Principal,
        name: &str,
        format: &str,
    ) -> Result<HashSetDetail, StoreError> {
        let tx = self.begin_write().await?;
        let (mut tx, set) = self.readable_set(tx, p, name, "hashset.export").await?;
        let detail = self.set_detail(&mut tx, set).await?;
        self.log(
            &mut tx,
            p,
            "hashset.export",
            format!("hashset:{}", detail.set.id),
            None,
            Decision::Allow("agency hash set"),
            serde_json::json!({"name": detail.set.name, "format": format}),
        )
        .await?;
        tx.commit().await?;
        Ok(detail)
    }

    /// Sends the set's entries, in import order, page by page, to `sink`
    /// (a bounded channel read by a writer thread). Stops quietly if the
    /// receiver goes away.
    pub async fn export_hash_set_entries(
        &self,
        p: &Principal,
        set_id: i64,
        sink: tokio::sync::mpsc::Sender<HashEntry>,
    ) -> Result<u64, StoreError> {
        // Access is re-checked (no audit: the export was audited when opened).
        let mut tx = self.begin_write().await?;
        let set = self.fetch_set(&mut tx, set_id).await?;
        tx.commit().await?;
        if set.agency_id != p.agency_id || !p.can(Capability::ReadCase) {
            return Err(StoreError::not_found("hash set", set_id));
        }
        let mut after = 0i64;
        let mut sent = 0u64;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT seq, {} FROM hash_entries WHERE set_id = $1 AND seq > $2 ORDER BY seq LIMIT {PAGE}",
                ENTRY_COLUMNS[3..].join(", ")
            )))
            .bind(set_id)
            .bind(after)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                after = r.try_get("seq")?;
                let e = entry_from_row(r)?;
                if sink.send(e).await.is_err() {
                    return Ok(sent);
                }
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// All entries of a set in memory (small sets and tests).
    pub async fn hash_set_entries(
        &self,
        p: &Principal,
        name: &str,
    ) -> Result<(HashSetDetail, Vec<HashEntry>), StoreError> {
        let detail = self.open_hash_set_export(p, name, "memory").await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let id = detail.set.id;
        let (sent, entries) = tokio::join!(self.export_hash_set_entries(p, id, tx), async {
            let mut v = Vec::new();
            while let Some(e) = rx.recv().await {
                v.push(e);
            }
            v
        });
        sent?;
        Ok((detail, entries))
    }

    /// Deletes a set, its entries, provenance and stored matches.
    pub async fn delete_hash_set(&self, p: &Principal, name: &str) -> Result<i64, StoreError> {
        self.require(p, Capability::ManageHashSets, "hashset.delete")
            .await?;
        let tx = self.begin_write().await?;
        let (mut tx, set) = self.readable_set(tx, p, name, "hashset.delete").await?;
        let id = set.info.id;
        sqlx::query("DELETE FROM scan_matches WHERE set_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM hash_entries WHERE set_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM hash_set_imports WHERE set_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM hash_sets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.bump_generation(&mut tx).await?;
        self.log(
            &mut tx,
            p,
            "hashset.delete",
            format!("hashset:{id}"),
            None,
            Decision::Allow("manage-hash-sets"),
            serde_json::json!({"name": set.info.name, "entries": removed}),
        )
        .await?;
        tx.commit().await?;
        Ok(removed as i64)
    }

    // ----- matching -------------------------------------------------------

    /// The principal's agency's sets: id → (name, radius).
    async fn visible_sets(
        &self,
        tx: &mut Tx,
        p: &Principal,
    ) -> Result<HashMap<i64, (String, u32)>, StoreError> {
        let rows = sqlx::query("SELECT id, name, max_distance FROM hash_sets WHERE agency_id = $1")
            .bind(p.agency_id)
            .fetch_all(&mut **tx)
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            let d: i64 = r.try_get("max_distance")?;
            out.insert(
                r.try_get("id")?,
                (
                    r.try_get("name")?,
                    u32::try_from(d).unwrap_or(PdqHash::DEFAULT_MAX_DISTANCE),
                ),
            );
        }
        Ok(out)
    }

    async fn entries_by_id(
        &self,
        tx: &mut Tx,
        ids: &[i64],
    ) -> Result<HashMap<i64, (i64, HashEntry)>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, set_id, {} FROM hash_entries WHERE id IN ({list})",
                ENTRY_COLUMNS[3..].join(", ")
            )))
            .fetch_all(&mut **tx)
            .await?;
            for r in &rows {
                out.insert(r.try_get("id")?, (r.try_get("set_id")?, entry_from_row(r)?));
            }
        }
        Ok(out)
    }

    async fn exact_entries(
        &self,
        tx: &mut Tx,
        kind: &str,
        hex: &str,
    ) -> Result<Vec<(i64, i64, HashEntry)>, StoreError> {
        let col = match kind {
            "md5" => "md5",
            "sha1" => "sha1",
            _ => "sha256",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, set_id, {} FROM hash_entries WHERE {col} = $1 ORDER BY id",
            ENTRY_COLUMNS[3..].join(", ")
        )))
        .bind(hex.to_string())
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("set_id")?, entry_from_row(r)?)))
            .collect()
    }

    /// Looks hashes up in the agency's sets: exact on MD5/SHA-1/SHA-256,
    /// near-duplicate on PDQ. Needs `read-case`; audited once per call.
    pub async fn match_hashes(
        &self,
        p: &Principal,
        queries: &[MatchQuery],
        opts: &MatchOptions,
    ) -> Result<Vec<MatchAnswer>, StoreError> {
        self.require(p, Capability::ReadCase, "hashset.match")
            .await?;
        let needs_pdq = queries.iter().any(|q| matches!(q, MatchQuery::Pdq { .. }));
        let index = if needs_pdq {
            Some(self.pdq_index().await?)
        } else {
            None
        };
        let mut tx = self.begin_write().await?;
        let sets = self.visible_sets(&mut tx, p).await?;
        let radius = opts
            .max_distance
            .unwrap_or_else(|| sets.values().map(|s| s.1).max().unwrap_or(0))
            .min(256);
        // PDQ candidates for all queries at once.
        let pdq_hits: Vec<Vec<(i64, u32, u8)>> = match &index {
            Some(ix) => queries
                .iter()
                .map(|q| match q {
                    MatchQuery::Pdq { hash, dihedral, .. } => {
                        pdq_candidates(&ix.index, hash, dihedral.as_deref(), opts.dihedral, radius)
                    }
                    _ => Vec::new(),
                })
                .collect(),
            None => vec![Vec::new(); queries.len()],
        };
        let ids: Vec<i64> = pdq_hits
            .iter()
            .flatten()
            .map(|h| h.0)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let entries = self.entries_by_id(&mut tx, &ids).await?;
        let mut answers = Vec::with_capacity(queries.len());
        let mut total = 0usize;
        for (q, hits) in queries.iter().zip(pdq_hits) {
            let mut matches = Vec::new();
            let quality = match q {
                MatchQuery::Pdq { quality, .. } => *quality,
                _ => None,
            };
            match q {
                MatchQuery::Pdq { .. } => {
                    for (id, distance, via) in hits {
                        let Some((set_id, e)) = entries.get(&id) else {
                            continue;
                        };
                        let Some((set_name, set_radius)) = sets.get(set_id) else {
                            continue;
                        };
                        if distance > opts.max_distance.unwrap_or(*set_radius) {
                            continue;
                        }
                        matches.push(hash_match(set_name, *set_id, id, e, "pdq", distance, via));
                    }
                }
                other => {
                    for (id, set_id, e) in self
                        .exact_entries(&mut tx, other.kind(), &other.hex())
                        .await?
                    {
                        if let Some((set_name, _)) = sets.get(&set_id) {
                            matches.push(hash_match(set_name, set_id, id, &e, other.kind(), 0, 0));
                        }
                    }
                }
            }
            total += matches.len();
            answers.push(MatchAnswer {
                kind: q.kind().into(),
                query: q.hex(),
                quality,
                unreliable: quality.is_some_and(|q| q < PdqHash::MIN_RELIABLE_QUALITY),
                matches,
            });
        }
        self.log(
            &mut tx,
            p,
            "hashset.match",
            format!("agency:{}", p.agency_id),
            None,
            Decision::Allow("agency hash sets"),
            serde_json::json!({"queries": queries.len(), "matches": total, "dihedral": opts.dihedral}),
        )
        .await?;
        tx.commit().await?;
        Ok(answers)
    }

    /// Matches every file of a scan against the agency's sets and stores the
    /// matches (`scan_matches`), replacing this agency's earlier ones.
    pub async fn match_scan(
        &self,
        p: &Principal,
        scan_id: i64,
        opts: &MatchOptions,
    ) -> Result<ScanMatchRun, StoreError> {
        let index = self.pdq_index().await?;
        let mut tx = self.begin_write().await?;
        let case_id = self.readable_scan(&mut tx, scan_id).await?;
        let ca = self.case_access(&mut tx, p, case_id).await?;
        let d = access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "scan.match",
                    format!("scan:{scan_id}"),
                    Some(case_id),
                    d,
                    other,
                )
                .await;
        }
        let sets = self.visible_sets(&mut tx, p).await?;
        let set_list = sets
            .keys()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let now = now_text();
        if !set_list.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM scan_matches WHERE scan_id = $1 AND set_id IN ({set_list})"
            )))
            .bind(scan_id)
            .execute(&mut *tx)
            .await?;
        }
        let mut exact = 0u64;
        if !set_list.is_empty() {
            for col in ["md5", "sha1", "sha256"] {
                let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO scan_matches (scan_id, evidence_id, set_id, entry_id, kind, distance, \
                     dihedral, query_quality, unreliable, matched_at) \
                     SELECT e.scan_id, e.id, h.set_id, h.id, '{col}', 0, 0, e.pdq_quality, 0, $2 \
                     FROM evidence_items e JOIN hash_entries h ON h.{col} = e.{col} \
                     WHERE e.scan_id = $1 AND e.{col} IS NOT NULL AND h.set_id IN ({set_list})"
                )))
                .bind(scan_id)
                .bind(now.clone())
                .execute(&mut *tx)
                .await?;
                exact += r.rows_affected();
            }
        }
        // Near-duplicates.
        let items = sqlx::query(
            "SELECT id, pdq, pdq_quality, pdq_dihedral FROM evidence_items \
             WHERE scan_id = $1 AND pdq IS NOT NULL ORDER BY id",
        )
        .bind(scan_id)
        .fetch_all(&mut *tx)
        .await?;
        let radius = opts
            .max_distance
            .unwrap_or_else(|| sets.values().map(|s| s.1).max().unwrap_or(0))
            .min(256);
        let mut near = 0u64;
        if !sets.is_empty() && !index.index.is_empty() {
            let mut found: Vec<(i64, Option<i64>, i64, u32, u8)> = Vec::new();
            for r in &items {
                let ev: i64 = r.try_get("id")?;
                let hex: String = r.try_get("pdq")?;
                let quality: Option<i64> = r.try_get("pdq_quality")?;
                let Ok(hash) = PdqHash::from_hex(&hex) else {
                    continue;
                };
                let dihedral: Option<String> = r.try_get("pdq_dihedral")?;
                let variants = dihedral.as_deref().and_then(parse_dihedral);
                for (id, dist, via) in pdq_candidates(
                    &index.index,
                    &hash,
                    variants.as_deref(),
                    opts.dihedral,
                    radius,
                ) {
                    found.push((ev, quality, id, dist, via));
                }
            }
            let ids: Vec<i64> = found
                .iter()
                .map(|f| f.2)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let owners = self.entry_sets(&mut tx, &ids).await?;
            for (ev, quality, id, dist, via) in found {
                let Some(set_id) = owners.get(&id) else {
                    continue;
                };
                let Some((_, set_radius)) = sets.get(set_id) else {
                    continue;
                };
                if dist > opts.max_distance.unwrap_or(*set_radius) {
                    continue;
                }
                let unreliable =
                    quality.is_some_and(|q| q < i64::from(PdqHash::MIN_RELIABLE_QUALITY));
                sqlx::query(
                    "INSERT INTO scan_matches (scan_id, evidence_id, set_id, entry_id, kind, distance, \
                     dihedral, query_quality, unreliable, matched_at) \
                     VALUES ($1, $2, $3, $4, 'pdq', $5, $6, $7, $8, $9)",
                )
                .bind(scan_id)
                .bind(ev)
                .bind(*set_id)
                .bind(id)
                .bind(i64::from(dist))
                .bind(i64::from(via))
                .bind(quality)
                .bind(i64::from(unreliable))
                .bind(now.clone())
                .execute(&mut *tx)
                .await?;
                near += 1;
            }
        }
        sqlx::query("DELETE FROM scan_match_runs WHERE scan_id = $1 AND agency_id = $2")
            .bind(scan_id)
            .bind(p.agency_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO scan_match_runs (scan_id, agency_id, generation, max_distance, dihedral, \
             matched_at, matched_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(scan_id)
        .bind(p.agency_id)
        .bind(index.generation.clone())
        .bind(opts.max_distance.map(i64::from))
        .bind(i64::from(opts.dihedral))
        .bind(now)
        .bind(p.user_id)
        .execute(&mut *tx)
        .await?;
        self.log(
            &mut tx,
            p,
            "scan.match",
            format!("scan:{scan_id}"),
            Some(case_id),
            d,
            serde_json::json!({"exact": exact, "near": near, "dihedral": opts.dihedral,
                "max_distance": opts.max_distance}),
        )
        .await?;
        tx.commit().await?;
        Ok(ScanMatchRun {
            scan_id,
            exact,
            near,
            generation: index.generation.clone(),
        })
    }

    async fn entry_sets(&self, tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, i64>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            for r in sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, set_id FROM hash_entries WHERE id IN ({list})"
            )))
            .fetch_all(&mut **tx)
            .await?
            {
                out.insert(r.try_get("id")?, r.try_get("set_id")?);
            }
        }
        Ok(out)
    }

    /// The case a scan belongs to.
    async fn readable_scan(&self, tx: &mut Tx, scan_id: i64) -> Result<i64, StoreError> {
        sqlx::query("SELECT case_id FROM scans WHERE id = $1")
            .bind(scan_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found("scan", scan_id))?
            .try_get("case_id")
            .map_err(Into::into)
    }

    /// The triage summary of a scan with the default options (matching
    /// first if the stored matches are missing or stale).
    pub async fn triage_summary(
        &self,
        p: &Principal,
        scan_id: i64,
    ) -> Result<TriageSummary, StoreError> {
        self.triage_summary_with(p, scan_id, &TriageOptions::default())
            .await
    }

    /// [`Store::triage_summary`] with explicit options.
    pub async fn triage_summary_with(
        &self,
        p: &Principal,
        scan_id: i64,
        opts: &TriageOptions,
    ) -> Result<TriageSummary, StoreError> {
        let generation = self.pdq_generation().await?;
        let current: Option<String> = sqlx::query(
            "SELECT generation FROM scan_match_runs WHERE scan_id = $1 AND agency_id = $2",
        )
        .bind(scan_id)
        .bind(p.agency_id)
        .fetch_optional(self.pool())
        .await?
        .map(|r| r.try_get("generation"))
        .transpose()?;
        if opts.rematch || current.as_deref() != Some(generation.as_str()) {
            self.match_scan(p, scan_id, &opts.matching).await?;
        }

        let mut tx = self.begin_write().await?;
        let case_id = self.readable_scan(&mut tx, scan_id).await?;
        let ca = self.case_access(&mut tx, p, case_id).await?;
        let d = access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "scan.triage",
                    format!("scan:{scan_id}"),
                    Some(case_id),
                    d,
                    other,
                )
                .await;
        }
        let files: i64 = sqlx::query("SELECT COUNT(*) AS n FROM evidence_items WHERE scan_id = $1")
            .bind(scan_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        let images: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM evidence_items WHERE scan_id = $1 AND pdq IS NOT NULL",
        )
        .bind(scan_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let errors: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM evidence_items WHERE scan_id = $1 AND error IS NOT NULL",
        )
        .bind(scan_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;

        // Stored matches of this agency's sets, with the entries' facts.
        let rows = sqlx::query(
            "SELECT m.evidence_id, m.kind, m.distance, m.unreliable, m.dihedral, h.category, h.series, \
             h.victim_identified, s.name AS set_name FROM scan_matches m \
             JOIN hash_entries h ON h.id = m.entry_id JOIN hash_sets s ON s.id = m.set_id \
             WHERE m.scan_id = $1 AND s.agency_id = $2",
        )
        .bind(scan_id)
        .bind(p.agency_id)
        .fetch_all(&mut *tx)
        .await?;
        struct ItemMatch {
            exact_cat: Option<String>,
            near: Option<(String, u32, bool, u8)>,
        }
        let mut per_item: HashMap<i64, ItemMatch> = HashMap::new();
        // series → (sets, items, any identified, any unidentified)
        let mut series: BTreeMap<String, (BTreeSet<String>, HashSet<i64>, bool, bool)> =
            BTreeMap::new();
        for r in &rows {
            let ev: i64 = r.try_get("evidence_id")?;
            let kind: String = r.try_get("kind")?;
            let dist: i64 = r.try_get("distance")?;
            let unreliable: i64 = r.try_get("unreliable")?;
            // scan_matches.dihedral holds the TRANSFORMS index (0: direct).
            let transform: i64 = r.try_get("dihedral")?;
            let transform = u8::try_from(transform).unwrap_or(0);
            let cat: String = r
                .try_get::<Option<String>, _>("category")?
                .unwrap_or_else(|| UNCATEGORIZED.into());
            let item = per_item.entry(ev).or_insert(ItemMatch {
                exact_cat: None,
                near: None,
            });
            if kind == "pdq" {
                let dist = u32::try_from(dist).unwrap_or(0);
                let better = match &item.near {
                    None => true,
                    Some((c, d, _, _)) => (dist, severity(&cat)) < (*d, severity(c)),
                };
                if better {
                    item.near = Some((cat.clone(), dist, unreliable != 0, transform));
                }
            } else if item
                .exact_cat
                .as_ref()
                .is_none_or(|c| severity(&cat) < severity(c))
            {
                item.exact_cat = Some(cat.clone());
            }
            let s: Option<String> = r.try_get("series")?;
            if let Some(s) = s.filter(|s| !s.trim().is_empty()) {
                let set_name: String = r.try_get("set_name")?;
                let v: Option<i64> = r.try_get("victim_identified")?;
                let e = series.entry(s).or_default();
                e.0.insert(set_name);
                e.1.insert(ev);
                match v {
                    Some(0) => e.3 = true,
                    Some(_) => e.2 = true,
                    None => {}
                }
            }
        }
        let mut known = BTreeMap::new();
        let mut near_duplicates = BTreeMap::new();
        let mut near_duplicate_distances: BTreeMap<String, DistanceStats> = BTreeMap::new();
        let mut unreliable_near = 0i64;
        let mut near_duplicate_transforms: BTreeMap<String, i64> = BTreeMap::new();
        for m in per_item.values() {
            if let Some(c) = &m.exact_cat {
                *known.entry(c.clone()).or_insert(0) += 1;
            } else if let Some((c, d, unreliable, transform)) = &m.near {
                if let Some(t) = transform_name(*transform) {
                    *near_duplicate_transforms.entry(t).or_insert(0) += 1;
                }
                *near_duplicates.entry(c.clone()).or_insert(0) += 1;
                let s = near_duplicate_distances
                    .entry(c.clone())
                    .or_insert_with(|| DistanceStats {
                        min: *d,
                        max: *d,
                        histogram: BTreeMap::new(),
                    });
                s.min = s.min.min(*d);
                s.max = s.max.max(*d);
                *s.histogram.entry(*d).or_insert(0) += 1;
                if *unreliable {
                    unreliable_near += 1;
                }
            }
        }
        // Unknown images: images with no match, grouped into series.
        let image_rows = sqlx::query(
            "SELECT id, path, pdq FROM evidence_items WHERE scan_id = $1 AND pdq IS NOT NULL ORDER BY id",
        )
        .bind(scan_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut unknown: Vec<(i64, PdqHash)> = Vec::new();
        let mut paths: HashMap<i64, String> = HashMap::new();
        for r in &image_rows {
            let id: i64 = r.try_get("id")?;
            if per_item.contains_key(&id) {
                continue;
            }
            let hex: String = r.try_get("pdq")?;
            if let Ok(h) = PdqHash::from_hex(&hex) {
                unknown.push((id, h));
                paths.insert(id, r.try_get("path")?);
            }
        }
        let unknown_images = unknown.len() as i64;
        let radius = opts.series_radius.min(256);
        let clusters =
            tokio::task::spawn_blocking(move || vigil_pdqindex::cluster_series(&unknown, radius))
                .await
                .map_err(|e| StoreError::Config(format!("series clustering: {e}")))?
                .map_err(|e| StoreError::Config(format!("series clustering: {e}")))?;
        let groups: Vec<_> = clusters.iter().filter(|c| c.len() >= 2).collect();
        let series_summary = SeriesSummary {
            radius,
            count: groups.len(),
            largest: groups.first().map_or(0, |c| c.len()),
            singletons: clusters.iter().filter(|c| c.len() == 1).count(),
            groups: groups
                .iter()
                .take(20)
                .map(|c| UnknownSeries {
                    size: c.len(),
                    examples: c
                        .members
                        .iter()
                        .take(5)
                        .filter_map(|id| paths.get(id).cloned())
                        .collect(),
                })
                .collect(),
        };
        let mut known_series: Vec<KnownSeries> = series
            .into_iter()
            .map(|(name, (sets, items, identified, unidentified))| {
                let (victim_identified, status) = if identified {
                    (Some(true), "victim identified")
                } else if unidentified {
                    (Some(false), "unidentified — priority")
                } else {
                    (None, "victim status unknown")
                };
                KnownSeries {
                    series: name,
                    sets: sets.into_iter().collect(),
                    images: items.len() as i64,
                    victim_identified,
                    status: status.into(),
                }
            })
            .collect();
        // Priorities first, then by size.
        known_series.sort_by(|a, b| {
            (
                a.victim_identified != Some(false),
                std::cmp::Reverse(a.images),
                &a.series,
            )
                .cmp(&(
                    b.victim_identified != Some(false),
                    std::cmp::Reverse(b.images),
                    &b.series,
                ))
        });
        let summary = TriageSummary {
            scan_id,
            files,
            images,
            errors,
            known,
            near_duplicates,
            near_duplicate_distances,
            unreliable_near_duplicates: unreliable_near,
            near_duplicate_transforms,
            unknown_images,
            series: series_summary,
            known_series,
            generation,
        };
        self.log(
            &mut tx,
            p,
            "scan.triage",
            format!("scan:{scan_id}"),
            Some(case_id),
            d,
            serde_json::json!({"known": summary.known.values().sum::<i64>(),
                "near": summary.near_duplicates.values().sum::<i64>(),
                "unknown_images": unknown_images, "series": summary.series.count}),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }
}

fn hash_match(
    set: &str,
    set_id: i64,
    entry_id: i64,
    e: &HashEntry,
    kind: &str,
    distance: u32,
    transform: u8,
) -> HashMatch {
    let hash = match kind {
        "md5" => e.md5.map(|h| h.to_hex()),
        "sha1" => e.sha1.map(|h| h.to_hex()),
        "sha256" => e.sha256.map(|h| h.to_hex()),
        _ => e.pdq.map(|h| h.to_hex()),
    }
    .unwrap_or_default();
    HashMatch {
        set: set.to_string(),
        set_id,
        entry_id,
        media_id: e.media_id.clone(),
        kind: kind.into(),
        hash,
        category: e
            .category
            .as_ref()
            .map(|c| category_label(&c.normalized))
            .unwrap_or_else(|| UNCATEGORIZED.into()),
        category_raw: e.category.as_ref().map(|c| c.raw.clone()),
        series: e.series.clone(),
        victim_identified: e.victim_identified,
        distance,
        dihedral: transform != 0,
        transform: transform_name(transform),
    }
}

/// Parses the scanner's dihedral column: eight 64-hex hashes separated by
/// commas (any non-hex separator is accepted).
pub fn parse_dihedral(text: &str) -> Option<Vec<PdqHash>> {
    let v: Vec<PdqHash> = text
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|s| !s.is_empty())
        .map(PdqHash::from_hex)
        .collect::<Result<_, _>>()
        .ok()?;
    (!v.is_empty() && v.len() <= vigil_pdqindex::MAX_VARIANTS).then_some(v)
}

/// Index answers for one PDQ query: `(entry id, distance, via a variant)`.
/// Index entries within `radius` of `hash`, and with `dihedral` of any of
/// its rotated or mirrored variants: `(entry, distance, transform)` where
/// transform is the index into [`TRANSFORMS`] of the variant that came
/// closest (0 when the image as it is matched best). Each variant is its own
/// radius query, so the transform reported is exactly the one that matched.
fn pdq_candidates(
    index: &PdqIndex,
    hash: &PdqHash,
    variants: Option<&[PdqHash]>,
    dihedral: bool,
    radius: u32,
) -> Vec<(i64, u32, u8)> {
    let mut best: HashMap<i64, (u32, u8)> = index
        .query(hash, radius)
        .iter()
        .map(|m| (m.id, (m.distance, 0)))
        .collect();
    if dihedral && let Some(vs) = variants {
        for (t, v) in vs.iter().enumerate().skip(1) {
            if v == hash {
                continue;
            }
            let t = u8::try_from(t).unwrap_or(u8::MAX);
            for m in index.query(v, radius) {
                let slot = best.entry(m.id).or_insert((m.distance, t));
                if m.distance < slot.0 {
                    *slot = (m.distance, t);
                }
            }
        }
    }
    let mut out: Vec<(i64, u32, u8)> = best.into_iter().map(|(id, (d, t))| (id, d, t)).collect();
    out.sort_unstable();
    out
}
