//! `vigil hashset` and `vigil match`: known-image hash sets and matching.
//!
//! Import error policy (the store's, printed here): every entry error is one
//! line `FILE:LINE: message` on stderr and the entry is skipped; the import
//! still happens (exit 0, with the error count in the summary). A file-level
//! error (truncated JSON, a header without a hash column, …) refuses the
//! whole import, changes nothing, and exits 2 after printing
//! `FILE:LINE: message`.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use vigil_domain::{Md5, PdqHash, Sha1, Sha256};
use vigil_hashset::{CategoryScheme, Format, HashEntry};
use vigil_store::{
    HashSetImportError, HashSetImportOptions, ImportStatus, MatchAnswer, MatchOptions, MatchQuery,
    Store, TriageOptions, TriageSummary,
};

use crate::UsageError;
use crate::cli::Global;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum HashsetCmd {
    /// Import a hash-set file (VICS JSON, ICSE CSV, CSV/TSV, PDQ list).
    Import(ImportArgs),
    /// Export a set (VICS 2.0 re-imports to the identical set).
    Export(ExportArgs),
    /// List the agency's hash sets with their provenance.
    List,
    /// Show a set: provenance (every imported file) and category counts.
    Show { name: String },
    /// Delete a set and its entries.
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// The set's name (an existing set receives the new entries).
    #[arg(long)]
    pub name: String,
    /// vics, icse-csv, csv, tsv or pdq; detected when omitted.
    #[arg(long)]
    pub format: Option<String>,
    /// Where the set came from (e.g. "Project VIC 2026-11 release").
    #[arg(long)]
    pub source: Option<String>,
    /// project-vic-us, dhs, uk or custom; implied by the file when omitted.
    #[arg(long)]
    pub scheme: Option<String>,
    /// Replace the set's entries (one transaction).
    #[arg(long)]
    pub replace: bool,
    /// The set's PDQ near-duplicate radius (default 31).
    #[arg(long)]
    pub max_distance: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub name: String,
    /// vics, csv, tsv, pdq or icse-csv.
    #[arg(long, default_value = "vics")]
    pub format: String,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Match a scan's files against every hash set and print its triage.
    #[arg(long)]
    pub scan: Option<i64>,
    /// A PDQ hash (64 hex digits).
    #[arg(long)]
    pub pdq: Option<String>,
    /// The PDQ hash's quality (below 50: matches flagged unreliable).
    #[arg(long)]
    pub quality: Option<u8>,
    #[arg(long)]
    pub md5: Option<String>,
    #[arg(long)]
    pub sha1: Option<String>,
    #[arg(long)]
    pub sha256: Option<String>,
    /// A file: its MD5/SHA-1/SHA-256 and, for images, its PDQ.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// A PDQ list (`hash[,quality]` per line): one answer per line.
    #[arg(long)]
    pub pdq_list: Option<PathBuf>,
    /// PDQ radius for this query (default: each set's own, 31 unless set).
    #[arg(long)]
    pub max_distance: Option<u32>,
    /// Also match rotations and mirror images.
    #[arg(long)]
    pub dihedral: bool,
    /// With --scan: single-link radius grouping unknown images into series.
    #[arg(long, default_value_t = vigil_store::DEFAULT_SERIES_RADIUS)]
    pub series_radius: u32,
}

fn parse_format(s: &str) -> Result<Format> {
    s.trim()
        .parse::<Format>()
        .map_err(|e| UsageError(format!("--format: {e}")).into())
}

fn parse_scheme(s: &str) -> Result<CategoryScheme> {
    s.parse::<CategoryScheme>()
        .map_err(|e| UsageError(format!("--scheme: {e}")).into())
}

/// SHA-256 and size of a file, streamed.
fn file_digest(path: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))
        .map_err(|e| UsageError(format!("{e:#}")))?;
    let mut h = vigil_media::MultiHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    let d = h.finalize();
    Ok((d.sha256.to_hex(), size))
}

fn spinner(out: &Output, what: &str) -> Option<indicatif::ProgressBar> {
    if out.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} entries ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

