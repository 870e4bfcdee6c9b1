//! VICS media record <-> [`HashEntry`], field by field.
//!
//! Known keys are matched case-insensitively (IPED does the same; exporters
//! disagree on `MD5` vs `Md5`) and written back in the canonical VICS
//! spelling. PDQ and SHA-256 have no VICS field of their own: they travel as
//! `AlternativeHashes` elements `{"HashName": "PDQ", "HashValue": <64 hex>}`
//! (optionally `"Quality"`), the way `PhotoDNA` travels in real exports (IPED
//! reads it from there). No public exporter writing PDQ into VICS was found,
//! so the name is our convention; reading accepts any case and ignores `-`
//! and `_` (`pdq`, `PDQ`, `SHA-256`, `sha_256`). An
//! alternative hash that holds nothing beyond those keys is absorbed into the
//! typed field and re-created on export; anything richer is also kept verbatim
//! in [`HashEntry::alternative_hashes`], so nothing is lost either way.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use vigil_domain::{Md5, PdqHash, Sha1, Sha256};

use crate::category::CategoryScheme;
use crate::error::{EntryError, EntryErrorKind, SourcePos};
use crate::lenient::{
    bool_json, canonical_u64, quality_json, text_json, text_json_owned, u64_json,
};
use crate::model::{AlternativeHash, HashEntry, MediaFile};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    MediaId,
    Category,
    Md5,
    Sha1,
    Sha256,
    PhotoDna,
    MediaSize,
    DateUpdated,
    VictimIdentified,
    OffenderIdentified,
    IsDistributed,
    Series,
    Tags,
    Comments,
    IsPrecategorized,
    IsSuspected,
    MimeType,
    MediaFiles,
    AlternativeHashes,
}

/// Canonical VICS spelling of the fields read into typed slots.
const FIELDS: &[(Field, &str)] = &[
    (Field::MediaId, "MediaID"),
    (Field::Category, "Category"),
    (Field::Md5, "MD5"),
    (Field::Sha1, "SHA1"),
    (Field::Sha256, "SHA256"),
    (Field::PhotoDna, "PhotoDNA"),
    (Field::MediaSize, "MediaSize"),
    (Field::DateUpdated, "DateUpdated"),
    (Field::VictimIdentified, "VictimIdentified"),
    (Field::OffenderIdentified, "OffenderIdentified"),
    (Field::IsDistributed, "IsDistributed"),
    (Field::Series, "Series"),
    (Field::Tags, "Tags"),
    (Field::Comments, "Comments"),
    (Field::IsPrecategorized, "IsPrecategorized"),
    (Field::IsSuspected, "IsSuspected"),
    (Field::MimeType, "MimeType"),
    (Field::MediaFiles, "MediaFiles"),
    (Field::AlternativeHashes, "AlternativeHashes"),
];

fn field_of(key: &str) -> Option<Field> {
    // Exact spelling first: it is what nearly every exporter writes.
    if let Some((f, _)) = FIELDS.iter().find(|(_, name)| *name == key) {
        return Some(*f);
    }
    FIELDS
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(key))
        .map(|(f, _)| *f)
}

fn hex_text(v: &Value, what: &'static str) -> Result<Option<String>, EntryErrorKind> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(EntryErrorKind::BadValue {
            expected: what,
            found: other.to_string(),
        }),
    }
}

/// A key of a media object: one of the typed fields (no allocation), or any
/// other key, kept for `extra`.
pub(crate) enum Key {
    Known(Field),
    Other(String),
}

impl Key {
    pub(crate) fn of(key: String) -> Self {
        match field_of(&key) {
            Some(f) => Key::Known(f),
            None => Key::Other(key),
        }
    }
}

/// Deserialises an object key into a [`Key`] without allocating for the
/// known fields (serde_json hands us a borrowed `&str` from its scratch).
pub(crate) struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(match field_of(s) {
            Some(f) => Key::Known(f),
            None => Key::Other(s.to_owned()),
        })
    }
    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Key, E> {
        Ok(Key::of(s))
    }
}

fn name_of(field: Field) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or("?", |(_, n)| n)
}

/// Builds an entry field by field, in whatever order the file has them.
/// The first bad field is remembered and reported by [`EntryBuilder::finish`]
/// (by then the `MediaID` is known even if it came later in the record).
pub(crate) struct EntryBuilder {
    e: HashEntry,
    scheme: CategoryScheme,
    alternatives: Option<Value>,
    first_error: Option<(String, EntryErrorKind)>,
}

