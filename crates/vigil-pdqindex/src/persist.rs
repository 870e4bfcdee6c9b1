//! The persisted index: a versioned header, the flat arrays of the index in a
//! fixed order, and a CRC-32 trailer.
//!
//! Loading is one `read_exact` per array straight into its final `Vec` (no
//! parsing, no rebuild), so a 10 M-hash index (~660 MB) is answering after
//! roughly the time it takes to copy the file from the page cache. Every
//! length is checked against the file size before anything is allocated,
//! the checksum before anything is used, and the structure (directories
//! monotone, row indices in range) before the index is returned: a damaged
//! or hostile file is an [`IndexError`], never a panic or a huge allocation.
//!
//! Layout (all integers little-endian):
//!
//! | field | size |
//! |---|---|
//! | magic `VIGILPDQ` | 8 |
//! | version (u32), header length (u32) | 8 |
//! | dir_bits, row_bits, lo_bits, stride (u32 each) | 16 |
//! | rows, pending, tombstones (u64 each) | 24 |
//! | id kind (u32: 0 = u32 offsets, 1 = i64), tables (u32) | 8 |
//! | id base (i64) | 8 |
//! | reserved (zero) | 24 |
//! | rows: `rows × 32` bytes (four u64 lanes each) | |
//! | ids: `rows × 4` (offsets from the base) or `rows × 8` | |
//! | free directory: `(2^dir_bits + 1) × 4` | |
//! | tombstone bitmap: `ceil(rows / 64) × 8` | |
//! | per table: directory `(2^dir_bits + 1) × 4`, entries `rows × 4` | |
//! | pending hashes `pending × 32`, pending ids `pending × 8` | |
//! | CRC-32 (IEEE) of everything above | 4 |

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::bits::Lanes;
use crate::error::IndexError;
use crate::index::{
    IdColumn, Layout, MAX_HASHES, PERM_TABLES, PdqIndex, PermTable, SUBSTRINGS, ext_bytes,
};

const MAGIC: &[u8; 8] = b"VIGILPDQ";
/// Version of the file format written by this build (and the only one read).
/// Version 2: directories of `2^(log2 n − 3)` buckets (version 1 had
/// `2^(log2 n − 4)`); older files are refused and rebuilt by the store.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 96;

