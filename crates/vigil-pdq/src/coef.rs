//! Sampled JPEG reconstruction: libjpeg entropy-decodes (all of it, which
//! cannot be avoided), and we rebuild only the pixels the 512x512
//! nearest-neighbour pre-resize reads, with integer arithmetic identical to
//! libjpeg-turbo's C paths:
//!
//! * `jpeg_idct_islow` (jidctint.c): 13-bit constants, PASS1_BITS = 2,
//!   64-bit intermediates, the post-IDCT range-limit table including its
//!   wrap-around for out-of-range values;
//! * `h2v1_fancy_upsample` / `h2v2_fancy_upsample` (jdsample.c): triangle
//!   filter with libjpeg's rounding biases; edges replicate the first/last
//!   *real* sample (`downsampled_width/height`), as libjpeg's context rows do;
//! * `ycc_rgb_convert` (jdcolor.c): 16-bit fixed-point tables.
//!
//! Because every output pixel is a pure integer function of the
//! coefficients, computing a subset of them gives exactly the values a full
//! decode would. Anything outside the verified layouts (4:4:4, 4:2:2,
//! 4:2:0 YCbCr, greyscale, no block smoothing) returns `None` and the caller
//! uses libjpeg's own full decode instead.

use mozjpeg_sys as sys;

use crate::core::{LUMA_B, LUMA_G, LUMA_R};
use crate::jarosz::transpose_strip;
use crate::raster::{SamplePlan, Sampled};

/// Component geometry the reconstruction needs, copied out of libjpeg.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comp {
    pub h: usize,
    pub v: usize,
    pub width_in_blocks: usize,
    pub height_in_blocks: usize,
    /// Real samples (`downsampled_width/height` in libjpeg).
    pub width: usize,
    pub height: usize,
}

/// Which sampling layouts the fast path reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Gray,
    /// YCbCr with Y at (h, v) in {(1,1), (2,1), (2,2)} and chroma at 1x1.
    Ycc {
        h: usize,
        v: usize,
    },
}

