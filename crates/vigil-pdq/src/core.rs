//! The PDQ hash proper: float luma in, 256 bits, quality and the eight
//! dihedral hashes out.
//!
//! Every floating-point operation here is ordered exactly as in Meta's
//! `pdqhashing.cpp` (sequential float32 sums, true divisions, truncating
//! casts). Rust never contracts `a * b + c` into an FMA, so the arithmetic is
//! reproducible; do not "simplify" any expression without re-running the
//! reference-vector test.

use std::sync::OnceLock;

use vigil_domain::PdqHash;

use crate::jarosz;

/// Images with a side under this hash to all zeros with quality 0, as in the
/// reference (`MIN_HASHABLE_DIM`).
pub(crate) const MIN_HASHABLE_DIM: usize = 5;

/// The reference's float coefficients (`const float = 0.299` etc.).
pub(crate) const LUMA_R: f32 = 0.299;
pub(crate) const LUMA_G: f32 = 0.587;
pub(crate) const LUMA_B: f32 = 0.114;

/// Hash bits, quality and dihedral variants of one luma plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdqHashes {
    /// The hash `pdq-photo-hasher` prints (`pdqHash256FromFloatLuma`).
    pub hash: PdqHash,
    /// 0..=100.
    pub quality: u8,
    /// orig, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1, as
    /// `pdqDihedralHash256esFromFloatLuma` computes them.
    pub dihedral: [PdqHash; 8],
}

/// `D[i][j]` for DCT rows 1..=16 (DC excluded) over 64 samples. The scale
/// factor is a float in the reference; the cosine and the product are double,
/// rounded once to float.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static MATRIX: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        // The reference's constexpr pi literal is exactly f64's PI.
        let pi = std::f64::consts::PI;
        let mut d = [[0f32; 64]; 16];
        for (i, row) in d.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let arg = (pi / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *v = (f64::from(scale) * arg.cos()) as f32;
            }
        }
        d
    })
}

/// Hashes a row-major luma plane of `rows` x `cols` exactly like the
/// reference's float-luma entry points. `luma` is used as scratch (the filter
/// runs in place), which is why it is taken mutably.
pub fn hash_float_luma(luma: &mut [f32], rows: usize, cols: usize) -> PdqHashes {
    hash_luma(luma, rows, cols, false)
}

/// [`hash_float_luma`] on a plane stored transposed (`lt[c * rows + r]`),
/// as the JPEG sampler emits it: the filter starts with a transpose anyway.
pub(crate) fn hash_float_luma_transposed(lt: &mut [f32], rows: usize, cols: usize) -> PdqHashes {
    hash_luma(lt, rows, cols, true)
}

fn hash_luma(luma: &mut [f32], rows: usize, cols: usize, transposed: bool) -> PdqHashes {
    debug_assert_eq!(luma.len(), rows * cols);
    if rows < MIN_HASHABLE_DIM || cols < MIN_HASHABLE_DIM {
        let zero = PdqHash::from_words([0; 16]);
        return PdqHashes {
            hash: zero,
            quality: 0,
            dihedral: [zero; 8],
        };
    }

    // The plain hash path copies a 64x64 input through unfiltered, but the
    // dihedral path always filters; a window-1 box is not the identity in
    // float (sum += x; sum -= prev rounds), so both must be computed.
    let unfiltered = if rows == 64 && cols == 64 {
        let mut a = [[0f32; 64]; 64];
        for (i, row) in a.iter_mut().enumerate() {
            if transposed {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = luma[j * 64 + i];
                }
            } else {
                row.copy_from_slice(&luma[i * 64..i * 64 + 64]);
            }
        }
        Some(a)
    } else {
        None
    };

    let filtered = if transposed {
        let mut scratch = vec![0f32; rows * cols];
        jarosz::filter_and_decimate_transposed(luma, &mut scratch, rows, cols)
    } else {
        jarosz::filter_and_decimate(luma, rows, cols)
    };

    let (dih_quality, dct) = quality_and_dct(&filtered);
    let dihedral = dihedral_hashes(&dct);
    let (hash, quality) = match unfiltered {
        Some(a) => {
            let (q, b) = quality_and_dct(&a);
            (bits_from_dct(&b), q)
        }
        None => (dihedral[0], dih_quality),
    };
    PdqHashes {
        hash,
        quality,
        dihedral,
    }
}