struct Header {
    layout: Layout,
    rows: u64,
    pending: u64,
    tombstones: u64,
    wide_ids: bool,
    tables: u32,
    id_base: i64,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        let mut w = 0usize;
        let mut put = |bytes: &[u8]| {
            b[w..w + bytes.len()].copy_from_slice(bytes);
            w += bytes.len();
        };
        put(MAGIC);
        put(&FORMAT_VERSION.to_le_bytes());
        put(&(HEADER_LEN as u32).to_le_bytes());
        put(&self.layout.dir_bits.to_le_bytes());
        put(&self.layout.row_bits.to_le_bytes());
        put(&self.layout.lo_bits.to_le_bytes());
        put(&self.layout.stride.to_le_bytes());
        put(&self.rows.to_le_bytes());
        put(&self.pending.to_le_bytes());
        put(&self.tombstones.to_le_bytes());
        put(&u32::from(self.wide_ids).to_le_bytes());
        put(&self.tables.to_le_bytes());
        put(&self.id_base.to_le_bytes());
        b
    }

    /// Expected total file size, or `None` on arithmetic overflow.
    fn file_len(&self) -> Option<u64> {
        let rows = self.rows;
        let dir = (1u64 << self.layout.dir_bits) + 1;
        let id_size = if self.wide_ids { 8 } else { 4 };
        let mut total = HEADER_LEN as u64;
        total = total.checked_add(rows.checked_mul(32)?)?;
        total = total.checked_add(rows.checked_mul(id_size)?)?;
        total = total.checked_add(dir * 4)?;
        total = total.checked_add(rows.div_ceil(64) * 8)?;
        let per_table = (dir * 4).checked_add(rows.checked_mul(4)?)?;
        total = total.checked_add(per_table.checked_mul(u64::from(self.tables))?)?;
        total = total.checked_add(self.pending.checked_mul(40)?)?;
        total.checked_add(4)
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Byte view of integer arrays, converted to little-endian on the (unused
/// in practice) big-endian targets.
fn put_u32s<W: Write>(w: &mut W, crc: &mut crc32fast::Hasher, v: &[u32]) -> std::io::Result<()> {
    if cfg!(target_endian = "little") {
        let b: &[u8] = bytemuck::cast_slice(v);
        crc.update(b);
        w.write_all(b)
    } else {
        for x in v {
            let b = x.to_le_bytes();
            crc.update(&b);
            w.write_all(&b)?;
        }
        Ok(())
    }
}

fn put_u64s<W: Write>(w: &mut W, crc: &mut crc32fast::Hasher, v: &[u64]) -> std::io::Result<()> {
    if cfg!(target_endian = "little") {
        let b: &[u8] = bytemuck::cast_slice(v);
        crc.update(b);
        w.write_all(b)
    } else {
        for x in v {
            let b = x.to_le_bytes();
            crc.update(&b);
            w.write_all(&b)?;
        }
        Ok(())
    }
}

struct Reader<'a> {
    file: File,
    crc: crc32fast::Hasher,
    path: &'a Path,
}

impl Reader<'_> {
    fn io(&self, e: std::io::Error, what: &'static str) -> IndexError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            IndexError::Truncated {
                path: self.path.to_path_buf(),
                what,
            }
        } else {
            IndexError::Io {
                path: self.path.to_path_buf(),
                source: e,
            }
        }
    }

    fn bytes(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), IndexError> {
        // Large reads in 64 MiB pieces so the checksum runs on data still in
        // cache.
        for piece in buf.chunks_mut(64 << 20) {
            if let Err(e) = self.file.read_exact(piece) {
                return Err(self.io(e, what));
            }
            self.crc.update(piece);
        }
        Ok(())
    }

    fn fill_u32s(&mut self, dst: &mut [u32], what: &'static str) -> Result<(), IndexError> {
        self.bytes(bytemuck::cast_slice_mut(dst), what)?;
        if cfg!(target_endian = "big") {
            dst.iter_mut().for_each(|x| *x = u32::from_le(*x));
        }
        Ok(())
    }

    fn u32s(&mut self, n: usize, what: &'static str) -> Result<Vec<u32>, IndexError> {
        let mut v: Vec<u32> = crate::mem::zeroed_plain(n);
        self.bytes(bytemuck::cast_slice_mut(&mut v), what)?;
        if cfg!(target_endian = "big") {
            v.iter_mut().for_each(|x| *x = u32::from_le(*x));
        }
        Ok(v)
    }

    fn u64s(&mut self, n: usize, what: &'static str) -> Result<Vec<u64>, IndexError> {
        let mut v: Vec<u64> = crate::mem::zeroed_plain(n);
        self.bytes(bytemuck::cast_slice_mut(&mut v), what)?;
        if cfg!(target_endian = "big") {
            v.iter_mut().for_each(|x| *x = u64::from_le(*x));
        }
        Ok(v)
    }

    fn lanes(&mut self, n: usize, what: &'static str) -> Result<Vec<Lanes>, IndexError> {
        let mut v: Vec<Lanes> = crate::mem::zeroed_plain(n);
        self.bytes(bytemuck::cast_slice_mut(&mut v), what)?;
        if cfg!(target_endian = "big") {
            v.iter_mut().flatten().for_each(|x| *x = u64::from_le(*x));
        }
        Ok(v)
    }
}