/// Decides the layout from header fields; `None` means "use libjpeg".
pub(crate) fn layout(comps: &[Comp], ycc: bool, image_w: usize) -> Option<Layout> {
    match comps {
        [_] => Some(Layout::Gray),
        [y, cb, cr] if ycc => {
            if (cb.h, cb.v, cr.h, cr.v) != (1, 1, 1, 1) {
                return None;
            }
            match (y.h, y.v) {
                (1, 1) => Some(Layout::Ycc { h: 1, v: 1 }),
                // libjpeg only uses the fancy filters when the chroma row is
                // wider than 2 samples.
                (2, 1) | (2, 2) if image_w.div_ceil(2) > 2 => Some(Layout::Ycc { h: y.h, v: y.v }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Source of coefficient block rows for one component.
pub(crate) trait BlockRows {
    /// Block row `by` (`width_in_blocks` blocks, natural order).
    fn row(&mut self, by: usize) -> &[[i16; 64]];
}

/// Reconstructed rows of one component plane, only those asked for.
struct PlaneRows {
    slot: Vec<u32>,
    stride: usize,
    data: Vec<u8>,
}

const NO_SLOT: u32 = u32::MAX;

/// Spare bytes after the last plane row: the AVX2 sampler gathers 32-bit
/// words at byte offsets, so the word at the last column reads 3 bytes on.
const GATHER_PAD: usize = 4;

impl PlaneRows {
    fn row(&self, r: usize) -> &[u8] {
        let s = self.slot[r] as usize;
        &self.data[s * self.stride..(s + 1) * self.stride]
    }

    /// Row `r` plus the [`GATHER_PAD`] bytes after it (the next row's or
    /// the spare ones at the end).
    fn padded_row(&self, r: usize) -> &[u8] {
        let s = self.slot[r] as usize;
        &self.data[s * self.stride..(s + 1) * self.stride + GATHER_PAD]
    }
}

/// Builds one component plane block by block, in any block order: which
/// blocks matter is decided up front, so a streaming entropy decoder can
/// hand over each block as soon as it is decoded and keep no coefficient
/// buffer at all.
pub(crate) struct PlaneBuilder {
    qt: [i32; 64],
    /// Per block row: which of its 8 pixel rows are read (0 = none).
    masks: Vec<u8>,
    /// Per block column: whether any of its 8 pixel columns is read.
    blocks: Vec<bool>,
    plane: PlaneRows,
}

impl PlaneBuilder {
    fn new(comp: &Comp, qt: &[i32; 64], rows: &[bool], blocks: Vec<bool>) -> Self {
        let stride = comp.width_in_blocks * 8;
        let mut slot = vec![NO_SLOT; rows.len()];
        let mut n = 0u32;
        for (r, &want) in rows.iter().enumerate() {
            if want {
                slot[r] = n;
                n += 1;
            }
        }
        let nrows = rows.len().div_ceil(8).min(comp.height_in_blocks);
        let masks = (0..nrows)
            .map(|by| {
                (0..8).fold(0u8, |m, k| {
                    if rows.get(by * 8 + k).copied().unwrap_or(false) {
                        m | 1 << k
                    } else {
                        m
                    }
                })
            })
            .collect();
        PlaneBuilder {
            qt: *qt,
            masks,
            blocks,
            plane: PlaneRows {
                slot,
                stride,
                data: vec![0u8; n as usize * stride + GATHER_PAD],
            },
        }
    }

    /// Whether block (`by`, `bx`) contributes a sampled pixel. Blocks
    /// outside the component (MCU padding) never do.
    #[inline(always)]
    pub fn wants(&self, by: usize, bx: usize) -> bool {
        self.masks.get(by).is_some_and(|&m| m != 0) && self.blocks.get(bx).copied().unwrap_or(false)
    }

    /// Whether any block of block row `by` is wanted.
    fn wants_row(&self, by: usize) -> bool {
        self.masks.get(by).is_some_and(|&m| m != 0)
    }

    /// IDCTs block (`by`, `bx`) (natural order, quantised) into the rows
    /// that are read. Blocks that are not wanted are ignored.
    #[inline]
    pub fn put(&mut self, by: usize, bx: usize, block: &[i16; 64]) {
        if !self.wants(by, bx) {
            return;
        }
        let mask = self.masks[by];
        let mut out = [[0u8; 8]; 8];
        idct_block(block, &self.qt, mask, &mut out);
        let p = &mut self.plane;
        for (k, o) in out.iter().enumerate() {
            if mask & (1 << k) != 0 {
                let at = p.slot[by * 8 + k] as usize * p.stride + bx * 8;
                p.data[at..at + 8].copy_from_slice(o);
            }
        }
    }
}

const CONST_BITS: i64 = 13;
const PASS1_BITS: i64 = 2;
const FIX_0_298631336: i64 = 2446;
const FIX_0_390180644: i64 = 3196;
const FIX_0_541196100: i64 = 4433;
const FIX_0_765366865: i64 = 6270;
const FIX_0_899976223: i64 = 7373;
const FIX_1_175875602: i64 = 9633;
const FIX_1_501321110: i64 = 12299;
const FIX_1_847759065: i64 = 15137;
const FIX_1_961570560: i64 = 16069;
const FIX_2_053119869: i64 = 16819;
const FIX_2_562915447: i64 = 20995;
const FIX_3_072711026: i64 = 25172;

#[inline(always)]
fn descale(x: i64, n: i64) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// libjpeg's post-IDCT range limit: `x + 128` clamped for the plausible
/// range, and the table's wrap-around (`x & 1023`) beyond it.
#[inline(always)]
fn range_limit(x: i64) -> u8 {
    let i = (x as i32 & 1023) as usize;
    match i {
        0..=127 => (i + 128) as u8,
        128..=511 => 255,
        512..=895 => 0,
        _ => (i - 896) as u8,
    }
}

/// One 1-D islow butterfly on eight values (`x[k]` = input k). Returns
/// outputs 0..8 before descaling.
#[inline(always)]
fn butterfly(x: [i64; 8]) -> [i64; 8] {
    let (z2, z3) = (x[2], x[6]);
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (x[0] + x[4]) << CONST_BITS;
    let tmp1 = (x[0] - x[4]) << CONST_BITS;
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;

    let (t0, t1, t2, t3) = (x[7], x[5], x[3], x[1]);
    let z1 = t0 + t3;
    let z2 = t1 + t2;
    let z3 = t0 + t2;
    let z4 = t1 + t3;
    let z5 = (z3 + z4) * FIX_1_175875602;
    let mut t0 = t0 * FIX_0_298631336;
    let mut t1 = t1 * FIX_2_053119869;
    let mut t2 = t2 * FIX_3_072711026;
    let mut t3 = t3 * FIX_1_501321110;
    let z1 = z1 * -FIX_0_899976223;
    let z2 = z2 * -FIX_2_562915447;
    let z3 = z3 * -FIX_1_961570560 + z5;
    let z4 = z4 * -FIX_0_390180644 + z5;
    t0 += z1 + z3;
    t1 += z2 + z4;
    t2 += z2 + z3;
    t3 += z1 + z4;
    [
        tmp10 + t3,
        tmp11 + t2,
        tmp12 + t1,
        tmp13 + t0,
        tmp13 - t0,
        tmp12 - t1,
        tmp11 - t2,
        tmp10 - t3,
    ]
}

/// libjpeg's pass-1 value for a column whose AC terms are all zero:
/// `LEFT_SHIFT(DEQUANTIZE(dc), PASS1_BITS)` in C `int` (wrapping).
#[inline(always)]
fn dc_shortcut(dc: i16, q: i32) -> i32 {
    ((i32::from(dc).wrapping_mul(q) as u32) << PASS1_BITS) as i32
}

/// `jpeg_idct_islow` for the output rows in `mask`, including libjpeg's
/// all-zero shortcuts (equal to the full butterflies except where C `int`
/// arithmetic would wrap, which they therefore reproduce).
fn idct_islow(coef: &[i16; 64], qt: &[i32; 64], mask: u8, out: &mut [[u8; 8]; 8]) {
    let mut ws = [[0i64; 8]; 8]; // ws[row][col]
    for c in 0..8 {
        if (1..8).all(|k| coef[k * 8 + c] == 0) {
            let v = i64::from(dc_shortcut(coef[c], qt[c]));
            for row in ws.iter_mut() {
                row[c] = v;
            }
            continue;
        }
        let mut x = [0i64; 8];
        for (k, v) in x.iter_mut().enumerate() {
            *v = i64::from(i32::from(coef[k * 8 + c]) * qt[k * 8 + c]);
        }
        let y = butterfly(x);
        for (r, v) in y.iter().enumerate() {
            // The workspace is `int` in libjpeg.
            ws[r][c] = i64::from(descale(*v, CONST_BITS - PASS1_BITS) as i32);
        }
    }
    for r in 0..8 {
        if mask & (1 << r) == 0 {
            continue;
        }
        if ws[r][1..].iter().all(|&v| v == 0) {
            out[r] = [range_limit(descale(ws[r][0], PASS1_BITS + 3)); 8];
            continue;
        }
        let y = butterfly(ws[r]);
        for (c, v) in y.iter().enumerate() {
            out[r][c] = range_limit(descale(*v, CONST_BITS + PASS1_BITS + 3));
        }
    }
}

/// Largest |input| for which the 32-bit IDCT provably cannot overflow: the
/// biggest intermediate of one islow butterfly is below 178219x the largest
/// input magnitude (summing |constants| along every path), and with the
/// rounding bias that stays under 2^31 up to 12000. Real images stay far
/// below (dequantised 8-bit coefficients are about +-1100, pass-1 outputs
/// about +-4500); anything above takes the 64-bit path, which is libjpeg's
/// own `JLONG` arithmetic.
const I32_SAFE: i32 = 12_000;

/// Dispatches to the fastest exact IDCT for this block: AVX2 in 32-bit
/// lanes when the CPU has it and the block is in the overflow-safe range,
/// otherwise libjpeg's 64-bit scalar arithmetic.
#[inline]
fn idct_block(coef: &[i16; 64], qt: &[i32; 64], mask: u8, out: &mut [[u8; 8]; 8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        if unsafe { avx2::idct(coef, qt, out) } {
            return;
        }
    }
    idct_islow(coef, qt, mask, out);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! islow in eight 32-bit lanes: pass 1 with one lane per column, an
    //! 8x8 transpose, pass 2 with one lane per row, a transpose back.
    //! Every lane performs exactly libjpeg's integer operations; the
    //! caller guarantees (via the range checks here) that none overflows.

    use std::arch::x86_64::*;

    use super::*;

    #[inline(always)]
    unsafe fn k(c: i64) -> __m256i {
        unsafe { _mm256_set1_epi32(c as i32) }
    }

    #[inline(always)]
    unsafe fn butterfly(x: &[__m256i; 8]) -> [__m256i; 8] {
        unsafe {
            let mul = |a: __m256i, c: i64| _mm256_mullo_epi32(a, k(c));
            let add = |a, b| _mm256_add_epi32(a, b);
            let sub = |a, b| _mm256_sub_epi32(a, b);
            let z1 = mul(add(x[2], x[6]), FIX_0_541196100);
            let tmp2 = add(z1, mul(x[6], -FIX_1_847759065));
            let tmp3 = add(z1, mul(x[2], FIX_0_765366865));
            let tmp0 = _mm256_slli_epi32::<13>(add(x[0], x[4]));
            let tmp1 = _mm256_slli_epi32::<13>(sub(x[0], x[4]));
            let tmp10 = add(tmp0, tmp3);
            let tmp13 = sub(tmp0, tmp3);
            let tmp11 = add(tmp1, tmp2);
            let tmp12 = sub(tmp1, tmp2);

            let (t0, t1, t2, t3) = (x[7], x[5], x[3], x[1]);
            let z1 = add(t0, t3);
            let z2 = add(t1, t2);
            let z3 = add(t0, t2);
            let z4 = add(t1, t3);
            let z5 = mul(add(z3, z4), FIX_1_175875602);
            let t0 = mul(t0, FIX_0_298631336);
            let t1 = mul(t1, FIX_2_053119869);
            let t2 = mul(t2, FIX_3_072711026);
            let t3 = mul(t3, FIX_1_501321110);
            let z1 = mul(z1, -FIX_0_899976223);
            let z2 = mul(z2, -FIX_2_562915447);
            let z3 = add(mul(z3, -FIX_1_961570560), z5);
            let z4 = add(mul(z4, -FIX_0_390180644), z5);
            let t0 = add(t0, add(z1, z3));
            let t1 = add(t1, add(z2, z4));
            let t2 = add(t2, add(z2, z3));
            let t3 = add(t3, add(z1, z4));
            [
                add(tmp10, t3),
                add(tmp11, t2),
                add(tmp12, t1),
                add(tmp13, t0),
                sub(tmp13, t0),
                sub(tmp12, t1),
                sub(tmp11, t2),
                sub(tmp10, t3),
            ]
        }
    }

    #[inline(always)]
    unsafe fn transpose(m: [__m256i; 8]) -> [__m256i; 8] {
        unsafe {
            let t0 = _mm256_unpacklo_epi32(m[0], m[1]);
            let t1 = _mm256_unpackhi_epi32(m[0], m[1]);
            let t2 = _mm256_unpacklo_epi32(m[2], m[3]);
            let t3 = _mm256_unpackhi_epi32(m[2], m[3]);
            let t4 = _mm256_unpacklo_epi32(m[4], m[5]);
            let t5 = _mm256_unpackhi_epi32(m[4], m[5]);
            let t6 = _mm256_unpacklo_epi32(m[6], m[7]);
            let t7 = _mm256_unpackhi_epi32(m[6], m[7]);
            let u0 = _mm256_unpacklo_epi64(t0, t2);
            let u1 = _mm256_unpackhi_epi64(t0, t2);
            let u2 = _mm256_unpacklo_epi64(t1, t3);
            let u3 = _mm256_unpackhi_epi64(t1, t3);
            let u4 = _mm256_unpacklo_epi64(t4, t6);
            let u5 = _mm256_unpackhi_epi64(t4, t6);
            let u6 = _mm256_unpacklo_epi64(t5, t7);
            let u7 = _mm256_unpackhi_epi64(t5, t7);
            [
                _mm256_permute2x128_si256::<0x20>(u0, u4),
                _mm256_permute2x128_si256::<0x20>(u1, u5),
                _mm256_permute2x128_si256::<0x20>(u2, u6),
                _mm256_permute2x128_si256::<0x20>(u3, u7),
                _mm256_permute2x128_si256::<0x31>(u0, u4),
                _mm256_permute2x128_si256::<0x31>(u1, u5),
                _mm256_permute2x128_si256::<0x31>(u2, u6),
                _mm256_permute2x128_si256::<0x31>(u3, u7),
            ]
        }
    }

    #[inline(always)]
    unsafe fn exceeds(v: &[__m256i; 8], limit: i32) -> bool {
        unsafe {
            let mut m = _mm256_abs_epi32(v[0]);
            for x in &v[1..] {
                m = _mm256_max_epi32(m, _mm256_abs_epi32(*x));
            }
            _mm256_movemask_epi8(_mm256_cmpgt_epi32(m, _mm256_set1_epi32(limit))) != 0
        }
    }

    /// Returns false (output untouched) if the block needs the 64-bit path.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn idct(coef: &[i16; 64], qt: &[i32; 64], out: &mut [[u8; 8]; 8]) -> bool {
        unsafe {
            // All AC zero (most chroma blocks, flat luma): libjpeg's own
            // shortcuts give a flat block of range_limit((4*dc + 16) >> 5),
            // the same value the full butterflies produce.
            let p = coef.as_ptr() as *const __m256i;
            let ac_mask = _mm256_setr_epi16(
                0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
            );
            // The DC word is only in the first load; mask it out there.
            let first = _mm256_and_si256(_mm256_loadu_si256(p), ac_mask);
            let rest = _mm256_or_si256(
                _mm256_loadu_si256(p.add(1)),
                _mm256_or_si256(_mm256_loadu_si256(p.add(2)), _mm256_loadu_si256(p.add(3))),
            );
            if _mm256_testz_si256(_mm256_or_si256(first, rest), _mm256_or_si256(first, rest)) == 1 {
                let v = range_limit(descale(
                    i64::from(dc_shortcut(coef[0], qt[0])),
                    PASS1_BITS + 3,
                ));
                *out = [[v; 8]; 8];
                return true;
            }
            let mut z = [_mm256_setzero_si256(); 8];
            for (r, v) in z.iter_mut().enumerate() {
                let c = _mm256_cvtepi16_epi32(_mm_loadu_si128(
                    coef.as_ptr().add(r * 8) as *const __m128i
                ));
                let q = _mm256_loadu_si256(qt.as_ptr().add(r * 8) as *const __m256i);
                *v = _mm256_mullo_epi32(c, q);
            }
            if exceeds(&z, I32_SAFE) {
                return false;
            }
            let ws =
                butterfly(&z).map(|v| _mm256_srai_epi32::<11>(_mm256_add_epi32(v, k(1 << 10))));
            if exceeds(&ws, I32_SAFE) {
                return false;
            }
            let y = butterfly(&transpose(ws))
                .map(|v| _mm256_srai_epi32::<18>(_mm256_add_epi32(v, k(1 << 17))));
            // y[c] holds column c of every row; back to rows.
            let rows = transpose(y);
            let in_table = !exceeds(&rows, 511);
            for (r, o) in out.iter_mut().enumerate() {
                let v = _mm256_add_epi32(rows[r], k(128));
                if in_table {
                    // Within +-511 libjpeg's table is a clamp to 0..=255,
                    // which is what the saturating packs do.
                    let lo = _mm256_castsi256_si128(v);
                    let hi = _mm256_extracti128_si256::<1>(v);
                    let w = _mm_packs_epi32(lo, hi);
                    let b = _mm_packus_epi16(w, w);
                    _mm_storel_epi64(o.as_mut_ptr() as *mut __m128i, b);
                } else {
                    let mut tmp = [0i32; 8];
                    _mm256_storeu_si256(tmp.as_mut_ptr() as *mut __m256i, rows[r]);
                    for (d, s) in o.iter_mut().zip(tmp) {
                        *d = range_limit(i64::from(s));
                    }
                }
            }
            true
        }
    }
}

/// libjpeg's YCbCr->RGB tables.
struct YccTables {
    cr_r: [i32; 256],
    cb_b: [i32; 256],
    cr_g: [i32; 256],
    cb_g: [i32; 256],
}

impl YccTables {
    fn new() -> Self {
        const SCALEBITS: i64 = 16;
        const ONE_HALF: i64 = 1 << (SCALEBITS - 1);
        let fix = |x: f64| (x * (1i64 << SCALEBITS) as f64 + 0.5) as i64;
        let mut t = YccTables {
            cr_r: [0; 256],
            cb_b: [0; 256],
            cr_g: [0; 256],
            cb_g: [0; 256],
        };
        for i in 0..256 {
            let x = i as i64 - 128;
            t.cr_r[i] = ((fix(1.40200) * x + ONE_HALF) >> SCALEBITS) as i32;
            t.cb_b[i] = ((fix(1.77200) * x + ONE_HALF) >> SCALEBITS) as i32;
            // |values| < 2^22, so i32 holds libjpeg's JLONG results.
            t.cr_g[i] = (-fix(0.71414) * x) as i32;
            t.cb_g[i] = (-fix(0.34414) * x + ONE_HALF) as i32;
        }
        t
    }

    #[inline(always)]
    fn rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let y = i32::from(y);
        let clamp = |v: i32| v.clamp(0, 255) as u8;
        let g = (self.cb_g[cb as usize] + self.cr_g[cr as usize]) >> 16;
        [
            clamp(y + self.cr_r[cr as usize]),
            clamp(y + g),
            clamp(y + self.cb_b[cb as usize]),
        ]
    }
}

/// Sample positions needed along one axis of a subsampled chroma plane:
/// the nearest sample and, with 2x upsampling, its triangle-filter neighbour.
fn chroma_needs(full: &[u32], factor: usize, len: usize, out: &mut [bool]) {
    for &p in full {
        let p = p as usize;
        let c = p / factor;
        out[c] = true;
        if factor == 2 {
            let n = if p.is_multiple_of(2) {
                c.saturating_sub(1)
            } else {
                (c + 1).min(len - 1)
            };
            out[n] = true;
        }
    }
}

fn blocks_of(cols: &[bool], width_in_blocks: usize) -> Vec<bool> {
    let mut b = vec![false; width_in_blocks];
    for (i, &c) in cols.iter().enumerate() {
        if c {
            b[i / 8] = true;
        }
    }
    b
}

/// Reconstructs the pre-resize sample. `src[i]` yields component i's block
/// rows, `qts[i]` its dequantisation table (as libjpeg's `short`s).
pub(crate) fn sample(
    layout: Layout,
    comps: &[Comp],
    qts: &[[i32; 64]],
    src: &mut [&mut dyn BlockRows],
    plan: &SamplePlan,
    luma: bool,
) -> Sampled {
    let mut s = Sampler::new(layout, comps, qts, plan);
    for (i, (b, c)) in s.planes.iter_mut().zip(comps).enumerate() {
        for by in 0..c.height_in_blocks {
            if !b.wants_row(by) {
                continue;
            }
            let row = src[i].row(by);
            for (bx, block) in row.iter().enumerate().take(c.width_in_blocks) {
                b.put(by, bx, block);
            }
        }
    }
    s.finish(luma)
}

/// The sampled reconstruction, fed block by block (see [`PlaneBuilder`]).
pub(crate) struct Sampler<'a> {
    layout: Layout,
    comps: Vec<Comp>,
    plan: &'a SamplePlan,
    /// One per component, in frame order.
    pub planes: Vec<PlaneBuilder>,
}

impl<'a> Sampler<'a> {
    /// Decides which rows and blocks of every component the sample reads.
    pub fn new(layout: Layout, comps: &[Comp], qts: &[[i32; 64]], plan: &'a SamplePlan) -> Self {
        let y = &comps[0];
        let mut yrows = vec![false; y.height];
        for &r in &plan.ys {
            yrows[r as usize] = true;
        }
        let mut ycols = vec![false; y.width];
        for &c in &plan.xs {
            ycols[c as usize] = true;
        }
        let mut planes = vec![PlaneBuilder::new(
            y,
            &qts[0],
            &yrows,
            blocks_of(&ycols, y.width_in_blocks),
        )];
        if let Layout::Ycc { h: fh, v: fv } = layout {
            let c = &comps[1];
            let mut crows = vec![false; c.height];
            chroma_needs(&plan.ys, fv, c.height, &mut crows);
            let mut ccols = vec![false; c.width];
            chroma_needs(&plan.xs, fh, c.width, &mut ccols);
            let cblocks = blocks_of(&ccols, c.width_in_blocks);
            planes.push(PlaneBuilder::new(c, &qts[1], &crows, cblocks.clone()));
            planes.push(PlaneBuilder::new(&comps[2], &qts[2], &crows, cblocks));
        }
        Sampler {
            layout,
            comps: comps.to_vec(),
            plan,
            planes,
        }
    }

    /// Upsamples and converts colour at the sample points. With `luma`,
    /// colour images come back as the reference's float luma only
    /// ([`Sampled::luma`] filled, no RGB bytes): the hash needs nothing
    /// else, and an interleaved RGB plane would be written only to be read
    /// back once. Without it (tests, the benchmark's pixel routes) the RGB
    /// bytes are produced as libjpeg would.
    pub fn finish(self, luma: bool) -> Sampled {
        let plan = self.plan;
        let mut planes = self.planes.into_iter().map(|b| b.plane);
        let (w, h) = (plan.out_width(), plan.out_height());
        let Some(yplane) = planes.next() else {
            return Sampled::pixels(w, h, 1, vec![0; w * h]);
        };
        let (Layout::Ycc { h: fh, v: fv }, Some(cb), Some(cr)) =
            (self.layout, planes.next(), planes.next())
        else {
            let mut data = Vec::with_capacity(w * h);
            for &r in &plan.ys {
                let row = yplane.row(r as usize);
                data.extend(plan.xs.iter().map(|&x| row[x as usize]));
            }
            return Sampled::pixels(w, h, 1, data);
        };
        let c = &self.comps[1];
        let tables = YccTables::new();
        let taps = Taps::new(&plan.xs, fh, fv, c.width);
        let avx2 = use_avx2();
        let mut bufs = RowBufs::new(w, cb.stride);
        let mut data = if luma {
            Vec::new()
        } else {
            vec![0u8; w * h * 3]
        };
        // Luma is emitted transposed (the filter's first step would
        // transpose it), through an 8-row strip that stays in L1.
        let mut out_luma = if luma { vec![0f32; w * h] } else { Vec::new() };
        let mut strip = if luma { vec![0f32; 8 * w] } else { Vec::new() };
        let ch = c.height;
        for (k, &yy) in plan.ys.iter().enumerate() {
            let yy = yy as usize;
            // Vertical: nearest chroma row and (for 2x) the neighbour row.
            let cy = yy / fv;
            let cy_n = match (fv, yy.is_multiple_of(2)) {
                (1, _) => cy,
                (_, true) => cy.saturating_sub(1),
                (_, false) => (cy + 1).min(ch - 1),
            };
            let src = RowSrc {
                y: yplane.padded_row(yy),
                cb0: cb.padded_row(cy),
                cb1: cb.padded_row(cy_n),
                cr0: cr.padded_row(cy),
                cr1: cr.padded_row(cy_n),
            };
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: AVX2 is present (runtime check); every tap index
                // is below its plane's stride and the rows carry
                // GATHER_PAD spare bytes (RowSrc's contract).
                unsafe { ycc_avx2::ycc_row(&src, &taps, fh, fv, &mut bufs) };
            } else {
                ycc_row_scalar(&src, &taps, fh, fv, &mut bufs);
            }
            #[cfg(not(target_arch = "x86_64"))]
            ycc_row_scalar(&src, &taps, fh, fv, &mut bufs);
            if luma {
                let o = &mut strip[(k % 8) * w..(k % 8 + 1) * w];
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: AVX2 is present (runtime check).
                    unsafe { ycc_avx2::luma_row(&tables, &bufs, o) };
                } else {
                    luma_row_scalar(&tables, &bufs, o);
                }
                #[cfg(not(target_arch = "x86_64"))]
                luma_row_scalar(&tables, &bufs, o);
                if k % 8 == 7 || k + 1 == h {
                    let r0 = k - k % 8;
                    transpose_strip(&strip, k - r0 + 1, w, r0, h, &mut out_luma);
                }
            } else {
                rgb_row(&tables, &bufs, &mut data[k * w * 3..(k + 1) * w * 3]);
            }
        }
        let mut s = Sampled::pixels(w, h, 3, data);
        s.luma = out_luma;
        s.luma_transposed = luma;
        s
    }
}

fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Horizontal taps, identical for every output row: the luma column, the
/// nearest chroma column, its triangle neighbour and libjpeg's rounding
/// bias for that output phase. `i32` so the AVX2 path can load them as
/// gather indices.
pub(crate) struct Taps {
    x: Vec<i32>,
    j: Vec<i32>,
    n: Vec<i32>,
    bias: Vec<i32>,
}

impl Taps {
    fn new(xs: &[u32], fh: usize, fv: usize, cw: usize) -> Self {
        let mut t = Taps {
            x: Vec::with_capacity(xs.len()),
            j: Vec::with_capacity(xs.len()),
            n: Vec::with_capacity(xs.len()),
            bias: Vec::with_capacity(xs.len()),
        };
        for &x in xs {
            let x = x as usize;
            let (j, n, bias) = if fh == 1 {
                (x, x, 0)
            } else {
                let j = x / 2;
                let even = x.is_multiple_of(2);
                let n = if even {
                    j.saturating_sub(1)
                } else {
                    (j + 1).min(cw - 1)
                };
                let bias = match (fv, even) {
                    (1, true) => 1,
                    (1, false) => 2,
                    (_, true) => 8,
                    (_, false) => 7,
                };
                (j, n, bias)
            };
            // Plane widths are far below 2^31 (max_pixels bounds them).
            t.x.push(x as i32);
            t.j.push(j as i32);
            t.n.push(n as i32);
            t.bias.push(bias);
        }
        t
    }
}

