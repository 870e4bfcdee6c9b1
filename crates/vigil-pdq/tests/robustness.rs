//! Hostile and degenerate inputs: errors, never panics or aborts, and
//! decompression bombs refused from the header.

use std::fs;
use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

use image::{ImageEncoder, codecs::png::PngEncoder};
use vigil_pdq::{DecodeLimits, PdqError, hash_gray8, hash_image_bytes, hash_rgb8};

fn data(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/pdq-reference/data")
        .join(rel);
    fs::read(&p).unwrap_or_else(|e| panic!("reference data missing at {}: {e}", p.display()))
}

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.max(1);
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    let mut typed = kind.to_vec();
    typed.extend_from_slice(body);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
}

fn encode_png(w: u32, h: u32, px: &[u8], color: image::ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(Cursor::new(&mut out))
        .write_image(px, w, h, color)
        .unwrap();
    out
}

#[test]
fn truncated_jpeg_is_corrupt_not_a_grey_padded_hash() {
    let full = data("reg-test-input/dih/bridge-1-original.jpg");
    for cut in [full.len() / 2, full.len() - 100, 700] {
        match hash_image_bytes(&full[..cut], &DecodeLimits::default()) {
            Err(PdqError::Corrupt(msg)) => assert!(!msg.is_empty()),
            other => panic!("cut at {cut}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = xorshift(7);
    let limits = DecodeLimits::default();
    for _ in 0..50 {
        let junk: Vec<u8> = (0..2000).map(|_| rng() as u8).collect();
        assert!(matches!(
            hash_image_bytes(&junk, &limits),
            Err(PdqError::Unsupported)
        ));
        // The same junk behind each format's magic must fail cleanly.
        for magic in [
            &[0xFFu8, 0xD8, 0xFF][..],
            b"\x89PNG\r\n\x1a\n",
            b"GIF89a",
            b"BM",
            b"II*\0",
        ] {
            let mut b = magic.to_vec();
            b.extend_from_slice(&junk);
            assert!(hash_image_bytes(&b, &limits).is_err());
        }
    }
}

#[test]
fn mutated_jpegs_error_or_hash_but_never_panic() {
    let base = data("misc-images/wee.jpg");
    let mut rng = xorshift(11);
    let limits = DecodeLimits::default();
    let mut errors = 0;
    for cut in (0..base.len()).step_by(7) {
        if hash_image_bytes(&base[..cut], &limits).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
    for _ in 0..300 {
        let mut b = base.clone();
        for _ in 0..4 {
            let i = (rng() as usize) % b.len();
            b[i] = rng() as u8;
        }
        let _ = hash_image_bytes(&b, &limits);
    }
}

#[test]
fn jpeg_bomb_header_is_refused_before_decoding() {
    // SOI, SOF0 claiming 60000x60000 3-component, SOS: no pixel data at all.
    let mut j = vec![0xFF, 0xD8];
    j.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8, 0xEA, 0x60, 0xEA, 0x60, 3]);
    j.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    j.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
    let t = Instant::now();
    match hash_image_bytes(&j, &DecodeLimits::default()) {
        Err(PdqError::TooLarge { width, height, .. }) => {
            assert_eq!((width, height), (60000, 60000))
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(t.elapsed().as_secs() < 5, "refusal must not decode");
}

#[test]
fn png_bomb_header_is_refused() {
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    png_chunk(&mut p, b"IHDR", &ihdr);
    png_chunk(
        &mut p,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut p, b"IEND", &[]);
    match hash_image_bytes(&p, &DecodeLimits::default()) {
        Err(PdqError::TooLarge { width, height, .. }) => {
            assert_eq!((width, height), (100_000, 100_000))
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn limit_is_the_callers() {
    let bytes = data("reg-test-input/labelme-subset/q0122.jpg"); // 256x256
    let tight = DecodeLimits {
        max_pixels: 256 * 255,
    };
    assert!(matches!(
        hash_image_bytes(&bytes, &tight),
        Err(PdqError::TooLarge { .. })
    ));
    let exact = DecodeLimits {
        max_pixels: 256 * 256,
    };
    assert!(hash_image_bytes(&bytes, &exact).is_ok());
}

#[test]
fn tiny_images_hash_to_zero_with_quality_zero() {
    let mut rng = xorshift(3);
    for (w, h) in [(4u32, 4u32), (4, 500), (512, 3), (1, 1)] {
        let px: Vec<u8> = (0..w * h * 3).map(|_| rng() as u8).collect();
        let png = encode_png(w, h, &px, image::ExtendedColorType::Rgb8);
        let out = hash_image_bytes(&png, &DecodeLimits::default()).unwrap();
        assert_eq!(out.quality, 0, "{w}x{h}");
        assert_eq!(out.hash.to_hex(), "0".repeat(64));
        assert_eq!((out.width, out.height), (w, h));
    }
    // A 4x600 image is *stretched* to 512x512 by the reference pre-resize
    // (a side is over 512), so it is hashable after all.
    let px: Vec<u8> = (0..4 * 600).map(|_| rng() as u8).collect();
    assert_ne!(hash_gray8(4, 600, &px).unwrap().quality, 0);
    // At 5x5 hashing starts.
    let px: Vec<u8> = (0..5 * 5).map(|i| (i * 10) as u8).collect();
    let out = hash_gray8(5, 5, &px).unwrap();
    assert_ne!(out.hash.to_hex(), "0".repeat(64));
}

#[test]
fn png_decoding_equals_hashing_the_same_pixels() {
    // A procedurally generated gradient with noise, through PNG and raw.
    let (w, h) = (700u32, 300u32);
    let mut rng = xorshift(5);
    let px: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let n = (rng() % 16) as u32;
            [
                ((x * 255) / w) as u8,
                ((y * 255) / h) as u8,
                ((x ^ y) % 256 + n).min(255) as u8,
            ]
        })
        .collect();
    let png = encode_png(w, h, &px, image::ExtendedColorType::Rgb8);
    let a = hash_image_bytes(&png, &DecodeLimits::default()).unwrap();
    let b = hash_rgb8(w, h, &px).unwrap();
    assert_eq!(a, b);
    assert!(a.quality > 0);

    // RGBA: alpha is dropped, not composited.
    let rgba: Vec<u8> = px
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i % 256) as u8])
        .collect();
    let png4 = encode_png(w, h, &rgba, image::ExtendedColorType::Rgba8);
    assert_eq!(
        hash_image_bytes(&png4, &DecodeLimits::default())
            .unwrap()
            .hash,
        b.hash
    );

    // Grey stays one channel (value = luma).
    let grey: Vec<u8> = px.chunks_exact(3).map(|p| p[0] / 2 + p[1] / 2).collect();
    let pngg = encode_png(w, h, &grey, image::ExtendedColorType::L8);
    assert_eq!(
        hash_image_bytes(&pngg, &DecodeLimits::default()).unwrap(),
        hash_gray8(w, h, &grey).unwrap()
    );
}

#[test]
fn hash_many_equals_one_by_one_in_order() {
    let files = [
        data("misc-images/wee.jpg"),
        b"not an image".to_vec(),
        data("reg-test-input/labelme-subset/q0003.jpg"),
        data("misc-images/c.png"),
    ];
    let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let limits = DecodeLimits::default();
    let many = vigil_pdq::hash_many(&refs, &limits);
    assert_eq!(many.len(), 4);
    for (m, f) in many.iter().zip(&files) {
        match (m, hash_image_bytes(f, &limits)) {
            (Ok(a), Ok(b)) => assert_eq!(*a, b),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("parallel {a:?} vs sequential {b:?}"),
        }
    }
    assert!(many[1].is_err() && many[0].is_ok());
}

#[test]
fn cmyk_jpeg_is_refused_not_guessed() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cmyk-96x64.jpg");
    let bytes = fs::read(p).unwrap();
    assert!(matches!(
        hash_image_bytes(&bytes, &DecodeLimits::default()),
        Err(PdqError::UnsupportedColorSpace(_))
    ));
}
