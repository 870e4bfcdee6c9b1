//! PDQ of every image under a list of paths (the `vigil pdq PATH...`
//! command, the counterpart of Meta's `pdq-photo-hasher`).
//!
//! Output order is deterministic (arguments in order, folders walked in
//! file-name order) although hashing is parallel, so two runs over the same
//! files print the same lines.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use vigil_pdq::PdqOutput;
use walkdir::WalkDir;

use crate::content::{ReadPlan, read_content};
use crate::rawpath::RawPath;
use crate::readonly::open_evidence;
use crate::record::RecordError;
use crate::scan::{ScanError, ScanOptions};

/// The PDQ result for one image file (or the reason there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageHash {
    pub path: PathBuf,
    pub result: Result<PdqOutput, RecordError>,
}

impl ImageHash {
    /// `hash,quality,path`, the line format of Meta's `pdq-photo-hasher`,
    /// with the path in [`RawPath`]'s one-line text form (so a newline in a
    /// file name cannot split the line). `None` when there is no hash.
    pub fn csv_line(&self) -> Option<String> {
        let out = self.result.as_ref().ok()?;
        Some(format!(
            "{},{},{}",
            out.hash,
            out.quality,
            RawPath::from_path(&self.path)
        ))
    }
}

/// Files handed to the thread pool at a time: large enough to keep both
/// cores busy, small enough that the first lines appear at once.
const BATCH: usize = 64;

thread_local! {
    /// One read buffer per pool thread, reused across files (bounded by the
    /// image cap, like the scanner's).
    static WORK_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `sink` with every file under `paths` (files, or folders walked
/// recursively) whose magic bytes say PDQ-decodable image, and with every
/// file or folder that could not be read (whose type is therefore unknown).
/// Non-images are passed over silently. Symlinks inside folders are not
/// followed; a symlink named explicitly as an argument is.
pub fn hash_images<F>(paths: &[PathBuf], opts: &ScanOptions, mut sink: F) -> Result<(), ScanError>
where
    F: FnMut(ImageHash),
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.effective_threads())
        .thread_name(|i| format!("vigil-pdq-{i}"))
        .build()
        .map_err(|e| ScanError::Threads(std::io::Error::other(e)))?;
    let plan = ReadPlan {
        pdq: true,
        ..opts.read_plan()
    };
    let mut batch: Vec<Candidate> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<Candidate>| {
        let results: Vec<Option<ImageHash>> = pool.install(|| {
            batch
                .par_drain(..)
                .map(|c| hash_candidate(c, &plan))
                .collect()
        });
        results.into_iter().flatten().for_each(&mut sink);
    };
    for arg in paths {
        for candidate in candidates(arg) {
            batch.push(candidate);
            if batch.len() == BATCH {
                flush(&mut batch);
            }
        }
    }
    flush(&mut batch);
    Ok(())
}

enum Candidate {
    File(PathBuf),
    Unreadable(PathBuf, RecordError),
}

fn candidates(arg: &Path) -> impl Iterator<Item = Candidate> + '_ {
    let resolved = std::fs::canonicalize(arg);
    let walk = resolved.as_ref().ok().map(|real| {
        WalkDir::new(real)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
    });
    let failed = resolved
        .as_ref()
        .err()
        .map(|e| Candidate::Unreadable(arg.to_path_buf(), RecordError::io("cannot access", e)));
    let real = resolved.as_ref().ok().cloned();
    failed.into_iter().chain(
        walk.into_iter()
            .flatten()
            .filter_map(move |entry| match entry {
                Ok(e) if e.file_type().is_file() => Some(Candidate::File(display_path(
                    arg,
                    real.as_deref(),
                    e.path(),
                ))),
                Ok(_) => None,
                Err(e) => {
                    let path = e
                        .path()
                        .map_or_else(|| arg.to_path_buf(), Path::to_path_buf);
                    let err = match e.io_error() {
                        Some(io) => RecordError::io("cannot read", io),
                        None => RecordError::new(crate::ErrorKind::Io, e.to_string()),
                    };
                    Some(Candidate::Unreadable(path, err))
                }
            }),
    )
}

/// Reports paths the way the user typed them: `arg` joined with the part
/// below it, not the canonicalised absolute path.
fn display_path(arg: &Path, real: Option<&Path>, path: &Path) -> PathBuf {
    match real.and_then(|r| path.strip_prefix(r).ok()) {
        Some(rest) if rest.as_os_str().is_empty() => arg.to_path_buf(),
        Some(rest) => arg.join(rest),
        None => path.to_path_buf(),
    }
}

fn hash_candidate(c: Candidate, plan: &ReadPlan) -> Option<ImageHash> {
    let path = match c {
        Candidate::Unreadable(path, e) => {
            return Some(ImageHash {
                path,
                result: Err(e),
            });
        }
        Candidate::File(p) => p,
    };
    // Explicit file arguments may be symlinks: open the resolved path.
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let mut file = match open_evidence(&real) {
        Ok(f) => f,
        Err(e) => {
            return Some(ImageHash {
                path,
                result: Err(RecordError::io("cannot open", &e)),
            });
        }
    };
    let size = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return None,
        Err(e) => {
            return Some(ImageHash {
                path,
                result: Err(RecordError::io("cannot stat", &e)),
            });
        }
    };
    let content =
        WORK_BUFFER.with_borrow_mut(|buf| read_content(&mut file, size, plan, buf, &|_| {}));
    if content.file_type.is_some_and(|t| t.pdq) {
        let result = match (content.pdq, content.error) {
            (Some(p), _) => Ok(p),
            (None, Some(e)) => Err(e),
            (None, None) => Err(RecordError::new(
                crate::ErrorKind::Internal,
                "image was not hashed",
            )),
        };
        Some(ImageHash { path, result })
    } else {
        // Unknown type because the read failed: the user must hear about it.
        content
            .error
            .filter(|_| content.file_type.is_none())
            .map(|e| ImageHash {
                path,
                result: Err(e),
            })
    }
}
