//! File type by content ("magic bytes"), never by extension.
//!
//! Offenders rename `.jpg` to `.dll` or `.dat` precisely because naive tools
//! trust extensions, so the type comes only from the first bytes of the file.
//! The table is deliberately small and conservative: a signature is listed
//! only when it is specific enough that a false positive on random data is
//! negligible (or it carries an extra structural check), and everything else
//! is reported as unknown rather than guessed.

/// Broad class of a detected type; `Image` with [`FileType::pdq`] set means
/// vigil-pdq can decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Archive,
    Database,
    Executable,
    DiskImage,
    Text,
}

/// A detected file type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileType {
    pub mime: &'static str,
    pub kind: MediaKind,
    /// Decodable by vigil-pdq (JPEG, PNG, GIF, BMP, WebP, TIFF).
    pub pdq: bool,
}

/// How many leading bytes [`detect`] looks at when it has them (ISO 9660's
/// signature sits at 32 KiB + 1). Shorter heads still detect everything
/// whose signature they contain.
pub const HEAD_LEN: usize = 32_774;

const fn t(mime: &'static str, kind: MediaKind) -> FileType {
    FileType {
        mime,
        kind,
        pdq: false,
    }
}

const fn img(mime: &'static str) -> FileType {
    FileType {
        mime,
        kind: MediaKind::Image,
        pdq: true,
    }
}

use MediaKind::*;

/// Fixed signatures at offset 0, checked in order (longer/more specific
/// first where prefixes overlap).
const PREFIXES: &[(&[u8], FileType)] = &[
    (b"\xff\xd8\xff", img("image/jpeg")),
    (b"\x89PNG\r\n\x1a\n", img("image/png")),
    (b"GIF87a", img("image/gif")),
    (b"GIF89a", img("image/gif")),
    (b"II*\0", img("image/tiff")),
    (b"MM\0*", img("image/tiff")),
    (b"II+\0", t("image/tiff", Image)), // BigTIFF: not decoded by PDQ
    (b"MM\0+", t("image/tiff", Image)),
    (b"8BPS", t("image/vnd.adobe.photoshop", Image)),
    (b"\0\0\0\x0cjP  \r\n\x87\n", t("image/jp2", Image)),
    (
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c",
        t("video/x-ms-asf", Video),
    ),
    (b"\x00\x00\x01\xba", t("video/mpeg", Video)),
    (b"\x00\x00\x01\xb3", t("video/mpeg", Video)),
    (b"FLV\x01", t("video/x-flv", Video)),
    (b"OggS", t("application/ogg", Video)),
    (b"fLaC", t("audio/flac", Audio)),
    (b"ID3", t("audio/mpeg", Audio)),
    (b"#!AMR", t("audio/amr", Audio)),
    (b"%PDF-", t("application/pdf", Document)),
    (b"{\\rtf", t("application/rtf", Document)),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        t("application/x-ole-storage", Document),
    ),
    (
        b"L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46",
        t("application/x-ms-shortcut", Document),
    ),
    (b"PK\x03\x04", t("application/zip", Archive)),
    (b"PK\x05\x06", t("application/zip", Archive)),
    (b"PK\x07\x08", t("application/zip", Archive)),
    (b"Rar!\x1a\x07", t("application/vnd.rar", Archive)),
    (
        b"7z\xbc\xaf\x27\x1c",
        t("application/x-7z-compressed", Archive),
    ),
    (b"\x1f\x8b", t("application/gzip", Archive)),
    (b"BZh", t("application/x-bzip2", Archive)),
    (b"\xfd7zXZ\0", t("application/x-xz", Archive)),
    (b"\x28\xb5\x2f\xfd", t("application/zstd", Archive)),
    (b"SQLite format 3\0", t("application/vnd.sqlite3", Database)),
    (b"\x7fELF", t("application/x-elf", Executable)),
    (
        b"\xcf\xfa\xed\xfe",
        t("application/x-mach-binary", Executable),
    ),
    (
        b"\xce\xfa\xed\xfe",
        t("application/x-mach-binary", Executable),
    ),
    (
        b"EVF\x09\x0d\x0a\xff\x00",
        t("application/x-ewf", DiskImage),
    ),
    (b"conectix", t("application/x-vhd", DiskImage)),
    (b"KDMV", t("application/x-vmdk", DiskImage)),
    (b"QFI\xfb", t("application/x-qemu-disk", DiskImage)),
];

