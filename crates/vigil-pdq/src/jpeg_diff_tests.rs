//! Differential tests of the streaming baseline decoder ([`baseline`])
//! against libjpeg, on JPEGs generated here with libjpeg's own encoder:
//! every coefficient of every block must be libjpeg's, the sampled pixels
//! must be libjpeg's full decode, and damaged files must give exactly what
//! the libjpeg-only path gives.

use std::os::raw::{c_int, c_ulong};

use super::*;
use crate::baseline::BlockSink;

type Blocks = Vec<Vec<[i16; 64]>>;

/// Collects every block of every component (MCU padding dropped).
struct Collect {
    dims: Vec<(usize, usize)>,
    blocks: Blocks,
}

impl BlockSink for Collect {
    fn wants(&self, comp: usize, by: usize, bx: usize) -> bool {
        self.dims.get(comp).is_some_and(|&(w, h)| bx < w && by < h)
    }

    fn put(&mut self, comp: usize, by: usize, bx: usize, block: &[i16; 64]) {
        let w = self.dims[comp].0;
        self.blocks[comp][by * w + bx] = *block;
    }
}

fn new_decompress() -> Box<Decompress> {
    // SAFETY: all-zero is the pre-create state.
    Box::new(unsafe { std::mem::zeroed() })
}

fn comps_of(ci: &sys::jpeg_decompress_struct) -> Vec<coef::Comp> {
    // SAFETY: the header has been read, comp_info holds num_components.
    let info = unsafe { std::slice::from_raw_parts(ci.comp_info, ci.num_components as usize) };
    let (w, h) = (ci.image_width as usize, ci.image_height as usize);
    let (hmax, vmax) = (ci.max_h_samp_factor as usize, ci.max_v_samp_factor as usize);
    info.iter()
        .map(|c| coef::Comp {
            h: c.h_samp_factor as usize,
            v: c.v_samp_factor as usize,
            width_in_blocks: c.width_in_blocks as usize,
            height_in_blocks: c.height_in_blocks as usize,
            width: (w * c.h_samp_factor as usize).div_ceil(hmax),
            height: (h * c.v_samp_factor as usize).div_ceil(vmax),
        })
        .collect()
}

/// The streaming decoder's coefficients; `None` if it falls back.
fn ours(bytes: &[u8]) -> Option<Blocks> {
    let mut d = new_decompress();
    // SAFETY: fresh struct; `bytes` outlives `d`.
    unsafe { open(&mut d, bytes) };
    let comps = comps_of(&d.cinfo);
    // SAFETY: header read.
    let info =
        unsafe { std::slice::from_raw_parts(d.cinfo.comp_info, d.cinfo.num_components as usize) };
    let (scan, _) = unsafe { baseline_scan(&d.cinfo, bytes, info, &comps)? };
    let dims: Vec<_> = comps
        .iter()
        .map(|c| (c.width_in_blocks, c.height_in_blocks))
        .collect();
    let mut sink = Collect {
        blocks: dims.iter().map(|&(w, h)| vec![[0; 64]; w * h]).collect(),
        dims,
    };
    baseline::decode(&scan, &mut sink).ok()?;
    Some(sink.blocks)
}