pub async fn hashset(store: &Store, g: &Global, out: &Output, cmd: HashsetCmd) -> Result<()> {
    let p = super::acting(store, g).await?;
    match cmd {
        HashsetCmd::Import(a) => import(store, &p, out, a).await,
        HashsetCmd::Export(a) => export(store, &p, a).await,
        HashsetCmd::List => {
            let sets = store.list_hash_sets(&p).await?;
            out.emit(&sets, |sets| {
                table(
                    &[
                        "name", "scheme", "format", "entries", "pdq", "radius", "source", "updated",
                    ],
                    sets.iter()
                        .map(|s| {
                            vec![
                                s.name.clone(),
                                s.scheme.clone(),
                                s.format.clone(),
                                s.entries.to_string(),
                                s.pdq_entries.to_string(),
                                s.max_distance.to_string(),
                                s.source.clone().unwrap_or_else(|| "-".into()),
                                s.updated_at.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        HashsetCmd::Show { name } => {
            let d = store.show_hash_set(&p, &name).await?;
            out.emit(&d, |d| {
                let s = &d.set;
                println!("hash set {} (agency {})", s.name, s.agency);
                println!(
                    "  scheme {}, format {}, PDQ radius {}",
                    s.scheme, s.format, s.max_distance
                );
                println!("  entries {} ({} with PDQ)", s.entries, s.pdq_entries);
                println!("  source {}", s.source.as_deref().unwrap_or("-"));
                println!("  created {} by {}", s.created_at, s.created_by);
                println!("categories:");
                for (c, n) in &d.categories {
                    println!("  {c}: {n}");
                }
                println!("imports:");
                for i in &d.imports {
                    println!(
                        "  {} by {}: {} ({}, sha256 {}), added {}, already present {}, errors {}{}",
                        i.imported_at,
                        i.imported_by,
                        i.file_name,
                        i.format,
                        i.file_sha256,
                        i.added,
                        i.already_present,
                        i.errors,
                        if i.replaced { ", replaced the set" } else { "" }
                    );
                }
            })
        }
        HashsetCmd::Delete { name } => {
            let removed = store.delete_hash_set(&p, &name).await?;
            out.emit(
                &serde_json::json!({"deleted": name, "entries": removed}),
                |_| println!("deleted hash set {name} ({removed} entries)"),
            )
        }
    }
}

async fn import(
    store: &Store,
    p: &vigil_domain::Principal,
    out: &Output,
    a: ImportArgs,
) -> Result<()> {
    let format = a.format.as_deref().map(parse_format).transpose()?;
    let scheme = a.scheme.as_deref().map(parse_scheme).transpose()?;
    let (sha, size) = file_digest(&a.file)?;
    let file_label = a.file.display().to_string();
    let input = std::fs::File::open(&a.file)
        .with_context(|| format!("cannot open {file_label}"))
        .map_err(|e| UsageError(format!("{e:#}")))?;
    let opts = HashSetImportOptions {
        name: a.name.clone(),
        format,
        scheme,
        source: a.source.clone(),
        file_name: a
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| file_label.clone()),
        file_sha256: sha,
        file_size: size,
        replace: a.replace,
        max_distance: a.max_distance,
    };
    let bar = spinner(out, "importing");
    let stderr = std::io::stderr();
    let result = store
        .import_hash_set(
            p,
            &opts,
            input,
            |e| {
                let line = e.located(&file_label);
                match &bar {
                    Some(b) => b.println(line),
                    None => {
                        let _ = writeln!(stderr.lock(), "{line}");
                    }
                }
            },
            |n| {
                if let Some(b) = &bar {
                    b.set_position(n);
                }
            },
        )
        .await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let outcome = match result {
        Ok(o) => o,
        Err(HashSetImportError::Refused(e)) => {
            return Err(UsageError(e.located(&file_label)).into());
        }
        Err(HashSetImportError::Store(e)) => return Err(e.into()),
    };
    // Keep the persisted PDQ index current so the next `vigil match` answers
    // at once (a failure here only costs that process a rebuild).
    if outcome.added > 0 || outcome.removed > 0 {
        let _ = store.refresh_pdq_index(p).await;
    }
    out.emit(&outcome, |o| {
        let verb = match o.status {
            ImportStatus::AlreadyImported => {
                println!(
                    "{file_label}: already imported into hash set {} (same SHA-256): nothing added",
                    o.set.name
                );
                return;
            }
            ImportStatus::Created => "created",
            ImportStatus::Merged => "added to",
            ImportStatus::Replaced => "replaced",
        };
        println!(
            "{file_label}: {verb} hash set {} ({} format, scheme {}): {} entries read, {} added, \
             {} already present, {} removed, {} errors; the set now holds {} entries",
            o.set.name,
            o.format,
            o.set.scheme,
            o.read,
            o.added,
            o.already_present,
            o.removed,
            o.errors,
            o.set.entries
        );
    })
}

async fn export(store: &Store, p: &vigil_domain::Principal, a: ExportArgs) -> Result<()> {
    let format = parse_format(&a.format)?;
    let detail = store
        .open_hash_set_export(p, &a.name, &format.to_string())
        .await?;
    let writer: Box<dyn Write + Send> = match &a.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<HashEntry>(1024);
    let meta = detail.meta.clone();
    let write = tokio::task::spawn_blocking(move || -> Result<(u64, u64)> {
        let entries = std::iter::from_fn(|| rx.blocking_recv());
        let mut w = std::io::BufWriter::new(writer);
        let s = vigil_hashset::write_format(format, &mut w, &meta, entries)?;
        let counts = (s.written, s.skipped);
        w.flush()?;
        Ok(counts)
    });
    let sent = store.export_hash_set_entries(p, detail.set.id, tx).await;
    let (written, skipped) = write
        .await
        .map_err(|e| anyhow::anyhow!("export writer: {e}"))??;
    sent?;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "exported {written} entries of hash set {} as {format}{}",
        detail.set.name,
        if skipped > 0 {
            format!(" ({skipped} entries skipped: the format cannot hold them)")
        } else {
            String::new()
        }
    );
    Ok(())
}

fn hex_arg<T>(
    name: &str,
    v: &str,
    parse: fn(&str) -> Result<T, vigil_domain::HexError>,
) -> Result<T> {
    parse(v).map_err(|e| UsageError(format!("--{name}: {e}")).into())
}

fn print_answer(a: &MatchAnswer) {
    let q = match a.quality {
        Some(q) => format!(
            " (quality {q}{})",
            if a.unreliable { ", unreliable" } else { "" }
        ),
        None => String::new(),
    };
    if a.matches.is_empty() {
        println!("{} {}{q}: no match", a.kind, a.query);
        return;
    }
    println!("{} {}{q}: {} match(es)", a.kind, a.query, a.matches.len());
    table(
        &[
            "set", "media id", "match", "distance", "category", "series", "victim", "hash",
        ],
        a.matches
            .iter()
            .map(|m| {
                vec![
                    m.set.clone(),
                    m.media_id
                        .clone()
                        .unwrap_or_else(|| format!("entry {}", m.entry_id)),
                    if m.dihedral {
                        format!(
                            "{} ({})",
                            m.kind,
                            m.transform.as_deref().unwrap_or("rotated/mirrored")
                        )
                    } else {
                        m.kind.clone()
                    },
                    m.distance.to_string(),
                    m.category.clone(),
                    m.series.clone().unwrap_or_else(|| "-".into()),
                    match m.victim_identified {
                        Some(true) => "identified".into(),
                        Some(false) => "unidentified".into(),
                        None => "-".into(),
                    },
                    m.hash.clone(),
                ]
            })
            .collect(),
    );
}

pub async fn matching(store: &Store, g: &Global, out: &Output, args: MatchArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    let opts = MatchOptions {
        max_distance: args.max_distance,
        dihedral: args.dihedral,
    };
    if let Some(d) = args.max_distance
        && d > 256
    {
        return Err(UsageError("--max-distance: PDQ distances are 0..=256".into()).into());
    }
    if let Some(scan_id) = args.scan {
        let summary = store
            .triage_summary_with(
                &p,
                scan_id,
                &TriageOptions {
                    matching: opts,
                    series_radius: args.series_radius,
                    rematch: true,
                },
            )
            .await?;
        return print_triage(out, &summary);
    }
    if let Some(list) = &args.pdq_list {
        return match_pdq_list(store, &p, out, list, &opts).await;
    }
    let mut queries = Vec::new();
    if let Some(h) = &args.md5 {
        queries.push(MatchQuery::Md5(hex_arg("md5", h, Md5::from_hex)?));
    }
    if let Some(h) = &args.sha1 {
        queries.push(MatchQuery::Sha1(hex_arg("sha1", h, Sha1::from_hex)?));
    }
    if let Some(h) = &args.sha256 {
        queries.push(MatchQuery::Sha256(hex_arg("sha256", h, Sha256::from_hex)?));
    }
    if let Some(h) = &args.pdq {
        queries.push(MatchQuery::Pdq {
            hash: hex_arg("pdq", h, PdqHash::from_hex)?,
            quality: args.quality,
            dihedral: None,
        });
    }
    if let Some(path) = &args.file {
        queries.extend(file_queries(path)?);
    }
    if queries.is_empty() {
        return Err(UsageError(
            "nothing to match: give --scan, --pdq, --md5, --sha1, --sha256, --file or --pdq-list"
                .into(),
        )
        .into());
    }
    let answers = store.match_hashes(&p, &queries, &opts).await?;
    out.emit(&answers, |answers| {
        for a in answers {
            print_answer(a);
        }
    })
}

/// The digests of a file and, if it is an image PDQ can decode, its PDQ
/// with quality and dihedral variants. Content stays in memory only.
fn file_queries(path: &Path) -> Result<Vec<MatchQuery>> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))
        .map_err(|e| UsageError(format!("{e:#}")))?;
    let mut h = vigil_media::MultiHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let d = h.finalize();
    let mut q = vec![
        MatchQuery::Md5(d.md5),
        MatchQuery::Sha1(d.sha1),
        MatchQuery::Sha256(d.sha256),
    ];
    let mut pdq = None;
    vigil_media::hash_images(
        &[path.to_path_buf()],
        &vigil_media::ScanOptions::default(),
        |img| {
            if let Ok(o) = img.result {
                pdq = Some(o);
            }
        },
    )
    .map_err(|e| anyhow::anyhow!("cannot hash {}: {e}", path.display()))?;
    if let Some(o) = pdq {
        q.push(MatchQuery::Pdq {
            hash: o.hash,
            quality: Some(o.quality),
            dihedral: Some(o.dihedral.to_vec()),
        });
    }
    Ok(q)
}

/// One query per line (`hash[,quality]`); with `--json` one JSON line per
/// query, in file order. Bad lines are reported as `FILE:LINE: message`.
async fn match_pdq_list(
    store: &Store,
    p: &vigil_domain::Principal,
    out: &Output,
    path: &Path,
    opts: &MatchOptions,
) -> Result<()> {
    let label = path.display().to_string();
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open {label}"))
        .map_err(|e| UsageError(format!("{e:#}")))?;
    let mut queries = Vec::new();
    let mut bad = 0u64;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {label}"))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut parts = t.splitn(3, [',', '\t', ' ']);
        let hex = parts.next().unwrap_or("").trim();
        let quality = parts.next().map(str::trim).filter(|q| !q.is_empty());
        let hash = match PdqHash::from_hex(hex) {
            Ok(h) => h,
            Err(e) => {
                // A header line (`hash,quality`) is not an error.
                if i == 0 && !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    continue;
                }
                bad += 1;
                eprintln!("{label}:{}: {e}", i + 1);
                continue;
            }
        };
        let quality = match quality.map(str::parse::<u8>) {
            None => None,
            Some(Ok(q)) if q <= 100 => Some(q),
            Some(_) => {
                bad += 1;
                eprintln!("{label}:{}: quality must be 0..=100", i + 1);
                continue;
            }
        };
        queries.push(MatchQuery::Pdq {
            hash,
            quality,
            dihedral: None,
        });
    }
    let mut matched = 0usize;
    for chunk in queries.chunks(10_000) {
        let answers = store.match_hashes(p, chunk, opts).await?;
        for a in &answers {
            if !a.matches.is_empty() {
                matched += 1;
            }
            out.emit_line(a, print_answer)?;
        }
    }
    if !out.json {
        println!(
            "{} queries, {matched} with matches, {bad} bad lines",
            queries.len()
        );
    }
    Ok(())
}

