//! The parallel, streaming, read-only scan of a folder.
//!
//! Threading: `threads` workers share one directory walker behind a mutex
//! (walking is cheap next to hashing) and process one entry at a time; the
//! records travel through a bounded channel to the calling thread, which runs
//! the caller's sink. So the sink needs neither `Send` nor `Sync`, a slow sink
//! (a database commit) holds the workers back instead of piling records up in
//! memory, and a sink error stops the scan promptly.

use std::fs;
use std::io;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigil_pdq::DecodeLimits;
use walkdir::WalkDir;

use vigil_domain::{Sha1, Sha256};

use crate::content::{ReadPlan, read_content};
use crate::digest::Digests;
use crate::md5lanes::{lanes_available, md5_many};
use crate::rawpath::RawPath;
use crate::readonly::open_evidence;
use crate::record::{EntryKind, ErrorKind, FileRecord, RecordError};

/// Decides from a relative path whether to leave an entry out (resume: the
/// caller already holds a record for it).
pub type SkipFn = dyn Fn(&RawPath) -> bool + Send + Sync;

/// Scan settings. `Default` gives all cores, 1 MiB reads, a 64 MiB in-memory
/// image cap and PDQ on.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Read size for streamed files (at least 32 KiB is used).
    pub chunk_size: usize,
    /// Images larger than this are hashed (digests) but not decoded for PDQ,
    /// so one worker never holds more than this in memory.
    pub max_image_bytes: u64,
    /// Pixel cap handed to the PDQ decoder (decompression-bomb guard).
    pub decode_limits: DecodeLimits,
    /// Compute PDQ for images (off: digests and types only).
    pub pdq: bool,
    /// Do not descend into other filesystems mounted below the root.
    pub one_file_system: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            chunk_size: 1 << 20,
            max_image_bytes: 64 << 20,
            decode_limits: DecodeLimits::default(),
            pdq: true,
            one_file_system: false,
        }
    }
}

impl ScanOptions {
    pub(crate) fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    pub(crate) fn read_plan(&self) -> ReadPlan {
        ReadPlan {
            chunk_size: self.chunk_size,
            max_image_bytes: self.max_image_bytes,
            decode_limits: self.decode_limits,
            pdq: self.pdq,
            defer_md5_max: 0,
        }
    }
}

