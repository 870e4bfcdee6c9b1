//! Reading one opened regular file: type, digests and PDQ from one read.
//!
//! Memory stays bounded whatever the file sizes: a worker owns one buffer
//! that is at most `max(chunk_size, max_image_bytes + 1)` long. Images up to
//! the cap are read whole into it, so digests and the PDQ decoder share the
//! same bytes; everything else streams through its first `chunk_size` bytes.

use std::fs::File;
use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use vigil_pdq::{DecodeLimits, PdqError, PdqOutput};

use vigil_domain::{Sha1, Sha256};

use crate::digest::{Digests, MultiHasher, digest_bytes, sha_pair};
use crate::magic::{self, FileType, HEAD_LEN};
use crate::readonly::read_full;
use crate::record::{ErrorKind, RecordError};

/// The knobs that decide how a file is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadPlan {
    pub chunk_size: usize,
    pub max_image_bytes: u64,
    pub decode_limits: DecodeLimits,
    pub pdq: bool,
    /// Files read whole and at most this long get SHA-1/SHA-256 only and
    /// leave their bytes in the buffer for a batched MD5 (0: never).
    pub defer_md5_max: usize,
}

/// What reading one file produced.
#[derive(Debug, Default)]
pub(crate) struct Content {
    pub file_type: Option<FileType>,
    pub digests: Option<Digests>,
    /// Instead of `digests`: SHA-1 and SHA-256 done, MD5 left to the caller
    /// over `buf[..bytes_read]`.
    pub pending_md5: Option<(Sha1, Sha256)>,
    pub pdq: Option<PdqOutput>,
    /// At most one error is reported; an I/O error wins over a PDQ error.
    pub error: Option<RecordError>,
    pub bytes_read: u64,
}

/// Reads `file` (of `size` bytes per `fstat`) to the end. `on_bytes` is told
/// about every read so that progress moves during long videos.
pub(crate) fn read_content(
    file: &mut File,
    size: u64,
    plan: &ReadPlan,
    buf: &mut Vec<u8>,
    on_bytes: &dyn Fn(u64),
) -> Content {
    let mut out = Content::default();
    let chunk = plan.chunk_size.max(HEAD_LEN);
    if buf.len() < chunk {
        buf.resize(chunk, 0);
    }
    let first = match read_full(file, &mut buf[..chunk]) {
        Ok(n) => n,
        Err(e) => {
            out.error = Some(RecordError::io("read failed at offset 0", &e));
            return out;
        }
    };
    on_bytes(first as u64);
    out.file_type = magic::detect(&buf[..first.min(HEAD_LEN)]);
    let wants_pdq = plan.pdq && out.file_type.is_some_and(|t| t.pdq);

    let mut total = first;
    let mut whole_in_memory = first < chunk;
    let mut too_large = false;
    if wants_pdq && !whole_in_memory {
        if size > plan.max_image_bytes {
            too_large = true;
        } else {
            match read_rest_capped(file, buf, first, size, plan.max_image_bytes, on_bytes) {
                Ok(Filled::Complete(n)) => {
                    total = n;
                    whole_in_memory = true;
                }
                Ok(Filled::OverCap(n)) => {
                    total = n;
                    too_large = true;
                }
                Err((n, e)) => {
                    out.bytes_read = n as u64;
                    out.error = Some(RecordError::io(&format!("read failed at offset {n}"), &e));
                    return out;
                }
            }
        }
    }

    if whole_in_memory {
        if total <= plan.defer_md5_max {
            out.pending_md5 = Some(sha_pair(&buf[..total]));
        } else {
            out.digests = Some(digest_bytes(&buf[..total]));
        }
        out.bytes_read = total as u64;
        if wants_pdq && total as u64 <= plan.max_image_bytes {
            match run_pdq(&buf[..total], &plan.decode_limits) {
                Ok(p) => out.pdq = Some(p),
                Err(e) => out.error = Some(e),
            }
        } else if wants_pdq {
            too_large = true;
        }
    } else {
        let mut hasher = MultiHasher::new();
        hasher.update(&buf[..total]);
        let mut offset = total as u64;
        loop {
            match read_full(file, &mut buf[..chunk]) {
                Ok(0) => break,
                Ok(n) => {
                    on_bytes(n as u64);
                    hasher.update(&buf[..n]);
                    offset += n as u64;
                }
                Err(e) => {
                    out.bytes_read = offset;
                    out.error = Some(RecordError::io(
                        &format!("read failed at offset {offset}"),
                        &e,
                    ));
                    return out;
                }
            }
        }
        out.digests = Some(hasher.finalize());
        out.bytes_read = offset;
    }

    if out.bytes_read != size {
        out.error = Some(RecordError::new(
            ErrorKind::ChangedDuringRead,
            format!(
                "file changed while being read: {size} bytes at open, {} bytes read",
                out.bytes_read
            ),
        ));
    } else if too_large {
        out.error = Some(RecordError::new(
            ErrorKind::ImageTooLarge,
            format!(
                "image not perceptually hashed: {} bytes exceed the {} byte in-memory cap",
                out.bytes_read, plan.max_image_bytes
            ),
        ));
    }
    out
}

enum Filled {
    Complete(usize),
    OverCap(usize),
}

/// Continues reading into `buf` after its first `filled` bytes until end of
/// file or until more than `cap` bytes are held. The buffer is sized from
/// `size` up front, so a file that does not change needs one allocation.
fn read_rest_capped(
    file: &mut File,
    buf: &mut Vec<u8>,
    mut filled: usize,
    size: u64,
    cap: u64,
    on_bytes: &dyn Fn(u64),
) -> Result<Filled, (usize, io::Error)> {
    let limit = usize::try_from(cap.saturating_add(1)).unwrap_or(usize::MAX);
    let want = usize::try_from(size.saturating_add(1)).unwrap_or(usize::MAX);
    loop {
        if filled == buf.len() {
            if buf.len() >= limit {
                return Ok(Filled::OverCap(filled));
            }
            let grown = want.max(buf.len().saturating_mul(2)).min(limit);
            buf.resize(grown, 0);
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => return Ok(Filled::Complete(filled)),
            Ok(n) => {
                on_bytes(n as u64);
                filled += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((filled, e)),
        }
    }
}

/// PDQ behind `catch_unwind`: decoders parse hostile bytes, and a panic in
/// one of them must cost one record, not the scan.
pub(crate) fn run_pdq(bytes: &[u8], limits: &DecodeLimits) -> Result<PdqOutput, RecordError> {
    match catch_unwind(AssertUnwindSafe(|| {
        vigil_pdq::hash_image_bytes(bytes, limits)
    })) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => {
            let kind = if matches!(e, PdqError::Unsupported) {
                ErrorKind::ImageUnsupported
            } else if matches!(e, PdqError::TooLarge { .. }) {
                ErrorKind::ImageTooLarge
            } else {
                ErrorKind::ImageCorrupt
            };
            Err(RecordError::new(kind, format!("PDQ: {e}")))
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(RecordError::new(
                ErrorKind::Internal,
                format!("PDQ decoder panicked: {what}"),
            ))
        }
    }
}
