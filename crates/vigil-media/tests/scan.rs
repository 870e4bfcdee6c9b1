//! End-to-end scans of generated folders (synthetic content only: gradients,
//! noise, random bytes, invented text).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Cursor;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage};
use vigil_media::{
    DecodeLimits, EntryKind, ErrorKind, FileRecord, RawPath, ScanError, ScanOptions, ScanSummary,
    Scanner, hash_images,
};

/// Deterministic noise (xorshift), so tests need no RNG crate.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            ((x ^ y) & 0xff) as u8,
        ])
    })
}

fn noise_image(w: u32, h: u32, seed: u64) -> RgbImage {
    let px = noise((w * h * 3) as usize, seed);
    RgbImage::from_raw(w, h, px).unwrap()
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn write(root: &Path, rel: impl AsRef<Path>, bytes: &[u8]) -> PathBuf {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, bytes).unwrap();
    p
}

fn scan_all(scanner: &Scanner, root: &Path) -> (BTreeMap<Vec<u8>, FileRecord>, ScanSummary) {
    let mut out = BTreeMap::new();
    let summary = scanner
        .scan(root, |rec: FileRecord| {
            let key = rec.path.as_bytes().to_vec();
            assert!(out.insert(key, rec).is_none(), "entry reported twice");
        })
        .unwrap();
    (out, summary)
}

fn opts(threads: usize) -> ScanOptions {
    ScanOptions {
        threads,
        ..ScanOptions::default()
    }
}

/// First field of `tool PATH` (coreutils prefix a `\` when the name needed
/// escaping).
fn coreutils_digest(tool: &str, path: &Path) -> String {
    let out = Command::new(tool).arg(path).output().unwrap();
    assert!(out.status.success(), "{tool} failed on {path:?}");
    let line = out.stdout.strip_prefix(b"\\").unwrap_or(&out.stdout);
    let hash = line.split(|b| *b == b' ').next().unwrap();
    String::from_utf8(hash.to_vec()).unwrap()
}

/// Mixed folder: images with misleading extensions, a large image, random
/// "video", text, an empty file, odd names.
fn populate(root: &Path) {
    write(
        root,
        "Pictures/2019/holiday.dat",
        &encode(&gradient(320, 240), ImageFormat::Png),
    );
    write(
        root,
        "Pictures/noise.png",
        &encode(&noise_image(900, 700, 7), ImageFormat::Png),
    );
    write(
        root,
        "Pictures/tiny.gif",
        &encode(&gradient(16, 16), ImageFormat::Gif),
    );
    write(
        root,
        "Pictures/scan.bmp.txt",
        &encode(&gradient(40, 30), ImageFormat::Bmp),
    );
    write(root, "Videos/clip.jpg", &noise(3 * 1024 * 1024 + 123, 42));
    write(root, "Documents/report.txt", b"%PDF-1.4\n% synthetic\n");
    write(
        root,
        "Documents/notes.pdf",
        b"meeting at the example.org office\n",
    );
    write(root, "Documents/empty", b"");
    write(
        root,
        "Downloads/broken.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDRgarbage-not-a-png",
    );
    write(
        root,
        OsStr::from_bytes(b"Downloads/bad\xffname\\x.bin"),
        &noise(5000, 9),
    );
    write(root, "Downloads/line1\nline2.txt", b"two lines in a name\n");
}