impl PdqIndex {
    /// Writes the index to `path` atomically (a sibling temporary file,
    /// synced, then renamed over `path`).
    pub fn save(&self, path: &Path) -> Result<(), IndexError> {
        let tmp = tmp_path(path);
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| IndexError::Io { path: p, source }
        };
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        self.write_to(&mut w).map_err(io(&tmp))?;
        let file = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io(&tmp))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io(path))?;
        Ok(())
    }

    fn write_to<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        let (wide_ids, id_base) = match &self.ids {
            IdColumn::Narrow { base, .. } => (false, *base),
            IdColumn::Wide(_) => (true, 0),
        };
        let header = Header {
            layout: self.layout,
            rows: self.rows.len() as u64,
            pending: self.pending_rows.len() as u64,
            tombstones: self.dead_count as u64,
            wide_ids,
            tables: self.tables.len() as u32,
            id_base,
        };
        let mut crc = crc32fast::Hasher::new();
        let h = header.encode();
        crc.update(&h);
        w.write_all(&h)?;
        put_u64s(w, &mut crc, bytemuck::cast_slice(&self.rows))?;
        match &self.ids {
            IdColumn::Narrow { off, .. } => put_u32s(w, &mut crc, off)?,
            IdColumn::Wide(v) => put_u64s(w, &mut crc, bytemuck::cast_slice(v))?,
        }
        put_u32s(w, &mut crc, self.dir(0))?;
        put_u64s(w, &mut crc, &self.dead)?;
        for (j, t) in self.tables.iter().enumerate() {
            put_u32s(w, &mut crc, self.dir(j + 1))?;
            put_u32s(w, &mut crc, &t.entries)?;
        }
        put_u64s(w, &mut crc, bytemuck::cast_slice(&self.pending_rows))?;
        put_u64s(w, &mut crc, bytemuck::cast_slice(&self.pending_ids))?;
        w.write_all(&crc.finalize().to_le_bytes())?;
        w.flush()
    }

    /// Reads an index written by [`PdqIndex::save`]. Fails with a typed
    /// error on a wrong magic or version, a short file, a checksum mismatch
    /// or inconsistent contents.
    pub fn load(path: &Path) -> Result<PdqIndex, IndexError> {
        let file = File::open(path).map_err(|source| IndexError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let actual_len = file
            .metadata()
            .map_err(|source| IndexError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        let mut rd = Reader {
            file,
            crc: crc32fast::Hasher::new(),
            path,
        };
        let corrupt = |what: String| IndexError::Corrupt {
            path: path.to_path_buf(),
            what,
        };

        let mut hb = [0u8; HEADER_LEN];
        // The magic and version are checked before the rest of the header so
        // that a foreign or future file gets the precise error.
        let mut head = [0u8; 12];
        rd.bytes(&mut head, "header")?;
        if &head[..8] != MAGIC {
            return Err(IndexError::BadMagic {
                path: path.to_path_buf(),
            });
        }
        let version = u32_at(&head, 8);
        if version != FORMAT_VERSION {
            return Err(IndexError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        hb[..12].copy_from_slice(&head);
        rd.bytes(&mut hb[12..], "header")?;
        if u32_at(&hb, 12) as usize != HEADER_LEN {
            return Err(corrupt("header length".into()));
        }
        let layout = Layout {
            dir_bits: u32_at(&hb, 16),
            row_bits: u32_at(&hb, 20),
            lo_bits: u32_at(&hb, 24),
            stride: u32_at(&hb, 28),
        };
        let kind = u32_at(&hb, 56);
        let header = Header {
            layout,
            rows: u64_at(&hb, 32),
            pending: u64_at(&hb, 40),
            tombstones: u64_at(&hb, 48),
            wide_ids: kind == 1,
            tables: u32_at(&hb, 60),
            id_base: u64_at(&hb, 64) as i64,
        };
        if kind > 1 {
            return Err(corrupt(format!("id kind {kind}")));
        }
        if header.tables as usize != PERM_TABLES {
            return Err(corrupt(format!("{} tables", header.tables)));
        }
        if header.rows.saturating_add(header.pending) > MAX_HASHES as u64 {
            return Err(corrupt(format!("{} rows", header.rows)));
        }
        let n = header.rows as usize;
        match Layout::for_rows(n) {
            Ok(expected) if expected == layout && layout.is_valid() => {}
            _ => return Err(corrupt(format!("layout {layout:?} for {n} rows"))),
        }
        if header.tombstones > header.rows {
            return Err(corrupt("more tombstones than rows".into()));
        }
        match header.file_len() {
            Some(len) if len == actual_len => {}
            Some(len) if len > actual_len => {
                return Err(IndexError::Truncated {
                    path: path.to_path_buf(),
                    what: "file shorter than its header says",
                });
            }
            _ => return Err(corrupt("file longer than its header says".into())),
        }

        let dir_len = layout.buckets() + 1;
        let rows = rd.lanes(n, "rows")?;
        let ids = if header.wide_ids {
            let v = rd.u64s(n, "ids")?;
            IdColumn::Wide(v.into_iter().map(|x| x as i64).collect())
        } else {
            IdColumn::Narrow {
                base: header.id_base,
                off: rd.u32s(n, "ids")?,
            }
        };
        let mut dirs: Vec<u32> = crate::mem::zeroed_plain(SUBSTRINGS * dir_len);
        rd.fill_u32s(&mut dirs[..dir_len], "free directory")?;
        let dead = rd.u64s(n.div_ceil(64), "tombstones")?;
        let mut tables = Vec::with_capacity(PERM_TABLES);
        for j in 1..=PERM_TABLES {
            rd.fill_u32s(&mut dirs[j * dir_len..(j + 1) * dir_len], "table directory")?;
            let entries = rd.u32s(n, "table entries")?;
            tables.push(PermTable { entries });
        }
        let pending = header.pending as usize;
        let pending_rows = rd.lanes(pending, "pending hashes")?;
        let pending_ids: Vec<i64> = rd
            .u64s(pending, "pending ids")?
            .into_iter()
            .map(|x| x as i64)
            .collect();
        let computed = rd.crc.clone().finalize();
        let mut tail = [0u8; 4];
        rd.bytes(&mut tail, "checksum")?;
        let stored = u32::from_le_bytes(tail);
        if stored != computed {
            return Err(IndexError::ChecksumMismatch {
                path: path.to_path_buf(),
                stored,
                computed,
            });
        }

        // Structure: everything a query indexes with must be in range.
        if !dir_ok(&dirs[..dir_len], n) {
            return Err(corrupt("free directory".into()));
        }
        for (j, t) in tables.iter().enumerate() {
            if !dir_ok(&dirs[(j + 1) * dir_len..(j + 2) * dir_len], n) {
                return Err(corrupt(format!("directory of table {j}")));
            }
            let mask = layout.row_mask();
            if t.entries.iter().any(|&e| (e & mask) as usize >= n) {
                return Err(corrupt(format!("row index out of range in table {j}")));
            }
        }
        let dead_count: u64 = dead.iter().map(|w| u64::from(w.count_ones())).sum();
        if dead_count != header.tombstones
            || (!n.is_multiple_of(64) && dead.last().is_some_and(|w| w >> (n % 64) != 0))
        {
            return Err(corrupt("tombstone bitmap".into()));
        }
        // Loading faults the arrays in as 4 KiB pages (huge-page faults cost
        // ~5x more CPU here, measured: 2.7 s against 0.55 s at 10 M on a
        // busy host), then marks them for huge pages so that khugepaged
        // collapses them in the background while the index already answers.
        crate::mem::advise_huge(&rows);
        crate::mem::advise_huge(&dirs);
        for t in &tables {
            crate::mem::advise_huge(&t.entries);
        }
        Ok(PdqIndex {
            layout,
            ext: ext_bytes(&layout, &rows),
            rows,
            ids,
            dirs,
            tables,
            dead,
            dead_count: dead_count as usize,
            pending_rows,
            pending_ids,
        })
    }
}

fn dir_ok(dir: &[u32], n: usize) -> bool {
    dir.first() == Some(&0)
        && dir.last().is_some_and(|&l| l as usize == n)
        && dir.windows(2).all(|w| w[0] <= w[1])
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}
