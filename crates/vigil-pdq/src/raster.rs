//! The reference's pre-resize and luma conversion on 8-bit pixels.
//!
//! `pdq-photo-hasher` shrinks (or stretches) any image with a side over 512
//! to exactly 512x512 with CImg's nearest-neighbour resize before hashing,
//! ignoring the aspect ratio. Only the sampled pixels ever matter, which is
//! what lets decoders produce the 512x512 sample directly instead of a
//! full-size buffer.

use crate::core::{LUMA_B, LUMA_G, LUMA_R};

/// Side of the pre-resize target (`DOWNSAMPLE_DIMS` in `pdqio.cpp`).
pub const PRE_RESIZE_DIM: usize = 512;

/// Which source pixel feeds each output pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SamplePlan {
    /// Source column for each output column (non-decreasing).
    pub xs: Vec<u32>,
    /// Source row for each output row (non-decreasing).
    pub ys: Vec<u32>,
}

impl SamplePlan {
    /// Identity when both sides are <= 512, else CImg's nearest neighbour to
    /// 512x512: `src = floor(dst * size / 512)`.
    pub fn new(width: usize, height: usize) -> Self {
        let resize = width > PRE_RESIZE_DIM || height > PRE_RESIZE_DIM;
        let axis = |n: usize| -> Vec<u32> {
            if resize {
                (0..PRE_RESIZE_DIM)
                    .map(|d| ((d as u64 * n as u64) / PRE_RESIZE_DIM as u64) as u32)
                    .collect()
            } else {
                (0..n as u32).collect()
            }
        };
        Self {
            xs: axis(width),
            ys: axis(height),
        }
    }

    pub fn out_width(&self) -> usize {
        self.xs.len()
    }

    pub fn out_height(&self) -> usize {
        self.ys.len()
    }
}

/// 8-bit pixels after the pre-resize: 1 channel (grey) or 3 (RGB),
/// interleaved, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sampled {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
    /// The float luma, when the decoder computed it directly instead of
    /// `data` (the JPEG hashing route); empty otherwise.
    pub luma: Vec<f32>,
    /// `luma` is stored transposed (`luma[c * height + r]`), which is how
    /// the filter wants it.
    pub luma_transposed: bool,
}

impl Sampled {
    /// Pixels only; the luma is computed from them on demand.
    pub fn pixels(width: usize, height: usize, channels: usize, data: Vec<u8>) -> Sampled {
        Sampled {
            width,
            height,
            channels,
            data,
            luma: Vec::new(),
            luma_transposed: false,
        }
    }

    /// Same size and bit-identical float luma: what the hash sees.
    #[cfg(test)]
    pub fn same_luma(&self, other: &Sampled) -> bool {
        let bits = |s: &Sampled| s.luma().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        (self.width, self.height) == (other.width, other.height) && bits(self) == bits(other)
    }

    /// The float luma in whichever layout it is (no copy) and whether it
    /// is transposed.
    pub fn into_hash_input(self) -> (Vec<f32>, bool) {
        if self.luma.is_empty() {
            (self.luma(), false)
        } else {
            (self.luma, self.luma_transposed)
        }
    }

    /// Samples a full interleaved buffer through `plan`.
    pub fn from_full(plan: &SamplePlan, src: &[u8], src_width: usize, channels: usize) -> Sampled {
        let (w, h) = (plan.out_width(), plan.out_height());
        let mut data = Vec::with_capacity(w * h * channels);
        for &y in &plan.ys {
            let row = &src[y as usize * src_width * channels..][..src_width * channels];
            sample_row(row, &plan.xs, channels, &mut data);
        }
        Sampled::pixels(w, h, channels, data)
    }

    /// The reference's float luma: `0.299f*R + 0.587f*G + 0.114f*B` left to
    /// right for colour; the value itself for grey (which is *not* the
    /// colour formula with R=G=B: that is off by one ulp for some values).
    pub fn luma(&self) -> Vec<f32> {
        if !self.luma.is_empty() {
            if !self.luma_transposed {
                return self.luma.clone();
            }
            let (w, h) = (self.width, self.height);
            let mut out = vec![0f32; w * h];
            for (r, row) in out.chunks_exact_mut(w.max(1)).enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = self.luma[c * h + r];
                }
            }
            return out;
        }
        let mut out = vec![0f32; self.width * self.height];
        match self.channels {
            1 => {
                for (o, &v) in out.iter_mut().zip(&self.data) {
                    *o = f32::from(v);
                }
            }
            _ => {
                for (o, p) in out.iter_mut().zip(self.data.chunks_exact(3)) {
                    *o = LUMA_R * f32::from(p[0])
                        + LUMA_G * f32::from(p[1])
                        + LUMA_B * f32::from(p[2]);
                }
            }
        }
        out
    }
}

/// Appends the pixels of `row` at columns `xs` to `out`.
pub(crate) fn sample_row(row: &[u8], xs: &[u32], channels: usize, out: &mut Vec<u8>) {
    match channels {
        1 => out.extend(xs.iter().map(|&x| row[x as usize])),
        3 => {
            for &x in xs {
                let p = &row[x as usize * 3..x as usize * 3 + 3];
                out.extend_from_slice(p);
            }
        }
        _ => {
            for &x in xs {
                out.extend_from_slice(&row[x as usize * channels..][..channels]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_images_are_not_resized() {
        let p = SamplePlan::new(512, 300);
        assert_eq!(p.out_width(), 512);
        assert_eq!(p.out_height(), 300);
        assert_eq!(p.ys[299], 299);
    }

    #[test]
    fn any_side_over_512_gives_exactly_512_square() {
        let p = SamplePlan::new(640, 480);
        assert_eq!((p.out_width(), p.out_height()), (512, 512));
        // 480 rows are stretched: some source rows repeat.
        assert_eq!(p.ys[1], 0);
        assert_eq!(p.ys[511], 479);
        assert_eq!(p.xs[511], 638);
        let q = SamplePlan::new(4032, 3024);
        assert_eq!(q.xs[1], 7);
        assert_eq!(q.ys[511], (511 * 3024 / 512) as u32);
    }

    #[test]
    fn grey_luma_is_the_value_itself() {
        let s = Sampled::pixels(2, 1, 1, vec![0, 255]);
        assert_eq!(s.luma(), vec![0.0, 255.0]);
        let c = Sampled::pixels(1, 1, 3, vec![10, 20, 30]);
        assert_eq!(
            c.luma(),
            vec![0.299f32 * 10.0 + 0.587f32 * 20.0 + 0.114f32 * 30.0]
        );
    }
}