/// Quality and the eight dihedral hashes from a decimated 64x64 plane.
pub(crate) fn hashes_from_64x64(a: &[[f32; 64]; 64]) -> (u8, [PdqHash; 8]) {
    let (q, dct) = quality_and_dct(a);
    (q, dihedral_hashes(&dct))
}

fn quality_and_dct(a: &[[f32; 64]; 64]) -> (u8, [[f32; 16]; 16]) {
    (quality_metric(a), dct64_to_16(a))
}

/// Sum of quantised neighbour gradients, `(int)((u - v) * 100 / 255)` each.
fn quality_metric(a: &[[f32; 64]; 64]) -> u8 {
    let mut sum: i32 = 0;
    for pair in a.windows(2) {
        for (u, v) in pair[0].iter().zip(&pair[1]) {
            let d = ((u - v) * 100.0 / 255.0) as i32;
            sum += d.abs();
        }
    }
    for row in a.iter() {
        for j in 0..63 {
            let d = ((row[j] - row[j + 1]) * 100.0 / 255.0) as i32;
            sum += d.abs();
        }
    }
    (sum / 90).min(100) as u8
}

/// `B = D A Dᵀ` with sequential float sums over k, as the reference loops.
fn dct64_to_16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0f32; 64]; 16];
    for i in 0..16 {
        // Lockstep over j keeps each (i, j) sum's k-order intact while
        // letting the compiler vectorise across j.
        let mut acc = [0f32; 64];
        for (k, arow) in a.iter().enumerate() {
            let dik = d[i][k];
            for j in 0..64 {
                acc[j] += dik * arow[j];
            }
        }
        t[i] = acc;
    }
    let mut b = [[0f32; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            let mut s = 0f32;
            for k in 0..64 {
                s += t[i][k] * d[j][k];
            }
            b[i][j] = s;
        }
    }
    b
}

