//! Reads the EXIF Orientation tag (0x0112) and nothing else.
//!
//! The hash deliberately ignores orientation (the reference does), but
//! investigators need to know that a phone photo is displayed rotated, so the
//! tag is reported. Parsing is bounds-checked throughout: the input is
//! untrusted and a malformed block yields `None`, never an error.

const ORIENTATION_TAG: u16 = 0x0112;

/// Orientation from a TIFF-structured EXIF block (starting at the byte-order
/// mark `II`/`MM`), if present and in 1..=8.
pub(crate) fn orientation_from_tiff(tiff: &[u8]) -> Option<u8> {
    let le = match tiff.get(0..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b = tiff.get(o..o + 2)?;
        Some(if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b = tiff.get(o..o + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for i in 0..count {
        let entry = ifd.checked_add(2 + 12 * i)?;
        if u16_at(entry)? != ORIENTATION_TAG {
            continue;
        }
        let value = match u16_at(entry + 2)? {
            3 => u16_at(entry + 8)?,        // SHORT, stored inline
            4 => u32_at(entry + 8)? as u16, // LONG (non-conforming writers)
            _ => return None,
        };
        return (1..=8).contains(&value).then_some(value as u8);
    }
    None
}

/// Orientation from an EXIF payload as stored in JPEG APP1 or PNG/WebP
/// chunks, with or without the leading `Exif\0\0`.
pub(crate) fn orientation_from_exif(payload: &[u8]) -> Option<u8> {
    let tiff = payload.strip_prefix(b"Exif\0\0").unwrap_or(payload);
    orientation_from_tiff(tiff)
}

/// Walks the JPEG marker segments before the first scan looking for an
/// APP1 `Exif` segment.
pub(crate) fn orientation_from_jpeg(bytes: &[u8]) -> Option<u8> {
    let mut pos = 2; // after SOI
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while *bytes.get(pos)? == 0xFF && *bytes.get(pos + 1)? == 0xFF {
            pos += 1;
        }
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(pos + 1)?;
        if marker == 0xDA || marker == 0xD9 {
            return None; // start of scan / end of image: no EXIF before it
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            pos += 2;
            continue;
        }
        let len = u16::from_be_bytes([*bytes.get(pos + 2)?, *bytes.get(pos + 3)?]) as usize;
        if len < 2 {
            return None;
        }
        let body = bytes.get(pos + 4..pos + 2 + len)?;
        if marker == 0xE1
            && body.starts_with(b"Exif\0\0")
            && let Some(o) = orientation_from_exif(body)
        {
            return Some(o);
        }
        pos += 2 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff_with_orientation(le: bool, value: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let p16 = |t: &mut Vec<u8>, v: u16| {
            t.extend_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() })
        };
        let p32 = |t: &mut Vec<u8>, v: u32| {
            t.extend_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() })
        };
        t.extend_from_slice(if le { b"II" } else { b"MM" });
        p16(&mut t, 42);
        p32(&mut t, 8);
        p16(&mut t, 2); // two entries
        // ImageWidth first, so the parser must skip an entry.
        p16(&mut t, 0x0100);
        p16(&mut t, 3);
        p32(&mut t, 1);
        p16(&mut t, 640);
        p16(&mut t, 0);
        p16(&mut t, ORIENTATION_TAG);
        p16(&mut t, 3);
        p32(&mut t, 1);
        p16(&mut t, value);
        p16(&mut t, 0);
        p32(&mut t, 0);
        t
    }

    #[test]
    fn reads_both_byte_orders() {
        assert_eq!(
            orientation_from_tiff(&tiff_with_orientation(true, 6)),
            Some(6)
        );
        assert_eq!(
            orientation_from_tiff(&tiff_with_orientation(false, 8)),
            Some(8)
        );
        assert_eq!(orientation_from_tiff(&tiff_with_orientation(true, 9)), None);
    }

    #[test]
    fn truncated_blocks_give_none() {
        let t = tiff_with_orientation(true, 3);
        for cut in 0..t.len() - 6 {
            // Must never panic; only the complete entry may yield a value.
            let _ = orientation_from_tiff(&t[..cut]);
        }
        assert_eq!(orientation_from_tiff(&t[..20]), None);
    }

    #[test]
    fn finds_app1_after_app0() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend(tiff_with_orientation(false, 3));
        j.extend_from_slice(&[0xFF, 0xE1]);
        j.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        j.extend(exif);
        j.extend_from_slice(&[0xFF, 0xDA]);
        assert_eq!(orientation_from_jpeg(&j), Some(3));
    }
}
