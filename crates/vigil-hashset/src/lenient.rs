//! Tolerant scalar parsing shared by all readers.
//!
//! Real exporters write booleans as `"true"`, `"True"`, `"1"`, `"Y"`, numbers
//! as strings, and empty strings for "unknown". Every reader goes through these
//! functions so that the same cell text means the same thing in every format.
//! Empty text and JSON `null` always mean "absent" (`None`).

use serde_json::Value;

use crate::error::EntryErrorKind;

fn bad(expected: &'static str, found: impl std::fmt::Display) -> EntryErrorKind {
    let mut found = found.to_string();
    if found.len() > 80 {
        let mut cut = 80;
        while !found.is_char_boundary(cut) {
            cut -= 1;
        }
        found.truncate(cut);
        found.push('…');
    }
    EntryErrorKind::BadValue { expected, found }
}

/// `true/false`, `t/f`, `yes/no`, `y/n`, `1/0`, case-insensitive.
pub(crate) fn bool_text(s: &str) -> Result<Option<bool>, EntryErrorKind> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Ok(Some(true)),
        "false" | "f" | "no" | "n" | "0" => Ok(Some(false)),
        _ => Err(bad("a boolean", format!("{t:?}"))),
    }
}

pub(crate) fn bool_json(v: &Value) -> Result<Option<bool>, EntryErrorKind> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => bool_text(s),
        Value::Number(n) => match n.as_u64() {
            Some(1) => Ok(Some(true)),
            Some(0) => Ok(Some(false)),
            _ => Err(bad("a boolean", n)),
        },
        other => Err(bad("a boolean", other)),
    }
}

pub(crate) fn u64_text(s: &str) -> Result<Option<u64>, EntryErrorKind> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| bad("a non-negative integer", format!("{t:?}")))
}

pub(crate) fn u64_json(v: &Value) -> Result<Option<u64>, EntryErrorKind> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| bad("a non-negative integer", n)),
        Value::String(s) => u64_text(s),
        other => Err(bad("a non-negative integer", other)),
    }
}

/// PDQ quality, 0..=100.
pub(crate) fn quality_text(s: &str) -> Result<Option<u8>, EntryErrorKind> {
    match u64_text(s)? {
        None => Ok(None),
        Some(q) if q <= 100 => Ok(Some(q as u8)),
        Some(q) => Err(bad("a PDQ quality 0..=100", q)),
    }
}

pub(crate) fn quality_json(v: &Value) -> Result<Option<u8>, EntryErrorKind> {
    match u64_json(v)? {
        None => Ok(None),
        Some(q) if q <= 100 => Ok(Some(q as u8)),
        Some(q) => Err(bad("a PDQ quality 0..=100", q)),
    }
}

/// Text fields: strings as they are, numbers and booleans in JSON spelling,
/// empty and null as absent. Objects and arrays are an error.
pub(crate) fn text_json(v: &Value) -> Result<Option<String>, EntryErrorKind> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(bad("text", other)),
    }
}

/// [`text_json`] taking ownership, so that strings move instead of copying.
pub(crate) fn text_json_owned(v: Value) -> Result<Option<String>, EntryErrorKind> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => text_json(&other),
    }
}

pub(crate) fn text_cell(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Whether `s` is a canonical decimal `u64` (so it can be written as a JSON
/// number and read back as the same text).
pub(crate) fn canonical_u64(s: &str) -> Option<u64> {
    let n: u64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_in_exporter_spellings() {
        for t in ["true", "True", "TRUE", "1", "Y", "yes"] {
            assert_eq!(bool_text(t).unwrap(), Some(true), "{t}");
        }
        for t in ["false", "False", "0", "n", "No"] {
            assert_eq!(bool_text(t).unwrap(), Some(false), "{t}");
        }
        assert_eq!(bool_text(" ").unwrap(), None);
        assert!(bool_text("maybe").is_err());
        assert_eq!(bool_json(&json!(1)).unwrap(), Some(true));
        assert!(bool_json(&json!(2)).is_err());
        assert_eq!(bool_json(&json!(null)).unwrap(), None);
    }

    #[test]
    fn numbers_as_strings() {
        assert_eq!(u64_json(&json!("12345")).unwrap(), Some(12345));
        assert_eq!(u64_json(&json!(7.0)).unwrap(), Some(7));
        assert!(u64_json(&json!(-1)).is_err());
        assert!(quality_text("101").is_err());
        assert_eq!(canonical_u64("0042"), None);
        assert_eq!(canonical_u64("42"), Some(42));
    }
}