/// The five source rows one output row reads. Each slice is a plane row
/// plus [`GATHER_PAD`] bytes (see [`PlaneRows::padded_row`]).
pub(crate) struct RowSrc<'a> {
    y: &'a [u8],
    cb0: &'a [u8],
    cb1: &'a [u8],
    cr0: &'a [u8],
    cr1: &'a [u8],
}

/// One output row's Y, upsampled Cb and Cr (0..=255 each), plus the
/// vertical chroma sums of the AVX2 path (one per chroma column).
pub(crate) struct RowBufs {
    y: Vec<i32>,
    cb: Vec<i32>,
    cr: Vec<i32>,
    vcb: Vec<i32>,
    vcr: Vec<i32>,
}

impl RowBufs {
    fn new(w: usize, chroma_stride: usize) -> Self {
        RowBufs {
            y: vec![0; w],
            cb: vec![0; w],
            cr: vec![0; w],
            vcb: vec![0; chroma_stride],
            vcr: vec![0; chroma_stride],
        }
    }
}

/// libjpeg's h2v1/h2v2 fancy upsampling at the taps (the definition the
/// AVX2 path is tested against).
fn ycc_row_scalar(src: &RowSrc, t: &Taps, fh: usize, fv: usize, b: &mut RowBufs) {
    let p = |row: &[u8], i: i32| i32::from(row[i as usize]);
    for (i, &x) in t.x.iter().enumerate() {
        b.y[i] = p(src.y, x);
        let (j, n, bias) = (t.j[i], t.n[i], t.bias[i]);
        let up = |r0: &[u8], r1: &[u8]| match (fh, fv) {
            (1, _) => p(r0, x),
            (2, 1) => (3 * p(r0, j) + p(r0, n) + bias) >> 2,
            _ => {
                let sj = 3 * p(r0, j) + p(r1, j);
                let sn = 3 * p(r0, n) + p(r1, n);
                (3 * sj + sn + bias) >> 4
            }
        };
        b.cb[i] = up(src.cb0, src.cb1);
        b.cr[i] = up(src.cr0, src.cr1);
    }
}