#[test]
fn digests_match_coreutils_and_types_ignore_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    populate(root);
    let scanner = Scanner::new(ScanOptions {
        chunk_size: 64 * 1024, // make the 2.6 MB noise PNG take the read-rest path
        ..opts(2)
    });
    let (recs, summary) = scan_all(&scanner, root);
    assert_eq!(summary.files, 11);
    assert_eq!(recs.len(), 11);

    for rec in recs.values() {
        assert_eq!(rec.kind, EntryKind::File, "{}", rec.path);
        let path = root.join(rec.path.to_path_buf());
        let d = rec.digests.expect("every file here is readable");
        assert_eq!(
            d.md5.to_hex(),
            coreutils_digest("md5sum", &path),
            "{}",
            rec.path
        );
        assert_eq!(
            d.sha1.to_hex(),
            coreutils_digest("sha1sum", &path),
            "{}",
            rec.path
        );
        assert_eq!(
            d.sha256.to_hex(),
            coreutils_digest("sha256sum", &path),
            "{}",
            rec.path
        );
        assert_eq!(rec.size, fs::metadata(&path).unwrap().len());
        let mtime = fs::metadata(&path).unwrap().mtime();
        assert_eq!(rec.modified.unwrap().unix_seconds, mtime);
        assert_eq!(
            rec.created.is_some(),
            fs::metadata(&path).unwrap().created().is_ok()
        );
    }

    let mime = |p: &[u8]| recs[p].mime();
    assert_eq!(mime(b"Pictures/2019/holiday.dat"), "image/png");
    assert_eq!(mime(b"Pictures/noise.png"), "image/png");
    assert_eq!(mime(b"Pictures/tiny.gif"), "image/gif");
    assert_eq!(mime(b"Pictures/scan.bmp.txt"), "image/bmp");
    assert_eq!(mime(b"Videos/clip.jpg"), "application/octet-stream");
    assert_eq!(mime(b"Documents/report.txt"), "application/pdf");
    assert_eq!(mime(b"Documents/notes.pdf"), "text/plain");
    assert_eq!(mime(b"Documents/empty"), "application/octet-stream");
    assert_eq!(recs[&b"Documents/empty"[..]].size, 0);
    assert_eq!(summary.images, 5); // four valid images + the broken PNG
    let total: u64 = recs.values().map(|r| r.size).sum();
    assert_eq!(summary.bytes, total);
}

#[test]
fn images_carry_exactly_what_vigil_pdq_returns() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    populate(root);
    let limits = DecodeLimits::default();
    let scanner = Scanner::new(ScanOptions {
        chunk_size: 64 * 1024,
        decode_limits: limits,
        ..opts(2)
    });
    let (recs, summary) = scan_all(&scanner, root);
    let mut hashed = 0;
    for rec in recs.values().filter(|r| r.is_pdq_image()) {
        let bytes = fs::read(root.join(rec.path.to_path_buf())).unwrap();
        match vigil_pdq::hash_image_bytes(&bytes, &limits) {
            Ok(expected) => {
                hashed += 1;
                assert_eq!(rec.pdq.as_ref(), Some(&expected), "{}", rec.path);
                assert!(rec.error.is_none());
            }
            Err(e) => {
                assert!(rec.pdq.is_none());
                let err = rec.error.as_ref().expect("PDQ failure is reported");
                assert_eq!(err.message, format!("PDQ: {e}"));
                assert!(rec.digests.is_some(), "digests survive a PDQ failure");
            }
        }
    }
    assert_eq!(summary.pdq_hashed, hashed);
    assert_eq!(hashed, 4, "the four valid images (PNG, PNG, GIF, BMP) hash");
    let gradient = recs[&b"Pictures/2019/holiday.dat"[..]]
        .pdq
        .as_ref()
        .unwrap();
    assert_eq!((gradient.width, gradient.height), (320, 240));
    let broken = &recs[&b"Downloads/broken.png"[..]];
    assert!(broken.pdq.is_none());
    assert!(matches!(
        broken.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ImageCorrupt | ErrorKind::ImageUnsupported)
    ));
    // Non-images never carry PDQ or errors.
    assert!(recs[&b"Videos/clip.jpg"[..]].error.is_none());
}

#[test]
fn images_over_the_memory_cap_are_digested_but_not_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let png = encode(&noise_image(600, 400, 3), ImageFormat::Png);
    let p = write(root, "big.png", &png);
    for chunk_size in [32 * 1024, 1 << 20] {
        let scanner = Scanner::new(ScanOptions {
            max_image_bytes: 100_000,
            chunk_size,
            ..opts(1)
        });
        let (recs, _) = scan_all(&scanner, root);
        let rec = &recs[&b"big.png"[..]];
        assert!(rec.pdq.is_none());
        assert_eq!(rec.error.as_ref().unwrap().kind, ErrorKind::ImageTooLarge);
        assert_eq!(
            rec.digests.unwrap().sha256.to_hex(),
            coreutils_digest("sha256sum", &p)
        );
    }
}