impl EntryBuilder {
    pub(crate) fn new(scheme: CategoryScheme, pos: SourcePos, case: Option<u32>) -> Self {
        Self {
            e: HashEntry {
                pos,
                case,
                ..HashEntry::default()
            },
            scheme,
            alternatives: None,
            first_error: None,
        }
    }

    pub(crate) fn set(&mut self, key: Key, v: Value) {
        let field = match key {
            Key::Known(f) => f,
            Key::Other(k) => {
                self.e.extra.insert(k, v);
                return;
            }
        };
        if let Err(kind) = self.apply(field, v)
            && self.first_error.is_none()
        {
            self.first_error = Some((name_of(field).to_string(), kind));
        }
    }

    fn apply(&mut self, field: Field, v: Value) -> Result<(), EntryErrorKind> {
        let e = &mut self.e;
        let scheme = self.scheme;
        match field {
            Field::MediaId => e.media_id = text_json_owned(v)?,
            Field::Category => {
                e.category = None;
                if let Some(raw) = text_json_owned(v)? {
                    e.category = Some(scheme.categorize(&raw).map_err(|u| {
                        EntryErrorKind::UnknownCategory {
                            scheme: scheme.to_string(),
                            label: u.label,
                            known: scheme.known_labels().into(),
                        }
                    })?);
                }
            }
            Field::Md5 => {
                e.md5 = hex_text(&v, "an MD5 hex string")?
                    .map(|s| Md5::from_hex(&s))
                    .transpose()?
            }
            Field::Sha1 => {
                e.sha1 = hex_text(&v, "a SHA-1 hex string")?
                    .map(|s| Sha1::from_hex(&s))
                    .transpose()?
            }
            Field::Sha256 => {
                e.sha256 = hex_text(&v, "a SHA-256 hex string")?
                    .map(|s| Sha256::from_hex(&s))
                    .transpose()?
            }
            Field::PhotoDna => e.photodna = text_json_owned(v)?,
            Field::MediaSize => e.media_size = u64_json(&v)?,
            Field::DateUpdated => e.date_updated = text_json_owned(v)?,
            Field::VictimIdentified => e.victim_identified = bool_json(&v)?,
            Field::OffenderIdentified => e.offender_identified = bool_json(&v)?,
            Field::IsDistributed => e.is_distributed = bool_json(&v)?,
            Field::IsPrecategorized => e.is_precategorized = bool_json(&v)?,
            Field::IsSuspected => e.is_suspected = bool_json(&v)?,
            Field::Series => e.series = text_json_owned(v)?,
            Field::Tags => e.tags = text_json_owned(v)?,
            Field::Comments => e.comments = text_json_owned(v)?,
            Field::MimeType => e.mime_type = text_json_owned(v)?,
            Field::MediaFiles => e.media_files = media_files(v)?,
            Field::AlternativeHashes => self.alternatives = Some(v),
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<HashEntry, EntryError> {
        let pos = self.e.pos;
        let fail = |field: String, kind: EntryErrorKind, id: Option<String>| EntryError {
            pos,
            media_id: id,
            field: Some(field),
            kind: Box::new(kind),
        };
        if let Some((field, kind)) = self.first_error {
            return Err(fail(field, kind, self.e.media_id));
        }
        if let Some(v) = self.alternatives.take() {
            // After the loop: absorbing needs the record's MD5.
            alternative_hashes(&mut self.e, v)
                .map_err(|(k, f)| fail(f, k, self.e.media_id.clone()))?;
        }
        if !self.e.has_hash() {
            return Err(EntryError {
                media_id: self.e.media_id.clone(),
                ..EntryError::new(pos, EntryErrorKind::NoHash)
            });
        }
        Ok(self.e)
    }
}

/// Builds an entry from a media object already read into a map.
pub(crate) fn entry_from_json(
    map: Map<String, Value>,
    scheme: CategoryScheme,
    pos: SourcePos,
    case: Option<u32>,
) -> Result<HashEntry, EntryError> {
    let mut b = EntryBuilder::new(scheme, pos, case);
    for (k, v) in map {
        b.set(Key::of(k), v);
    }
    b.finish()
}

fn objects(v: Value, what: &'static str) -> Result<Vec<Map<String, Value>>, EntryErrorKind> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                other => Err(EntryErrorKind::BadValue {
                    expected: what,
                    found: other.to_string(),
                }),
            })
            .collect(),
        other => Err(EntryErrorKind::BadValue {
            expected: what,
            found: other.to_string(),
        }),
    }
}

