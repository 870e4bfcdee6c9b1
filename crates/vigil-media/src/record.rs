//! What the scanner reports about one directory entry.

use std::fmt;
use std::fs::Metadata;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use vigil_pdq::PdqOutput;

use crate::digest::Digests;
use crate::magic::FileType;
use crate::rawpath::RawPath;

/// What kind of entry a record describes. Only regular files are opened and
/// hashed; nothing else is ever opened or followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    /// The link itself, with its target as stored (never resolved).
    Symlink {
        target: RawPath,
    },
    /// Directories are reported only when they could not be listed.
    Directory,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    /// The type could not be determined (the entry vanished, or an exotic type).
    Unknown,
}

impl EntryKind {
    /// The kind as reported by `lstat`/`fstat` (symlink targets are filled in
    /// by the caller, which alone knows whether to read the link).
    pub(crate) fn from_file_type(ft: std::fs::FileType) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                return Self::Fifo;
            }
            if ft.is_socket() {
                return Self::Socket;
            }
            if ft.is_block_device() {
                return Self::BlockDevice;
            }
            if ft.is_char_device() {
                return Self::CharDevice;
            }
        }
        if ft.is_file() {
            Self::File
        } else if ft.is_dir() {
            Self::Directory
        } else if ft.is_symlink() {
            Self::Symlink {
                target: RawPath::default(),
            }
        } else {
            Self::Unknown
        }
    }

    /// A short lowercase label (`file`, `symlink`, `fifo`, ...) for output.
    pub fn label(&self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Symlink { .. } => "symlink",
            Self::Directory => "directory",
            Self::Fifo => "fifo",
            Self::Socket => "socket",
            Self::BlockDevice => "block-device",
            Self::CharDevice => "char-device",
            Self::Unknown => "unknown",
        }
    }
}

