//! The reference's Jarosz tent filter (two rounds of a 1-D box along rows,
//! then along columns) followed by decimation to 64x64.
//!
//! Bit-exactness constraint: every one of the R*C running sums must see the
//! same sequence of float `+=`/`-=` and the same true division as the
//! reference's `box1DFloat`. We are free to change *which sums advance
//! together*, so every pass runs in "lockstep": one step of the 1-D recipe is
//! applied to a whole row of independent lanes at once (contiguous, and
//! vectorisable without reordering any lane's own operations). Row passes are
//! run the same way on a transposed copy.
//!
//! Two reads of the output let us skip work without changing a single value:
//! the last column pass only matters for the 64 decimated columns and, within
//! them, the 64 decimated rows; and the last row pass only matters at the 64
//! decimated columns. Their running sums still advance over every element;
//! only the divisions whose result is never read are skipped.

/// One step of the reference's four-phase running box.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// Index to add (right edge), if this phase adds.
    add: Option<u32>,
    /// Index to subtract (left edge), if this phase subtracts.
    sub: Option<u32>,
    /// Output index and the window count to divide by, if this phase writes.
    out: Option<(u32, f32)>,
}

/// The step sequence of `box1DFloat(len, window)`, in the reference's order
/// (add before subtract within a step; division by the *current* count).
fn box_steps(len: usize, window: usize) -> Vec<Step> {
    let half = (window + 2) / 2;
    let p1 = half - 1;
    let p2 = window + 1 - half;
    let p3 = len.saturating_sub(window);
    let p4 = half - 1;
    let mut steps = Vec::with_capacity(p1 + p2 + p3 + p4);
    let (mut li, mut ri, mut oi, mut count) = (0u32, 0u32, 0u32, 0u32);
    for _ in 0..p1 {
        steps.push(Step {
            add: Some(ri),
            sub: None,
            out: None,
        });
        ri += 1;
        count += 1;
    }
    for _ in 0..p2 {
        count += 1;
        steps.push(Step {
            add: Some(ri),
            sub: None,
            out: Some((oi, count as f32)),
        });
        ri += 1;
        oi += 1;
    }
    for _ in 0..p3 {
        steps.push(Step {
            add: Some(ri),
            sub: Some(li),
            out: Some((oi, count as f32)),
        });
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..p4 {
        count -= 1;
        steps.push(Step {
            add: None,
            sub: Some(li),
            out: Some((oi, count as f32)),
        });
        li += 1;
        oi += 1;
    }
    steps
}

/// The reference's window: `(dim + 127) / 128` for a 64-wide target.
pub(crate) fn window_size(dim: usize) -> usize {
    dim.div_ceil(2 * 64)
}

/// `(int)(((i + 0.5) * n) / 64)` in double, as `decimateFloat`.
pub(crate) fn decimation_indices(n: usize) -> [usize; 64] {
    let mut idx = [0usize; 64];
    for (i, v) in idx.iter_mut().enumerate() {
        *v = (((i as f64 + 0.5) * n as f64) / 64.0) as usize;
    }
    idx
}

/// Applies the box along the *first* axis of `input` (`len` lines of `lanes`
/// contiguous values) to every lane in lockstep. Output line `o` is written
/// only when `keep(o)` is some slot; that slot indexes `output`'s lines.
fn lockstep_box(
    input: &[f32],
    lanes: usize,
    steps: &[Step],
    output: &mut [f32],
    keep: &dyn Fn(u32) -> Option<usize>,
) {
    let mut sums = vec![0f32; lanes];
    for step in steps {
        match (step.add, step.sub) {
            (Some(r), Some(l)) => {
                let add = &input[r as usize * lanes..][..lanes];
                let sub = &input[l as usize * lanes..][..lanes];
                for ((s, a), b) in sums.iter_mut().zip(add).zip(sub) {
                    *s += *a;
                    *s -= *b;
                }
            }
            (Some(r), None) => {
                let add = &input[r as usize * lanes..][..lanes];
                for (s, a) in sums.iter_mut().zip(add) {
                    *s += *a;
                }
            }
            (None, Some(l)) => {
                let sub = &input[l as usize * lanes..][..lanes];
                for (s, b) in sums.iter_mut().zip(sub) {
                    *s -= *b;
                }
            }
            (None, None) => {}
        }
        if let Some((o, count)) = step.out
            && let Some(slot) = keep(o)
        {
            let dst = &mut output[slot * lanes..][..lanes];
            for (d, s) in dst.iter_mut().zip(&sums) {
                *d = *s / count;
            }
        }
    }
}

/// `dst[c][r] = src[r][c]` for a `rows` x `cols` source. Pure data
/// movement, so any method is exact; 8x8 AVX tiles when available.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if rows.is_multiple_of(8)
        && cols.is_multiple_of(8)
        && std::arch::is_x86_feature_detected!("avx")
    {
        // SAFETY: AVX checked; slices hold rows * cols elements.
        unsafe { transpose_avx(src, rows, cols, dst) };
        return;
    }
    const T: usize = 16;
    for r0 in (0..rows).step_by(T) {
        for c0 in (0..cols).step_by(T) {
            for r in r0..(r0 + T).min(rows) {
                for c in c0..(c0 + T).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// Writes the `k` rows of `strip` (`k` x `cols`, row-major; `k <= 8`) as
/// rows `r0..r0 + k` of a `rows` x `cols` plane stored transposed
/// (`dst[c * rows + r]`). Exact (data movement only); one AVX 8x8 tile
/// per 8 columns when `k == 8`.
pub(crate) fn transpose_strip(
    strip: &[f32],
    k: usize,
    cols: usize,
    r0: usize,
    rows: usize,
    dst: &mut [f32],
) {
    assert!(strip.len() >= k * cols && dst.len() >= rows * cols && r0 + k <= rows);
    let mut c0 = 0;
    #[cfg(target_arch = "x86_64")]
    if k == 8 && std::arch::is_x86_feature_detected!("avx") {
        c0 = cols / 8 * 8;
        // SAFETY: AVX checked; the assert above bounds every access
        // (columns < c0 <= cols, rows r0..r0 + 8 <= rows).
        unsafe { transpose_tiles_avx(strip, cols, c0, r0, rows, dst) };
    }
    for c in c0..cols {
        for r in 0..k {
            dst[c * rows + r0 + r] = strip[r * cols + c];
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_tiles_avx(
    strip: &[f32],
    cols: usize,
    c_end: usize,
    r0: usize,
    rows: usize,
    dst: &mut [f32],
) {
    use std::arch::x86_64::*;
    unsafe {
        for c0 in (0..c_end).step_by(8) {
            let m: [__m256; 8] =
                std::array::from_fn(|i| _mm256_loadu_ps(strip.as_ptr().add(i * cols + c0)));
            let out = tile8(m);
            for (i, v) in out.iter().enumerate() {
                _mm256_storeu_ps(dst.as_mut_ptr().add((c0 + i) * rows + r0), *v);
            }
        }
    }
}

/// 8x8 transpose in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn tile8(m: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_ps(m[0], m[1]);
    let t1 = _mm256_unpackhi_ps(m[0], m[1]);
    let t2 = _mm256_unpacklo_ps(m[2], m[3]);
    let t3 = _mm256_unpackhi_ps(m[2], m[3]);
    let t4 = _mm256_unpacklo_ps(m[4], m[5]);
    let t5 = _mm256_unpackhi_ps(m[4], m[5]);
    let t6 = _mm256_unpacklo_ps(m[6], m[7]);
    let t7 = _mm256_unpackhi_ps(m[6], m[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_avx(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    use std::arch::x86_64::*;
    assert!(src.len() >= rows * cols && dst.len() >= rows * cols);
    unsafe {
        for r0 in (0..rows).step_by(8) {
            for c0 in (0..cols).step_by(8) {
                let p = |i: usize| src.as_ptr().add((r0 + i) * cols + c0);
                let m: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(p(i)));
                let out = tile8(m);
                for (i, v) in out.iter().enumerate() {
                    _mm256_storeu_ps(dst.as_mut_ptr().add((c0 + i) * rows + r0), *v);
                }
            }
        }
    }
}

/// Runs the reference's two X,Y rounds on `luma` (`rows` x `cols`,
/// row-major) and returns the decimated 64x64 plane. `luma` is clobbered.
pub(crate) fn filter_and_decimate(luma: &mut [f32], rows: usize, cols: usize) -> [[f32; 64]; 64] {
    let mut lt = vec![0f32; rows * cols];
    // Round 1, rows: transpose so that a row becomes a lockstep column.
    transpose(luma, rows, cols, &mut lt); // cols x rows
    filter_and_decimate_transposed(&mut lt, luma, rows, cols)
}

/// [`filter_and_decimate`] on luma that is already transposed (`lt` is
/// `cols` x `rows`), which the JPEG sampler emits directly so that the
/// first transpose of the whole plane is not needed. `scratch` holds
/// `rows * cols`; both are clobbered.
pub(crate) fn filter_and_decimate_transposed(
    lt: &mut [f32],
    scratch: &mut [f32],
    rows: usize,
    cols: usize,
) -> [[f32; 64]; 64] {
    let wr = window_size(cols); // box along rows
    let wc = window_size(rows); // box along columns
    let row_steps = box_steps(cols, wr);
    let col_steps = box_steps(rows, wc);
    let dec_rows = decimation_indices(rows);
    let dec_cols = decimation_indices(cols);

    let n = rows * cols;
    let mut t2 = vec![0f32; n];
    let all = |o: u32| Some(o as usize);

    // Round 1, rows, on the transposed plane (a row is a lockstep column).
    lockstep_box(lt, rows, &row_steps, &mut t2, &all);
    transpose(&t2, cols, rows, scratch); // rows x cols
    // Round 1, columns.
    let t1 = lt;
    lockstep_box(scratch, cols, &col_steps, t1, &all);

    // Round 2, rows: only the decimated columns are ever read afterwards.
    // (When cols < 64 several decimated slots share a column, hence the
    // unique list.)
    transpose(t1, rows, cols, &mut t2); // cols x rows
    let (col_slot, ncols_kept) = slots(&dec_cols, cols);
    let mut picked = vec![0f32; ncols_kept * rows]; // one line per kept column
    lockstep_box(&t2, rows, &row_steps, &mut picked, &|o| {
        col_slot[o as usize]
    });

    // Round 2, columns, on the 64 decimated columns as lockstep lanes,
    // dividing only at the decimated rows.
    let mut lanes64 = vec![0f32; rows * 64]; // rows x 64
    for (k, &c) in dec_cols.iter().enumerate() {
        let line = col_slot[c].unwrap_or(0) * rows;
        for r in 0..rows {
            lanes64[r * 64 + k] = picked[line + r];
        }
    }
    let (row_slot, nrows_kept) = slots(&dec_rows, rows);
    let mut out_rows = vec![0f32; nrows_kept * 64];
    lockstep_box(&lanes64, 64, &col_steps, &mut out_rows, &|o| {
        row_slot[o as usize]
    });

    let mut out = [[0f32; 64]; 64];
    for (row, &r) in out.iter_mut().zip(dec_rows.iter()) {
        let line = row_slot[r].unwrap_or(0) * 64;
        row.copy_from_slice(&out_rows[line..line + 64]);
    }
    out
}

/// Maps each of `n` positions to a dense slot if it is one of `wanted`.
fn slots(wanted: &[usize; 64], n: usize) -> (Vec<Option<usize>>, usize) {
    let mut slot = vec![None; n];
    let mut next = 0;
    for &w in wanted {
        if slot[w].is_none() {
            slot[w] = Some(next);
            next += 1;
        }
    }
    (slot, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal transcription of the reference loops, to pin the lockstep
    /// version against.
    fn box1d(input: &[f32], out: &mut [f32], len: usize, stride: usize, window: usize) {
        let half = (window + 2) / 2;
        let (p1, p2, p3, p4) = (half - 1, window - half + 1, len - window, half - 1);
        let (mut li, mut ri, mut oi) = (0, 0, 0);
        let mut sum = 0f32;
        let mut cur = 0i32;
        for _ in 0..p1 {
            sum += input[ri];
            cur += 1;
            ri += stride;
        }
        for _ in 0..p2 {
            sum += input[ri];
            cur += 1;
            out[oi] = sum / cur as f32;
            ri += stride;
            oi += stride;
        }
        for _ in 0..p3 {
            sum += input[ri];
            sum -= input[li];
            out[oi] = sum / cur as f32;
            li += stride;
            ri += stride;
            oi += stride;
        }
        for _ in 0..p4 {
            sum -= input[li];
            cur -= 1;
            out[oi] = sum / cur as f32;
            li += stride;
            oi += stride;
        }
    }

    fn reference(luma: &mut [f32], rows: usize, cols: usize) -> [[f32; 64]; 64] {
        let (wr, wc) = (window_size(cols), window_size(rows));
        let mut tmp = vec![0f32; rows * cols];
        for _ in 0..2 {
            for r in 0..rows {
                box1d(&luma[r * cols..], &mut tmp[r * cols..], cols, 1, wr);
            }
            for c in 0..cols {
                box1d(&tmp[c..], &mut luma[c..], rows, cols, wc);
            }
        }
        let (dr, dc) = (decimation_indices(rows), decimation_indices(cols));
        let mut out = [[0f32; 64]; 64];
        for i in 0..64 {
            for j in 0..64 {
                out[i][j] = luma[dr[i] * cols + dc[j]];
            }
        }
        out
    }

    fn noise(rows: usize, cols: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..rows * cols)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Non-integer values make float rounding order visible.
                (x % 25_500) as f32 / 100.0
            })
            .collect()
    }

    #[test]
    fn lockstep_filter_equals_reference_loops_bit_for_bit() {
        for &(rows, cols) in &[
            (512, 512),
            (300, 512),
            (512, 7),
            (37, 61),
            (64, 64),
            (129, 1000),
        ] {
            let a = noise(rows, cols, (rows * 31 + cols) as u32);
            let mut x = a.clone();
            let mut y = a;
            let fast = filter_and_decimate(&mut x, rows, cols);
            let slow = reference(&mut y, rows, cols);
            for i in 0..64 {
                for j in 0..64 {
                    assert_eq!(
                        fast[i][j].to_bits(),
                        slow[i][j].to_bits(),
                        "{rows}x{cols} at {i},{j}"
                    );
                }
            }
        }
    }

    #[test]
    fn window_and_decimation_match_reference_formulas() {
        assert_eq!(window_size(512), 4);
        assert_eq!(window_size(128), 1);
        assert_eq!(window_size(129), 2);
        let d = decimation_indices(512);
        assert_eq!(d[0], 4);
        assert_eq!(d[63], 508);
        for (i, &v) in decimation_indices(1004).iter().enumerate() {
            assert_eq!(v, (2 * i + 1) * 1004 / 128);
        }
    }
}
