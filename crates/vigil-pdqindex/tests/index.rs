//! The index must answer exactly what a brute-force scan answers: on
//! randomised clustered data, at every radius 0..=64 (and beyond), after
//! inserts and removals, and after save → load.

mod common;

use common::*;
use proptest::prelude::*;
use vigil_domain::PdqHash;
use vigil_pdqindex::{IndexError, Match, PdqIndex};

fn check_all(index: &PdqIndex, model: &[(i64, PdqHash)], qs: &[PdqHash], radius: u32) {
    for q in qs {
        let want = brute(model, q, radius);
        assert_eq!(index.query(q, radius), want, "radius {radius}, query {q}");
        assert_eq!(
            index.query_probing(q, radius),
            want,
            "probing, radius {radius}"
        );
    }
    let batch = index.query_batch(qs, radius);
    for (q, got) in qs.iter().zip(batch) {
        assert_eq!(got, brute(model, q, radius), "batch, radius {radius}");
    }
    // The windowed batch mode (many queries per pass over each table) only
    // runs for large batches; force it here, in chunks smaller than `qs`.
    let windowed = index.query_batch_windowed(qs, radius);
    assert_eq!(windowed.len(), qs.len());
    for (q, got) in qs.iter().zip(windowed) {
        assert_eq!(
            got,
            brute(model, q, radius),
            "windowed batch, radius {radius}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn equals_brute_force(seed in any::<u64>(), n in 0usize..1500, radius in 0u32..=64) {
        let mut r = rng(seed);
        let set = clustered_set(&mut r, n);
        let index = PdqIndex::build(set.iter().copied()).unwrap();
        prop_assert_eq!(index.len(), n);
        let qs = queries(&mut r, &set, 24, radius);
        check_all(&index, &set, &qs, radius);
    }

    #[test]
    fn equals_brute_force_after_changes_and_reload(
        seed in any::<u64>(),
        n in 0usize..800,
        ops in proptest::collection::vec((0u8..4, any::<u16>()), 0..300),
        radius in 0u32..=48,
    ) {
        let mut r = rng(seed);
        let mut model = clustered_set(&mut r, n);
        let mut index = PdqIndex::build(model.iter().copied()).unwrap();
        for (op, x) in ops {
            match op {
                // insert: a near-duplicate of something present, or random
                0 | 1 => {
                    let h = if model.is_empty() || op == 1 {
                        random_hash(&mut r)
                    } else {
                        let src = model[x as usize % model.len()].1;
                        flip(&mut r, &src, u32::from(x % 40))
                    };
                    let id = i64::from(x) - 100;
                    index.insert(id, &h).unwrap();
                    model.push((id, h));
                }
                // remove something present
                2 if !model.is_empty() => {
                    let (id, h) = model.swap_remove(x as usize % model.len());
                    prop_assert!(index.remove(id, &h));
                }
                // remove something absent: same hash under another id
                _ => {
                    if let Some(&(id, h)) = model.first() {
                        let other = id.wrapping_add(1_000_000);
                        prop_assert!(!index.remove(other, &h));
                    }
                }
            }
        }
        prop_assert_eq!(index.len(), model.len());
        let qs = queries(&mut r, &model, 16, radius);
        check_all(&index, &model, &qs, radius);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idx.vpdq");
        index.save(&path).unwrap();
        let loaded = PdqIndex::load(&path).unwrap();
        prop_assert_eq!(&loaded, &index);
        check_all(&loaded, &model, &qs, radius);

        index.compact().unwrap();
        prop_assert_eq!(index.stats().tombstones, 0);
        prop_assert_eq!(index.stats().pending, 0);
        check_all(&index, &model, &qs, radius);
    }
}

#[test]
fn boundaries_exactly_r_and_r_plus_one() {
    let mut r = rng(7);
    let base: Vec<PdqHash> = (0..300).map(|_| random_hash(&mut r)).collect();
    for radius in (0..=64).chain([80, 128, 200, 255, 256]) {
        let mut set: Vec<(i64, PdqHash)> = Vec::new();
        let q = base[radius as usize % base.len()];
        set.push((1, flip(&mut r, &q, radius.min(256))));
        if radius < 256 {
            set.push((2, flip(&mut r, &q, radius + 1)));
        }
        set.extend(base.iter().enumerate().map(|(i, h)| (100 + i as i64, *h)));
        let index = PdqIndex::build(set.iter().copied()).unwrap();
        let got = index.query(&q, radius);
        assert_eq!(got, brute(&set, &q, radius), "radius {radius}");
        assert_eq!(index.query_probing(&q, radius), got, "radius {radius}");
        assert!(got.iter().any(|m| m.id == 1 && m.distance == radius));
        assert!(got.iter().all(|m| m.id != 2));
    }
}

#[test]
fn radius_zero_finds_exact_copies_only() {
    let mut r = rng(11);
    let set = clustered_set(&mut r, 3000);
    let index = PdqIndex::build(set.iter().copied()).unwrap();
    for (id, h) in set.iter().take(200) {
        let got = index.query(h, 0);
        assert_eq!(index.query_probing(h, 0), got);
        assert!(got.contains(&Match {
            id: *id,
            distance: 0
        }));
        assert!(got.iter().all(|m| m.distance == 0));
        assert_eq!(got, brute(&set, h, 0));
    }
}

#[test]
fn empty_index_answers_nothing_and_round_trips() {
    let index = PdqIndex::new();
    assert!(index.is_empty());
    let mut r = rng(3);
    let q = random_hash(&mut r);
    for radius in [0, 31, 64, 256] {
        assert!(index.query(&q, radius).is_empty());
    }
    assert!(index.query_batch(&[q, q], 31).iter().all(Vec::is_empty));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.vpdq");
    index.save(&path).unwrap();
    let loaded = PdqIndex::load(&path).unwrap();
    assert!(loaded.is_empty());
    assert_eq!(loaded, index);
    let mut grown = loaded;
    grown.insert(9, &q).unwrap();
    assert_eq!(grown.query(&q, 0), vec![Match { id: 9, distance: 0 }]);
}

/// Bigger set: wider directories (dir_bits 14) than the property tests reach.
#[test]
fn larger_set_matches_linear_scan() {
    let mut r = rng(99);
    let set = clustered_set(&mut r, 200_000);
    let index = PdqIndex::build(set.iter().copied()).unwrap();
    assert!(index.stats().dir_bits >= 14);
    for radius in [0, 8, 16, 31, 40, 52, 64, 90] {
        let qs = queries(&mut r, &set, 40, radius);
        let batch = index.query_batch(&qs, radius);
        let windowed = index.query_batch_windowed(&qs, radius);
        for ((q, b), w) in qs.iter().zip(batch).zip(windowed) {
            let want = index.query_scan(q, radius);
            assert_eq!(index.query(q, radius), want, "radius {radius}");
            assert_eq!(index.query_probing(q, radius), want, "radius {radius}");
            assert_eq!(b, want);
            assert_eq!(w, want, "windowed, radius {radius}");
        }
    }
    // The linear scan itself against the independent distance of vigil-domain.
    let q = set[17].1;
    assert_eq!(index.query_scan(&q, 45), brute(&set, &q, 45));
}

#[test]
fn ids_spanning_more_than_u32_work() {
    let mut r = rng(5);
    let set: Vec<(i64, PdqHash)> = (0..500)
        .map(|i| {
            (
                if i % 2 == 0 {
                    i64::MIN + i
                } else {
                    i64::MAX - i
                },
                random_hash(&mut r),
            )
        })
        .collect();
    let index = PdqIndex::build(set.iter().copied()).unwrap();
    for (id, h) in &set {
        assert_eq!(
            index.query(h, 31),
            vec![Match {
                id: *id,
                distance: 0
            }]
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.vpdq");
    index.save(&path).unwrap();
    assert_eq!(PdqIndex::load(&path).unwrap(), index);
}

#[test]
fn variants_union_keeps_min_distance() {
    let mut r = rng(21);
    let a = random_hash(&mut r);
    let b = random_hash(&mut r);
    let set = vec![
        (1, a),
        (2, flip(&mut r, &a, 5)),
        (3, b),
        (4, flip(&mut r, &b, 20)),
    ];
    let index = PdqIndex::build(set.iter().copied()).unwrap();
    // variant 1 is 3 bits from a, variant 2 is 1 bit from a and 10 from b
    let v1 = flip(&mut r, &a, 3);
    let v2 = flip(&mut r, &b, 10);
    let got = index.query_variants(&[v1, a, v2], 31).unwrap();
    let mut want: Vec<Match> = Vec::new();
    for (id, h) in &set {
        let d = [v1, a, v2].iter().map(|v| v.distance(h)).min().unwrap();
        if d <= 31 {
            want.push(Match {
                id: *id,
                distance: d,
            });
        }
    }
    want.sort_unstable_by_key(|m| (m.distance, m.id));
    assert_eq!(got, want);
    assert_eq!(got[0], Match { id: 1, distance: 0 });
    let batch = index
        .query_batch_variants(&[vec![v1, a, v2], vec![b]], 31)
        .unwrap();
    assert_eq!(batch[0], want);
    assert_eq!(batch[1], brute(&set, &b, 31));
    assert!(matches!(
        index.query_variants(&[a; 9], 31),
        Err(IndexError::BadVariantCount { got: 9, .. })
    ));
    assert!(index.query_variants(&[], 31).is_err());
}

#[test]
fn insert_triggers_compaction_and_stays_exact() {
    let mut r = rng(8);
    let mut model = clustered_set(&mut r, 1000);
    let mut index = PdqIndex::build(model.iter().copied()).unwrap();
    for i in 0..70_000i64 {
        let h = random_hash(&mut r);
        index.insert(i, &h).unwrap();
        model.push((i, h));
    }
    let s = index.stats();
    assert!(s.pending <= 4096, "auto-compaction ran: {s:?}");
    assert_eq!(index.len(), model.len());
    let qs = queries(&mut r, &model, 30, 31);
    for q in &qs {
        assert_eq!(index.query(q, 31), brute(&model, q, 31));
    }
}