/// A filesystem time as stored: seconds and nanoseconds since the Unix epoch
/// (negative before 1970). Kept raw because seized filesystems carry
/// timestamps outside any calendar library's range (NTFS reaches year 30828,
/// tampered files reach anything) and an evidence record must not round or
/// reject them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    pub unix_seconds: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub(crate) fn new(unix_seconds: i64, nanos: i64) -> Option<Self> {
        u32::try_from(nanos)
            .ok()
            .filter(|n| *n < 1_000_000_000)
            .map(|nanos| Self {
                unix_seconds,
                nanos,
            })
    }

    pub(crate) fn from_system(t: SystemTime) -> Option<Self> {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Some(Self {
                unix_seconds: i64::try_from(d.as_secs()).ok()?,
                nanos: d.subsec_nanos(),
            }),
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).ok()?;
                if d.subsec_nanos() == 0 {
                    Some(Self {
                        unix_seconds: -secs,
                        nanos: 0,
                    })
                } else {
                    Some(Self {
                        unix_seconds: -secs - 1,
                        nanos: 1_000_000_000 - d.subsec_nanos(),
                    })
                }
            }
        }
    }

    /// As a UTC date-time, or `None` outside `time`'s supported years.
    pub fn to_datetime(&self) -> Option<OffsetDateTime> {
        let nanos = i128::from(self.unix_seconds) * 1_000_000_000 + i128::from(self.nanos);
        OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC when representable, else `@<seconds>.<nanos>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rfc = self.to_datetime().and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        match rfc {
            Some(s) => f.write_str(&s),
            None => write!(f, "@{}.{:09}", self.unix_seconds, self.nanos),
        }
    }
}

/// Unix ownership and identity metadata (forensically relevant: hard links
/// share an inode, ownership shows which account held a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnixMeta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

/// Why a record is incomplete. Every variant leaves the scan running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The entry disappeared between listing and reading.
    Vanished,
    PermissionDenied,
    /// Any other I/O error (bad sector, `EIO`, lost mount, ...).
    Io,
    /// The size read differs from the size at open: the file changed while
    /// it was read (digests are of the bytes actually read).
    ChangedDuringRead,
    /// Refused before decoding: more pixels than the decode limit, or a file
    /// larger than the in-memory image cap (digests are still present).
    ImageTooLarge,
    /// The file looks like an image by its magic bytes but does not decode.
    ImageCorrupt,
    /// An image variant the PDQ decoder does not support.
    ImageUnsupported,
    /// A bug: a panic while processing this entry was caught.
    Internal,
}

impl ErrorKind {
    pub(crate) fn from_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => Self::Vanished,
            io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            _ => Self::Io,
        }
    }
}

/// A per-entry error in clear text, with a kind for counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub kind: ErrorKind,
    pub message: String,
}

impl RecordError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn io(what: &str, e: &io::Error) -> Self {
        Self::new(ErrorKind::from_io(e), format!("{what}: {e}"))
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Everything the scanner learned about one entry. Contains hashes and
/// metadata only, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Relative to the scan root; for a root that is itself a file, its name.
    pub path: RawPath,
    pub kind: EntryKind,
    /// Size from `fstat` of the opened file (`lstat` for non-files).
    pub size: u64,
    pub modified: Option<Timestamp>,
    pub accessed: Option<Timestamp>,
    /// Inode change time (`ctime`).
    pub changed: Option<Timestamp>,
    /// Birth time, where the filesystem and kernel report it (`statx`).
    pub created: Option<Timestamp>,
    pub unix: Option<UnixMeta>,
    /// Type by magic bytes; `None` for unknown content and for non-files.
    pub file_type: Option<FileType>,
    /// Present when every byte of the file was read and hashed.
    pub digests: Option<Digests>,
    /// Present for images PDQ could hash.
    pub pdq: Option<PdqOutput>,
    pub error: Option<RecordError>,
}

impl FileRecord {
    pub(crate) fn bare(path: RawPath, kind: EntryKind) -> Self {
        Self {
            path,
            kind,
            size: 0,
            modified: None,
            accessed: None,
            changed: None,
            created: None,
            unix: None,
            file_type: None,
            digests: None,
            pdq: None,
            error: None,
        }
    }

    /// MIME type by magic bytes, `application/octet-stream` when unknown.
    pub fn mime(&self) -> &'static str {
        self.file_type
            .map_or("application/octet-stream", |t| t.mime)
    }

    /// True when magic bytes say PDQ can decode this file.
    pub fn is_pdq_image(&self) -> bool {
        self.file_type.is_some_and(|t| t.pdq)
    }

    pub(crate) fn set_metadata(&mut self, meta: &Metadata) {
        self.size = meta.len();
        self.created = meta.created().ok().and_then(Timestamp::from_system);
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.modified = Timestamp::new(meta.mtime(), meta.mtime_nsec());
            self.accessed = Timestamp::new(meta.atime(), meta.atime_nsec());
            self.changed = Timestamp::new(meta.ctime(), meta.ctime_nsec());
            self.unix = Some(UnixMeta {
                mode: meta.mode(),
                uid: meta.uid(),
                gid: meta.gid(),
                dev: meta.dev(),
                ino: meta.ino(),
                nlink: meta.nlink(),
            });
        }
        #[cfg(not(unix))]
        {
            self.modified = meta.modified().ok().and_then(Timestamp::from_system);
            self.accessed = meta.accessed().ok().and_then(Timestamp::from_system);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_before_epoch_and_beyond_calendar() {
        let t = Timestamp::from_system(UNIX_EPOCH - Duration::new(1, 250_000_000)).unwrap();
        assert_eq!((t.unix_seconds, t.nanos), (-2, 750_000_000));
        assert_eq!(t.to_string(), "1969-12-31T23:59:58.75Z");
        let far = Timestamp::new(900_000_000_000, 5).unwrap();
        assert!(far.to_datetime().is_none());
        assert_eq!(far.to_string(), "@900000000000.000000005");
        assert!(Timestamp::new(0, 1_000_000_000).is_none());
    }
}
