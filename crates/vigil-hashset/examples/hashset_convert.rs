//! Converts a hash set between formats, streaming: entries go from the
//! reader's callback straight into the writer. Entry errors are printed and
//! skipped; a fatal error aborts (and the partial output must be discarded).
//!
//! `cargo run --release -p vigil-hashset --example hashset_convert -- IN OUT vics|csv|tsv|icse|pdq`

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::ops::ControlFlow;

use vigil_hashset::{
    CsvWriteOptions, HashEntry, ImportOptions, VicsWriteOptions, VicsWriter, import,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, format] = &args[..] else {
        return Err("usage: hashset_convert IN OUT vics|csv|tsv|icse|pdq".into());
    };
    let out = BufWriter::new(File::create(output)?);
    let open = || -> std::io::Result<BufReader<File>> { Ok(BufReader::new(File::open(input)?)) };
    let opts = ImportOptions::default();
    let mut bad = 0u64;
    let mut report_error = |e: &vigil_hashset::EntryError| {
        bad += 1;
        if bad <= 20 {
            eprintln!("{input}: {e}");
        }
    };
    let written = if format == "vics" {
        // VICS needs the set's header (scheme, profile, cases) before the
        // first entry, and the reader only knows all of it at the end: a
        // first pass reads the header, the second streams the entries.
        let meta = import(open()?, &opts, |_| ControlFlow::Continue(()))?.meta;
        let mut w = VicsWriter::new(out, &meta, &VicsWriteOptions::default())?;
        let mut failed = None;
        import(open()?, &opts, |item| match item {
            Ok(e) => match w.write(&e) {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => {
                    failed = Some(err);
                    ControlFlow::Break(())
                }
            },
            Err(e) => {
                report_error(&e);
                ControlFlow::Continue(())
            }
        })?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        let n = w.written();
        w.finish()?.flush()?;
        n
    } else {
        // The other writers take an iterator: the reader runs on a thread
        // and feeds a bounded channel, so memory stays flat here too.
        let (tx, rx) = std::sync::mpsc::sync_channel::<HashEntry>(1024);
        let path = input.clone();
        let reader = std::thread::spawn(move || {
            let mut bad = 0u64;
            let file = BufReader::new(File::open(&path)?);
            import(file, &ImportOptions::default(), |item| match item {
                Ok(e) => match tx.send(e) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                },
                Err(e) => {
                    bad += 1;
                    if bad <= 20 {
                        eprintln!("{path}: {e}");
                    }
                    ControlFlow::Continue(())
                }
            })
            .map(|report| report.errors)
            .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        });
        let written = match format.as_str() {
            "csv" | "tsv" => {
                let delimiter = if format == "tsv" { b'\t' } else { b',' };
                let opts = CsvWriteOptions {
                    delimiter,
                    ..CsvWriteOptions::default()
                };
                vigil_hashset::write_csv(out, &opts, rx.iter())?
            }
            "icse" => vigil_hashset::write_icse(out, rx.iter())?.written,
            "pdq" => vigil_hashset::write_pdq_list(out, rx.iter())?.written,
            other => return Err(format!("unknown output format {other:?}").into()),
        };
        bad += reader
            .join()
            .map_err(|_| "reader thread panicked")?
            .map_err(|e| e.to_string())?;
        written
    };
    eprintln!("{written} entries written to {output}, {bad} bad entries skipped");
    Ok(())
}