fn rgb_row(tables: &YccTables, b: &RowBufs, out: &mut [u8]) {
    for (i, o) in out.chunks_exact_mut(3).enumerate() {
        o.copy_from_slice(&tables.rgb(b.y[i] as u8, b.cb[i] as u8, b.cr[i] as u8));
    }
}

/// The reference's float luma of libjpeg's RGB, in [`Sampled::luma`]'s
/// order of operations.
#[inline(always)]
fn luma_of(tables: &YccTables, y: i32, cb: i32, cr: i32) -> f32 {
    let [r, g, bl] = tables.rgb(y as u8, cb as u8, cr as u8);
    LUMA_R * f32::from(r) + LUMA_G * f32::from(g) + LUMA_B * f32::from(bl)
}

fn luma_row_scalar(tables: &YccTables, b: &RowBufs, out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = luma_of(tables, b.y[i], b.cb[i], b.cr[i]);
    }
}

/// libjpeg's `FIX(x)` at 16 fractional bits.
fn fix16(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

/// AVX2 versions of [`ycc_row_scalar`] and [`luma_row_scalar`].
///
/// Why this is exact: libjpeg's YCbCr tables are `(FIX(k) * (c - 128) +
/// ONE_HALF) >> 16` (or the un-shifted products for green), whose products
/// stay below 2^24, so 32-bit multiplies and arithmetic shifts give the same
/// integers; the float luma is the same three IEEE single multiplies and two
/// adds in the same order (no FMA).
#[cfg(target_arch = "x86_64")]
mod ycc_avx2 {
    use super::*;
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn load(v: &[i32], i: usize) -> __m256i {
        debug_assert!(i + 8 <= v.len());
        // SAFETY: i + 8 <= v.len() at every call site.
        unsafe { _mm256_loadu_si256(v.as_ptr().add(i) as *const __m256i) }
    }

    #[inline(always)]
    unsafe fn store(v: &mut [i32], i: usize, x: __m256i) {
        debug_assert!(i + 8 <= v.len());
        // SAFETY: as for load.
        unsafe { _mm256_storeu_si256(v.as_mut_ptr().add(i) as *mut __m256i, x) }
    }

    /// Bytes of `row` at the 8 offsets `idx`, widened. Reads 4 bytes at
    /// each offset, so needs `idx + 4 <= row.len()`.
    #[inline(always)]
    unsafe fn gather_u8(row: &[u8], idx: __m256i) -> __m256i {
        // SAFETY: the caller's contract.
        unsafe {
            _mm256_and_si256(
                _mm256_i32gather_epi32::<1>(row.as_ptr() as *const i32, idx),
                _mm256_set1_epi32(0xFF),
            )
        }
    }

    /// # Safety
    /// AVX2 present; every `t.x` below `src.y.len() - 3` and, for 1x
    /// chroma, below `src.cb0.len() - 3`; for 2x chroma every `t.j`/`t.n`
    /// below `b.vcb.len()`, which is a multiple of 8 and at most the chroma
    /// rows' length.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn ycc_row(src: &RowSrc, t: &Taps, fh: usize, fv: usize, b: &mut RowBufs) {
        let w = t.x.len();
        let full = w / 8 * 8;
        unsafe {
            for i in (0..full).step_by(8) {
                let x = load(&t.x, i);
                store(&mut b.y, i, gather_u8(src.y, x));
                if fh == 1 {
                    store(&mut b.cb, i, gather_u8(src.cb0, x));
                    store(&mut b.cr, i, gather_u8(src.cr0, x));
                }
            }
            if fh == 1 {
                for i in full..w {
                    let x = t.x[i] as usize;
                    b.y[i] = i32::from(src.y[x]);
                    b.cb[i] = i32::from(src.cb0[x]);
                    b.cr[i] = i32::from(src.cr0[x]);
                }
                return;
            }
            for i in full..w {
                b.y[i] = i32::from(src.y[t.x[i] as usize]);
            }
            // Vertical pass over the whole chroma row: 3*near + far (h2v2)
            // or the row itself (h2v1).
            let cw = b.vcb.len();
            for (r0, r1, v) in [
                (src.cb0, src.cb1, &mut b.vcb),
                (src.cr0, src.cr1, &mut b.vcr),
            ] {
                for c in (0..cw).step_by(8) {
                    let p0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
                        r0[c..c + 8].as_ptr() as *const __m128i
                    ));
                    let s = if fv == 1 {
                        p0
                    } else {
                        let p1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
                            r1[c..c + 8].as_ptr() as *const __m128i
                        ));
                        _mm256_add_epi32(_mm256_add_epi32(p0, _mm256_slli_epi32::<1>(p0)), p1)
                    };
                    store(v, c, s);
                }
            }
            let shift = _mm_cvtsi32_si128(if fv == 1 { 2 } else { 4 });
            for i in (0..full).step_by(8) {
                let (j, n, bias) = (load(&t.j, i), load(&t.n, i), load(&t.bias, i));
                for (v, out) in [(&b.vcb, &mut b.cb), (&b.vcr, &mut b.cr)] {
                    let sj = _mm256_i32gather_epi32::<4>(v.as_ptr(), j);
                    let sn = _mm256_i32gather_epi32::<4>(v.as_ptr(), n);
                    let s = _mm256_add_epi32(
                        _mm256_add_epi32(_mm256_add_epi32(sj, _mm256_slli_epi32::<1>(sj)), sn),
                        bias,
                    );
                    store(out, i, _mm256_srl_epi32(s, shift));
                }
            }
            let sh = if fv == 1 { 2 } else { 4 };
            for i in full..w {
                let (j, n, bias) = (t.j[i] as usize, t.n[i] as usize, t.bias[i]);
                b.cb[i] = (3 * b.vcb[j] + b.vcb[n] + bias) >> sh;
                b.cr[i] = (3 * b.vcr[j] + b.vcr[n] + bias) >> sh;
            }
        }
    }

    /// # Safety
    /// AVX2 present; `out.len() <= b.y.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn luma_row(tables: &YccTables, b: &RowBufs, out: &mut [f32]) {
        let w = out.len();
        let full = w / 8 * 8;
        let c128 = _mm256_set1_epi32(128);
        let half = _mm256_set1_epi32(1 << 15);
        let k_r = _mm256_set1_epi32(fix16(1.40200));
        let k_b = _mm256_set1_epi32(fix16(1.77200));
        let k_gr = _mm256_set1_epi32(-fix16(0.71414));
        let k_gb = _mm256_set1_epi32(-fix16(0.34414));
        let (zero, max) = (_mm256_setzero_si256(), _mm256_set1_epi32(255));
        let clamp = |v| _mm256_min_epi32(_mm256_max_epi32(v, zero), max);
        let (lr, lg, lb) = (
            _mm256_set1_ps(LUMA_R),
            _mm256_set1_ps(LUMA_G),
            _mm256_set1_ps(LUMA_B),
        );
        unsafe {
            for i in (0..full).step_by(8) {
                let y = load(&b.y, i);
                let cb = _mm256_sub_epi32(load(&b.cb, i), c128);
                let cr = _mm256_sub_epi32(load(&b.cr, i), c128);
                let r =
                    _mm256_srai_epi32::<16>(_mm256_add_epi32(_mm256_mullo_epi32(cr, k_r), half));
                let bb =
                    _mm256_srai_epi32::<16>(_mm256_add_epi32(_mm256_mullo_epi32(cb, k_b), half));
                let g = _mm256_srai_epi32::<16>(_mm256_add_epi32(
                    _mm256_add_epi32(_mm256_mullo_epi32(cb, k_gb), half),
                    _mm256_mullo_epi32(cr, k_gr),
                ));
                let r = _mm256_cvtepi32_ps(clamp(_mm256_add_epi32(y, r)));
                let g = _mm256_cvtepi32_ps(clamp(_mm256_add_epi32(y, g)));
                let bb = _mm256_cvtepi32_ps(clamp(_mm256_add_epi32(y, bb)));
                let l = _mm256_add_ps(
                    _mm256_add_ps(_mm256_mul_ps(lr, r), _mm256_mul_ps(lg, g)),
                    _mm256_mul_ps(lb, bb),
                );
                _mm256_storeu_ps(out[i..i + 8].as_mut_ptr(), l);
            }
        }
        for (i, o) in out.iter_mut().enumerate().skip(full) {
            *o = luma_of(tables, b.y[i], b.cb[i], b.cr[i]);
        }
    }
}

