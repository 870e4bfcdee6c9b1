//! The CPU limit of ingest hashing on this machine: MD5 + SHA-1 + SHA-256 of
//! an in-memory buffer (no I/O), per core and on N threads, plus each
//! algorithm alone and the effect of the interleaving block size.
//!
//! ```text
//! cargo run --release -p vigil-media --example hash_limit -- [MIB=256] [THREADS=2]
//! ```
//!
//! Rates are MB (10^6 bytes) per CPU-second of this process, so they stay
//! meaningful when other jobs share the machine; wall rates are printed too.

use std::time::Instant;

use md5::Digest as _;
use vigil_media::MultiHasher;

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn measure(label: &str, bytes: usize, f: impl FnOnce()) {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    f();
    let (cpu, wall) = (cpu_seconds() - c0, t0.elapsed().as_secs_f64());
    let mb = bytes as f64 / 1e6;
    println!(
        "{label:<44} {:>8.1} MB/CPU-s {:>8.1} MB/s wall  (cpu {cpu:.2} s, wall {wall:.2} s)",
        mb / cpu,
        mb / wall
    );
}

fn interleaved(data: &[u8], block: usize) -> [u8; 1] {
    let mut a = md5::Md5::new();
    let mut b = sha1::Sha1::new();
    let mut c = sha2::Sha256::new();
    for blk in data.chunks(block) {
        a.update(blk);
        b.update(blk);
        c.update(blk);
    }
    [a.finalize()[0] ^ b.finalize()[0] ^ c.finalize()[0]]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..mib << 20)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 32) as u8
        })
        .collect();
    let n = data.len();
    println!(
        "buffer {mib} MiB, sha-ni={}",
        std::arch::is_x86_feature_detected!("sha")
    );
    let mut sink = 0u8;
    measure("md5 alone, 1 thread", n, || {
        sink ^= md5::Md5::digest(&data)[0]
    });
    measure("sha1 alone, 1 thread", n, || {
        sink ^= sha1::Sha1::digest(&data)[0]
    });
    measure("sha256 alone, 1 thread", n, || {
        sink ^= sha2::Sha256::digest(&data)[0]
    });
    for block in [8 << 10, 32 << 10, 256 << 10, 4 << 20] {
        let label = format!("md5+sha1+sha256, {} KiB blocks, 1 thread", block >> 10);
        measure(&label, n, || sink ^= interleaved(&data, block)[0]);
    }
    measure("MultiHasher (as the scanner), 1 thread", n, || {
        let mut h = MultiHasher::new();
        h.update(&data);
        sink ^= h.finalize().md5.0[0];
    });
    let label = format!("MultiHasher, {threads} threads (each the whole buffer)");
    measure(&label, n * threads, || {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut h = MultiHasher::new();
                    h.update(&data);
                    std::hint::black_box(h.finalize());
                });
            }
        });
    });
    std::hint::black_box(sink);
}