/// libjpeg's coefficients (`jpeg_read_coefficients`).
fn libjpegs(bytes: &[u8]) -> Blocks {
    let mut d = new_decompress();
    // SAFETY: as above; libjpeg's arrays are read within their bounds.
    unsafe {
        open(&mut d, bytes);
        let comps = comps_of(&d.cinfo);
        let access = (*d.cinfo.common.mem).access_virt_barray.unwrap();
        let arrays = sys::jpeg_read_coefficients(&mut d.cinfo);
        assert!(!arrays.is_null());
        comps
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut all = Vec::with_capacity(c.width_in_blocks * c.height_in_blocks);
                for by in 0..c.height_in_blocks {
                    let rows = access(&mut d.cinfo.common, *arrays.add(i), by as u32, 1, 0);
                    let row =
                        std::slice::from_raw_parts(*rows as *const [i16; 64], c.width_in_blocks);
                    all.extend_from_slice(row);
                }
                all
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
struct Enc {
    gray: bool,
    /// Luma sampling factors (chroma is 1x1).
    h: i32,
    v: i32,
    quality: i32,
    optimize: bool,
    /// Restart interval in MCU rows (libjpeg's `restart_in_rows`) ...
    restart_rows: i32,
    /// ... or in MCUs.
    restart_mcus: u32,
}

/// Encodes a synthetic image (gradients, edges and noise, so that long
/// codes and big coefficients occur) with libjpeg's baseline encoder.
fn encode(w: u32, h: u32, e: Enc, seed: u32) -> Vec<u8> {
    let ch = if e.gray { 1 } else { 3 };
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut px = vec![0u8; (w * h) as usize * ch];
    for yy in 0..h as usize {
        for xx in 0..w as usize {
            for c in 0..ch {
                let base = (xx * 255 / w as usize + yy * 3 + c * 70) % 256;
                let edge = if (xx / 5 + yy / 7) % 3 == 0 { 90 } else { 0 };
                let noise = (rnd() % 64) as usize;
                px[(yy * w as usize + xx) * ch + c] = ((base + edge + noise) % 256) as u8;
            }
        }
    }
    // SAFETY: a standard libjpeg compression sequence over buffers that
    // outlive it; the output buffer is malloc'd by libjpeg and freed here.
    unsafe {
        let mut err: sys::jpeg_error_mgr = std::mem::zeroed();
        let mut c: sys::jpeg_compress_struct = std::mem::zeroed();
        let em: *mut sys::jpeg_error_mgr = sys::jpeg_std_error(&mut err);
        (*em).error_exit = Some(error_exit);
        c.common.err = em;
        sys::jpeg_create_compress(&mut c);
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut size: c_ulong = 0;
        sys::jpeg_mem_dest(&mut c, &mut buf, &mut size);
        c.image_width = w;
        c.image_height = h;
        c.input_components = ch as c_int;
        c.in_color_space = if e.gray {
            sys::J_COLOR_SPACE::JCS_GRAYSCALE
        } else {
            sys::J_COLOR_SPACE::JCS_RGB
        };
        sys::jpeg_c_set_int_param(
            &mut c,
            sys::J_INT_PARAM::JINT_COMPRESS_PROFILE,
            sys::JCP_FASTEST as c_int,
        );
        sys::jpeg_set_defaults(&mut c);
        sys::jpeg_set_quality(&mut c, e.quality, 1);
        c.optimize_coding = i32::from(e.optimize) as _;
        c.restart_in_rows = e.restart_rows;
        c.restart_interval = e.restart_mcus;
        if !e.gray {
            let info = std::slice::from_raw_parts_mut(c.comp_info, 3);
            info[0].h_samp_factor = e.h;
            info[0].v_samp_factor = e.v;
            for ci in &mut info[1..] {
                ci.h_samp_factor = 1;
                ci.v_samp_factor = 1;
            }
        }
        sys::jpeg_start_compress(&mut c, 1);
        let stride = w as usize * ch;
        while c.next_scanline < h {
            let row = px.as_ptr().add(c.next_scanline as usize * stride);
            sys::jpeg_write_scanlines(&mut c, &row, 1);
        }
        sys::jpeg_finish_compress(&mut c);
        let out = std::slice::from_raw_parts(buf, size as usize).to_vec();
        libc::free(buf as *mut libc::c_void);
        sys::jpeg_destroy_compress(&mut c);
        out
    }
}

fn encodings() -> Vec<Enc> {
    let mut v = Vec::new();
    let layouts = [
        (true, 1, 1),
        (false, 1, 1),
        (false, 2, 1),
        (false, 2, 2),
        (false, 1, 2),
        (false, 4, 1),
    ];
    for (i, &(gray, h, vv)) in layouts.iter().enumerate() {
        for (j, &(rows, mcus)) in [(0, 0), (1, 0), (0, 3), (0, 1)].iter().enumerate() {
            v.push(Enc {
                gray,
                h,
                v: vv,
                quality: [100, 92, 75, 50, 10][(i + j) % 5],
                optimize: (i + j) % 2 == 0,
                restart_rows: rows,
                restart_mcus: mcus,
            });
        }
    }
    v
}

const SIZES: [(u32, u32); 6] = [(1, 1), (7, 9), (33, 17), (5, 700), (301, 203), (613, 409)];

/// The corpus of generated files, with what they were made from.
fn generated() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (n, e) in encodings().into_iter().enumerate() {
        for (k, &(w, h)) in SIZES.iter().enumerate() {
            let label = format!("{e:?} {w}x{h}");
            out.push((label, encode(w, h, e, (n * 31 + k) as u32)));
        }
    }
    out
}

#[test]
fn coefficients_equal_libjpegs_on_every_layout_size_and_restart_interval() {
    let mut checked = 0;
    for (label, bytes) in generated() {
        let mine = ours(&bytes).unwrap_or_else(|| panic!("fell back on a valid file: {label}"));
        assert!(mine == libjpegs(&bytes), "coefficients differ: {label}");
        checked += 1;
    }
    assert_eq!(checked, encodings().len() * SIZES.len());
}

#[test]
fn sampled_pixels_equal_libjpegs_full_decode() {
    let mut streamed = 0;
    for (label, bytes) in generated() {
        let full = decode_with(&bytes, u64::MAX, Mode::Scanlines { skip: false })
            .unwrap()
            .unwrap();
        // The hashing entry point returns float luma directly (AVX2 where
        // present): bit for bit the luma of libjpeg's pixels.
        let (s, w, h) = decode_sampled(&bytes, u64::MAX).unwrap();
        assert!(
            s.same_luma(&full.0) && (w, h) == (full.1, full.2),
            "{label}"
        );
        if let Some(c) =
            decode_with(&bytes, u64::MAX, Mode::Coefficients { baseline: true }).unwrap()
        {
            assert!(c.0 == full.0, "{label}");
            streamed += 1;
        }
    }
    // Gray, 4:4:4, 4:2:2 and 4:2:0 stream (4:4:0 and 4:1:1 go to
    // libjpeg's decode, and so do 2x-subsampled images 1 to 4 wide).
    assert!(streamed >= 4 * 4 * (SIZES.len() - 1), "{streamed}");
}

/// The streaming route with RGB pixels (what `decode_sampled` does, but
/// without the luma shortcut).
fn streaming_pixels(bytes: &[u8]) -> Result<(Sampled, u32, u32), PdqError> {
    match decode_with(bytes, u64::MAX, Mode::Coefficients { baseline: true })? {
        Some(r) => Ok(r),
        None => decode_with(bytes, u64::MAX, Mode::Scanlines { skip: true })?
            .ok_or_else(|| PdqError::Corrupt("no image".into())),
    }
}

/// The libjpeg-only route: its coefficients, else its full decode.
fn libjpeg_only(bytes: &[u8]) -> Result<(Sampled, u32, u32), PdqError> {
    match decode_with(bytes, u64::MAX, Mode::Coefficients { baseline: false })? {
        Some(r) => Ok(r),
        None => decode_with(bytes, u64::MAX, Mode::Scanlines { skip: true })?
            .ok_or_else(|| PdqError::Corrupt("no image".into())),
    }
}

#[test]
fn damaged_files_give_exactly_what_libjpeg_gives() {
    let mut x = 0x1234_5678u32;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as usize
    };
    let mut cases = 0;
    let mut errors = 0;
    for (label, bytes) in generated().into_iter().step_by(3) {
        if bytes.len() < 700 {
            continue;
        }
        for round in 0..12 {
            let mut b = bytes.clone();
            // Damage only the entropy-coded data and the end (the header
            // is libjpeg's to judge either way).
            let start = baseline::parse_header(&b).unwrap().scan_start;
            match round % 4 {
                0 => {
                    let i = start + rnd() % (b.len() - start);
                    b[i] ^= 1 << (rnd() % 8);
                }
                1 => b.truncate(start + rnd() % (b.len() - start)),
                2 => {
                    let i = start + rnd() % (b.len() - start);
                    b[i] = 0xFF;
                }
                _ => {
                    let i = start + rnd() % (b.len() - start);
                    b.insert(i, (rnd() % 256) as u8);
                }
            }
            let fast = streaming_pixels(&b);
            let slow = libjpeg_only(&b);
            let hashed = decode_sampled(&b, u64::MAX);
            assert_eq!(hashed.is_ok(), fast.is_ok(), "{label} round {round}");
            match (&fast, &slow) {
                (Ok(f), Ok(s)) => {
                    assert!(f == s, "{label} round {round}");
                    if let Ok(hs) = &hashed {
                        assert!(hs.0.same_luma(&f.0), "{label} round {round}");
                    }
                }
                (Err(_), Err(_)) => errors += 1,
                _ => panic!(
                    "{label} round {round}: {:?} vs {:?}",
                    fast.is_ok(),
                    slow.is_ok()
                ),
            }
            cases += 1;
        }
    }
    assert!(cases > 200 && errors > 0, "{cases} {errors}");
}