#[test]
fn symlinks_are_recorded_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(outside.path(), "secret/outside.bin", b"must not be read");
    write(root, "real.txt", b"inside\n");
    fs::create_dir(root.join("sub")).unwrap();
    symlink("real.txt", root.join("to-file")).unwrap();
    symlink(outside.path().join("secret"), root.join("to-outside-dir")).unwrap();
    symlink(
        outside.path().join("secret/outside.bin"),
        root.join("to-outside-file"),
    )
    .unwrap();
    symlink("loop-b", root.join("loop-a")).unwrap();
    symlink("loop-a", root.join("loop-b")).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    symlink("missing", root.join("dangling")).unwrap();

    let (recs, summary) = scan_all(&Scanner::new(opts(2)), root);
    assert_eq!(summary.files, 8);
    let target = |p: &[u8]| match &recs[p].kind {
        EntryKind::Symlink { target } => target.as_bytes().to_vec(),
        other => panic!("{other:?}"),
    };
    assert_eq!(target(b"to-file"), b"real.txt");
    assert_eq!(target(b"loop-a"), b"loop-b");
    assert_eq!(target(b"loop-b"), b"loop-a");
    assert_eq!(target(b"sub/up"), b"..");
    assert_eq!(target(b"dangling"), b"missing");
    assert_eq!(
        target(b"to-outside-dir"),
        outside.path().join("secret").as_os_str().as_bytes()
    );
    for rec in recs.values().filter(|r| r.kind != EntryKind::File) {
        assert!(rec.digests.is_none() && rec.error.is_none(), "{}", rec.path);
    }
    assert!(recs.keys().all(|k| !k.starts_with(b"to-outside-dir/")));
    assert_eq!(summary.bytes, 7, "only real.txt was read");
}

#[test]
fn special_files_are_recorded_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write(&root, "a.txt", b"a");
    let status = Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let _listener = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();

    let (tx, rx) = mpsc::channel();
    let worker_root = root.clone();
    std::thread::spawn(move || {
        let _ = tx.send(scan_all(&Scanner::new(opts(2)), &worker_root).0);
    });
    let recs = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("scan blocked on a FIFO");
    assert_eq!(recs[&b"pipe"[..]].kind, EntryKind::Fifo);
    assert_eq!(recs[&b"sock"[..]].kind, EntryKind::Socket);
    assert!(recs[&b"pipe"[..]].digests.is_none());
    assert!(recs[&b"a.txt"[..]].digests.is_some());
}

#[test]
fn odd_names_round_trip_through_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    populate(root);
    let (recs, _) = scan_all(&Scanner::new(opts(1)), root);
    let bad = &recs[&b"Downloads/bad\xffname\\x.bin"[..]];
    assert_eq!(bad.path.to_text(), "Downloads/bad\\xffname\\\\x.bin");
    let nl = &recs[&b"Downloads/line1\nline2.txt"[..]];
    assert_eq!(nl.path.to_text(), "Downloads/line1\\x0aline2.txt");
    for rec in recs.values() {
        let back = RawPath::from_text(&rec.path.to_text()).unwrap();
        assert_eq!(back, rec.path);
        assert!(fs::symlink_metadata(root.join(back.to_path_buf())).is_ok());
    }
}

/// Running as root, permission bits do not stop reads; detect which case
/// applies by trying ourselves, then assert the matching behaviour.
#[test]
fn unreadable_entries_become_errors_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "ok.txt", b"fine\n");
    let locked = write(root, "locked.bin", b"locked content");
    fs::create_dir(root.join("locked-dir")).unwrap();
    write(root, "locked-dir/inner.txt", b"inner\n");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(root.join("locked-dir"), fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = fs::File::open(&locked).is_ok();

    let (recs, summary) = scan_all(&Scanner::new(opts(2)), root);
    fs::set_permissions(root.join("locked-dir"), fs::Permissions::from_mode(0o755)).unwrap();

    assert!(recs[&b"ok.txt"[..]].digests.is_some());
    let locked = &recs[&b"locked.bin"[..]];
    assert_eq!(locked.size, 14);
    if privileged {
        assert!(locked.digests.is_some() && locked.error.is_none());
        assert!(recs.contains_key(&b"locked-dir/inner.txt"[..]));
        assert_eq!(summary.errors, 0);
    } else {
        let err = locked.error.as_ref().unwrap();
        assert_eq!(err.kind, ErrorKind::PermissionDenied);
        assert!(err.message.contains("cannot open"), "{err}");
        let d = &recs[&b"locked-dir"[..]];
        assert_eq!(d.kind, EntryKind::Directory);
        assert_eq!(d.error.as_ref().unwrap().kind, ErrorKind::PermissionDenied);
        assert_eq!(summary.errors, 2);
    }
}

