//! The only way this crate opens evidence files.
//!
//! * read-only, so nothing can be written even by mistake;
//! * `O_NOFOLLOW`: if the last component is (or has become) a symlink the
//!   open fails with `ELOOP` instead of leaving the evidence tree;
//! * `O_NONBLOCK`: if a regular file was swapped for a FIFO between the
//!   directory listing and the open, the open returns at once instead of
//!   hanging the worker; for regular files it changes nothing;
//! * `O_NOATIME` where the kernel permits it (owner or `CAP_FOWNER`), so that
//!   reading does not change the access times an examiner may rely on; when
//!   refused (`EPERM`) the open is retried without it. Directory listings go
//!   through the standard library and may update directory atimes: mount
//!   evidence read-only (`-o ro,noatime`), as forensic practice requires.
//! * `O_CLOEXEC` (the standard library's default).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(target_os = "linux")]
pub(crate) fn open_evidence(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let base = libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let with_noatime = OpenOptions::new()
        .read(true)
        .custom_flags(base | libc::O_NOATIME)
        .open(path);
    match with_noatime {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            OpenOptions::new().read(true).custom_flags(base).open(path)
        }
        other => other,
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) fn open_evidence(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn open_evidence(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
/// Short reads are normal (and `EINTR` is retried), so one `read` call is
/// not enough to know a file has ended.
pub(crate) fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