/// Detects the type of a file from its first bytes (`head`, ideally
/// [`HEAD_LEN`] bytes or the whole file if shorter). `None` means unknown
/// (`application/octet-stream`).
pub fn detect(head: &[u8]) -> Option<FileType> {
    if let Some((_, ft)) = PREFIXES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(*ft);
    }
    detect_structured(head).or_else(|| detect_text(head))
}

fn at(head: &[u8], offset: usize, sig: &[u8]) -> bool {
    head.get(offset..offset + sig.len()) == Some(sig)
}

fn detect_structured(head: &[u8]) -> Option<FileType> {
    if at(head, 0, b"RIFF") {
        return match head.get(8..12)? {
            b"WEBP" => Some(img("image/webp")),
            b"AVI " => Some(t("video/x-msvideo", Video)),
            b"WAVE" => Some(t("audio/wav", Audio)),
            _ => None,
        };
    }
    if at(head, 4, b"ftyp") {
        return Some(iso_bmff(head.get(8..12)?));
    }
    // QuickTime files from before `ftyp` start directly with a movie atom.
    if head.len() >= 8 && [&b"moov"[..], b"mdat", b"wide", b"pnot"].contains(&&head[4..8]) {
        return Some(t("video/quicktime", Video));
    }
    if at(head, 0, b"\x1a\x45\xdf\xa3") {
        let window = &head[..head.len().min(64)];
        let webm = window.windows(4).any(|w| w == b"webm");
        return Some(if webm {
            t("video/webm", Video)
        } else {
            t("video/x-matroska", Video)
        });
    }
    // MPEG transport stream: a sync byte every 188 bytes.
    if head.len() > 376 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47 {
        return Some(t("video/mp2t", Video));
    }
    if at(head, 0, b"BM") && is_bmp(head) {
        return Some(img("image/bmp"));
    }
    if at(head, 0, b"\0\0\x01\0") && is_ico(head) {
        return Some(t("image/vnd.microsoft.icon", Image));
    }
    if at(head, 0, b"MZ") {
        return Some(t(
            "application/vnd.microsoft.portable-executable",
            Executable,
        ));
    }
    if head.len() >= 4 && head[0] == 0xff && head[1] & 0xe0 == 0xe0 && is_mp3_frame(head) {
        return Some(t("audio/mpeg", Audio));
    }
    if at(head, 257, b"ustar") {
        return Some(t("application/x-tar", Archive));
    }
    if at(head, 0x8001, b"CD001") {
        return Some(t("application/x-iso9660-image", DiskImage));
    }
    None
}

fn iso_bmff(brand: &[u8]) -> FileType {
    match brand {
        b"qt  " => t("video/quicktime", Video),
        b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" => t("image/heic", Image),
        b"avif" | b"avis" => t("image/avif", Image),
        b"M4A " | b"M4B " | b"M4P " => t("audio/mp4", Audio),
        b"crx " => t("image/x-canon-cr3", Image),
        [b'3', b'g', b'2', _] => t("video/3gpp2", Video),
        [b'3', b'g', _, _] => t("video/3gpp", Video),
        _ => t("video/mp4", Video),
    }
}

/// "BM" alone is two ASCII letters; also require a known DIB header size.
fn is_bmp(head: &[u8]) -> bool {
    let Some(dib) = head.get(14..18) else {
        return false;
    };
    let dib = u32::from_le_bytes([dib[0], dib[1], dib[2], dib[3]]);
    matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124) && head.get(6..10) == Some(&[0, 0, 0, 0])
}

fn is_ico(head: &[u8]) -> bool {
    // image count > 0, first entry's reserved byte 0 and plane count 0 or 1.
    head.len() >= 22 && (head[4] | head[5]) != 0 && head[9] == 0 && head[11] == 0 && head[10] <= 1
}

fn is_mp3_frame(head: &[u8]) -> bool {
    let version = (head[1] >> 3) & 3;
    let layer = (head[1] >> 1) & 3;
    let bitrate = head[2] >> 4;
    let rate = (head[2] >> 2) & 3;
    version != 1 && layer != 0 && bitrate != 0 && bitrate != 15 && rate != 3
}

