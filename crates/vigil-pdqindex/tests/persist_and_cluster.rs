//! Damaged files are refused with typed errors; clustering equals a
//! brute-force single-link; the upstream MIH regression inputs agree with a
//! brute-force scan.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use proptest::prelude::*;
use rand::Rng;
use vigil_domain::PdqHash;
use vigil_pdqindex::{Cluster, IndexError, PdqIndex, cluster_series};

fn saved_index(dir: &Path) -> (PdqIndex, PathBuf) {
    let mut r = rng(42);
    let set = clustered_set(&mut r, 2000);
    let mut index = PdqIndex::build(set.iter().copied()).unwrap();
    index.remove(set[3].0, &set[3].1);
    index.insert(77, &random_hash(&mut r)).unwrap();
    let path = dir.join("idx.vpdq");
    index.save(&path).unwrap();
    (index, path)
}

#[test]
fn corrupt_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (index, path) = saved_index(dir.path());
    let good = std::fs::read(&path).unwrap();
    assert_eq!(PdqIndex::load(&path).unwrap(), index);
    let bad = dir.path().join("bad.vpdq");

    // One flipped bit anywhere in the payload: checksum.
    for at in [200, good.len() / 2, good.len() - 10] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        std::fs::write(&bad, &b).unwrap();
        let e = PdqIndex::load(&bad).unwrap_err();
        assert!(matches!(e, IndexError::ChecksumMismatch { .. }), "{e}");
    }
    // Truncated at several points, including inside the header.
    for len in [0, 5, 50, 96, 1000, good.len() - 1] {
        std::fs::write(&bad, &good[..len]).unwrap();
        let e = PdqIndex::load(&bad).unwrap_err();
        assert!(matches!(e, IndexError::Truncated { .. }), "len {len}: {e}");
    }
    // Trailing garbage.
    let mut b = good.clone();
    b.extend_from_slice(&[0; 8]);
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        PdqIndex::load(&bad),
        Err(IndexError::Corrupt { .. })
    ));
    // Wrong magic, future version.
    let mut b = good.clone();
    b[0] = b'X';
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        PdqIndex::load(&bad),
        Err(IndexError::BadMagic { .. })
    ));
    let mut b = good.clone();
    b[8] = 3;
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        PdqIndex::load(&bad),
        Err(IndexError::UnsupportedVersion { found: 3, .. })
    ));
    // A header claiming a huge row count is refused before allocating.
    let mut b = good.clone();
    b[32..40].copy_from_slice(&(1u64 << 30).to_le_bytes());
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        PdqIndex::load(&bad),
        Err(IndexError::Corrupt { .. })
    ));
    // Missing file.
    assert!(matches!(
        PdqIndex::load(&dir.path().join("nope")),
        Err(IndexError::Io { .. })
    ));
}

/// A structurally wrong file with a *valid* checksum (as a hostile writer
/// could make) is still an error, not a panic.
#[test]
fn structurally_bad_file_with_valid_checksum_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved_index(dir.path());
    let mut b = std::fs::read(&path).unwrap();
    let n = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    // First entry of table 0: after header, rows, ids (narrow), free dir,
    // tombstones and the table's directory.
    let dir_len = (1usize << u32::from_le_bytes(b[16..20].try_into().unwrap())) + 1;
    let at = 96 + n * 32 + n * 4 + dir_len * 4 + n.div_ceil(64) * 8 + dir_len * 4;
    b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let body = b.len() - 4;
    let crc = crc32(&b[..body]);
    b[body..].copy_from_slice(&crc.to_le_bytes());
    let bad = dir.path().join("hostile.vpdq");
    std::fs::write(&bad, &b).unwrap();
    let e = PdqIndex::load(&bad).unwrap_err();
    assert!(matches!(e, IndexError::Corrupt { .. }), "{e}");
}

/// Plain bitwise CRC-32 (IEEE), independent of the crate's implementation.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &byte in data {
        c ^= u32::from(byte);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Connected components of the radius graph by a quadratic search.
