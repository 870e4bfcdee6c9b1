//! Lossless file names.
//!
//! A seized disk's names are whatever bytes its owner (or his malware) put
//! there: invalid UTF-8 from an old Windows code page, newlines, right-to-left
//! overrides (U+202E) that make `evil<RLO>gpj.exe` display as `evilexe.jpg`. Evidence records
//! must name the exact file, so the scanner keeps the raw bytes and offers a
//! text form that is reversible and safe to print on one line.
//!
//! # Text form
//!
//! Valid UTF-8 is kept as is, except for these, which are written byte by
//! byte as `\xHH` (two lowercase hex digits per byte):
//!
//! * bytes that are not part of valid UTF-8;
//! * C0 controls (U+0000..U+001F, so newline and tab too), DEL (U+007F) and
//!   C1 controls (U+0080..U+009F);
//! * the Unicode line/paragraph separators U+2028, U+2029 and the
//!   bidirectional formatting characters U+200E, U+200F, U+202A..U+202E,
//!   U+2066..U+2069, which can make a printed name lie about its extension.
//!
//! A backslash is written `\\`. Decoding accepts exactly these two escapes
//! (hex in either case), so `from_text(to_text(b)) == b` for every byte
//! string, and the text form never contains a control character: it fits in
//! a CSV cell, a log line or a terminal without further quoting of newlines.

use std::fmt;
use std::path::{Path, PathBuf};

/// A path (or symlink target) exactly as the filesystem stored it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RawPath(Vec<u8>);

/// The text given to [`RawPath::from_text`] is not in the documented form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextPathError {
    #[error("escape at byte {at} is not \\\\ or \\xHH")]
    BadEscape { at: usize },
    #[error("text ends in the middle of an escape")]
    Truncated,
}

impl RawPath {
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes of `path` as the OS holds them (no lossy conversion).
    pub fn from_path(path: &Path) -> Self {
        Self(path_bytes(path).to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The OS path with these exact bytes (for re-opening the file later).
    pub fn to_path_buf(&self) -> PathBuf {
        bytes_to_path(&self.0)
    }

    /// The reversible one-line text form described in the module docs.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c == '\\' {
                    out.push_str("\\\\");
                } else if must_escape(c) {
                    let mut utf8 = [0u8; 4];
                    for b in c.encode_utf8(&mut utf8).as_bytes() {
                        push_hex_escape(&mut out, *b);
                    }
                } else {
                    out.push(c);
                }
            }
            for b in chunk.invalid() {
                push_hex_escape(&mut out, *b);
            }
        }
        out
    }

    /// Inverse of [`RawPath::to_text`]. Also accepts uppercase hex and
    /// escapes of characters that did not need escaping, so several texts
    /// may name the same bytes; only `to_text`'s output is canonical.
    pub fn from_text(text: &str) -> Result<Self, TextPathError> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b != b'\\' {
                out.push(b);
                i += 1;
                continue;
            }
            match bytes.get(i + 1) {
                None => return Err(TextPathError::Truncated),
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') => {
                    let (Some(hi), Some(lo)) = (bytes.get(i + 2), bytes.get(i + 3)) else {
                        return Err(TextPathError::Truncated);
                    };
                    let (Some(hi), Some(lo)) = (hex_value(*hi), hex_value(*lo)) else {
                        return Err(TextPathError::BadEscape { at: i });
                    };
                    out.push(hi << 4 | lo);
                    i += 4;
                }
                Some(_) => return Err(TextPathError::BadEscape { at: i }),
            }
        }
        Ok(Self(out))
    }
}

fn must_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

fn push_hex_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push('x');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 0xf)] as char);
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(unix)]
pub(crate) fn path_bytes(path: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes()
}

#[cfg(unix)]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

// Non-Unix builds exist only so that the workspace compiles everywhere; the
// scanner is specified for Linux, where names are bytes.
#[cfg(not(unix))]
pub(crate) fn path_bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

impl fmt::Display for RawPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for RawPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawPath({:?})", self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_names_are_unchanged() {
        let p = RawPath::from_bytes("Pictures/2019/ünïcode name.jpg");
        assert_eq!(p.to_text(), "Pictures/2019/ünïcode name.jpg");
    }

    #[test]
    fn escapes_invalid_bytes_controls_backslash_and_bidi() {
        let p = RawPath::from_bytes(b"a\xffb\nc\\d\xe2\x80\xaegpj.exe".to_vec());
        assert_eq!(p.to_text(), "a\\xffb\\x0ac\\\\d\\xe2\\x80\\xaegpj.exe");
        assert_eq!(RawPath::from_text(&p.to_text()).unwrap(), p);
    }

    #[test]
    fn rejects_malformed_text() {
        assert_eq!(RawPath::from_text("a\\"), Err(TextPathError::Truncated));
        assert_eq!(RawPath::from_text("a\\x4"), Err(TextPathError::Truncated));
        assert_eq!(
            RawPath::from_text("a\\n"),
            Err(TextPathError::BadEscape { at: 1 })
        );
        assert_eq!(
            RawPath::from_text("\\xzz"),
            Err(TextPathError::BadEscape { at: 0 })
        );
        assert_eq!(RawPath::from_text("\\x4A").unwrap().as_bytes(), b"J");
    }

    proptest! {
        #[test]
        fn text_form_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let p = RawPath::from_bytes(bytes);
            let text = p.to_text();
            prop_assert!(!text.chars().any(|c| c.is_control()));
            prop_assert_eq!(RawPath::from_text(&text).unwrap(), p);
        }

        #[test]
        fn text_form_round_trips_unicode(s in "\\PC*[\\n\\\\\u{202e}]?\\PC*") {
            let p = RawPath::from_bytes(s.into_bytes());
            prop_assert_eq!(RawPath::from_text(&p.to_text()).unwrap(), p);
        }
    }
}
