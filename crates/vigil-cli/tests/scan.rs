//! `vigil scan` and `vigil pdq` end to end: digests agree with coreutils,
//! a killed scan resumes without duplicates, damaged files are reported per
//! file, and no byte of any image ends up in the database.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn vigil(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATABASE_URL")
        .env("VIGIL_DB", db)
        .env("VIGIL_USER", "alice");
    c
}

fn run(db: &Path, args: &[&str]) -> (i32, String, String) {
    let out = vigil(db).args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh instance with a case; returns the case id.
fn instance(db: &Path) -> String {
    let mut c = vigil(db);
    c.args([
        "init",
        "--agency",
        "NCA CEOP",
        "--country",
        "GB",
        "--admin",
        "alice",
        "--password-stdin",
    ]);
    c.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long passphrase\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let (code, out, err) = run(
        db,
        &[
            "user",
            "update",
            "alice",
            "--roles",
            "supervisor,forensic-examiner,agency-admin",
        ],
    );
    assert_eq!(code, 0, "{err}{out}");
    let (code, out, err) = run(db, &["--json", "case", "create", "--title", "Seizure 1"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["id"].to_string()
}

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pdq-reference")
}

/// Procedural content: gradients and noise from a seed (never photographs).
fn pattern_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x as usize ^ i) & 0xff) as u8
        })
        .collect()
}

/// A seized-looking folder: nested text/binary files, reference JPEGs and
/// a PNG, a truncated JPEG, an empty file, a symlink.
fn seized_folder(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for d in 0..3 {
        let dir = root.join(format!("Users/suspect/dir{d}/deeper"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..5 {
            let p = dir.join(format!("file{f}.bin"));
            std::fs::write(&p, pattern_bytes(d * 10 + f, 1000 + (f as usize) * 4099)).unwrap();
            files.push(p);
        }
    }
    let pics = root.join("Pictures");
    std::fs::create_dir_all(&pics).unwrap();
    for name in [
        "bridge-mods/aaa-orig.jpg",
        "misc-images/wee.jpg",
        "misc-images/c.png",
    ] {
        let src = reference_dir().join("data").join(name);
        let dst = pics.join(Path::new(name).file_name().unwrap());
        std::fs::copy(&src, &dst)
            .unwrap_or_else(|e| panic!("{}: {e} (shared/pdq-reference missing?)", src.display()));
        files.push(dst);
    }
    // a JPEG cut in half, named like a document: type comes from magic bytes
    let jpeg = std::fs::read(reference_dir().join("data/bridge-mods/aaa-orig.jpg")).unwrap();
    let truncated = pics.join("notes.txt");
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 3]).unwrap();
    files.push(truncated);
    let empty = root.join("empty.dat");
    std::fs::write(&empty, b"").unwrap();
    files.push(empty);
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", root.join("link-out")).unwrap();
    files
}