/// Block rows straight from libjpeg's whole-image coefficient array.
pub(crate) struct VirtRows {
    pub cinfo: *mut sys::jpeg_decompress_struct,
    pub array: *mut sys::jvirt_barray_control,
    pub access: AccessFn,
    pub width_in_blocks: usize,
}

pub(crate) type AccessFn = unsafe extern "C-unwind" fn(
    &mut sys::jpeg_common_struct,
    *mut sys::jvirt_barray_control,
    sys::JDIMENSION,
    sys::JDIMENSION,
    sys::boolean,
) -> sys::JBLOCKARRAY;

impl BlockRows for VirtRows {
    fn row(&mut self, by: usize) -> &[[i16; 64]] {
        // SAFETY: the arrays were realised by jpeg_read_coefficients and are
        // fully in memory (jmemnobs has no backing store); by is within
        // height_in_blocks. Errors (bad access) unwind to the caller's
        // catch_unwind.
        unsafe {
            let rows = (self.access)(&mut (*self.cinfo).common, self.array, by as u32, 1, 0);
            std::slice::from_raw_parts(*rows as *const [i16; 64], self.width_in_blocks)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(seed: u32) -> impl FnMut() -> u32 {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        }
    }

    /// The AVX2 upsampling and luma equal the scalar definition bit for
    /// bit, on random planes, every 2x/1x layout and widths that are not a
    /// multiple of 8.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_upsampling_and_luma_equal_scalar() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here; scalar path only");
            return;
        }
        let mut rnd = xorshift(0x9E37_79B9);
        let tables = YccTables::new();
        let mut cases = 0;
        for &(fh, fv) in &[(1, 1), (2, 1), (2, 2)] {
            for &full_w in &[1usize, 7, 8, 9, 17, 100, 513, 1031, 2000] {
                let cw = full_w.div_ceil(fh);
                let (ystride, cstride) = (full_w.div_ceil(8) * 8, cw.div_ceil(8) * 8);
                let mut row =
                    |n: usize| -> Vec<u8> { (0..n + GATHER_PAD).map(|_| rnd() as u8).collect() };
                let (y, cb0, cb1, cr0, cr1) = (
                    row(ystride),
                    row(cstride),
                    row(cstride),
                    row(cstride),
                    row(cstride),
                );
                let plan = SamplePlan::new(full_w, 3);
                let taps = Taps::new(&plan.xs, fh, fv, cw);
                let src = RowSrc {
                    y: &y,
                    cb0: &cb0,
                    cb1: &cb1,
                    cr0: &cr0,
                    cr1: &cr1,
                };
                let w = plan.xs.len();
                let (mut a, mut b) = (RowBufs::new(w, cstride), RowBufs::new(w, cstride));
                ycc_row_scalar(&src, &taps, fh, fv, &mut a);
                // SAFETY: AVX2 checked above; taps below the strides, rows padded.
                unsafe { ycc_avx2::ycc_row(&src, &taps, fh, fv, &mut b) };
                assert_eq!(
                    (&a.y, &a.cb, &a.cr),
                    (&b.y, &b.cb, &b.cr),
                    "{fh}x{fv} w {full_w}"
                );
                let (mut la, mut lb) = (vec![0f32; w], vec![0f32; w]);
                luma_row_scalar(&tables, &a, &mut la);
                // SAFETY: AVX2 checked above.
                unsafe { ycc_avx2::luma_row(&tables, &a, &mut lb) };
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&la), bits(&lb), "{fh}x{fv} w {full_w}");
                cases += 1;
            }
        }
        assert_eq!(cases, 27);
    }

    /// The AVX2 colour conversion and luma equal libjpeg's tables followed
    /// by the reference's float luma on every (Y, Cb, Cr) with Y on a grid
    /// and all Cb, Cr, including the clamping corners.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_luma_equals_tables_on_all_chroma() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let tables = YccTables::new();
        let mut b = RowBufs::new(256 * 256, 8);
        let mut out = vec![0f32; 256 * 256];
        for y in (0..256).step_by(15).chain([254, 255]) {
            for i in 0..256 * 256 {
                b.y[i] = y;
                b.cb[i] = (i / 256) as i32;
                b.cr[i] = (i % 256) as i32;
            }
            // SAFETY: AVX2 checked above.
            unsafe { ycc_avx2::luma_row(&tables, &b, &mut out) };
            for (i, &l) in out.iter().enumerate() {
                let want = luma_of(&tables, y, b.cb[i], b.cr[i]);
                assert_eq!(
                    l.to_bits(),
                    want.to_bits(),
                    "y {y} cb {} cr {}",
                    i / 256,
                    i % 256
                );
            }
        }
    }

    #[test]
    fn range_limit_matches_libjpeg_table() {
        assert_eq!(range_limit(0), 128);
        assert_eq!(range_limit(-128), 0);
        assert_eq!(range_limit(127), 255);
        assert_eq!(range_limit(300), 255);
        assert_eq!(range_limit(-200), 0);
        assert_eq!(range_limit(-1), 127);
        // Beyond the table's design range libjpeg wraps.
        assert_eq!(range_limit(600), 0);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_idct_equals_libjpeg_64_bit_idct() {
        let mut x = 0x9E37_79B9u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut fast_hits = 0;
        for round in 0..20_000 {
            let mut coef = [0i16; 64];
            let mut qt = [0i32; 64];
            // Mostly realistic magnitudes, sometimes extreme ones that must
            // fall back to the 64-bit path.
            let extreme = round % 10 == 0;
            for k in 0..64 {
                let (u, v) = ((k / 8) as i32, (k % 8) as i32);
                let mag = match (extreme, k) {
                    (true, _) => 32767,
                    (false, 0) => 127,
                    _ => 300 / ((1 + u + v) * (1 + u + v)),
                };
                coef[k] = ((next() % (2 * mag as u32 + 1)) as i32 - mag) as i16;
                let qmax = if extreme { 65535 } else { 16 };
                qt[k] = i32::from((1 + next() % qmax) as u16 as i16);
            }
            let mask = (next() & 0xFF) as u8 | 1;
            let mut a = [[0u8; 8]; 8];
            let mut b = [[0u8; 8]; 8];
            if !std::arch::is_x86_feature_detected!("avx2") {
                return; // nothing to compare against on this CPU
            }
            // SAFETY: AVX2 checked above.
            if unsafe { avx2::idct(&coef, &qt, &mut a) } {
                fast_hits += 1;
                idct_islow(&coef, &qt, mask, &mut b);
                for r in 0..8 {
                    if mask & (1 << r) != 0 {
                        assert_eq!(a[r], b[r], "round {round} row {r}");
                    }
                }
            }
        }
        assert!(fast_hits > 10_000, "{fast_hits}");
    }

    #[test]
    fn dc_only_block_is_flat() {
        let mut coef = [0i16; 64];
        coef[0] = 10;
        let qt = [16i32; 64];
        let mut out = [[0u8; 8]; 8];
        idct_islow(&coef, &qt, 0xFF, &mut out);
        // 10 * 16 = 160 -> /8 = 20 -> 148.
        assert!(out.iter().flatten().all(|&v| v == 148));
    }
}
