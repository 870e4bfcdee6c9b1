//! Writes a synthetic VICS 2.0 `#Media` file for the import benchmark.
//!
//! `cargo run --release -p vigil-hashset --example vics_synth -- 1000000 /tmp/vics-1m.json`

use std::io::{self, BufWriter};

#[path = "support/synth.rs"]
#[allow(dead_code)]
mod synth;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let path = args.next().unwrap_or_else(|| "vics-synthetic.json".into());
    let mut out = BufWriter::new(std::fs::File::create(&path)?);
    let mut src = synth::SyntheticVics::new(n);
    let bytes = io::copy(&mut src, &mut out)?;
    eprintln!("wrote {n} entries, {bytes} bytes to {path}");
    Ok(())
}
