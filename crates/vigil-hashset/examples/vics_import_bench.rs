//! Import benchmark: parses a hash-set file (any format, detected) and
//! reports entries per second, MB per second and peak RSS (VmHWM from
//! /proc/self/status, Linux). Optionally re-exports to VICS into a sink.
//!
//! `cargo run --release -p vigil-hashset --example vics_import_bench -- /tmp/vics-1m.json [--export]`

use std::fs::File;
use std::io::{self, BufReader};
use std::ops::ControlFlow;
use std::time::Instant;

use vigil_hashset::{ImportOptions, VicsWriteOptions, VicsWriter, import};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this (single-threaded) process in seconds, from
/// /proc/self/schedstat: the machine is shared, so wall time alone says
/// little.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: vics_import_bench FILE [--export]")?;
    let export = args.any(|a| a == "--export");
    let size = std::fs::metadata(&path)?.len();
    eprintln!("peak RSS before import: {:?} KiB", peak_rss_kib());

    let start = Instant::now();
    let cpu0 = cpu_secs();
    let mut pdq = 0u64;
    let report = import(
        BufReader::new(File::open(&path)?),
        &ImportOptions::default(),
        |item| {
            if let Ok(e) = item
                && e.pdq.is_some()
            {
                pdq += 1;
            }
            ControlFlow::Continue(())
        },
    )?;
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    println!(
        "import: {} entries ({} errors, {pdq} with PDQ) from {:.1} MB; wall {secs:.2} s, CPU {cpu:.2} s = {:.0} entries/CPU-s, {:.1} MB/CPU-s (wall: {:.0} entries/s); peak RSS {} KiB",
        report.entries,
        report.errors,
        size as f64 / 1e6,
        report.entries as f64 / cpu,
        size as f64 / 1e6 / cpu,
        report.entries as f64 / secs,
        peak_rss_kib().unwrap_or(0),
    );

    if export {
        // Import again, writing every entry straight back out as VICS 2.0.
        let start = Instant::now();
        let cpu0 = cpu_secs();
        let meta = report.meta.clone();
        let mut writer = VicsWriter::new(io::sink(), &meta, &VicsWriteOptions::default())?;
        let mut failed = None;
        import(
            BufReader::new(File::open(&path)?),
            &ImportOptions::default(),
            |item| match item.map(|e| writer.write(&e)) {
                Ok(Err(e)) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            },
        )?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        let n = writer.written();
        writer.finish()?;
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu0;
        println!(
            "import+export: {n} entries; wall {secs:.2} s, CPU {cpu:.2} s = {:.0} entries/CPU-s; peak RSS {} KiB",
            n as f64 / cpu,
            peak_rss_kib().unwrap_or(0),
        );
    }
    Ok(())
}
