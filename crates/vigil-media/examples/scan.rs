//! Full scan without a database, for benchmarks and spot checks: walk, type,
//! MD5 + SHA-1 + SHA-256 and PDQ for every image, exactly as `vigil scan`
//! does minus the storage.
//!
//! ```text
//! cargo run --release -p vigil-media --example scan -- PATH [--threads N] [--no-pdq] [--csv]
//! ```
//!
//! Prints one summary line of `key=value` pairs on stderr (wall and CPU time
//! of this process included, so that runs on a shared machine can be judged
//! per CPU-second). `--csv` also prints `size,md5,sha1,sha256,path` per file
//! on stdout (hashdeep's column order) for comparing outputs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use vigil_media::{FileRecord, ScanOptions, Scanner};

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

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut root = None;
    let mut opts = ScanOptions::default();
    let mut csv = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => opts.threads = n,
                None => {
                    eprintln!("--threads needs a number");
                    return ExitCode::from(2);
                }
            },
            "--no-pdq" => opts.pdq = false,
            "--csv" => csv = true,
            _ if root.is_none() => root = Some(PathBuf::from(a)),
            _ => {
                eprintln!("usage: scan PATH [--threads N] [--no-pdq] [--csv]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(root) = root else {
        eprintln!("usage: scan PATH [--threads N] [--no-pdq] [--csv]");
        return ExitCode::from(2);
    };

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let pdq = opts.pdq;
    let scanner = Scanner::new(opts);
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut first_errors = Vec::new();
    let result = scanner.scan(&root, |rec: FileRecord| -> std::io::Result<()> {
        if let Some(e) = &rec.error
            && first_errors.len() < 5
        {
            first_errors.push(format!("{}: {e}", rec.path));
        }
        if csv && let Some(d) = rec.digests {
            writeln!(
                out,
                "{},{},{},{},{}",
                rec.size, d.md5, d.sha1, d.sha256, rec.path
            )?;
        }
        Ok(())
    });
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    if let Err(e) = out.flush() {
        eprintln!("stdout: {e}");
        return ExitCode::FAILURE;
    }
    match result {
        Ok(s) => {
            for e in &first_errors {
                eprintln!("error: {e}");
            }
            let mb = s.bytes as f64 / 1e6;
            eprintln!(
                "files={} bytes={} images={} pdq_hashed={} errors={} threads={threads} pdq={pdq} \
                 wall_s={wall:.3} cpu_s={cpu:.3} mb_per_s={:.1} mb_per_cpu_s={:.1} files_per_s={:.0}",
                s.files,
                s.bytes,
                s.images,
                s.pdq_hashed,
                s.errors,
                mb / wall,
                mb / cpu,
                s.files as f64 / wall
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("scan failed: {e}");
            ExitCode::FAILURE
        }
    }
}