#[test]
fn skip_predicate_count_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    populate(root);
    let scanner = Scanner::new(opts(2)).with_skip(|p| {
        p.as_bytes().starts_with(b"Pictures/") || p.as_bytes() == b"Documents/empty"
    });
    let counted = scanner.count(root).unwrap();
    assert_eq!((counted.files, counted.skipped), (6, 5));
    let (recs, summary) = scan_all(&scanner, root);
    assert_eq!(summary.skipped, 5);
    assert_eq!(recs.len() as u64, counted.files);
    assert!(
        recs.keys()
            .all(|k| !k.starts_with(b"Pictures/") && k != b"Documents/empty")
    );
    let p = scanner.progress().snapshot();
    assert_eq!(p.files_done, summary.files);
    assert_eq!(p.files_total, counted.files);
    assert_eq!(p.bytes_done, counted.bytes);
    assert_eq!(p.bytes_total, counted.bytes);
}

#[test]
fn sink_error_and_cancel_stop_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..50 {
        write(root, format!("f{i:02}.bin"), &noise(2000, i));
    }
    let scanner = Scanner::new(opts(2));
    let mut seen = 0;
    let err = scanner
        .scan(root, |_rec: FileRecord| {
            seen += 1;
            if seen == 3 {
                Err("database is full")
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(matches!(err, ScanError::Sink(_)));
    assert_eq!(seen, 3);

    let progress = scanner.progress();
    let mut delivered = 0u64;
    let summary = scanner
        .scan(root, |_rec: FileRecord| {
            delivered += 1;
            progress.cancel();
        })
        .unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.files, delivered);
    assert_eq!(delivered, 1, "nothing is delivered after cancel");
}

#[test]
fn scanning_changes_nothing_under_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    populate(root);
    // Make atime older than mtime so that a relatime mount would update it
    // on any read that does not use O_NOATIME.
    for entry in walk(root) {
        let path = std::ffi::CString::new(entry.as_os_str().as_bytes()).unwrap();
        let times = [libc_timespec(1_000_000_000), libc_timespec(1_500_000_000)];
        // SAFETY: valid NUL-terminated path and a two-element timespec array.
        let rc = unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), 0) };
        assert_eq!(rc, 0);
    }
    let before = snapshot(root);
    scan_all(&Scanner::new(opts(2)), root);
    assert_eq!(snapshot(root), before);
}

fn libc_timespec(secs: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: secs,
        tv_nsec: 0,
    }
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, i64, i64, u32)> {
    walk(root)
        .into_iter()
        .map(|p| {
            let m = fs::symlink_metadata(&p).unwrap();
            (p, (m.len(), m.mtime(), m.atime(), m.mode()))
        })
        .collect()
}

#[test]
fn deep_nesting_does_not_exhaust_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // ~1,800 levels: deep, yet the absolute path stays under PATH_MAX.
    let depth = (4000 - root.as_os_str().len()) / 2;
    let deep: PathBuf = std::iter::repeat_n("d", depth).collect();
    fs::create_dir_all(root.join(&deep)).unwrap();
    fs::write(root.join(&deep).join("x"), b"bottom").unwrap();
    let (recs, _) = scan_all(&Scanner::new(opts(1)), root);
    assert_eq!(recs.len(), 1);
    assert_eq!(
        recs.values().next().unwrap().path.as_bytes().len(),
        depth * 2 + 1
    );
}

