//! JPEG decoding through libjpeg-turbo's C decoder (vendored by
//! `mozjpeg-sys`, built with `cc` alone), producing only the pixels the
//! reference's 512x512 nearest-neighbour pre-resize reads.
//!
//! Why libjpeg: PDQ is only bit-exact if the pixels are, and the reference
//! decodes with libjpeg-turbo defaults (islow IDCT, fancy upsampling, its
//! YCbCr tables). Pure-Rust decoders differ in a few percent of samples.
//!
//! Error handling: libjpeg's default `error_exit` calls `exit()`. We install
//! an `extern "C-unwind"` handler that unwinds (via `resume_unwind`, so no
//! panic message is printed) back to a `catch_unwind` around every libjpeg
//! call; the C is compiled with `-fexceptions` (feature `unwinding`). After
//! an unwind the decompressor is only destroyed, which libjpeg supports
//! (it is the same contract as its `setjmp`/`longjmp` recovery). This needs
//! `panic = "unwind"` (the default profile setting).
//!
//! Bounding work and memory: dimensions come from `jpeg_read_header` and are
//! checked against the caller's pixel limit before `jpeg_start_decompress`
//! allocates anything image-sized; libjpeg's own allocator is capped too; a
//! progress monitor refuses files with absurd numbers of scans (a known
//! CPU-exhaustion pattern for progressive JPEGs).

use std::ffi::CStr;
use std::os::raw::{c_int, c_long};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use mozjpeg_sys as sys;

use crate::PdqError;
use crate::baseline;
use crate::coef;
use crate::raster::{SamplePlan, Sampled, sample_row};

/// libjpeg-turbo's TurboJPEG API refuses more than 500 scans; a legitimate
/// progressive file has about ten.
const MAX_SCANS: c_int = 500;

/// The unwind payload carrying libjpeg's formatted message.
struct JpegAbort(String);

/// Formats the pending libjpeg message with libjpeg's own tables.
///
/// # Safety
/// `cinfo.err` must point at a live error manager.
unsafe fn message(cinfo: &mut sys::jpeg_common_struct) -> String {
    // libjpeg writes up to JMSG_LENGTH_MAX (200) bytes; the bindings declare
    // the buffer as an immutable 80-byte array, so call it through a
    // correctly typed pointer instead.
    type FormatFn = unsafe extern "C-unwind" fn(*mut sys::jpeg_common_struct, *mut u8);
    let mut buf = [0u8; 256];
    unsafe {
        if let Some(f) = (*cinfo.err).format_message {
            let f: FormatFn = std::mem::transmute(f);
            f(cinfo, buf.as_mut_ptr());
        }
    }
    CStr::from_bytes_until_nul(&buf)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default()
}

unsafe extern "C-unwind" fn error_exit(cinfo: &mut sys::jpeg_common_struct) {
    let msg = unsafe { message(cinfo) };
    resume_unwind(Box::new(JpegAbort(msg)));
}

/// Warnings are counted silently, except running out of data: the brief
/// for this crate is that a truncated file is an error, not a grey-padded
/// hash.
unsafe extern "C-unwind" fn emit_message(cinfo: &mut sys::jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return; // trace messages
    }
    // SAFETY: err points at the manager owned by the same `Decompress`.
    let err = unsafe { &mut *cinfo.err };
    err.num_warnings += 1;
    if err.msg_code == sys::JWRN_JPEG_EOF as c_int {
        let msg = unsafe { message(cinfo) };
        resume_unwind(Box::new(JpegAbort(format!("truncated JPEG: {msg}"))));
    }
}

unsafe extern "C-unwind" fn output_message(_cinfo: &mut sys::jpeg_common_struct) {}

unsafe extern "C-unwind" fn progress_monitor(cinfo: &mut sys::jpeg_common_struct) {
    if cinfo.is_decompressor == 0 {
        return;
    }
    // SAFETY: a decompressor's common struct is the first field of its
    // jpeg_decompress_struct (repr(C)).
    let d = unsafe {
        &*(cinfo as *const sys::jpeg_common_struct as *const sys::jpeg_decompress_struct)
    };
    if d.input_scan_number > MAX_SCANS {
        resume_unwind(Box::new(JpegAbort(format!(
            "more than {MAX_SCANS} scans (refused as a CPU-exhaustion risk)"
        ))));
    }
}