/// Torben Mogensen's median, exactly as the reference (including which of
/// the two middle values it returns for even counts).
fn torben(m: &[f32]) -> f32 {
    let n = m.len();
    let mut min = m[0];
    let mut max = m[0];
    for &v in &m[1..] {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    let half = n.div_ceil(2);
    loop {
        let guess = (min + max) / 2.0;
        let mut less = 0usize;
        let mut greater = 0usize;
        let mut equal = 0usize;
        let mut maxltguess = min;
        let mut mingtguess = max;
        for &v in m {
            if v < guess {
                less += 1;
                if v > maxltguess {
                    maxltguess = v;
                }
            } else if v > guess {
                greater += 1;
                if v < mingtguess {
                    mingtguess = v;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                maxltguess
            } else if less + equal >= half {
                guess
            } else {
                mingtguess
            };
        } else if less > greater {
            max = maxltguess;
        } else {
            min = mingtguess;
        }
    }
}

fn bits_from_dct(b: &[[f32; 16]; 16]) -> PdqHash {
    let flat: Vec<f32> = b.iter().flatten().copied().collect();
    let median = torben(&flat);
    let mut words = [0u16; 16];
    for (k, &v) in flat.iter().enumerate() {
        if v > median {
            words[k >> 4] |= 1 << (k & 15);
        }
    }
    PdqHash::from_words(words)
}

/// The eight dihedral hashes from one DCT: sign flips by the parity of the
/// frequency indices and transposes, as the reference's `dct16OriginalTo*`.
fn dihedral_hashes(a: &[[f32; 16]; 16]) -> [PdqHash; 8] {
    // (transpose, negate-predicate) per variant, in the documented order.
    type Neg = fn(usize, usize) -> bool;
    let variants: [(bool, Neg); 8] = [
        (false, |_, _| false),            // original
        (true, |_, j| j & 1 == 0),        // rot90
        (false, |i, j| (i + j) & 1 == 1), // rot180
        (true, |i, _| i & 1 == 0),        // rot270
        (false, |i, _| i & 1 == 0),       // flipx
        (false, |_, j| j & 1 == 0),       // flipy
        (true, |_, _| false),             // flipplus1
        (true, |i, j| (i + j) & 1 == 1),  // flipminus1
    ];
    let mut out = [PdqHash::from_words([0; 16]); 8];
    for (slot, (transpose, neg)) in out.iter_mut().zip(variants) {
        let mut b = [[0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                let v = if neg(i, j) { -a[i][j] } else { a[i][j] };
                if transpose {
                    b[j][i] = v;
                } else {
                    b[i][j] = v;
                }
            }
        }
        *slot = bits_from_dct(&b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transposed entry (fed by the JPEG sampler through
    /// `transpose_strip`, in 8-row strips) gives exactly the row-major
    /// result, including the unfiltered 64x64 case and sizes that are not
    /// multiples of 8.
    #[test]
    fn transposed_input_hashes_identically() {
        let mut x = 0x2545_F491u32;
        for &(rows, cols) in &[
            (64, 64),
            (512, 512),
            (100, 37),
            (17, 203),
            (512, 341),
            (15, 80),
        ] {
            let luma: Vec<f32> = (0..rows * cols)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 25500) as f32 / 100.0
                })
                .collect();
            let mut lt = vec![0f32; rows * cols];
            for r0 in (0..rows).step_by(8) {
                let k = (rows - r0).min(8);
                crate::jarosz::transpose_strip(&luma[r0 * cols..], k, cols, r0, rows, &mut lt);
            }
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(lt[c * rows + r].to_bits(), luma[r * cols + c].to_bits());
                }
            }
            let a = hash_float_luma(&mut luma.clone(), rows, cols);
            let b = hash_float_luma_transposed(&mut lt, rows, cols);
            assert_eq!(a, b, "{rows}x{cols}");
        }
    }

    #[test]
    fn torben_matches_sorting_for_odd_and_even_counts() {
        let odd = [5.0f32, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(torben(&odd), 3.0);
        // For even n the reference returns the lower middle element.
        let even = [4.0f32, 1.0, 3.0, 2.0];
        assert_eq!(torben(&even), 2.0);
        let dup = [2.0f32, 2.0, 2.0, 7.0];
        assert_eq!(torben(&dup), 2.0);
    }

    #[test]
    fn tiny_images_hash_to_zero() {
        let mut luma = vec![128.0f32; 4 * 100];
        let h = hash_float_luma(&mut luma, 4, 100);
        assert_eq!(h.quality, 0);
        assert_eq!(h.hash, PdqHash::from_words([0; 16]));
        assert!(h.dihedral.iter().all(|d| *d == h.hash));
    }

    #[test]
    fn flat_image_has_zero_quality() {
        let mut luma = vec![77.0f32; 100 * 80];
        assert_eq!(hash_float_luma(&mut luma, 100, 80).quality, 0);
    }

    #[test]
    fn dihedral_original_equals_hash_except_for_64x64() {
        let pattern =
            |r: usize, c: usize| ((r * 7 + c * 13) % 251) as f32 + (r as f32 * 0.37).sin();
        let mut luma: Vec<f32> = (0..100 * 120).map(|k| pattern(k / 120, k % 120)).collect();
        let h = hash_float_luma(&mut luma, 100, 120);
        assert_eq!(h.hash, h.dihedral[0]);
    }

    #[test]
    fn flipplus1_is_the_transpose_of_the_original_bits() {
        // A transpose leaves the multiset of coefficients (hence the median)
        // unchanged, so bit (i, j) of flip+1 must be bit (j, i) of orig.
        let n = 128;
        let pattern = |r: usize, c: usize| ((r * r + 3 * c) % 256) as f32;
        let mut a: Vec<f32> = (0..n * n).map(|k| pattern(k / n, k % n)).collect();
        let h = hash_float_luma(&mut a, n, n);
        assert!(h.quality > 0);
        assert_ne!(h.hash, h.dihedral[6]);
        for i in 0..16 {
            for j in 0..16 {
                assert_eq!(h.dihedral[6].bit(16 * i + j), h.hash.bit(16 * j + i));
            }
        }
    }
}