/// Failures that stop a whole scan (per-entry problems never do).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot scan {path}: {source}")]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot start scan threads: {0}")]
    Threads(#[source] io::Error),
    #[error("scan stopped by the record sink: {0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a sink may return: `()` (never stops the scan) or a `Result` whose
/// error stops it and comes back as [`ScanError::Sink`].
pub trait SinkResult {
    fn into_result(self) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

impl SinkResult for () {
    fn into_result(self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> SinkResult for Result<(), E> {
    fn into_result(self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.map_err(Into::into)
    }
}

/// Counters a caller may poll from any thread (for a progress bar) while a
/// scan runs; the crate itself never prints. Totals are zero until
/// [`Scanner::count`] has run.
#[derive(Debug, Default)]
pub struct ScanProgress {
    files_done: AtomicU64,
    bytes_done: AtomicU64,
    files_total: AtomicU64,
    bytes_total: AtomicU64,
    skipped: AtomicU64,
    errors: AtomicU64,
    cancelled: AtomicBool,
}

/// A consistent-enough copy of [`ScanProgress`] (each counter is read
/// atomically; together they may be a few records apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgressSnapshot {
    pub files_done: u64,
    pub bytes_done: u64,
    pub files_total: u64,
    pub bytes_total: u64,
    pub skipped: u64,
    pub errors: u64,
}

impl ScanProgress {
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            files_done: self.files_done.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            files_total: self.files_total.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    /// Asks a running scan to stop (Ctrl-C): the sink gets no further
    /// records, workers finish only the entry in hand, and the scan returns
    /// `Ok` with `cancelled: true`. Every record delivered before is
    /// complete, so a later scan with a skip predicate can resume.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn reset_done(&self) {
        for c in [
            &self.files_done,
            &self.bytes_done,
            &self.skipped,
            &self.errors,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.cancelled.store(false, Ordering::Relaxed);
    }
}

/// Totals from [`Scanner::count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountSummary {
    /// Non-directory entries that the scan would report (skip applied).
    pub files: u64,
    /// Sum of the sizes of the regular files among them (`lstat`).
    pub bytes: u64,
    pub skipped: u64,
}

/// Totals of a finished (or cancelled) scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanSummary {
    /// Records delivered to the sink (every kind of entry).
    pub files: u64,
    /// Bytes read and hashed.
    pub bytes: u64,
    /// Records whose magic bytes say PDQ-decodable image.
    pub images: u64,
    /// Images with a PDQ hash.
    pub pdq_hashed: u64,
    /// Records with an error.
    pub errors: u64,
    /// Entries left out by the skip predicate.
    pub skipped: u64,
    pub elapsed: Duration,
    pub cancelled: bool,
}

/// A configured scanner; see the crate docs for an example.
pub struct Scanner {
    opts: ScanOptions,
    skip: Option<Arc<SkipFn>>,
    progress: Arc<ScanProgress>,
}

/// Records buffered between the workers and the sink: enough to keep the
/// workers busy during a short sink stall, small enough to be irrelevant
/// for memory (records are a few hundred bytes).
const CHANNEL_CAPACITY: usize = 1024;

impl Scanner {
    pub fn new(opts: ScanOptions) -> Self {
        Self {
            opts,
            skip: None,
            progress: Arc::new(ScanProgress::default()),
        }
    }

    /// Leaves out every non-directory entry whose relative path `skip`
    /// accepts (no record, counted as skipped). Directories are always
    /// descended into, so a resumed scan still finds new files below them.
    pub fn with_skip(mut self, skip: impl Fn(&RawPath) -> bool + Send + Sync + 'static) -> Self {
        self.skip = Some(Arc::new(skip));
        self
    }

    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }

    /// The live counters of this scanner's scans.
    pub fn progress(&self) -> Arc<ScanProgress> {
        Arc::clone(&self.progress)
    }

    fn walker(&self, root: &Path) -> walkdir::IntoIter {
        WalkDir::new(root)
            .follow_links(false)
            .follow_root_links(false) // already resolved by `resolve_root`
            .same_file_system(self.opts.one_file_system)
            .into_iter()
    }

    fn is_skipped(&self, rel: &RawPath) -> bool {
        self.skip.as_ref().is_some_and(|f| f(rel))
    }

    /// Cheap pre-pass for the progress total: a walk with one `lstat` per
    /// regular file, no opens, no reads. Also stores the totals in
    /// [`Scanner::progress`].
    pub fn count(&self, root: &Path) -> Result<CountSummary, ScanError> {
        let root = &resolve_root(root)?;
        let mut sum = CountSummary::default();
        for entry in self.walker(root) {
            let Ok(entry) = entry else {
                sum.files += 1; // the scan reports an unreadable entry as a record
                continue;
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let rel = relative(root, entry.path(), entry.depth());
            if self.is_skipped(&rel) {
                sum.skipped += 1;
                continue;
            }
            sum.files += 1;
            if entry.file_type().is_file() {
                sum.bytes += entry.metadata().map_or(0, |m| m.len());
            }
        }
        self.progress
            .files_total
            .store(sum.files, Ordering::Relaxed);
        self.progress
            .bytes_total
            .store(sum.bytes, Ordering::Relaxed);
        Ok(sum)
    }

    /// Scans `root`, calling `sink` on the calling thread once per entry
    /// (directories only when they cannot be listed), in no particular order.
    pub fn scan<F, R>(&self, root: &Path, mut sink: F) -> Result<ScanSummary, ScanError>
    where
        F: FnMut(FileRecord) -> R,
        R: SinkResult,
    {
        let root = &resolve_root(root)?;
        let started = Instant::now();
        self.progress.reset_done();
        let walker = Mutex::new(self.walker(root));
        let plan = ReadPlan {
            defer_md5_max: if lanes_available() { DEFER_MD5_MAX } else { 0 },
            ..self.opts.read_plan()
        };
        let mut summary = ScanSummary::default();
        let mut sink_error = None;

        std::thread::scope(|scope| -> Result<(), ScanError> {
            let (tx, rx) = sync_channel::<FileRecord>(CHANNEL_CAPACITY);
            for i in 0..self.opts.effective_threads() {
                let tx = tx.clone();
                let walker = &walker;
                let plan = &plan;
                std::thread::Builder::new()
                    .name(format!("vigil-scan-{i}"))
                    .spawn_scoped(scope, move || self.worker(root, walker, plan, tx))
                    .map_err(|e| {
                        self.progress.cancel();
                        ScanError::Threads(e)
                    })?;
            }
            drop(tx);
            for rec in rx {
                // Records already computed but not yet delivered are dropped
                // on cancel: a resumed scan redoes them, and Ctrl-C stays prompt.
                if self.progress.is_cancelled() {
                    break;
                }
                summary.files += 1;
                summary.images += u64::from(rec.is_pdq_image());
                summary.pdq_hashed += u64::from(rec.pdq.is_some());
                summary.errors += u64::from(rec.error.is_some());
                if let Err(e) = sink(rec).into_result() {
                    sink_error = Some(e);
                    self.progress.cancel();
                    break;
                }
            }
            Ok(())
        })?;

        if let Some(e) = sink_error {
            return Err(ScanError::Sink(e));
        }
        let p = self.progress.snapshot();
        summary.bytes = p.bytes_done;
        summary.skipped = p.skipped;
        summary.cancelled = self.progress.is_cancelled();
        summary.elapsed = started.elapsed();
        Ok(summary)
    }

    fn worker(
        &self,
        root: &Path,
        walker: &Mutex<walkdir::IntoIter>,
        plan: &ReadPlan,
        tx: SyncSender<FileRecord>,
    ) {
        let mut buf = Vec::new();
        let mut batch = Md5Batch::default();
        let on_bytes = |n: u64| {
            self.progress.bytes_done.fetch_add(n, Ordering::Relaxed);
        };
        let send = |record: FileRecord| -> bool {
            self.progress.files_done.fetch_add(1, Ordering::Relaxed);
            if record.error.is_some() {
                self.progress.errors.fetch_add(1, Ordering::Relaxed);
            }
            tx.send(record).is_ok()
        };
        while !self.progress.is_cancelled() {
            // A panic elsewhere while holding the lock cannot leave the
            // walker in a state worse than "some entries not visited".
            let next = walker.lock().unwrap_or_else(|p| p.into_inner()).next();
            let processed = match next {
                None => break,
                Some(Err(e)) => Processed::done(walk_error_record(root, &e)),
                Some(Ok(entry)) => {
                    if entry.file_type().is_dir() {
                        continue;
                    }
                    let rel = relative(root, entry.path(), entry.depth());
                    if self.is_skipped(&rel) {
                        self.progress.skipped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let abs = entry.path();
                    let is_file = entry.file_type().is_file();
                    catch_unwind(AssertUnwindSafe(|| {
                        process_entry(abs, rel.clone(), is_file, plan, &mut buf, &on_bytes)
                    }))
                    .unwrap_or_else(|_| {
                        let mut r = FileRecord::bare(rel, EntryKind::Unknown);
                        r.error = Some(RecordError::new(
                            ErrorKind::Internal,
                            "internal error (panic) while processing this entry",
                        ));
                        Processed::done(r)
                    })
                }
            };
            let sent = match processed.pending_md5 {
                None => send(processed.record),
                Some(shas) => {
                    batch.push(processed.record, shas, &buf[..processed.len]);
                    !batch.is_full() || batch.flush(&send)
                }
            };
            if !sent {
                return; // the sink side stopped
            }
        }
        batch.flush(&send);
    }
}

/// The root with its own symlinks resolved: the examiner's choice of root
/// (often a symlink to a mount point) is honoured, while nothing below it is
/// ever followed. A root that is a symlink to a file is reported under the
/// target's name.
fn resolve_root(root: &Path) -> Result<PathBuf, ScanError> {
    fs::canonicalize(root).map_err(|source| ScanError::Root {
        path: root.to_path_buf(),
        source,
    })
}

/// The path below the root; a root that is a file is named by its file name.
fn relative(root: &Path, path: &Path, depth: usize) -> RawPath {
    if depth == 0 {
        return RawPath::from_path(Path::new(path.file_name().unwrap_or(path.as_os_str())));
    }
    RawPath::from_path(path.strip_prefix(root).unwrap_or(path))
}

fn walk_error_record(root: &Path, e: &walkdir::Error) -> FileRecord {
    let path = e.path().unwrap_or(root);
    let rel = relative(root, path, e.depth());
    let meta = fs::symlink_metadata(path);
    let kind = meta.as_ref().map_or(EntryKind::Unknown, |m| {
        EntryKind::from_file_type(m.file_type())
    });
    let mut rec = FileRecord::bare(rel, kind);
    if let Ok(m) = &meta {
        rec.set_metadata(m);
    }
    let message = match e.io_error() {
        Some(io) => {
            let what = if rec.kind == EntryKind::Directory {
                "cannot list directory"
            } else {
                "cannot read entry"
            };
            RecordError::io(what, io)
        }
        None => RecordError::new(ErrorKind::Io, e.to_string()),
    };
    rec.error = Some(message);
    rec
}

/// One non-directory entry: regular files are opened read-only and read;
/// everything else is described from `lstat` and never opened.
pub(crate) fn process_entry(
    abs: &Path,
    rel: RawPath,
    listed_as_file: bool,
    plan: &ReadPlan,
    buf: &mut Vec<u8>,
    on_bytes: &dyn Fn(u64),
) -> Processed {
    if !listed_as_file {
        return Processed::done(describe_without_opening(abs, rel));
    }
    let mut file = match open_evidence(abs) {
        Ok(f) => f,
        Err(e) if is_symlink_refusal(&e) => {
            return Processed::done(describe_without_opening(abs, rel));
        }
        Err(e) => {
            let mut rec = describe_without_opening(abs, rel);
            if rec.error.is_none() {
                rec.error = Some(RecordError::io("cannot open", &e));
            }
            return Processed::done(rec);
        }
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => {
            let mut rec = FileRecord::bare(rel, EntryKind::File);
            rec.error = Some(RecordError::io("cannot stat opened file", &e));
            return Processed::done(rec);
        }
    };
    let mut rec = FileRecord::bare(rel, EntryKind::from_file_type(meta.file_type()));
    rec.set_metadata(&meta);
    if rec.kind != EntryKind::File {
        // Swapped for a FIFO or device after listing: opened non-blocking,
        // now closed without a read.
        return Processed::done(rec);
    }
    let content = read_content(&mut file, meta.len(), plan, buf, on_bytes);
    rec.file_type = content.file_type;
    rec.digests = content.digests;
    rec.pdq = content.pdq;
    rec.error = content.error;
    Processed {
        record: rec,
        pending_md5: content.pending_md5,
        len: usize::try_from(content.bytes_read).unwrap_or(usize::MAX),
    }
}

/// One processed entry; with `pending_md5`, its bytes are in the worker's
/// buffer (`buf[..len]`) and its MD5 is still to be computed.
pub(crate) struct Processed {
    record: FileRecord,
    pending_md5: Option<(Sha1, Sha256)>,
    len: usize,
}

impl Processed {
    fn done(record: FileRecord) -> Self {
        Self {
            record,
            pending_md5: None,
            len: 0,
        }
    }
}

/// Files whose MD5 waits for a batch (see `md5lanes`). Their bytes are
/// copied into one arena, so the worker's read buffer is free for the next
/// file; the arena is bounded, so memory stays bounded.
#[derive(Default)]
struct Md5Batch {
    arena: Vec<u8>,
    items: Vec<(FileRecord, (Sha1, Sha256), Range<usize>)>,
}

/// Batch limits: enough files to keep 16 lanes busy, few enough bytes to
/// stay in L2/L3-sized territory and to keep records flowing.
const BATCH_FILES: usize = 256;
const BATCH_BYTES: usize = 32 << 20;
/// Largest file whose MD5 is batched: a bigger one would dominate the batch
/// and run alone in its lane.
pub(crate) const DEFER_MD5_MAX: usize = 2 << 20;

impl Md5Batch {
    fn push(&mut self, record: FileRecord, shas: (Sha1, Sha256), bytes: &[u8]) {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        self.items.push((record, shas, start..self.arena.len()));
    }

    fn is_full(&self) -> bool {
        self.items.len() >= BATCH_FILES || self.arena.len() >= BATCH_BYTES
    }

    /// Completes every record's digests and sends them; false once the sink
    /// side has stopped.
    fn flush(&mut self, send: &dyn Fn(FileRecord) -> bool) -> bool {
        let slices: Vec<&[u8]> = self
            .items
            .iter()
            .map(|(_, _, r)| &self.arena[r.clone()])
            .collect();
        let md5s = md5_many(&slices);
        let mut ok = true;
        for ((mut record, (sha1, sha256), _), md5) in self.items.drain(..).zip(md5s) {
            record.digests = Some(Digests { md5, sha1, sha256 });
            ok = ok && send(record);
        }
        self.arena.clear();
        ok
    }
}

fn is_symlink_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn describe_without_opening(abs: &Path, rel: RawPath) -> FileRecord {
    let meta = match fs::symlink_metadata(abs) {
        Ok(m) => m,
        Err(e) => {
            let mut rec = FileRecord::bare(rel, EntryKind::Unknown);
            rec.error = Some(RecordError::io("cannot stat", &e));
            return rec;
        }
    };
    let mut kind = EntryKind::from_file_type(meta.file_type());
    let mut error = None;
    if let EntryKind::Symlink { target } = &mut kind {
        match fs::read_link(abs) {
            Ok(t) => *target = RawPath::from_path(&t),
            Err(e) => error = Some(RecordError::io("cannot read symlink", &e)),
        }
    }
    let mut rec = FileRecord::bare(rel, kind);
    rec.set_metadata(&meta);
    rec.error = error;
    rec
}