/// libjpeg state that must not move once created (libjpeg keeps pointers to
/// the error and progress managers), hence always boxed.
struct Decompress {
    cinfo: sys::jpeg_decompress_struct,
    err: sys::jpeg_error_mgr,
    progress: sys::jpeg_progress_mgr,
}

impl Drop for Decompress {
    fn drop(&mut self) {
        // SAFETY: destroy is valid on a created, failed or zeroed struct
        // (it checks `mem` for NULL), and never calls error_exit.
        unsafe { sys::jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

/// Decodes a JPEG and returns the reference pre-resize sample of it plus
/// the full image size. `max_pixels` is checked before decoding.
pub(crate) fn decode_sampled(
    bytes: &[u8],
    max_pixels: u64,
) -> Result<(Sampled, u32, u32), PdqError> {
    match decode_with(bytes, max_pixels, Mode::Hash)? {
        Some(r) => Ok(r),
        // A layout the sampled reconstruction does not cover: let libjpeg
        // do the whole decode (a second entropy pass, but rare).
        None => decode_with(bytes, max_pixels, Mode::Scanlines { skip: true })?
            .ok_or_else(|| PdqError::Corrupt("JPEG decode produced no image".into())),
    }
}

/// How pixels are obtained from libjpeg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Our sampled reconstruction ([`coef`]) of coefficients from our own
    /// streaming decoder ([`baseline`], if `baseline` and the file is a
    /// plain baseline one) or else from libjpeg's `jpeg_read_coefficients`.
    Coefficients { baseline: bool },
    /// As `Coefficients { baseline: true }`, but colour images come back
    /// as float luma only (what hashing needs; see [`coef::Sampler::finish`]).
    Hash,
    /// Only the streaming baseline decoder; `None` if it does not apply
    /// (for the benchmark's per-path figures).
    StreamingOnly,
    /// libjpeg's own full pipeline, row by row (optionally skipping rows
    /// with `jpeg_skip_scanlines`).
    Scanlines { skip: bool },
}

/// `Ok(None)`: `Mode::Coefficients` met a layout it does not reproduce.
pub(crate) fn decode_with(
    bytes: &[u8],
    max_pixels: u64,
    mode: Mode,
) -> Result<Option<(Sampled, u32, u32)>, PdqError> {
    if bytes.is_empty() {
        return Err(PdqError::Corrupt("empty JPEG".into()));
    }
    // SAFETY: all-zero is the documented pre-create state of these structs
    // (pointers NULL, callbacks None).
    let mut d: Box<Decompress> = Box::new(unsafe { std::mem::zeroed() });
    let result = catch_unwind(AssertUnwindSafe(|| unsafe {
        run(&mut d, bytes, max_pixels, mode)
    }));
    match result {
        Ok(r) => r,
        Err(payload) => match payload.downcast::<JpegAbort>() {
            Ok(abort) => Err(PdqError::Corrupt(abort.0)),
            Err(other) => resume_unwind(other),
        },
    }
}

/// Creates the decompressor with our error and progress handlers and reads
/// the header (up to the first SOS) from `bytes`.
///
/// # Safety
/// `d` must be zeroed or previously destroyed and `bytes` outlive its use;
/// libjpeg errors unwind out of this function with a `JpegAbort` payload.
unsafe fn open(d: &mut Decompress, bytes: &[u8]) {
    unsafe {
        d.cinfo.common.err = sys::jpeg_std_error(&mut d.err);
        d.err.error_exit = Some(error_exit);
        d.err.emit_message = Some(emit_message);
        d.err.output_message = Some(output_message);
        sys::jpeg_create_decompress(&mut d.cinfo);
        d.progress.progress_monitor = Some(progress_monitor);
        d.cinfo.common.progress = &mut d.progress;
        sys::jpeg_mem_src(&mut d.cinfo, bytes.as_ptr(), bytes.len() as _);
        sys::jpeg_read_header(&mut d.cinfo, 1);
    }
}

/// # Safety
/// `d` must be zeroed or previously destroyed; libjpeg errors unwind out of
/// this function with a `JpegAbort` payload.
unsafe fn run(
    d: &mut Decompress,
    bytes: &[u8],
    max_pixels: u64,
    mode: Mode,
) -> Result<Option<(Sampled, u32, u32)>, PdqError> {
    unsafe {
        open(d, bytes);

        let (w, h) = (d.cinfo.image_width, d.cinfo.image_height);
        if u64::from(w) * u64::from(h) > max_pixels {
            return Err(PdqError::TooLarge {
                width: w.into(),
                height: h.into(),
                limit: max_pixels,
            });
        }
        let channels = match (d.cinfo.jpeg_color_space, d.cinfo.num_components) {
            (sys::J_COLOR_SPACE::JCS_GRAYSCALE, 1) => {
                d.cinfo.out_color_space = sys::J_COLOR_SPACE::JCS_GRAYSCALE;
                1
            }
            (sys::J_COLOR_SPACE::JCS_YCbCr | sys::J_COLOR_SPACE::JCS_RGB, 3) => {
                d.cinfo.out_color_space = sys::J_COLOR_SPACE::JCS_RGB;
                3
            }
            (cs, n) => {
                return Err(PdqError::UnsupportedColorSpace(format!(
                    "JPEG colour space {cs:?} with {n} components"
                )));
            }
        };
        // The reference's defaults, stated explicitly.
        d.cinfo.dct_method = sys::J_DCT_METHOD::JDCT_ISLOW;
        d.cinfo.do_fancy_upsampling = 1;
        d.cinfo.do_block_smoothing = 1;
        // A whole-image coefficient buffer (progressive) is 2 bytes per
        // sample; with 4:4:4 that is 6 bytes per pixel. Cap libjpeg there
        // plus slack, so even a lying header cannot make it allocate more.
        let cap = (u64::from(w) * u64::from(h)).saturating_mul(8) + (64 << 20);
        (*d.cinfo.common.mem).max_memory_to_use = cap.min(c_long::MAX as u64) as c_long;

        match mode {
            Mode::Coefficients { baseline } => {
                return Ok(
                    coefficients(d, channels, bytes, baseline, false, false).map(|s| (s, w, h))
                );
            }
            Mode::Hash => {
                return Ok(coefficients(d, channels, bytes, true, false, true).map(|s| (s, w, h)));
            }
            Mode::StreamingOnly => {
                return Ok(coefficients(d, channels, bytes, true, true, false).map(|s| (s, w, h)));
            }
            Mode::Scanlines { .. } => {}
        }
        let use_skip = mode == (Mode::Scanlines { skip: true });
        sys::jpeg_start_decompress(&mut d.cinfo);
        let (ow, oh) = (
            d.cinfo.output_width as usize,
            d.cinfo.output_height as usize,
        );
        if d.cinfo.output_components as usize != channels {
            return Err(PdqError::Corrupt(
                "unexpected JPEG output components".into(),
            ));
        }
        let plan = SamplePlan::new(ow, oh);
        let mut row = vec![0u8; ow * channels];
        let mut data = Vec::with_capacity(plan.out_width() * plan.out_height() * channels);
        let mut yi = 0;
        while yi < plan.ys.len() {
            let src = plan.ys[yi];
            let cur = d.cinfo.output_scanline;
            if src > cur {
                if use_skip {
                    let n = src - cur;
                    if sys::jpeg_skip_scanlines(&mut d.cinfo, n) != n {
                        return Err(PdqError::Corrupt("JPEG ended early".into()));
                    }
                } else {
                    while d.cinfo.output_scanline < src {
                        read_row(&mut d.cinfo, &mut row)?;
                    }
                }
            }
            read_row(&mut d.cinfo, &mut row)?;
            while yi < plan.ys.len() && plan.ys[yi] == src {
                sample_row(&row, &plan.xs, channels, &mut data);
                yi += 1;
            }
        }
        sys::jpeg_abort_decompress(&mut d.cinfo);
        Ok(Some((
            Sampled::pixels(plan.out_width(), plan.out_height(), channels, data),
            w,
            h,
        )))
    }
}

/// The coefficient path. `None` when the layout is not one [`coef`]
/// reproduces exactly, or libjpeg would apply block smoothing.
///
/// # Safety
/// Header read, colour space checked; libjpeg errors unwind.
unsafe fn coefficients(
    d: &mut Decompress,
    channels: usize,
    bytes: &[u8],
    baseline: bool,
    streaming_only: bool,
    luma: bool,
) -> Option<Sampled> {
    unsafe {
        let ci = &d.cinfo;
        let n = ci.num_components as usize;
        let (w, h) = (ci.image_width as usize, ci.image_height as usize);
        let (hmax, vmax) = (ci.max_h_samp_factor as usize, ci.max_v_samp_factor as usize);
        if ci.comp_info.is_null() || hmax == 0 || vmax == 0 || n != channels {
            return None;
        }
        let info = std::slice::from_raw_parts(ci.comp_info, n);
        let comps: Vec<coef::Comp> = info
            .iter()
            .map(|c| {
                let (ch, cv) = (c.h_samp_factor as usize, c.v_samp_factor as usize);
                coef::Comp {
                    h: ch,
                    v: cv,
                    width_in_blocks: c.width_in_blocks as usize,
                    height_in_blocks: c.height_in_blocks as usize,
                    width: (w * ch).div_ceil(hmax),
                    height: (h * cv).div_ceil(vmax),
                }
            })
            .collect();
        let ycc = ci.jpeg_color_space == sys::J_COLOR_SPACE::JCS_YCbCr;
        let layout = coef::layout(&comps, ycc, w)?;
        let plan = SamplePlan::new(w, h);
        if baseline
            && let Some(s) = try_baseline(&d.cinfo, bytes, info, &comps, layout, &plan, luma)
        {
            return Some(s);
        }
        if streaming_only {
            return None;
        }
        let access = (*ci.common.mem).access_virt_barray?;

        let arrays = sys::jpeg_read_coefficients(&mut d.cinfo);
        if arrays.is_null() {
            return None;
        }
        let ci = &d.cinfo;
        if !ci.coef_bits.is_null() {
            // Progressive: libjpeg smooths blocks whose low AC coefficients
            // are not fully known (coef_bits != 0); we do not reproduce that.
            let bits = std::slice::from_raw_parts(ci.coef_bits as *const c_int, n * 64);
            if (0..n).any(|c| bits[c * 64..c * 64 + 10].iter().any(|&b| b != 0)) {
                return None;
            }
        }
        let mut qts = Vec::with_capacity(n);
        for c in info {
            if c.quant_table.is_null() {
                return None;
            }
            let q = &(*c.quant_table).quantval;
            // ISLOW_MULT_TYPE is a short.
            qts.push(std::array::from_fn::<i32, 64, _>(|k| {
                i32::from(q[k] as i16)
            }));
        }
        let cinfo_ptr: *mut sys::jpeg_decompress_struct = &mut d.cinfo;
        let mut rows: Vec<coef::VirtRows> = comps
            .iter()
            .enumerate()
            .map(|(i, c)| coef::VirtRows {
                cinfo: cinfo_ptr,
                array: *arrays.add(i),
                access,
                width_in_blocks: c.width_in_blocks,
            })
            .collect();
        let mut srcs: Vec<&mut dyn coef::BlockRows> = rows
            .iter_mut()
            .map(|r| r as &mut dyn coef::BlockRows)
            .collect();
        Some(coef::sample(layout, &comps, &qts, &mut srcs, &plan, luma))
    }
}

/// The streaming path for baseline files: `None` whenever the file is not
/// a plain single-scan Huffman one, our header walk disagrees with
/// libjpeg's in any checked respect, or [`baseline::decode`] gives up.
/// libjpeg's state is untouched, so the caller can go on with
/// `jpeg_read_coefficients` as if this had not been tried.
///
/// # Safety
/// `ci` has read the header (`jpeg_read_header` returned) from `bytes`
/// through `jpeg_mem_src`; `info` is its `comp_info`.
unsafe fn try_baseline(
    ci: &sys::jpeg_decompress_struct,
    bytes: &[u8],
    info: &[sys::jpeg_component_info],
    comps: &[coef::Comp],
    layout: coef::Layout,
    plan: &SamplePlan,
    luma: bool,
) -> Option<Sampled> {
    // SAFETY: the caller's contract.
    let (scan, qts) = unsafe { baseline_scan(ci, bytes, info, comps)? };
    let mut sampler = coef::Sampler::new(layout, comps, &qts, plan);
    baseline::decode(&scan, &mut sampler).ok()?;
    Some(sampler.finish(luma))
}

/// The scan description and dequantisation tables for [`baseline::decode`],
/// or `None` (see [`try_baseline`]).
///
/// # Safety
/// As [`try_baseline`].
unsafe fn baseline_scan<'a>(
    ci: &sys::jpeg_decompress_struct,
    bytes: &'a [u8],
    info: &[sys::jpeg_component_info],
    comps: &[coef::Comp],
) -> Option<(baseline::Scan<'a>, Vec<[i32; 64]>)> {
    let hdr = baseline::parse_header(bytes).ok()?;
    if !matches!(hdr.sof, 0xC0 | 0xC1)
        || hdr.spectral != (0, 63, 0, 0)
        || hdr.scan.len() != info.len()
        || ci.src.is_null()
    {
        return None;
    }
    // libjpeg stopped right after the same SOS segment.
    // SAFETY: src is libjpeg's live memory source over `bytes`.
    let (next, left) = unsafe {
        (
            (*ci.src).next_input_byte as usize,
            (*ci.src).bytes_in_buffer,
        )
    };
    let consumed = next.checked_sub(bytes.as_ptr() as usize)?;
    if consumed != hdr.scan_start || left != bytes.len().checked_sub(consumed)? {
        return None;
    }
    let mut dc_tables = Vec::with_capacity(hdr.scan.len());
    let mut ac_tables = Vec::with_capacity(hdr.scan.len());
    let mut scomps = Vec::with_capacity(hdr.scan.len());
    for &(id, dcn, acn) in &hdr.scan {
        let (index, c) = info
            .iter()
            .enumerate()
            .find(|(_, c)| c.component_id == i32::from(id))?;
        if c.dc_tbl_no != i32::from(dcn) || c.ac_tbl_no != i32::from(acn) {
            return None;
        }
        let (bits, vals) = hdr.dc.get(usize::from(dcn))?.as_ref()?;
        dc_tables.push(baseline::Table::new(bits, vals, true).ok()?);
        let (bits, vals) = hdr.ac.get(usize::from(acn))?.as_ref()?;
        ac_tables.push(baseline::Table::new(bits, vals, false).ok()?);
        scomps.push(baseline::ScanComp {
            index,
            h: usize::try_from(c.h_samp_factor).ok()?,
            v: usize::try_from(c.v_samp_factor).ok()?,
            dc: dc_tables.len() - 1,
            ac: ac_tables.len() - 1,
        });
    }
    let mut qts = Vec::with_capacity(info.len());
    for c in info {
        let q = *ci
            .quant_tbl_ptrs
            .get(usize::try_from(c.quant_tbl_no).ok()?)?;
        if q.is_null() {
            return None;
        }
        // SAFETY: a table libjpeg allocated while reading DQT.
        let q = unsafe { &(*q).quantval };
        // As libjpeg's ISLOW_MULT_TYPE (a short).
        qts.push(std::array::from_fn::<i32, 64, _>(|k| {
            i32::from(q[k] as i16)
        }));
    }
    let (w, h) = (ci.image_width as usize, ci.image_height as usize);
    let (hmax, vmax) = (ci.max_h_samp_factor as usize, ci.max_v_samp_factor as usize);
    let (mcus_x, mcus_y) = match scomps.as_slice() {
        [one] => {
            let c = comps.get(one.index)?;
            (c.width_in_blocks, c.height_in_blocks)
        }
        _ => (w.div_ceil(8 * hmax), h.div_ceil(8 * vmax)),
    };
    let scan = baseline::Scan {
        data: bytes,
        start: hdr.scan_start,
        comps: scomps,
        mcus_x,
        mcus_y,
        restart_interval: hdr.restart_interval,
        dc_tables,
        ac_tables,
    };
    Some((scan, qts))
}

#[cfg(test)]
#[path = "jpeg_diff_tests.rs"]
mod diff_tests;

unsafe fn read_row(
    cinfo: &mut sys::jpeg_decompress_struct,
    row: &mut [u8],
) -> Result<(), PdqError> {
    let mut ptr = row.as_mut_ptr();
    // SAFETY: `row` holds output_width * output_components bytes.
    let n = unsafe { sys::jpeg_read_scanlines(cinfo, &mut ptr, 1) };
    if n != 1 {
        return Err(PdqError::Corrupt("JPEG ended early".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// `jpeg_skip_scanlines` must not change a single sampled pixel (it is
    /// subtle with fancy upsampling's context rows).
    #[test]
    fn skipping_rows_and_sampled_reconstruction_give_libjpegs_pixels() {
        let root =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pdq-reference/data");
        let mut checked = 0;
        let mut coef_checked = 0;
        for sub in [
            "reg-test-input/dih",
            "bridge-mods",
            "misc-images",
            "reg-test-input/exif-rotn",
        ] {
            let dir = std::fs::read_dir(root.join(sub)).expect("reference data must be present");
            for entry in dir {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "jpg") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let full = decode_with(&bytes, u64::MAX, Mode::Scanlines { skip: false })
                    .unwrap()
                    .unwrap();
                let skip = decode_with(&bytes, u64::MAX, Mode::Scanlines { skip: true })
                    .unwrap()
                    .unwrap();
                assert!(full.0 == skip.0, "skip {}", path.display());
                if let Some(c) =
                    decode_with(&bytes, u64::MAX, Mode::Coefficients { baseline: true }).unwrap()
                {
                    coef_checked += 1;
                    assert!(full.0 == c.0, "coefficients {}", path.display());
                }
                checked += 1;
            }
        }
        assert!(checked >= 20);
        assert!(coef_checked >= 20, "{coef_checked}");
    }

    /// The synthetic fixtures cover layouts absent from Meta's set
    /// (greyscale, 4:4:4, 4:2:2, odd sizes, 2-sample chroma rows).
    #[test]
    fn sampled_reconstruction_matches_libjpeg_on_every_layout() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut coef_names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // The CMYK fixture is for the refusal test.
            if path.extension().is_none_or(|e| e != "jpg") || name.starts_with("cmyk") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let full = decode_with(&bytes, u64::MAX, Mode::Scanlines { skip: false })
                .unwrap()
                .unwrap();
            let skip = decode_with(&bytes, u64::MAX, Mode::Scanlines { skip: true })
                .unwrap()
                .unwrap();
            assert!(full.0 == skip.0, "skip {}", path.display());
            if let Some(c) =
                decode_with(&bytes, u64::MAX, Mode::Coefficients { baseline: true }).unwrap()
            {
                assert!(full.0 == c.0, "coefficients {}", path.display());
                coef_names.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
            // The public entry point agrees with libjpeg's pixels too.
            // It returns the luma directly; bit for bit that of libjpeg's pixels.
            let (s, w, h) = decode_sampled(&bytes, u64::MAX).unwrap();
            assert!(s.same_luma(&full.0) && (w, h) == (full.1, full.2));
        }
        coef_names.sort();
        // Everything except the 3-pixel-wide 4:2:0 file (libjpeg switches to
        // non-fancy upsampling there) takes the fast path.
        assert_eq!(coef_names.len(), 7, "{coef_names:?}");
        assert!(!coef_names.iter().any(|n| n.starts_with("s420-3x")));
    }
}