#[test]
fn a_root_that_is_a_file_is_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "single.bin", &noise(100, 1));
    let (recs, _) = scan_all(&Scanner::new(opts(1)), &p);
    assert_eq!(
        recs.keys().collect::<Vec<_>>(),
        vec![&b"single.bin".to_vec()]
    );
    // A root given as a symlink (e.g. to a mount point) is followed, once.
    fs::create_dir(dir.path().join("mnt")).unwrap();
    write(dir.path(), "mnt/inside.bin", b"x");
    symlink(dir.path().join("mnt"), dir.path().join("evidence")).unwrap();
    let (recs, _) = scan_all(&Scanner::new(opts(1)), &dir.path().join("evidence"));
    assert_eq!(
        recs.keys().collect::<Vec<_>>(),
        vec![&b"inside.bin".to_vec()]
    );
    let missing = Scanner::new(opts(1)).scan(&dir.path().join("nope"), |_r: FileRecord| {});
    assert!(matches!(missing, Err(ScanError::Root { .. })));
}

#[test]
fn hash_images_lists_images_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    populate(root);
    let link = dir.path().join("link-to-gif");
    symlink(root.join("Pictures/tiny.gif"), &link).unwrap();
    let mut got = Vec::new();
    hash_images(
        &[root.join("Pictures"), root.join("Downloads"), link.clone()],
        &opts(2),
        |h| got.push(h),
    )
    .unwrap();
    let names: Vec<PathBuf> = got.iter().map(|h| h.path.clone()).collect();
    assert_eq!(
        names,
        vec![
            root.join("Pictures/2019/holiday.dat"),
            root.join("Pictures/noise.png"),
            root.join("Pictures/scan.bmp.txt"),
            root.join("Pictures/tiny.gif"),
            root.join("Downloads/broken.png"),
            link,
        ]
    );
    let line = got[0].csv_line().unwrap();
    let pdq = got[0].result.as_ref().unwrap();
    assert_eq!(
        line,
        format!("{},{},{}", pdq.hash, pdq.quality, names[0].display())
    );
    assert!(got[4].csv_line().is_none(), "broken.png has no hash line");
    for h in &got {
        let bytes = fs::read(&h.path).unwrap();
        let direct = vigil_pdq::hash_image_bytes(&bytes, &DecodeLimits::default());
        match (&h.result, direct) {
            (Ok(a), Ok(b)) => assert_eq!(a, &b),
            (Err(a), Err(b)) => assert_eq!(a.message, format!("PDQ: {b}")),
            (a, b) => panic!("{:?}: {a:?} vs {b:?}", h.path),
        }
    }
}

#[test]
fn vanished_truncated_and_bomb_images_are_per_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let png = encode(&gradient(320, 240), ImageFormat::Png);
    write(&root, "whole.png", &png);
    let small = encode(&noise_image(100, 100, 5), ImageFormat::Png); // under the pixel cap
    write(&root, "truncated.png", &small[..small.len() / 2]);
    write(&root, "gone.bin", b"deleted before it is read");
    write(&root, "after.txt", b"still scanned\n");
    // The skip predicate runs right before an entry is processed: deleting
    // the file there reproduces a file vanishing between listing and reading.
    let victim = root.join("gone.bin");
    let scanner = Scanner::new(ScanOptions {
        decode_limits: DecodeLimits {
            max_pixels: 320 * 240 - 1,
        },
        ..opts(1)
    })
    .with_skip(move |p| {
        if p.as_bytes() == b"gone.bin" {
            fs::remove_file(&victim).unwrap();
        }
        false
    });
    let (recs, summary) = scan_all(&scanner, &root);
    assert_eq!(summary.files, 4);
    assert_eq!(summary.errors, 3);

    let gone = &recs[&b"gone.bin"[..]];
    assert_eq!(gone.error.as_ref().unwrap().kind, ErrorKind::Vanished);
    assert!(gone.digests.is_none());

    let bomb = &recs[&b"whole.png"[..]];
    assert_eq!(bomb.error.as_ref().unwrap().kind, ErrorKind::ImageTooLarge);
    assert!(bomb.pdq.is_none() && bomb.digests.is_some());

    let cut = &recs[&b"truncated.png"[..]];
    assert!(cut.pdq.is_none() && cut.digests.is_some());
    assert_eq!(cut.error.as_ref().unwrap().kind, ErrorKind::ImageCorrupt);
    assert!(recs[&b"after.txt"[..]].error.is_none());
}