fn media_files(v: Value) -> Result<Vec<MediaFile>, EntryErrorKind> {
    let mut out = Vec::new();
    for mut m in objects(v, "an array of MediaFile objects")? {
        let mut take = |name: &str| -> Result<Option<String>, EntryErrorKind> {
            let key = m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned();
            match key.and_then(|k| m.remove(&k)) {
                None => Ok(None),
                Some(v) => text_json(&v),
            }
        };
        let file_name = take("FileName")?;
        let file_path = take("FilePath")?;
        out.push(MediaFile {
            file_name,
            file_path,
            extra: m,
        });
    }
    Ok(out)
}

/// Keys an absorbed PDQ/SHA-256 alternative hash may have.
fn absorbable(key: &str) -> bool {
    ["MD5", "HashName", "HashValue", "Quality"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(key))
}

fn get_ci<'m>(m: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn alternative_hashes(e: &mut HashEntry, v: Value) -> Result<(), (EntryErrorKind, String)> {
    let field = "AlternativeHashes".to_string();
    let list = objects(v, "an array of AlternativeHash objects").map_err(|k| (k, field))?;
    for (i, mut m) in list.into_iter().enumerate() {
        let at = |k: EntryErrorKind, sub: &str| (k, format!("AlternativeHashes[{i}].{sub}"));
        let name = get_ci(&m, "HashName")
            .map(text_json)
            .transpose()
            .map_err(|k| at(k, "HashName"))?
            .flatten();
        let value = get_ci(&m, "HashValue")
            .map(text_json)
            .transpose()
            .map_err(|k| at(k, "HashValue"))?
            .flatten();
        // An alternative MD5 that differs from the record's is information,
        // not a back-reference: keep such an element verbatim.
        let md5_matches = match get_ci(&m, "MD5") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => Md5::from_hex(s).ok() == e.md5,
            Some(_) => false,
        };
        let plain = md5_matches && m.keys().all(|k| absorbable(k));
        let kind = name
            .as_deref()
            .map(|n| n.trim().to_ascii_lowercase().replace(['-', '_'], ""));
        let mut absorbed = false;
        match (kind.as_deref(), &value) {
            (Some("pdq"), Some(hex)) if e.pdq.is_none() => {
                e.pdq = Some(PdqHash::from_hex(hex).map_err(|h| at(h.into(), "HashValue"))?);
                if let Some(q) = get_ci(&m, "Quality") {
                    e.pdq_quality = quality_json(q).map_err(|k| at(k, "Quality"))?;
                }
                absorbed = plain;
            }
            (Some("sha256"), Some(hex)) if e.sha256.is_none() => {
                e.sha256 = Some(Sha256::from_hex(hex).map_err(|h| at(h.into(), "HashValue"))?);
                absorbed = plain;
            }
            _ => {}
        }
        if !absorbed {
            m.retain(|k, _| {
                !k.eq_ignore_ascii_case("HashName") && !k.eq_ignore_ascii_case("HashValue")
            });
            e.alternative_hashes.push(AlternativeHash {
                hash_name: name,
                hash_value: value,
                extra: m,
            });
        }
    }
    Ok(())
}

/// Serialises an entry as a VICS 2.0 media object.
/// `fallback_id`: written as `MediaID` when the entry has none.
pub(crate) struct VicsMedia<'a>(pub &'a HashEntry, pub Option<u64>);

struct MediaFileJson<'a>(&'a MediaFile);
struct AltJson<'a>(&'a AlternativeHash);
struct Synth<'a> {
    md5: Option<String>,
    name: &'static str,
    value: String,
    quality: Option<&'a u8>,
}

impl Serialize for MediaFileJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &f.extra {
            if !k.eq_ignore_ascii_case("FileName") && !k.eq_ignore_ascii_case("FilePath") {
                m.serialize_entry(k, v)?;
            }
        }
        if let Some(n) = &f.file_name {
            m.serialize_entry("FileName", n)?;
        }
        if let Some(p) = &f.file_path {
            m.serialize_entry("FilePath", p)?;
        }
        m.end()
    }
}

impl Serialize for AltJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &a.extra {
            if !k.eq_ignore_ascii_case("HashName") && !k.eq_ignore_ascii_case("HashValue") {
                m.serialize_entry(k, v)?;
            }
        }
        if let Some(n) = &a.hash_name {
            m.serialize_entry("HashName", n)?;
        }
        if let Some(v) = &a.hash_value {
            m.serialize_entry("HashValue", v)?;
        }
        m.end()
    }
}