/// Prints a scan's triage summary: with `--json`, one JSON object on one
/// line (the last line of `vigil scan --json`); otherwise for people.
pub fn print_triage(out: &Output, s: &TriageSummary) -> Result<()> {
    if out.json {
        return out.emit_line(s, |_| {});
    }
    let sum = |m: &std::collections::BTreeMap<String, i64>| m.values().sum::<i64>();
    println!(
        "triage of scan {}: {} files, {} images, {} errors",
        s.scan_id, s.files, s.images, s.errors
    );
    println!("known (exact hash): {}", sum(&s.known));
    for (c, n) in &s.known {
        println!("  {c}: {n}");
    }
    println!(
        "near-duplicates (PDQ): {}{}",
        sum(&s.near_duplicates),
        if s.unreliable_near_duplicates > 0 {
            format!(
                " ({} from low-quality hashes, unreliable)",
                s.unreliable_near_duplicates
            )
        } else {
            String::new()
        }
    );
    for (c, n) in &s.near_duplicates {
        let d = s
            .near_duplicate_distances
            .get(c)
            .map(|d| format!(" (distance {}..{})", d.min, d.max))
            .unwrap_or_default();
        println!("  {c}: {n}{d}");
    }
    for (t, n) in &s.near_duplicate_transforms {
        println!("  found through the {t} variant: {n}");
    }
    println!(
        "unknown images: {}; {} unknown series (radius {}), largest {} images",
        s.unknown_images, s.series.count, s.series.radius, s.series.largest
    );
    if !s.known_series.is_empty() {
        println!("known series:");
        for k in &s.known_series {
            println!(
                "  {}: {} images ({}) — {}",
                k.series,
                k.images,
                k.sets.join(", "),
                k.status
            );
        }
    }
    Ok(())
}