/// Plain text (chat logs, notes, HTML saved pages) is worth labelling: valid
/// UTF-8 (a multi-byte character cut off by the end of the head is fine) with
/// no control characters other than whitespace and ESC.
fn detect_text(head: &[u8]) -> Option<FileType> {
    let sample = &head[..head.len().min(8192)];
    if sample.is_empty() {
        return None;
    }
    let body = sample.strip_prefix(b"\xef\xbb\xbf").unwrap_or(sample);
    let valid_len = match std::str::from_utf8(body) {
        Ok(s) => s.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return None,
    };
    let text = &body[..valid_len];
    if text
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        || text.contains(&0x7f)
    {
        return None;
    }
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&text[..0], |p| &text[p..]);
    let lower: Vec<u8> = start.iter().take(16).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        return Some(t("text/html", Text));
    }
    if lower.starts_with(b"<?xml") {
        return Some(t("application/xml", Text));
    }
    Some(t("text/plain", Text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mime(head: &[u8]) -> Option<&'static str> {
        detect(head).map(|f| f.mime)
    }

    #[test]
    fn images() {
        assert_eq!(mime(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(mime(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(mime(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(mime(b"II*\0\x08\0\0\0"), Some("image/tiff"));
        assert!(detect(b"II*\0\x08\0\0\0").unwrap().pdq);
        assert!(!detect(b"II+\0\x08\0\0\0").unwrap().pdq);
        let mut bmp = b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec();
        bmp.resize(64, 0);
        assert_eq!(mime(&bmp), Some("image/bmp"));
        // "BM" followed by prose is text, not a bitmap.
        assert_eq!(mime(b"BMW service invoice 2019"), Some("text/plain"));
    }

    #[test]
    fn videos() {
        assert_eq!(mime(b"\0\0\0\x20ftypisom\0\0\x02\0"), Some("video/mp4"));
        assert_eq!(
            mime(b"\0\0\0\x14ftypqt  \0\0\x02\0"),
            Some("video/quicktime")
        );
        assert_eq!(mime(b"\0\0\0\x14ftyp3gp4\0\0\x02\0"), Some("video/3gpp"));
        assert_eq!(mime(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("image/heic"));
        assert_eq!(mime(b"\0\0\x12\x34moov\0\0"), Some("video/quicktime"));
        assert_eq!(mime(b"RIFF\0\0\0\0AVI LIST"), Some("video/x-msvideo"));
        assert_eq!(
            mime(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm"),
            Some("video/webm")
        );
        assert_eq!(
            mime(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska"),
            Some("video/x-matroska")
        );
        assert_eq!(
            mime(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c\0"),
            Some("video/x-ms-asf")
        );
        assert_eq!(mime(b"\0\0\x01\xba\x44"), Some("video/mpeg"));
        let mut ts = vec![0u8; 400];
        ts[0] = 0x47;
        ts[188] = 0x47;
        ts[376] = 0x47;
        assert_eq!(mime(&ts), Some("video/mp2t"));
    }

    #[test]
    fn documents_archives_and_others() {
        assert_eq!(mime(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(mime(b"PK\x03\x04\x14\0"), Some("application/zip"));
        assert_eq!(
            mime(b"SQLite format 3\0\x10\0"),
            Some("application/vnd.sqlite3")
        );
        assert_eq!(mime(b"\x7fELF\x02\x01"), Some("application/x-elf"));
        let mut tar = vec![b'a'; 300];
        tar[257..262].copy_from_slice(b"ustar");
        tar[100] = 0;
        assert_eq!(mime(&tar), Some("application/x-tar"));
        let mut iso = vec![0u8; HEAD_LEN];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(mime(&iso), Some("application/x-iso9660-image"));
    }

    #[test]
    fn text_and_unknown() {
        assert_eq!(mime(b"[12:01] <alice> hello\n"), Some("text/plain"));
        assert_eq!(
            mime(b"\xef\xbb\xbf  <!DOCTYPE html><html>"),
            Some("text/html")
        );
        // A UTF-8 character cut at the end of the head is still text.
        assert_eq!(mime(b"caf\xc3"), Some("text/plain"));
        assert_eq!(mime(b"\0\x01\x02\x03binary"), None);
        assert_eq!(mime(b"caf\xc3(invalid"), None);
        assert_eq!(mime(b""), None);
    }
}
