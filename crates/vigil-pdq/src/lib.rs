//! PDQ perceptual hashing, bit-exact with Meta's reference C++
//! (`facebook/ThreatExchange`, `pdq/cpp`, `pdq-photo-hasher`), decode
//! included.
//!
//! This crate owns the whole path from image bytes to a 256-bit PDQ hash,
//! its quality and its eight dihedral variants, because "PDQ" alone does not
//! fix the result: the reference hashes what *its* decoder produced, after a
//! nearest-neighbour pre-resize to exactly 512x512 (any side over 512), with
//! specific float orderings. Invariants:
//!
//! * **Bit-exact.** For every file in Meta's test set the hash, quality and
//!   all eight dihedral hashes equal the reference's (tested row by row
//!   against `shared/pdq-reference/generated`). JPEG pixels equal
//!   libjpeg-turbo's (islow IDCT, fancy upsampling), other formats are
//!   lossless and decoded by the `image` crate.
//! * **EXIF orientation is reported, never applied** (the reference ignores
//!   it; applying it would change the hash of every rotated phone photo).
//! * **No media retained.** Pixels live only in per-call buffers; nothing is
//!   cached, written or copied out. Only hashes and metadata leave.
//! * **Untrusted input.** Dimensions are checked against [`DecodeLimits`]
//!   from the header before any image-sized allocation; corrupt or truncated
//!   files give [`PdqError`], never a panic or a process abort. Peak memory
//!   for a baseline JPEG is the sampled rows only (at most 512 rows per
//!   component); for other JPEGs it is libjpeg's coefficient buffer (2
//!   bytes per sample, at most 6 bytes per pixel), capped inside libjpeg.
//!
//! How JPEGs are decoded (the hot path): libjpeg-turbo's C decoder (vendored
//! by `mozjpeg-sys`, built with `cc` only) reads the header. For a plain
//! baseline file (one interleaved Huffman scan, gray/4:4:4/4:2:2/4:2:0)
//! `baseline` entropy-decodes the scan itself and hands each block straight
//! to `coef`; anything unusual in the stream (bad codes, misplaced
//! restart markers, premature end, ...) makes it give up and libjpeg
//! decodes the file as if it had never been tried. Otherwise libjpeg
//! entropy-decodes to DCT coefficients (`jpeg_read_coefficients`). Either
//! way `coef` rebuilds only the pixels the 512x512 sample reads, with
//! libjpeg's exact integer IDCT, fancy upsampling and colour tables. When
//! hashing, upsampling, colour conversion and the float luma are one pass
//! (AVX2 when the CPU has it, tested bit-equal to the scalar path) that
//! writes the luma already transposed, as the filter's first pass wants it;
//! no RGB plane is made.
//! Layouts it does not reproduce (CMYK, exotic sampling factors, progressive
//! files that libjpeg would block-smooth) go through libjpeg's full decode
//! instead. All paths are tested against libjpeg's own output (pixels, and
//! for `baseline` every coefficient, on generated files and damaged ones).

mod baseline;
mod coef;
mod core;
mod exif;
mod formats;
mod jarosz;
mod jpeg;
mod raster;

use vigil_domain::PdqHash;

pub use crate::core::PdqHashes;
pub use crate::formats::{ImageFormat, detect_format};
pub use crate::raster::PRE_RESIZE_DIM;

/// Caps applied before any pixel buffer is allocated, so a decompression bomb
/// is refused instead of exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: 200_000_000,
        }
    }
}

/// The result of hashing one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdqOutput {
    pub hash: PdqHash,
    /// 0..=100, the reference's integer quality.
    pub quality: u8,
    /// orig, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1.
    pub dihedral: [PdqHash; 8],
    pub width: u32,
    pub height: u32,
    /// EXIF orientation tag (1..=8) when present; recorded, never applied.
    pub exif_orientation: Option<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdqError {
    #[error("not an image format PDQ can decode")]
    Unsupported,
    #[error("image of {width}x{height} exceeds the decode limit of {limit} pixels")]
    TooLarge { width: u64, height: u64, limit: u64 },
    #[error("corrupt image: {0}")]
    Corrupt(String),
    /// A recognised container whose pixel layout the reference cannot hash
    /// either (e.g. CMYK JPEG) or that the decoder does not support.
    #[error("unsupported image variant: {0}")]
    UnsupportedColorSpace(String),
    /// A caller-supplied pixel buffer does not match its stated size.
    #[error("pixel buffer holds {actual} bytes, expected {expected}")]
    BufferSize { expected: u64, actual: u64 },
}

