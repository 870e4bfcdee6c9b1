//! `vigil scan` (hash a seized device into a case) and `vigil pdq` (the
//! examiner's stand-alone PDQ hasher, like Meta's `pdq-photo-hasher`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use vigil_media::{EntryKind, FileRecord, RawPath, ScanOptions, Scanner};
use vigil_store::{EvidenceItem, Store};

use crate::UsageError;
use crate::cli::Global;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The mounted device or folder to scan (opened read-only).
    pub path: PathBuf,
    #[arg(long)]
    pub case: i64,
    /// Label of the seized device (created in the case if new).
    #[arg(long)]
    pub device: String,
    /// The person the device was seized from (a person of the case): its
    /// hash matches then concern them, e.g. in lead packages.
    #[arg(long)]
    pub person: Option<i64>,
    /// Also write one JSON object per file to this JSON Lines file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Files per database commit.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Largest image file decoded for PDQ, in MiB (larger ones are hashed only).
    #[arg(long, default_value_t = 64)]
    pub max_image_mib: u64,
}

#[derive(Debug, Args)]
pub struct PdqArgs {
    /// Image files or folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the 8 dihedral hashes (orig, rot90, rot180, rot270, flipx,
    /// flipy, flipplus1, flipminus1) before quality and path.
    #[arg(long)]
    pub dihedral: bool,
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Converts the scanner's record into the store's row. Timestamps outside
/// the calendar range keep the scanner's raw `@seconds.nanos` text.
fn evidence_item(rec: &FileRecord) -> EvidenceItem {
    let ts = |t: &Option<vigil_media::Timestamp>| {
        t.map(|t| match t.to_datetime() {
            Some(d) => vigil_store::timestamp_text(d),
            None => t.to_string(),
        })
    };
    let link_target = match &rec.kind {
        EntryKind::Symlink { target } => Some(target.to_text()),
        _ => None,
    };
    let is_file = matches!(rec.kind, EntryKind::File);
    EvidenceItem {
        path: rec.path.to_text(),
        entry_type: rec.kind.label().to_string(),
        link_target,
        size: i64::try_from(rec.size).ok(),
        modified_at: ts(&rec.modified),
        created_at_fs: ts(&rec.created),
        mime: is_file.then(|| rec.mime().to_string()),
        md5: rec.digests.as_ref().map(|d| d.md5.to_hex()),
        sha1: rec.digests.as_ref().map(|d| d.sha1.to_hex()),
        sha256: rec.digests.as_ref().map(|d| d.sha256.to_hex()),
        pdq: rec.pdq.as_ref().map(|p| p.hash.to_hex()),
        pdq_quality: rec.pdq.as_ref().map(|p| i64::from(p.quality)),
        pdq_dihedral: rec.pdq.as_ref().map(|p| {
            p.dihedral
                .iter()
                .map(|h| h.to_hex())
                .collect::<Vec<_>>()
                .join(",")
        }),
        width: rec.pdq.as_ref().map(|p| i64::from(p.width)),
        height: rec.pdq.as_ref().map(|p| i64::from(p.height)),
        exif_orientation: rec
            .pdq
            .as_ref()
            .and_then(|p| p.exif_orientation.map(i64::from)),
        error: rec.error.as_ref().map(|e| e.message.clone()),
    }
}

/// The `--report` line for one item: the fields an examiner compares with
/// `md5sum`/`sha1sum`/`sha256sum` and the reference PDQ hasher.
fn report_line(item: &EvidenceItem) -> serde_json::Value {
    let mut v = serde_json::json!({
        "path": item.path,
        "type": item.entry_type,
        "size": item.size,
        "md5": item.md5,
        "sha1": item.sha1,
        "sha256": item.sha256,
        "mime": item.mime,
    });
    if let Some(map) = v.as_object_mut() {
        if let Some(pdq) = &item.pdq {
            map.insert("pdq".into(), pdq.clone().into());
            map.insert("pdq_quality".into(), item.pdq_quality.into());
        }
        if let Some(e) = &item.error {
            map.insert("error".into(), e.clone().into());
        }
        if let Some(t) = &item.link_target {
            map.insert("link_target".into(), t.clone().into());
        }
    }
    v
}

pub async fn scan(store: &Store, g: &Global, out: &Output, args: ScanArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    let root = std::fs::canonicalize(&args.path)
        .map_err(|e| UsageError(format!("cannot scan {}: {e}", args.path.display())))?;
    let root_text = RawPath::from_path(&root).to_text();
    let start = store
        .begin_scan(&p, args.case, &args.device, &root_text)
        .await?;
    if let Some(person) = args.person {
        store
            .set_device_person(&p, start.scan.device_id, person)
            .await?;
    }
    let scan_id = start.scan.id;
    let already = start.recorded_paths.len();
    let done = Arc::new(start.recorded_paths);

    let opts = ScanOptions {
        threads: args.threads,
        max_image_bytes: args.max_image_mib.saturating_mul(1 << 20),
        ..ScanOptions::default()
    };
    let skip_set = Arc::clone(&done);
    let scanner =
        Scanner::new(opts).with_skip(move |path: &RawPath| skip_set.contains(&path.to_text()));
    let progress = scanner.progress();

    let show_bar = !out.json && std::io::stderr().is_terminal();
    let bar = if show_bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} files  {msg}  [{elapsed_precise}, ETA {eta}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };

