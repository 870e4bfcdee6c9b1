//! Format sniffing and the lossless (non-JPEG) decode path.
//!
//! The format is decided by magic bytes only: seized media routinely carries
//! wrong or missing extensions. Lossless formats decode to exact pixels with
//! any correct decoder, so the `image` crate is used for them; its header is
//! parsed (`into_decoder`) and the size checked before the pixel buffer is
//! allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::PdqError;
use crate::exif;
use crate::raster::{SamplePlan, Sampled};

/// Image container formats this crate hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Gif,
    Bmp,
    WebP,
    Tiff,
}

/// Identifies the format from the leading bytes; `None` for anything else.
pub fn detect_format(bytes: &[u8]) -> Option<ImageFormat> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some(ImageFormat::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ImageFormat::Png),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageFormat::Gif),
        [b'B', b'M', ..] => Some(ImageFormat::Bmp),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some(ImageFormat::WebP),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some(ImageFormat::Tiff),
        _ => None,
    }
}

fn image_format(f: ImageFormat) -> image::ImageFormat {
    match f {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Bmp => image::ImageFormat::Bmp,
        ImageFormat::WebP => image::ImageFormat::WebP,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
    }
}

fn corrupt(e: image::ImageError) -> PdqError {
    match e {
        image::ImageError::Unsupported(u) => PdqError::UnsupportedColorSpace(u.to_string()),
        image::ImageError::Limits(l) => PdqError::Corrupt(format!("decoder limit: {l}")),
        other => PdqError::Corrupt(other.to_string()),
    }
}

/// What a lossless decode yields for hashing.
pub(crate) struct Decoded {
    pub sampled: Sampled,
    pub width: u32,
    pub height: u32,
    pub exif_orientation: Option<u8>,
}

/// Decodes PNG/GIF/BMP/WebP/TIFF (GIF: first frame) and applies the
/// reference pre-resize. Alpha is dropped without compositing and grey (with
/// or without alpha) stays one channel, like the reference's stock build.
pub(crate) fn decode_lossless(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<Decoded, PdqError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    let mut limits = image::Limits::default();
    // Widest buffer: RGBA 32-bit float = 16 bytes per pixel.
    limits.max_alloc = Some(max_pixels.saturating_mul(16).max(1 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(PdqError::TooLarge {
            width: width.into(),
            height: height.into(),
            limit: max_pixels,
        });
    }
    let exif_orientation = match format {
        // A TIFF file is itself a TIFF structure with the tag in IFD0.
        ImageFormat::Tiff => exif::orientation_from_tiff(bytes),
        _ => decoder
            .exif_metadata()
            .ok()
            .flatten()
            .and_then(|e| exif::orientation_from_exif(&e)),
    };
    let img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let sampled = sample_dynamic(&img);
    Ok(Decoded {
        sampled,
        width,
        height,
        exif_orientation,
    })
}

fn sample_dynamic(img: &DynamicImage) -> Sampled {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plan = SamplePlan::new(w, h);
    match img {
        DynamicImage::ImageLuma8(g) => Sampled::from_full(&plan, g.as_raw(), w, 1),
        DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => {
            // to_luma8 on LumaA keeps the luma channel and drops alpha.
            Sampled::from_full(&plan, img.to_luma8().as_raw(), w, 1)
        }
        DynamicImage::ImageRgb8(rgb) => Sampled::from_full(&plan, rgb.as_raw(), w, 3),
        DynamicImage::ImageRgba8(rgba) => {
            let s = Sampled::from_full(&plan, rgba.as_raw(), w, 4);
            drop_alpha(s)
        }
        _ => Sampled::from_full(&plan, img.to_rgb8().as_raw(), w, 3),
    }
}

fn drop_alpha(s: Sampled) -> Sampled {
    let data = s
        .data
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Sampled {
        channels: 3,
        data,
        ..s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_not_extension() {
        assert_eq!(
            detect_format(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(detect_format(b"GIF89a...."), Some(ImageFormat::Gif));
        assert_eq!(
            detect_format(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::WebP)
        );
        assert_eq!(detect_format(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(detect_format(b"MM\0*\0\0\0\x08"), Some(ImageFormat::Tiff));
        assert_eq!(detect_format(b"%PDF-1.7"), None);
        assert_eq!(detect_format(&[]), None);
    }
}
