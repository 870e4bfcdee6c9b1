//! Procedurally generated images: gradients, rings, interference patterns,
//! blobs, stripes — never photographs — and the copies an offender's
//! collection really holds of them (resized, recompressed as JPEG,
//! mirrored). Patterns are smooth with a little noise so that, like real
//! pictures, their PDQ hashes survive resizing and recompression.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, Rgb, RgbImage, imageops};

use crate::rng::Rng;

/// The kinds of picture the generator draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Gradient,
    Rings,
    Plasma,
    Blobs,
    Stripes,
    Checker,
}

const PATTERNS: [Pattern; 6] = [
    Pattern::Gradient,
    Pattern::Rings,
    Pattern::Plasma,
    Pattern::Blobs,
    Pattern::Stripes,
    Pattern::Checker,
];

/// The parameters of one picture; the same parameters always render the
/// same pixels.
#[derive(Debug, Clone)]
pub struct Picture {
    pub pattern: Pattern,
    pub width: u32,
    pub height: u32,
    colors: [[f32; 3]; 3],
    params: [f32; 8],
    noise_seed: u64,
}

/// The copies of a picture found on seized devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The picture as first encoded (PNG): byte-identical copies share MD5.
    Original,
    /// Scaled to about 60 % and re-encoded as PNG.
    Resized,
    /// Re-encoded as a low-quality JPEG.
    Recompressed,
    /// Mirrored left to right (PNG): matched through PDQ's dihedral hashes.
    Mirrored,
}

impl Variant {
    pub fn extension(self) -> &'static str {
        match self {
            Variant::Recompressed => "jpg",
            _ => "png",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Resized => "resized",
            Variant::Recompressed => "recompressed",
            Variant::Mirrored => "mirrored",
        }
    }
}

impl Picture {
    /// Draws the parameters of a picture between 64 and 256 pixels a side.
    pub fn random(rng: &mut Rng) -> Picture {
        let pattern = *rng.pick(&PATTERNS);
        let width = rng.range(96, 257) as u32;
        let height = rng.range(80, 225) as u32;
        let mut color = || {
            [
                rng.unit() as f32 * 255.0,
                rng.unit() as f32 * 255.0,
                rng.unit() as f32 * 255.0,
            ]
        };
        let colors = [color(), color(), color()];
        let mut params = [0f32; 8];
        for p in &mut params {
            *p = rng.unit() as f32;
        }
        Picture {
            pattern,
            width,
            height,
            colors,
            params,
            noise_seed: rng.next_u64(),
        }
    }

    pub fn render(&self) -> RgbImage {
        let (w, h) = (self.width as f32, self.height as f32);
        let p = &self.params;
        RgbImage::from_fn(self.width, self.height, |x, y| {
            let u = x as f32 / w;
            let v = y as f32 / h;
            let t = match self.pattern {
                Pattern::Gradient => {
                    let a = p[0] * std::f32::consts::TAU;
                    let g = (u - 0.5) * a.cos() + (v - 0.5) * a.sin() + 0.5;
                    g + 0.15 * ((u * (3.0 + 6.0 * p[1])) * std::f32::consts::TAU).sin()
                }
                Pattern::Rings => {
                    let (cx, cy) = (0.2 + 0.6 * p[0], 0.2 + 0.6 * p[1]);
                    let r = ((u - cx).powi(2) + (v - cy).powi(2)).sqrt();
                    0.5 + 0.5 * (r * (8.0 + 14.0 * p[2]) * std::f32::consts::TAU / 2.0).sin()
                }
                Pattern::Plasma => {
                    let s1 = (u * (2.0 + 5.0 * p[0]) * 3.0 + p[3] * 6.0).sin();
                    let s2 = (v * (2.0 + 5.0 * p[1]) * 3.0 + p[4] * 6.0).sin();
                    let s3 = ((u + v) * (2.0 + 4.0 * p[2]) * 3.0 + p[5] * 6.0).sin();
                    0.5 + (s1 + s2 + s3) / 6.0
                }
                Pattern::Blobs => {
                    let mut acc = 0.0;
                    for k in 0..4 {
                        let cx = p[k];
                        let cy = p[(k + 4) % 8];
                        let d2 = (u - cx).powi(2) + (v - cy).powi(2);
                        acc += (-d2 * 18.0).exp() * if k % 2 == 0 { 1.0 } else { -0.7 };
                    }
                    0.4 + acc * 0.6
                }
                Pattern::Stripes => {
                    let a = p[0] * std::f32::consts::PI;
                    let d = u * a.cos() + v * a.sin();
                    let s = (d * (4.0 + 8.0 * p[1]) * std::f32::consts::TAU).sin();
                    0.5 + 0.5 * s.clamp(-0.6, 0.6) / 0.6
                }
                Pattern::Checker => {
                    let n = 2.0 + 6.0 * p[0];
                    let s =
                        (u * n * std::f32::consts::PI).sin() * (v * n * std::f32::consts::PI).sin();
                    0.5 + 0.5 * (s * 3.0).clamp(-1.0, 1.0)
                }
            };
            let t = t.clamp(0.0, 1.0);
            let (c0, c1, c2) = (&self.colors[0], &self.colors[1], &self.colors[2]);
            let noise = pixel_noise(self.noise_seed, x, y);
            let mut px = [0u8; 3];
            for (i, out) in px.iter_mut().enumerate() {
                // a two-segment colour ramp plus a vertical tint
                let base = if t < 0.5 {
                    c0[i] + (c1[i] - c0[i]) * t * 2.0
                } else {
                    c1[i] + (c2[i] - c1[i]) * (t - 0.5) * 2.0
                };
                let val = base * (0.85 + 0.15 * v) + noise;
                *out = val.clamp(0.0, 255.0) as u8;
            }
            Rgb(px)
        })
    }

    /// The encoded bytes of a copy of this picture.
    pub fn encode(&self, variant: Variant) -> Result<Vec<u8>, image::ImageError> {
        let img = self.render();
        match variant {
            Variant::Original => png(&img),
            Variant::Resized => {
                let w = (self.width * 3 / 5).max(64);
                let h = (self.height * 3 / 5).max(64);
                png(&imageops::resize(
                    &img,
                    w,
                    h,
                    imageops::FilterType::Triangle,
                ))
            }
            Variant::Recompressed => jpeg(&img, 55),
            Variant::Mirrored => png(&imageops::flip_horizontal(&img)),
        }
    }
}

/// Deterministic per-pixel noise in about ±5 levels.
fn pixel_noise(seed: u64, x: u32, y: u32) -> f32 {
    let mut z = seed ^ (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 29;
    (z % 11) as f32 - 5.0
}

fn png(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut buf = Cursor::new(Vec::new());
    img.write_to(&mut buf, ImageFormat::Png)?;
    Ok(buf.into_inner())
}

fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut buf = Vec::new();
    JpegEncoder::new_with_quality(&mut buf, quality).encode_image(img)?;
    Ok(buf)
}