fn brute_single_link(items: &[(i64, PdqHash)], radius: u32) -> Vec<Cluster> {
    let n = items.len();
    let mut comp: Vec<usize> = (0..n).collect();
    // Relabel until stable (small n only).
    loop {
        let mut changed = false;
        for i in 0..n {
            for j in 0..n {
                if items[i].1.distance(&items[j].1) <= radius && comp[j] < comp[i] {
                    comp[i] = comp[j];
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<i64>> = Default::default();
    for (i, &(id, _)) in items.iter().enumerate() {
        groups.entry(comp[i]).or_default().push(id);
    }
    let mut out: Vec<Cluster> = groups
        .into_values()
        .map(|mut members| {
            members.sort_unstable();
            Cluster { members }
        })
        .collect();
    out.sort_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then_with(|| a.members.cmp(&b.members))
    });
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn clustering_equals_brute_force_single_link(
        seed in any::<u64>(), n in 0usize..160, radius in 0u32..=48,
    ) {
        let mut r = rng(seed);
        // Chains of small steps, so single-link differs from "near a centre".
        let mut items: Vec<(i64, PdqHash)> = Vec::new();
        for i in 0..n {
            let h = if i > 0 && i % 5 != 0 {
                let prev = items[items.len() - 1].1;
                {
                    let k = r.random_range(0..=radius + 4);
                    flip(&mut r, &prev, k)
                }
            } else {
                random_hash(&mut r)
            };
            items.push((r.random_range(0..50), h));
        }
        let got = cluster_series(&items, radius).unwrap();
        prop_assert_eq!(got.iter().map(Cluster::len).sum::<usize>(), n);
        prop_assert_eq!(got, brute_single_link(&items, radius));
    }
}

#[test]
fn clustering_is_deterministic_and_largest_first() {
    let mut r = rng(1);
    let a = random_hash(&mut r);
    let b = random_hash(&mut r);
    let items = vec![
        (10, b),
        (1, a),
        (2, flip(&mut r, &a, 10)),
        (3, flip(&mut r, &a, 12)),
        (11, flip(&mut r, &b, 30)),
        (99, random_hash(&mut r)),
    ];
    let c = cluster_series(&items, 31).unwrap();
    let members: Vec<Vec<i64>> = c.iter().map(|c| c.members.clone()).collect();
    assert_eq!(members, vec![vec![1, 2, 3], vec![10, 11], vec![99]]);
    let mut rev = items.clone();
    rev.reverse();
    assert_eq!(cluster_series(&rev, 31).unwrap(), c);
    assert!(cluster_series(&[], 31).unwrap().is_empty());
}

fn read_hashes(path: &Path) -> Vec<PdqHash> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "upstream PDQ test input {} is missing ({e}); it ships in shared/pdq-reference",
            path.display()
        )
    });
    text.lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .filter(|l| !l.is_empty())
        .map(|l| PdqHash::from_hex(l).unwrap())
        .collect()
}

#[test]
fn upstream_mih_haystack_and_needles() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/pdq-reference/data/reg-test-input");
    let hay = read_hashes(&base.join("haystack.txt"));
    let needles = read_hashes(&base.join("needles.txt"));
    assert_eq!(hay.len(), 1350);
    assert_eq!(needles.len(), 100);
    let set: Vec<(i64, PdqHash)> = hay
        .iter()
        .enumerate()
        .map(|(i, h)| (i as i64, *h))
        .collect();
    let index = PdqIndex::build(set.iter().copied()).unwrap();
    let mut total = 0;
    for radius in [0, 10, 31, 63] {
        let batch = index.query_batch(&needles, radius);
        for (q, got) in needles.iter().zip(batch) {
            let want = brute(&set, q, radius);
            assert_eq!(got, want, "needle {q} radius {radius}");
            assert_eq!(index.query_probing(q, radius), want);
            if radius == 31 {
                total += got.len();
            }
        }
    }
    // The upstream test pairs every needle with near neighbours in the haystack.
    assert!(total > 0, "no needle matched at 31");
    // Every haystack entry finds itself.
    for (id, h) in &set {
        assert!(
            index
                .query(h, 0)
                .iter()
                .any(|m| m.id == *id && m.distance == 0)
        );
    }
}