/// Decodes `bytes` (JPEG, PNG, GIF, BMP, WebP, TIFF) and hashes it.
pub fn hash_image_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<PdqOutput, PdqError> {
    let format = detect_format(bytes).ok_or(PdqError::Unsupported)?;
    let (sampled, width, height, exif_orientation) = match format {
        ImageFormat::Jpeg => {
            let (s, w, h) = jpeg::decode_sampled(bytes, limits.max_pixels)?;
            (s, w, h, exif::orientation_from_jpeg(bytes))
        }
        other => {
            let d = formats::decode_lossless(bytes, other, limits.max_pixels)?;
            (d.sampled, d.width, d.height, d.exif_orientation)
        }
    };
    Ok(finish(sampled, width, height, exif_orientation))
}

/// Hashes many encoded images on the rayon pool (both cores on the
/// project's machine), results in input order. Each image is independent,
/// so this scales with cores; within one image the work is sequential.
pub fn hash_many(inputs: &[&[u8]], limits: &DecodeLimits) -> Vec<Result<PdqOutput, PdqError>> {
    use rayon::prelude::*;
    inputs
        .par_iter()
        .map(|b| hash_image_bytes(b, limits))
        .collect()
}

/// Hashes interleaved 8-bit RGB pixels (`width * height * 3` bytes) as the
/// reference would after decoding: pre-resize, luma, PDQ.
pub fn hash_rgb8(width: u32, height: u32, rgb: &[u8]) -> Result<PdqOutput, PdqError> {
    hash_pixels(width, height, rgb, 3)
}

/// Hashes 8-bit greyscale pixels (`width * height` bytes). Grey luma is the
/// value itself, as in the reference's one-channel path.
pub fn hash_gray8(width: u32, height: u32, gray: &[u8]) -> Result<PdqOutput, PdqError> {
    hash_pixels(width, height, gray, 1)
}

/// The reference's hashing core on a float luma plane (`rows * cols`,
/// row-major), without any pre-resize. `luma` is overwritten (the filter runs
/// in place). Returns `BufferSize` if the length does not match.
pub fn hash_float_luma(luma: &mut [f32], rows: usize, cols: usize) -> Result<PdqHashes, PdqError> {
    let expected = rows as u64 * cols as u64;
    if luma.len() as u64 != expected {
        return Err(PdqError::BufferSize {
            expected,
            actual: luma.len() as u64,
        });
    }
    Ok(core::hash_float_luma(luma, rows, cols))
}

fn hash_pixels(width: u32, height: u32, px: &[u8], channels: usize) -> Result<PdqOutput, PdqError> {
    let expected = u64::from(width) * u64::from(height) * channels as u64;
    if px.len() as u64 != expected {
        return Err(PdqError::BufferSize {
            expected,
            actual: px.len() as u64,
        });
    }
    let plan = raster::SamplePlan::new(width as usize, height as usize);
    let sampled = raster::Sampled::from_full(&plan, px, width as usize, channels);
    Ok(finish(sampled, width, height, None))
}

fn finish(
    sampled: raster::Sampled,
    width: u32,
    height: u32,
    exif_orientation: Option<u8>,
) -> PdqOutput {
    let (rows, cols) = (sampled.height, sampled.width);
    let h = match sampled.into_hash_input() {
        (mut lt, true) => core::hash_float_luma_transposed(&mut lt, rows, cols),
        (mut luma, false) => core::hash_float_luma(&mut luma, rows, cols),
    };
    PdqOutput {
        hash: h.hash,
        quality: h.quality,
        dihedral: h.dihedral,
        width,
        height,
        exif_orientation,
    }
}

/// Stage-by-stage entry points for the benchmark (`examples/pdq_bench.rs`),
/// so it can say where the time goes. Not a stable API.
#[doc(hidden)]
pub mod bench_support {
    use super::*;

    /// Decoded and pre-resized pixels (1 or 3 channels).
    pub struct Sample(raster::Sampled);

    impl Sample {
        pub fn dims(&self) -> (usize, usize) {
            (self.0.height, self.0.width)
        }

        /// The sampled pixels, interleaved.
        pub fn pixels(&self) -> &[u8] {
            &self.0.data
        }
    }

    pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Sample, PdqError> {
        match detect_format(bytes).ok_or(PdqError::Unsupported)? {
            ImageFormat::Jpeg => Ok(Sample(jpeg::decode_sampled(bytes, limits.max_pixels)?.0)),
            other => Ok(Sample(
                formats::decode_lossless(bytes, other, limits.max_pixels)?.sampled,
            )),
        }
    }

    /// JPEG only, by one route: `Streaming` (our baseline decoder; `None`
    /// when the file does not qualify) or `Libjpeg` (libjpeg's
    /// `jpeg_read_coefficients`, as before the streaming decoder; `None`
    /// when only libjpeg's full decode applies).
    pub fn decode_jpeg_route(
        bytes: &[u8],
        limits: &DecodeLimits,
        streaming: bool,
    ) -> Result<Option<Sample>, PdqError> {
        let mode = if streaming {
            jpeg::Mode::StreamingOnly
        } else {
            jpeg::Mode::Coefficients { baseline: false }
        };
        Ok(jpeg::decode_with(bytes, limits.max_pixels, mode)?.map(|r| Sample(r.0)))
    }

    /// The float luma as the hash takes it (already computed, and
    /// transposed, by the decoder for colour JPEGs).
    pub fn luma(s: Sample) -> JpegLuma {
        let (rows, cols) = (s.0.height, s.0.width);
        let (luma, transposed) = s.0.into_hash_input();
        JpegLuma {
            luma,
            rows,
            cols,
            transposed,
        }
    }

    /// A luma plane as the hash consumes it.
    pub struct JpegLuma {
        pub luma: Vec<f32>,
        pub rows: usize,
        pub cols: usize,
        /// `luma[c * rows + r]` instead of `luma[r * cols + c]`.
        pub transposed: bool,
    }

    impl JpegLuma {
        /// Value at row `r`, column `c`, whatever the layout.
        pub fn at(&self, r: usize, c: usize) -> f32 {
            if self.transposed {
                self.luma[c * self.rows + r]
            } else {
                self.luma[r * self.cols + c]
            }
        }
    }

    /// JPEG only, to float luma by one route (`None` when the file takes
    /// libjpeg's full decode): `fused` is the hashing route (upsampling,
    /// colour and luma in one AVX2 pass, no RGB plane); otherwise the same
    /// decoder produces RGB bytes and the luma is computed from them, as
    /// before the fusion. The fused plane comes back transposed, as the
    /// hash takes it.
    pub fn decode_jpeg_luma(
        bytes: &[u8],
        limits: &DecodeLimits,
        fused: bool,
    ) -> Result<Option<JpegLuma>, PdqError> {
        let mode = if fused {
            jpeg::Mode::Hash
        } else {
            jpeg::Mode::Coefficients { baseline: true }
        };
        // In the layout the hash consumes (transposed on the fused route).
        Ok(jpeg::decode_with(bytes, limits.max_pixels, mode)?.map(|r| {
            let (rows, cols) = (r.0.height, r.0.width);
            let (luma, transposed) = r.0.into_hash_input();
            JpegLuma {
                luma,
                rows,
                cols,
                transposed,
            }
        }))
    }

    pub fn filter(l: &mut JpegLuma) -> [[f32; 64]; 64] {
        if l.transposed {
            let mut scratch = vec![0f32; l.rows * l.cols];
            jarosz::filter_and_decimate_transposed(&mut l.luma, &mut scratch, l.rows, l.cols)
        } else {
            jarosz::filter_and_decimate(&mut l.luma, l.rows, l.cols)
        }
    }

    /// Quality, DCT, medians and bits from a 64x64 plane.
    pub fn dct_and_bits(a: &[[f32; 64]; 64]) -> (u8, [PdqHash; 8]) {
        core::hashes_from_64x64(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_size_is_checked() {
        assert!(matches!(
            hash_rgb8(10, 10, &[0u8; 299]),
            Err(PdqError::BufferSize { expected: 300, .. })
        ));
        let mut l = vec![0f32; 10];
        assert!(hash_float_luma(&mut l, 3, 4).is_err());
    }

    #[test]
    fn tiny_rgb_image_is_all_zero() {
        let out = hash_rgb8(4, 9, &[200u8; 4 * 9 * 3]).unwrap();
        assert_eq!(out.quality, 0);
        assert_eq!(out.hash.to_hex(), "0".repeat(64));
    }

    #[test]
    fn unknown_bytes_are_unsupported() {
        let limits = DecodeLimits::default();
        assert!(matches!(
            hash_image_bytes(b"hello, world", &limits),
            Err(PdqError::Unsupported)
        ));
    }
}
