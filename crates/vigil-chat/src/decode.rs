//! Byte-to-text decoding, line by line.
//!
//! Logs from the 2000s were written in whatever code page the client used,
//! and a log that spans a client upgrade mixes UTF-8 and Windows-1252 lines.
//! Deciding per line keeps both halves correct: a valid UTF-8 line is taken
//! as is; anything else is decoded as Windows-1252, which maps every byte to a
//! character (the five undefined bytes become C1 controls), so no byte of the
//! original is lost and the mapping can be reversed.

use serde::{Deserialize, Serialize};

/// How one line was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineEncoding {
    Utf8,
    Windows1252,
}

/// What the whole file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileEncoding {
    /// Every line was valid UTF-8 (plain ASCII included).
    Utf8,
    /// Every non-ASCII line needed Windows-1252.
    Windows1252,
    /// Some lines were UTF-8 with non-ASCII characters, others Windows-1252.
    Mixed,
}

/// One decoded line. `number` is 1-based, as an editor shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedLine {
    pub number: usize,
    pub text: String,
    pub encoding: LineEncoding,
}

/// Splits on `\n` (dropping a trailing `\r`), strips a leading UTF-8 BOM and
/// decodes each line on its own.
pub fn decode_lines(bytes: &[u8]) -> (Vec<DecodedLine>, FileEncoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::new();
    let mut saw_utf8_non_ascii = false;
    let mut saw_1252 = false;
    let mut start = 0usize;
    let mut number = 0usize;
    let mut push = |raw: &[u8], number: usize| {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (text, encoding) = decode_line(raw);
        match encoding {
            LineEncoding::Utf8 if !raw.is_ascii() => saw_utf8_non_ascii = true,
            LineEncoding::Windows1252 => saw_1252 = true,
            LineEncoding::Utf8 => {}
        }
        out.push(DecodedLine {
            number,
            text,
            encoding,
        });
    };
    for nl in memchr::memchr_iter(b'\n', bytes) {
        number += 1;
        push(&bytes[start..nl], number);
        start = nl + 1;
    }
    if start < bytes.len() {
        number += 1;
        push(&bytes[start..], number);
    }
    let enc = match (saw_utf8_non_ascii, saw_1252) {
        (true, true) => FileEncoding::Mixed,
        (false, true) => FileEncoding::Windows1252,
        _ => FileEncoding::Utf8,
    };
    (out, enc)
}

/// Decodes one line: UTF-8 if valid, otherwise Windows-1252.
pub fn decode_line(raw: &[u8]) -> (String, LineEncoding) {
    match std::str::from_utf8(raw) {
        Ok(s) => (s.to_owned(), LineEncoding::Utf8),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(raw);
            (text.into_owned(), LineEncoding::Windows1252)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_lines_are_decoded_independently() {
        let bytes = b"caf\xc3\xa9 ok\r\ncaf\xe9 \x80 old\nplain";
        let (lines, enc) = decode_lines(bytes);
        assert_eq!(enc, FileEncoding::Mixed);
        assert_eq!(lines[0].text, "café ok");
        assert_eq!(lines[0].encoding, LineEncoding::Utf8);
        assert_eq!(lines[1].text, "café € old");
        assert_eq!(lines[1].encoding, LineEncoding::Windows1252);
        assert_eq!(lines[2].number, 3);
    }

    #[test]
    fn windows_1252_round_trips_every_byte() {
        let all: Vec<u8> = (0u8..=255).filter(|b| *b != b'\n').collect();
        let (text, enc) = decode_line(&all);
        assert_eq!(enc, LineEncoding::Windows1252);
        let (back, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
        assert!(!unmappable);
        assert_eq!(back.as_ref(), all.as_slice());
    }
}
