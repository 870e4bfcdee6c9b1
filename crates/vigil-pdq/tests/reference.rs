//! Every row Meta's reference C++ produced for its own test images must be
//! reproduced exactly: hash, quality and all eight dihedral hashes.
//!
//! The data lives outside the repository (`shared/pdq-reference`, beside
//! the work tree). If it is missing this test fails: a silently skipped
//! bit-exactness test is worse than none.

use std::fs;
use std::path::PathBuf;

use vigil_pdq::{DecodeLimits, hash_image_bytes};

fn reference_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pdq-reference");
    assert!(
        dir.join("generated/cpp-reference.tsv").is_file(),
        "PDQ reference data not found at {} — it must be present (CI has it)",
        dir.display()
    );
    dir
}

/// Rows of a TSV with a header line, split on tabs.
fn rows(name: &str) -> Vec<Vec<String>> {
    let text = fs::read_to_string(reference_dir().join("generated").join(name)).unwrap();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    lines.next(); // header
    lines
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn hash_file(rel: &str) -> vigil_pdq::PdqOutput {
    let bytes = fs::read(reference_dir().join("data").join(rel)).unwrap();
    hash_image_bytes(&bytes, &DecodeLimits::default()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_reference_hash_and_quality_is_exact() {
    let rows = rows("cpp-reference.tsv");
    assert!(rows.len() >= 30, "expected the full reference table");
    let mut failures = Vec::new();
    for r in &rows {
        let out = hash_file(&r[0]);
        let q: u8 = r[2].parse().unwrap();
        if out.hash.to_hex() != r[1] || out.quality != q {
            failures.push(format!(
                "{}: got {} q{} want {} q{}",
                r[0], out.hash, out.quality, r[1], q
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_reference_dihedral_row_is_exact() {
    let rows = rows("cpp-reference-dihedral.tsv");
    assert!(rows.len() >= 30);
    let mut failures = Vec::new();
    for r in &rows {
        let out = hash_file(&r[0]);
        for (k, want) in r[1..9].iter().enumerate() {
            if out.dihedral[k].to_hex() != *want {
                failures.push(format!(
                    "{} variant {k}: got {} want {want}",
                    r[0], out.dihedral[k]
                ));
            }
        }
        let q: u8 = r[9].parse().unwrap();
        if out.quality != q {
            failures.push(format!("{} quality {} want {q}", r[0], out.quality));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn exif_orientation_is_reported_not_applied() {
    let one = hash_file("reg-test-input/exif-rotn/exif-rotn-1.jpg");
    let six = hash_file("reg-test-input/exif-rotn/exif-rotn-6.jpg");
    let eight = hash_file("reg-test-input/exif-rotn/exif-rotn-8.jpg");
    assert_eq!(one.exif_orientation, Some(1));
    assert_eq!(six.exif_orientation, Some(6));
    assert_eq!(eight.exif_orientation, Some(8));
    // Stored pixels are not rotated, so the dimensions are as stored.
    assert_eq!((six.width, six.height), (4032, 3024));
    let bridge = hash_file("reg-test-input/dih/bridge-1-original.jpg");
    assert_eq!(bridge.exif_orientation, None);
    assert_eq!((bridge.width, bridge.height), (1600, 1004));
}
