//! Probe, not used by the library: how fast would MD5 be if 16 files were
//! hashed at once in AVX-512 lanes (multi-buffer MD5, as Intel ISA-L's
//! md5_mb does)? MD5 is ~60 % of the scanner's digest CPU and has no
//! hardware support, so this is the one big lever left (see
//! bench/results/vigil-media.md). Each lane's result is checked against the
//! md-5 crate.
//!
//! ```text
//! cargo run --release -p vigil-media --example md5x16_probe
//! ```

#[cfg(target_arch = "x86_64")]
mod lanes {
    use std::arch::x86_64::*;

    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

    /// MD5 of 16 equal-length, already padded lanes at `base + lane * stride`.
    ///
    /// # Safety
    /// AVX-512F must be available; every lane must hold `blocks * 64`
    /// readable bytes and `15 * stride + blocks * 64` must fit in an i32.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn md5x16(base: *const u8, stride: usize, blocks: usize) -> [[u8; 16]; 16] {
        let mut st = [
            _mm512_set1_epi32(0x67452301),
            _mm512_set1_epi32(0xefcdab89u32 as i32),
            _mm512_set1_epi32(0x98badcfeu32 as i32),
            _mm512_set1_epi32(0x10325476),
        ];
        let offsets: [i32; 16] = core::array::from_fn(|l| (l * stride) as i32);
        // SAFETY: reads 64 bytes from a 16 x i32 array.
        let vidx = unsafe { _mm512_loadu_si512(offsets.as_ptr().cast()) };
        for blk in 0..blocks {
            let mut m = [_mm512_setzero_si512(); 16];
            for (j, w) in m.iter_mut().enumerate() {
                // SAFETY: the caller guarantees every lane's block is readable.
                *w =
                    unsafe { _mm512_i32gather_epi32::<1>(vidx, base.add(blk * 64 + 4 * j).cast()) };
            }
            let saved = st;
            for i in 0..64 {
                let [a, b, c, d] = st;
                let (f, g) = match i / 16 {
                    0 => (_mm512_ternarylogic_epi32::<0xca>(b, c, d), i),
                    1 => (_mm512_ternarylogic_epi32::<0xe4>(b, c, d), (5 * i + 1) % 16),
                    2 => (_mm512_ternarylogic_epi32::<0x96>(b, c, d), (3 * i + 5) % 16),
                    _ => (_mm512_ternarylogic_epi32::<0x39>(b, c, d), (7 * i) % 16),
                };
                let t = _mm512_add_epi32(
                    _mm512_add_epi32(a, f),
                    _mm512_add_epi32(m[g], _mm512_set1_epi32(K[i] as i32)),
                );
                let s = _mm512_set1_epi32(S[(i / 16) * 4 + i % 4] as i32);
                let new_b = _mm512_add_epi32(_mm512_rolv_epi32(t, s), b);
                st = [d, new_b, b, c];
            }
            for (x, y) in st.iter_mut().zip(saved) {
                *x = _mm512_add_epi32(*x, y);
            }
        }
        let mut words = [[0u32; 16]; 4];
        for (w, v) in words.iter_mut().zip(st) {
            // SAFETY: writes 64 bytes into a 16 x u32 array.
            unsafe { _mm512_storeu_si512(w.as_mut_ptr().cast(), v) };
        }
        core::array::from_fn(|lane| {
            let mut out = [0u8; 16];
            for (k, w) in words.iter().enumerate() {
                out[4 * k..4 * k + 4].copy_from_slice(&w[lane].to_le_bytes());
            }
            out
        })
    }
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return f64::NAN;
    }
    ru.ru_utime.tv_sec as f64 + ru.ru_utime.tv_usec as f64 / 1e6
}

#[cfg(target_arch = "x86_64")]
fn main() {
    use md5::Digest as _;
    if !std::arch::is_x86_feature_detected!("avx512f") {
        println!("no AVX-512F on this CPU");
        return;
    }
    // 16 lanes of 4 MiB: a 4 MiB - 9 byte message plus its 9 bytes of padding.
    let lane = 4usize << 20;
    let msg = lane - 9;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut data = vec![0u8; 16 * lane];
    for l in 0..16 {
        let chunk = &mut data[l * lane..(l + 1) * lane];
        for b in chunk[..msg].iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = (seed >> 32) as u8;
        }
        chunk[msg] = 0x80;
        chunk[lane - 8..].copy_from_slice(&((msg as u64) * 8).to_le_bytes());
    }
    let c0 = cpu_seconds();
    // SAFETY: AVX-512F checked above; 16 lanes of `lane` bytes, 64 MiB < i32::MAX.
    let lanes = unsafe { lanes::md5x16(data.as_ptr(), lane, lane / 64) };
    let c1 = cpu_seconds();
    let mut all_equal = true;
    for (l, got) in lanes.iter().enumerate() {
        let want = md5::Md5::digest(&data[l * lane..l * lane + msg]);
        all_equal &= want.as_slice() == got;
    }
    let c2 = cpu_seconds();
    println!(
        "16-lane AVX-512 MD5: {:.0} MB/CPU-s; md-5 crate (one stream): {:.0} MB/CPU-s; all 16 digests equal: {all_equal}",
        (16 * lane) as f64 / 1e6 / (c1 - c0),
        (16 * msg) as f64 / 1e6 / (c2 - c1),
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("x86-64 only");
}
