//! Format detection from the first bytes of a file.
//!
//! Order matters: JSON first (unambiguous `{`), then the exact ICSE header
//! (which would otherwise pass as a `;` CSV with an `MD5` column), then PDQ
//! lines (no header), then any header naming a known column.

use crate::model::Format;
use crate::pdqlist::{is_pdq_header, looks_like_pdq_line};
use crate::tabular::{is_icse_header, is_plain_header, sniff_delimiter};

/// Guesses the format from the start of a file (a few KiB is plenty; a UTF-8
/// BOM is allowed). `None` if nothing fits.
pub fn detect(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if head[0] == b'{' {
        let marker = |m: &[u8]| head.windows(m.len()).any(|w| w == m);
        return (marker(b"odata.context") || marker(b"odata.metadata") || marker(b"\"value\""))
            .then_some(Format::Vics);
    }
    let text = String::from_utf8_lossy(head);
    let mut content = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let first = content.next()?;
    if is_icse_header(first) {
        return Some(Format::IcseCsv);
    }
    if looks_like_pdq_line(first)
        || (is_pdq_header(first) && content.next().is_some_and(looks_like_pdq_line))
    {
        return Some(Format::PdqList);
    }
    let header = text.lines().next().unwrap_or("");
    let delimiter = sniff_delimiter(header);
    is_plain_header(header, delimiter).then_some(Format::Delimited { delimiter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(
            detect(b"\xEF\xBB\xBF {\"@odata.context\":\"x\",\"value\":[]}"),
            Some(Format::Vics)
        );
        assert_eq!(detect(b"{\"odata.metadata\":\"x\""), Some(Format::Vics));
        assert_eq!(detect(b"{\"foo\":1}"), None);
        assert_eq!(
            detect(
                b"MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\r\n"
            ),
            Some(Format::IcseCsv)
        );
        let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100\n";
        assert_eq!(detect(pdq.as_bytes()), Some(Format::PdqList));
        let with_header = format!("hash,quality\n{pdq}");
        assert_eq!(detect(with_header.as_bytes()), Some(Format::PdqList));
        assert_eq!(
            detect(format!("pdq,quality\n{pdq}").as_bytes()),
            Some(Format::Delimited { delimiter: b',' })
        );
        assert_eq!(
            detect(b"MD5\tCategory\tNote\n"),
            Some(Format::Delimited { delimiter: b'\t' })
        );
        assert_eq!(
            detect(b"sha1;series\n"),
            Some(Format::Delimited { delimiter: b';' })
        );
        assert_eq!(detect(b"name,age\nx,1\n"), None);
        assert_eq!(detect(b"   "), None);
    }
}
