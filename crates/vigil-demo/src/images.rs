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
    /// Random fields (value noise, one grid per octave) blended into every
    /// pattern. Real pictures have energy at every scale (a 1/f spectrum);
    /// PDQ thresholds 256 low-frequency coefficients at their median, so a
    /// picture with energy in only a few of them has unstable bits. The
    /// octaves give the spectrum photographs have, without a photograph.
    fields: Vec<Vec<f32>>,
    noise_seed: u64,
}

/// Grid sizes and amplitudes of the octaves.
const OCTAVES: [(usize, f32); 4] = [(4, 1.0), (7, 0.6), (13, 0.4), (25, 0.25)];

/// The copies of a picture found on seized devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The picture as first encoded (PNG): byte-identical copies share MD5.
    Original,
    /// Scaled to 75 % and re-encoded as PNG.
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
    /// Draws the parameters of a picture of about 200 pixels a side.
    pub fn random(rng: &mut Rng) -> Picture {
        let pattern = *rng.pick(&PATTERNS);
        let width = rng.range(192, 257) as u32;
        let height = rng.range(160, 241) as u32;
        // a dark, a middle and a bright colour: the ramp must span the
        // luminance range, since PDQ sees only luma
        let mut color = |lo: f64, span: f64| {
            [
                ((lo + span * rng.unit()) * 255.0) as f32,
                ((lo + span * rng.unit()) * 255.0) as f32,
                ((lo + span * rng.unit()) * 255.0) as f32,
            ]
        };
        let colors = [color(0.0, 0.3), color(0.35, 0.3), color(0.7, 0.3)];
        let mut params = [0f32; 8];
        for p in &mut params {
            *p = rng.unit() as f32;
        }
        let fields = OCTAVES
            .iter()
            .map(|&(n, _)| (0..n * n).map(|_| rng.unit() as f32).collect())
            .collect();
        Picture {
            pattern,
            width,
            height,
            colors,
            params,
            fields,
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
                    0.5 + 0.5 * (r * (3.0 + 5.0 * p[2]) * std::f32::consts::TAU).sin()
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
                    let s = (d * (2.0 + 3.0 * p[1]) * std::f32::consts::TAU).sin();
                    0.5 + 0.5 * s
                }
                Pattern::Checker => {
                    let n = 2.0 + 3.0 * p[0];
                    let s =
                        (u * n * std::f32::consts::PI).sin() * (v * n * std::f32::consts::PI).sin();
                    0.5 + 0.5 * (s * 1.5).clamp(-1.0, 1.0)
                }
            };
            let t = (0.3 * t + 0.7 * self.fractal(u, v)).clamp(0.0, 1.0);
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

    /// The octaves at `(u, v)` in `[0, 1)²`, normalised to `[0, 1]`.
    fn fractal(&self, u: f32, v: f32) -> f32 {
        let mut acc = 0.0;
        let mut total = 0.0;
        for (field, &(n, amp)) in self.fields.iter().zip(OCTAVES.iter()) {
            acc += amp * field_at(field, n, u, v);
            total += amp;
        }
        acc / total
    }

    /// The encoded bytes of a copy of this picture.
    pub fn encode(&self, variant: Variant) -> Result<Vec<u8>, image::ImageError> {
        let img = self.render();
        match variant {
            Variant::Original => png(&img),
            Variant::Resized => {
                let w = (self.width * 3 / 4).max(64);
                let h = (self.height * 3 / 4).max(64);
                png(&imageops::resize(
                    &img,
                    w,
                    h,
                    imageops::FilterType::Triangle,
                ))
            }
            Variant::Recompressed => jpeg(&img, 65),
            Variant::Mirrored => png(&imageops::flip_horizontal(&img)),
        }
    }
}

/// Value noise on an `n`×`n` grid at `(u, v)`, smoothly interpolated.
fn field_at(field: &[f32], n: usize, u: f32, v: f32) -> f32 {
    let m = (n - 1) as f32;
    let (x, y) = (u * m, v * m);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(n - 1), (y0 + 1).min(n - 1));
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    let (fx, fy) = (smooth(x - x0 as f32), smooth(y - y0 as f32));
    let at = |i: usize, j: usize| field.get(j * n + i).copied().unwrap_or(0.5);
    let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
    let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
    top + (bottom - top) * fy
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