fn coreutils(tool: &str, file: &Path) -> String {
    let out = Command::new(tool).arg(file).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn read_report(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn report_digests_equal_coreutils_and_damage_is_reported_per_file() {
    let dir = vigil_testkit::tempdir();
    let db = dir.path().join("v.db");
    let case = instance(&db);
    let root = dir.path().join("seized");
    let files = seized_folder(&root);
    let report = dir.path().join("report.jsonl");
    let (code, out, err) = run(
        &db,
        &[
            "--json",
            "scan",
            root.to_str().unwrap(),
            "--case",
            &case,
            "--device",
            "laptop-1",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "scan finished despite damaged files: {err}");
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["files"].as_i64().unwrap() as usize,
        files.len() + 1,
        "every file and the symlink: {summary}"
    );
    assert!(summary["errors"].as_i64().unwrap() >= 1, "{summary}");

    let lines = read_report(&report);
    let by_path: HashMap<String, &serde_json::Value> = lines
        .iter()
        .map(|l| (l["path"].as_str().unwrap().to_string(), l))
        .collect();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_str().unwrap();
        let line = by_path
            .get(rel)
            .unwrap_or_else(|| panic!("{rel} missing from report"));
        assert_eq!(line["md5"], coreutils("md5sum", f).as_str(), "{rel}");
        assert_eq!(line["sha1"], coreutils("sha1sum", f).as_str(), "{rel}");
        assert_eq!(line["sha256"], coreutils("sha256sum", f).as_str(), "{rel}");
    }
    // images carry PDQ; the truncated JPEG is typed by content and has an error
    let orig = by_path["Pictures/aaa-orig.jpg"];
    assert_eq!(orig["mime"], "image/jpeg");
    assert_eq!(orig["pdq"].as_str().unwrap().len(), 64);
    let cut = by_path["Pictures/notes.txt"];
    assert_eq!(cut["mime"], "image/jpeg");
    assert!(cut["error"].is_string() && cut["pdq"].is_null(), "{cut}");
    assert_eq!(by_path["link-out"]["type"], "symlink");
    assert!(
        by_path["link-out"]["md5"].is_null(),
        "symlinks are never followed"
    );

    // the examiner's tool agrees with the scan and with the reference format
    let (code, out, err) = run(
        &db,
        &["pdq", root.join("Pictures/aaa-orig.jpg").to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let fields: Vec<&str> = out.trim().split(',').collect();
    assert_eq!(fields[0], orig["pdq"].as_str().unwrap());
    assert_eq!(fields[1], orig["pdq_quality"].to_string());
}

#[test]
fn pdq_command_prints_reference_rows() {
    let reference =
        std::fs::read_to_string(reference_dir().join("generated/cpp-reference.tsv")).unwrap();
    let dir = vigil_testkit::tempdir();
    for line in reference.lines().skip(1).take(6) {
        let cols: Vec<&str> = line.split('\t').collect();
        let file = reference_dir().join("data").join(cols[0]);
        let (code, out, err) = run(
            &dir.path().join("unused.db"),
            &["pdq", file.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out.trim(),
            format!("{},{},{}", cols[1], cols[2], file.display())
        );
    }
}

#[test]
fn a_killed_scan_resumes_and_records_each_file_once() {
    let dir = vigil_testkit::tempdir();
    let db = dir.path().join("v.db");
    let case = instance(&db);
    let root = dir.path().join("big");
    let mut expected = HashSet::new();
    for d in 0..40 {
        let sub = root.join(format!("d{d:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..50 {
            std::fs::write(
                sub.join(format!("f{f:02}")),
                pattern_bytes(d * 100 + f, 20_000),
            )
            .unwrap();
            expected.insert(format!("d{d:02}/f{f:02}"));
        }
    }
    let args = [
        "scan",
        root.to_str().unwrap(),
        "--case",
        &case,
        "--device",
        "usb-1",
        "--batch",
        "20",
        "--threads",
        "1",
    ];
    let mut child = vigil(&db)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = child.try_wait().unwrap().is_none();
    let _ = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let report = dir.path().join("r.jsonl");
    let mut full = args.to_vec();
    full.extend(["--report", report.to_str().unwrap()]);
    full.insert(0, "--json");
    let (code, out, err) = run(&db, &full);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    if killed {
        assert_eq!(summary["resumed"], true, "{summary}");
    }
    let lines = read_report(&report);
    let paths: Vec<String> = lines
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect();
    let unique: HashSet<String> = paths.iter().cloned().collect();
    assert_eq!(paths.len(), unique.len(), "no file recorded twice");
    assert_eq!(unique, expected, "nothing lost");
    assert_eq!(summary["files"].as_i64().unwrap() as usize, expected.len());
}

#[test]
fn no_byte_window_of_any_image_reaches_the_database() {
    let dir = vigil_testkit::tempdir();
    let db = dir.path().join("v.db");
    let case = instance(&db);
    let root = dir.path().join("seized");
    let files = seized_folder(&root);
    let (code, _, err) = run(
        &db,
        &[
            "scan",
            root.to_str().unwrap(),
            "--case",
            &case,
            "--device",
            "pc",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // checkpoint the WAL so everything is in the main file, then read every
    // database file there is
    let backup = dir.path().join("b.vigil-backup");
    assert_eq!(run(&db, &["backup", backup.to_str().unwrap()]).0, 0);
    let mut stored = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", db.display())) {
            stored.extend(b);
        }
    }
    stored.extend(std::fs::read(&backup).unwrap());
    let windows: HashSet<&[u8]> = stored.windows(32).collect();
    for f in files.iter().filter(|f| {
        let name = f.to_string_lossy();
        name.ends_with(".jpg") || name.ends_with(".png") || name.ends_with("notes.txt")
    }) {
        let content = std::fs::read(f).unwrap();
        // every 32-byte window of the image, at every offset — except
        // windows of padding (runs of a few byte values such as zeros, which
        // any database page also holds and which carry no image content)
        let mut checked = 0;
        for w in content.windows(32) {
            let mut seen = [false; 256];
            w.iter().for_each(|b| seen[*b as usize] = true);
            if seen.iter().filter(|s| **s).count() < 8 {
                continue;
            }
            checked += 1;
            assert!(
                !windows.contains(w),
                "{} leaked into the database",
                f.display()
            );
        }
        assert!(
            checked > content.len() / 4,
            "{}: too few windows checked",
            f.display()
        );
    }
}