    // The scan itself is blocking, CPU-bound work on the scanner's own
    // threads; records cross a bounded channel to this task, which commits
    // them in batches. A bound keeps memory flat if the database is slower
    // than the disks.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<EvidenceItem>(4 * args.batch.max(1));
    let scan_root = root.clone();
    let count_for_bar = bar.is_some();
    let worker = tokio::task::spawn_blocking(move || {
        if count_for_bar {
            // fills the progress totals; failures only cost the ETA
            let _ = scanner.count(&scan_root);
        }
        scanner.scan(&scan_root, |rec: FileRecord| {
            tx.blocking_send(evidence_item(&rec))
                .map_err(|_| std::io::Error::other("the database writer stopped"))
        })
    });

    let started = Instant::now();
    let mut batch = Vec::with_capacity(args.batch.max(1));
    let mut added = 0u64;
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_millis(250), rx.recv()).await;
        match next {
            Ok(Some(item)) => {
                batch.push(item);
                if batch.len() >= args.batch.max(1) {
                    added += store.record_evidence(&p, scan_id, &batch).await?;
                    batch.clear();
                }
            }
            Ok(None) => break,
            Err(_) => {}
        }
        if let Some(bar) = &bar {
            let s = progress.snapshot();
            bar.set_length(s.files_total.max(s.files_done));
            bar.set_position(s.files_done);
            let secs = started.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!(
                "{:.1} MB, {:.1} MB/s, {} errors",
                s.bytes_done as f64 / 1e6,
                s.bytes_done as f64 / 1e6 / secs,
                s.errors
            ));
        }
    }
    if !batch.is_empty() {
        added += store.record_evidence(&p, scan_id, &batch).await?;
    }
    let run = worker
        .await
        .context("the scanner thread failed")?
        .context("the scan stopped")?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let finished = store.finish_scan(&p, scan_id).await?;
    let elapsed = started.elapsed().as_secs_f64();

    if let Some(report) = &args.report {
        // Written from the database, so a resumed scan's report still lists
        // every file exactly once.
        let (_, items) = store.show_scan(&p, scan_id, true).await?;
        let tmp = report.with_extension("partial");
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?,
        );
        for item in &items {
            serde_json::to_writer(&mut w, &report_line(item))?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, report)
            .with_context(|| format!("cannot write {}", report.display()))?;
    }

    let summary = serde_json::json!({
        "scan": scan_id,
        "case": finished.case_id,
        "device": finished.device,
        "resumed": start.resumed,
        "already_recorded": already,
        "new_files": added,
        "files": finished.files,
        "bytes": finished.bytes,
        "images": finished.images,
        "errors": finished.errors,
        "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
        "run_bytes": run.bytes,
        "mb_per_s": if elapsed > 0.0 { (run.bytes as f64 / 1e6 / elapsed * 10.0).round() / 10.0 } else { 0.0 },
        "files_per_s": if elapsed > 0.0 { (run.files as f64 / elapsed).round() } else { 0.0 },
    });
    out.emit_line(&summary, |_| {
        println!(
            "scan {scan_id} of {} ({}): {} files, {:.1} MB, {} images, {} errors",
            finished.device,
            root.display(),
            finished.files,
            finished.bytes as f64 / 1e6,
            finished.images,
            finished.errors
        );
        if start.resumed {
            println!("  resumed: {already} files were already recorded, {added} new");
        }
        println!(
            "  this run: {} files, {:.1} MB in {:.1} s ({:.1} MB/s, {:.0} files/s)",
            run.files,
            run.bytes as f64 / 1e6,
            elapsed,
            run.bytes as f64 / 1e6 / elapsed.max(0.001),
            run.files as f64 / elapsed.max(0.001)
        );
    })?;
    // Matching against every hash set the agency holds is part of a scan:
    // the examiner's question is "what is known here", not "what are the
    // hashes". With --json this is the last line.
    let triage = store.triage_summary(&p, scan_id).await?;
    if !out.json {
        println!();
    }
    super::hashset::print_triage(out, &triage)
}

/// Prints `hash,quality,path` per image (or the 8 dihedral hashes), errors
/// on stderr; exit code 1 if any file could not be hashed.
pub fn pdq(args: PdqArgs) -> Result<()> {
    let opts = ScanOptions {
        threads: args.threads,
        ..ScanOptions::default()
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0u64;
    let mut write_err: Option<std::io::Error> = None;
    vigil_media::hash_images(&args.paths, &opts, |img| {
        // the scanner's one-line text form: a newline in a file name must
        // not split the output line
        let path = RawPath::from_path(&img.path).to_text();
        let line = match &img.result {
            Ok(h) if args.dihedral => {
                let hashes: Vec<String> = h.dihedral.iter().map(|d| d.to_hex()).collect();
                format!("{},{},{path}", hashes.join(","), h.quality)
            }
            Ok(h) => format!("{},{},{path}", h.hash.to_hex(), h.quality),
            Err(e) => {
                failures += 1;
                eprintln!("{path}: {e}");
                return;
            }
        };
        if write_err.is_none()
            && let Err(e) = writeln!(w, "{line}")
        {
            write_err = Some(e);
        }
    })?;
    w.flush()?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    if failures > 0 {
        return Err(anyhow::anyhow!("{failures} file(s) could not be hashed"));
    }
    Ok(())
}