impl Serialize for Synth<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(md5) = &self.md5 {
            m.serialize_entry("MD5", md5)?;
        }
        m.serialize_entry("HashName", self.name)?;
        m.serialize_entry("HashValue", &self.value)?;
        if let Some(q) = self.quality {
            m.serialize_entry("Quality", q)?;
        }
        m.end()
    }
}

fn names(a: &AlternativeHash, kind: &str) -> bool {
    a.hash_name
        .as_deref()
        .is_some_and(|n| n.trim().to_ascii_lowercase().replace(['-', '_'], "") == kind)
}

impl Serialize for VicsMedia<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let upper_md5 = e.md5.map(|h| h.to_hex().to_ascii_uppercase());
        let mut m = s.serialize_map(None)?;
        if let Some(id) = &e.media_id {
            // VICS MediaID is an integer; keep text ids as text.
            match canonical_u64(id) {
                Some(n) => m.serialize_entry("MediaID", &n)?,
                None => m.serialize_entry("MediaID", id)?,
            }
        } else if let Some(n) = self.1 {
            m.serialize_entry("MediaID", &n)?;
        }
        if let Some(c) = &e.category {
            match canonical_u64(&c.raw) {
                Some(n) => m.serialize_entry("Category", &n)?,
                None => m.serialize_entry("Category", &c.raw)?,
            }
        }
        if let Some(h) = &upper_md5 {
            m.serialize_entry("MD5", h)?;
        }
        if let Some(h) = e.sha1 {
            m.serialize_entry("SHA1", &h.to_hex().to_ascii_uppercase())?;
        }
        if let Some(p) = &e.photodna {
            m.serialize_entry("PhotoDNA", p)?;
        }
        if let Some(n) = e.media_size {
            m.serialize_entry("MediaSize", &n)?;
        }
        let texts = [
            ("DateUpdated", &e.date_updated),
            ("Series", &e.series),
            ("Tags", &e.tags),
            ("Comments", &e.comments),
            ("MimeType", &e.mime_type),
        ];
        let flags = [
            ("VictimIdentified", e.victim_identified),
            ("OffenderIdentified", e.offender_identified),
            ("IsDistributed", e.is_distributed),
            ("IsPrecategorized", e.is_precategorized),
            ("IsSuspected", e.is_suspected),
        ];
        for (k, v) in flags {
            if let Some(b) = v {
                m.serialize_entry(k, &b)?;
            }
        }
        for (k, v) in texts {
            if let Some(t) = v {
                m.serialize_entry(k, t)?;
            }
        }
        for (k, v) in &e.extra {
            // A hand-built entry could carry a known key in `extra`; never
            // write a key twice. `Media` would turn the record into a case.
            if field_of(k).is_none() && k != "Media" {
                m.serialize_entry(k, v)?;
            }
        }
        if !e.media_files.is_empty() {
            let files: Vec<_> = e.media_files.iter().map(MediaFileJson).collect();
            m.serialize_entry("MediaFiles", &files)?;
        }
        let need_pdq = e.pdq.filter(|p| {
            !e.alternative_hashes
                .iter()
                .any(|a| names(a, "pdq") && a.hash_value.as_deref() == Some(&p.to_hex()))
        });
        let need_sha256 = e.sha256.filter(|h| {
            !e.alternative_hashes.iter().any(|a| {
                names(a, "sha256")
                    && a.hash_value
                        .as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case(&h.to_hex()))
            })
        });
        if !e.alternative_hashes.is_empty() || need_pdq.is_some() || need_sha256.is_some() {
            use serde::ser::Error as _;
            let value = |r: Result<Value, serde_json::Error>| r.map_err(S::Error::custom);
            // Re-created elements go first: on re-import the first PDQ element
            // is the one absorbed into `pdq`, so the order must put it there.
            let mut list = Vec::with_capacity(e.alternative_hashes.len() + 2);
            if let Some(p) = need_pdq {
                list.push(value(serde_json::to_value(Synth {
                    md5: upper_md5.clone(),
                    name: "PDQ",
                    value: p.to_hex(),
                    quality: e.pdq_quality.as_ref(),
                }))?);
            }
            if let Some(h) = need_sha256 {
                list.push(value(serde_json::to_value(Synth {
                    md5: upper_md5.clone(),
                    name: "SHA256",
                    value: h.to_hex(),
                    quality: None,
                }))?);
            }
            for a in &e.alternative_hashes {
                list.push(value(serde_json::to_value(AltJson(a)))?);
            }
            m.serialize_entry("AlternativeHashes", &list)?;
        }
        m.end()
    }
}
