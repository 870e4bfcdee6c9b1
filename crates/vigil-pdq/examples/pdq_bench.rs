//! Throughput, stage breakdown and bit-exactness check of vigil-pdq on a
//! directory of images (see `bench/vigil-pdq/run.sh`, which builds the
//! corpus and the oracle).
//!
//! Usage: pdq_bench DIR [ORACLE_TSV] [REPS]
//!
//! Files are read into memory first, so disk I/O is not measured. Rates are
//! given per CPU-second of this process (robust when the machine is shared)
//! and per wall-second.

use std::collections::HashMap;
use std::time::Instant;

use vigil_pdq::{DecodeLimits, PdqOutput, bench_support, hash_image_bytes, hash_many};

fn clock(id: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out-pointer.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn process_cpu() -> f64 {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn thread_cpu() -> f64 {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .ok_or("usage: pdq_bench DIR [ORACLE_TSV] [REPS]")?;
    let oracle = args.get(2).filter(|s| !s.is_empty() && *s != "-");
    let reps: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(2);

    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".tsv"))
        .collect();
    names.sort();
    let files: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(format!("{dir}/{n}")))
        .collect::<Result<_, _>>()?;
    let n = files.len();
    let mb: f64 = files.iter().map(|f| f.len() as f64).sum::<f64>() / 1e6;
    println!("corpus: {n} files, {mb:.1} MB, reps {reps}");
    let limits = DecodeLimits::default();

    // Warm-up pass, also the results checked against the oracle.
    let results: Vec<Result<PdqOutput, _>> =
        files.iter().map(|f| hash_image_bytes(f, &limits)).collect();
    let mp: f64 = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|o| f64::from(o.width) * f64::from(o.height) / 1e6)
        .sum::<f64>()
        / n as f64;
    println!("mean size {mp:.2} MP");

    // One thread.
    let (w0, c0) = (Instant::now(), process_cpu());
    for _ in 0..reps {
        for f in &files {
            std::hint::black_box(hash_image_bytes(f, &limits).ok());
        }
    }
    let (wall, cpu) = (w0.elapsed().as_secs_f64(), process_cpu() - c0);
    let total = (n * reps) as f64;
    println!(
        "1 thread : {:.1} img/CPU-s, {:.1} img/wall-s ({:.2} ms CPU/img)",
        total / cpu,
        total / wall,
        cpu * 1e3 / total
    );

    // Two threads (rayon, one image per task).
    let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
    let (w0, c0) = (Instant::now(), process_cpu());
    for _ in 0..reps {
        std::hint::black_box(pool.install(|| hash_many(&refs, &limits)));
    }
    let (wall, cpu) = (w0.elapsed().as_secs_f64(), process_cpu() - c0);
    println!(
        "2 threads: {:.1} img/CPU-s, {:.1} img/wall-s (wall depends on other load)",
        total / cpu,
        total / wall
    );

    // Stage breakdown, thread CPU time.
    let mut t = [0f64; 4];
    for f in &files {
        let a = thread_cpu();
        let Ok(s) = bench_support::decode(f, &limits) else {
            continue;
        };
        let b = thread_cpu();
        let mut luma = bench_support::luma(s);
        let c = thread_cpu();
        let dec = bench_support::filter(&mut luma);
        let d = thread_cpu();
        std::hint::black_box(bench_support::dct_and_bits(&dec));
        let e = thread_cpu();
        for (acc, dt) in t.iter_mut().zip([b - a, c - b, d - c, e - d]) {
            *acc += dt;
        }
    }
    let sum: f64 = t.iter().sum();
    println!("stages (ms/img, share):");
    for (name, v) in [
        "decode + 512 NN sample (+ luma, JPEG)",
        "luma (non-JPEG and grey only)",
        "Jarosz filter + decimate",
        "quality + DCT + 8 medians + bits",
    ]
    .iter()
    .zip(t)
    {
        println!(
            "  {name:40} {:7.3} ms {:5.1} %",
            v * 1e3 / n as f64,
            100.0 * v / sum
        );
    }

    // JPEG decode by route, same files, alternating so both see the same
    // load: the streaming baseline decoder against libjpeg's
    // jpeg_read_coefficients (the route before it), on the files the
    // streaming decoder takes.
    let (mut ts, mut tl, mut taken, mut jpegs) = (0f64, 0f64, 0usize, 0usize);
    for f in &files {
        if !f.starts_with(&[0xFF, 0xD8]) {
            continue;
        }
        jpegs += 1;
        let a = thread_cpu();
        let s = bench_support::decode_jpeg_route(f, &limits, true);
        let b = thread_cpu();
        if !matches!(s, Ok(Some(_))) {
            continue;
        }
        let l = bench_support::decode_jpeg_route(f, &limits, false);
        let c = thread_cpu();
        if matches!(l, Ok(Some(_))) {
            taken += 1;
            ts += b - a;
            tl += c - b;
        }
    }
    if taken > 0 {
        println!(
            "JPEG decode route ({taken}/{jpegs} files stream): streaming {:.3} ms/img, \
             libjpeg coefficients {:.3} ms/img ({:.2}x)",
            ts * 1e3 / taken as f64,
            tl * 1e3 / taken as f64,
            tl / ts
        );
    }

    // Upsampling, colour and luma: fused (the hashing route) against RGB
    // bytes then luma, same decoder, alternating file by file.
    let (mut tf, mut tr, mut both) = (0f64, 0f64, 0usize);
    for f in &files {
        if !f.starts_with(&[0xFF, 0xD8]) {
            continue;
        }
        let a = thread_cpu();
        let x = bench_support::decode_jpeg_luma(f, &limits, true);
        let b = thread_cpu();
        let y = bench_support::decode_jpeg_luma(f, &limits, false);
        let c = thread_cpu();
        if let (Ok(Some(x)), Ok(Some(y))) = (x, y) {
            let same = (x.rows, x.cols) == (y.rows, y.cols)
                && (0..x.rows)
                    .all(|r| (0..x.cols).all(|c| x.at(r, c).to_bits() == y.at(r, c).to_bits()));
            if !same {
                return Err("fused luma differs from RGB-then-luma".into());
            }
            both += 1;
            tf += b - a;
            tr += c - b;
        }
    }
    if both > 0 {
        println!(
            "JPEG to luma ({both} files, bit-identical): fused {:.3} ms/img, \
             RGB then luma {:.3} ms/img (saves {:.3} ms/img)",
            tf * 1e3 / both as f64,
            tr * 1e3 / both as f64,
            (tr - tf) * 1e3 / both as f64
        );
    }

    if let Some(path) = oracle {
        let text = std::fs::read_to_string(path)?;
        let mut want: HashMap<&str, Vec<&str>> = HashMap::new();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() >= 11 {
                want.insert(cols[0], cols[1..].to_vec());
            }
        }
        let (mut same, mut checked) = (0, 0);
        for (name, r) in names.iter().zip(&results) {
            let (Some(w), Ok(out)) = (want.get(name.as_str()), r) else {
                continue;
            };
            checked += 1;
            let q_ok = w[1].parse::<u8>().ok() == Some(out.quality);
            let h_ok = w[0] == out.hash.to_hex();
            let d_ok = out
                .dihedral
                .iter()
                .zip(&w[2..10])
                .all(|(d, x)| d.to_hex() == *x);
            if q_ok && h_ok && d_ok {
                same += 1;
            } else {
                println!(
                    "MISMATCH {name}: {} q{} vs {} q{}",
                    out.hash, out.quality, w[0], w[1]
                );
            }
        }
        println!("oracle: {same}/{checked} identical (hash, quality, 8 dihedral)");
    }
    Ok(())
}
