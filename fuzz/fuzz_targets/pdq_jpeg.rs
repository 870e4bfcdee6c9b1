#![no_main]
//! Any bytes through vigil-pdq's decoders and hash. For JPEGs, also checks
//! that the streaming baseline decoder, whenever it accepts a file, gives
//! exactly the pixels of libjpeg's coefficient route.

use libfuzzer_sys::fuzz_target;
use vigil_pdq::{DecodeLimits, bench_support, hash_image_bytes};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits { max_pixels: 1 << 22 };
    let _ = hash_image_bytes(data, &limits);
    if let Ok(Some(s)) = bench_support::decode_jpeg_route(data, &limits, true)
        && let Ok(Some(l)) = bench_support::decode_jpeg_route(data, &limits, false)
    {
        assert!(s.pixels() == l.pixels(), "streaming and libjpeg routes differ");
    }
});
