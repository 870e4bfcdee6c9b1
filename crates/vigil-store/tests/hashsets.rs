//! Hash sets in the store: lossless round trips, the import error policy,
//! matching and the triage summary, on SQLite and PostgreSQL.

use crate::common;

use common::backends;
use sha2::{Digest, Sha256 as Sha};
use vigil_domain::{Md5, PdqHash, Principal, Release};
use vigil_hashset::{CategoryScheme, EntryError, Format, HashEntry, ImportOptions, import_all};
use vigil_store::{
    HashSetImportError, HashSetImportOptions, ImportStatus, MatchOptions, MatchQuery, Store,
    StoreError,
};

const VICS: &[u8] = include_bytes!("../../vigil-hashset/tests/data/vics2_media.json");
const VICS_CASES: &[u8] = include_bytes!("../../vigil-hashset/tests/data/vics2_cases.json");
const ICSE: &[u8] = include_bytes!("../../vigil-hashset/tests/data/icse.csv");

async fn examiner(store: &Store) -> Principal {
    let admin = store
        .init("Example Unit", "CA", None, "admin", "a long passphrase")
        .await
        .unwrap();
    store
        .add_user(&admin, "erin", None, "forensic-examiner,supervisor", None)
        .await
        .unwrap();
    store
        .add_user(&admin, "ivan", None, "investigator", None)
        .await
        .unwrap();
    store.principal("erin").await.unwrap()
}

fn opts(name: &str, bytes: &[u8]) -> HashSetImportOptions {
    HashSetImportOptions {
        name: name.into(),
        format: None,
        scheme: None,
        source: Some("synthetic test data".into()),
        file_name: format!("{name}.dat"),
        file_sha256: hex::encode(Sha::digest(bytes)),
        file_size: bytes.len() as u64,
        replace: false,
        max_distance: None,
    }
}

async fn import(
    store: &Store,
    p: &Principal,
    o: &HashSetImportOptions,
    bytes: &[u8],
) -> (
    Result<vigil_store::HashSetImportOutcome, HashSetImportError>,
    Vec<EntryError>,
) {
    let mut errors = Vec::new();
    let r = store
        .import_hash_set(
            p,
            o,
            std::io::Cursor::new(bytes.to_vec()),
            |e| errors.push(e.clone()),
            |_| {},
        )
        .await;
    (r, errors)
}

fn assert_same(name: &str, a: &[HashEntry], b: &[HashEntry]) {
    assert_eq!(a.len(), b.len(), "{name}: entry counts");
    for (x, y) in a.iter().zip(b) {
        assert!(x.same_content(y), "{name}: entries differ:\n{x:#?}\n{y:#?}");
    }
}

#[tokio::test]
async fn vics_and_icse_round_trip_losslessly() {
    for b in backends().await {
        let store = &b.store;
        let p = examiner(store).await;
        for (label, bytes, format) in [
            ("vics", VICS, Format::Vics),
            ("vics-cases", VICS_CASES, Format::Vics),
            ("icse", ICSE, Format::IcseCsv),
        ] {
            let (parsed_report, parsed, errs) =
                import_all(bytes, &ImportOptions::default()).unwrap();
            assert!(errs.is_empty(), "{label}: {errs:?}");
            let (r, errors) = import(store, &p, &opts(label, bytes), bytes).await;
            let out = r.unwrap();
            assert!(errors.is_empty());
            assert_eq!(out.status, ImportStatus::Created);
            assert_eq!(out.added as usize, parsed.len(), "{} {label}", b.name);
            let (detail, stored) = store.hash_set_entries(&p, label).await.unwrap();
            assert_same(label, &parsed, &stored);
            assert_eq!(detail.meta.cases, parsed_report.meta.cases);
            assert_eq!(detail.imports.len(), 1);
            assert_eq!(detail.imports[0].imported_by, "erin");
            assert_eq!(
                detail.imports[0].file_sha256,
                hex::encode(Sha::digest(bytes))
            );

            // Export to the set's own format and import again: identical.
            let mut out_bytes = Vec::new();
            match format {
                Format::Vics => {
                    vigil_hashset::write_vics(
                        &mut out_bytes,
                        &detail.meta,
                        &Default::default(),
                        &stored,
                    )
                    .unwrap();
                }
                _ => {
                    vigil_hashset::write_icse(&mut out_bytes, &stored).unwrap();
                }
            }
            let copy = format!("{label}-copy");
            let (r, _) = import(store, &p, &opts(&copy, &out_bytes), &out_bytes).await;
            assert_eq!(r.unwrap().added as usize, parsed.len());
            let (copy_detail, again) = store.hash_set_entries(&p, &copy).await.unwrap();
            assert_same(&copy, &stored, &again);
            assert_eq!(copy_detail.set.scheme, detail.set.scheme);

            // The same file again: nothing added.
            let (r, _) = import(store, &p, &opts(label, bytes), bytes).await;
            let again = r.unwrap();
            assert_eq!(again.status, ImportStatus::AlreadyImported);
            assert_eq!(again.added, 0);
            assert_eq!(again.set.entries as usize, parsed.len());
        }
        // Replace swaps the entries.
        let mut o = opts("vics", ICSE);
        o.replace = true;
        o.scheme = Some(CategoryScheme::ProjectVicUs);
        let (r, _) = import(store, &p, &o, ICSE).await;
        let out = r.unwrap();
        assert_eq!(out.status, ImportStatus::Replaced);
        assert_eq!((out.removed, out.added), (4, 3));
        // Without manage-hash-sets: refused.
        let ivan = store.principal("ivan").await.unwrap();
        let (r, _) = import(store, &ivan, &opts("other", ICSE), ICSE).await;
        assert!(matches!(
            r,
            Err(HashSetImportError::Store(StoreError::Denied(_)))
        ));
    }
}

#[tokio::test]
async fn malformed_sets_keep_valid_entries_or_refuse_everything() {
    let bad_entries = br#"{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
"value":[
{"MediaID":1,"MD5":"00112233445566778899aabbccddeeff","Category":1},
{"MediaID":2,"MD5":"0011223344","Category":1},
{"MediaID":3,"MD5":"10112233445566778899aabbccddeeff","Category":7},
{"MediaID":1,"MD5":"20112233445566778899aabbccddeeff","Category":1},
{"MediaID":4,"SHA1":"0011223344556677889900112233445566778899","Category":2}
]}"#;
    let truncated = br#"{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
"value":[
{"MediaID":9,"MD5":"30112233445566778899aabbccddeeff","Category":1},
{"MediaID":10,"MD5":"401122334455"#;
    for b in backends().await {
        let store = &b.store;
        let p = examiner(store).await;
        let (r, errors) = import(store, &p, &opts("bad", bad_entries), bad_entries).await;
        let out = r.unwrap();
        assert_eq!((out.added, out.errors), (2, 3), "{}", b.name);
        let lines: Vec<(u64, Option<String>)> = errors
            .iter()
            .map(|e| (e.pos.line, e.media_id.clone()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (4, Some("2".into())),
                (5, Some("3".into())),
                (6, Some("1".into()))
            ]
        );
        assert!(errors[1].to_string().contains("unknown category"));
        assert!(errors[2].to_string().contains("duplicate MediaID"));

        // A truncated file into the existing set: refused, nothing changed.
        let (r, _) = import(store, &p, &opts("bad", truncated), truncated).await;
        match r {
            Err(HashSetImportError::Refused(e)) => assert!(e.to_string().contains("line 4"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let (detail, entries) = store.hash_set_entries(&p, "bad").await.unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(detail.imports.len(), 1);
        // And as a new set: no set is created.
        let (r, _) = import(store, &p, &opts("never", truncated), truncated).await;
        assert!(matches!(r, Err(HashSetImportError::Refused(_))));
        let names: Vec<String> = store
            .list_hash_sets(&p)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, vec!["bad".to_string()]);
    }
}

/// One synthetic evidence row: path, MD5, PDQ, quality, error.
type Item = (
    &'static str,
    Option<Md5>,
    Option<PdqHash>,
    Option<i64>,
    Option<&'static str>,
);

/// Deterministic pseudo-random PDQ hashes (xorshift).
fn hash(seed: u64) -> PdqHash {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = [0u8; 32];
    for b in out.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    PdqHash(out)
}

fn flip(h: PdqHash, bits: usize) -> PdqHash {
    let mut o = h.0;
    for byte in o.iter_mut().take(bits) {
        *byte ^= 1;
    }
    PdqHash(o)
}

fn md5(n: u8) -> Md5 {
    Md5([n; 16])
}

fn known_csv() -> String {
    format!(
        "media_id,md5,pdq,category,series,victim_identified\n\
         1,{},{},1,Series Alpha,false\n\
         2,{},{},2,Series Beta,true\n\
         3,,{},1,Series Alpha,false\n",
        md5(1),
        hash(1),
        md5(2),
        hash(2),
        hash(3)
    )
}

#[tokio::test]
async fn matching_and_triage_summary() {
    for b in backends().await {
        let store = &b.store;
        let p = examiner(store).await;
        let csv = known_csv();
        let mut o = opts("known", csv.as_bytes());
        o.scheme = Some(CategoryScheme::ProjectVicUs);
        let (r, errors) = import(store, &p, &o, csv.as_bytes()).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.unwrap().added, 3);

        // Exact and near-duplicate lookups, with distances.
        let answers = store
            .match_hashes(
                &p,
                &[
                    MatchQuery::Md5(md5(1)),
                    MatchQuery::Pdq {
                        hash: flip(hash(3), 3),
                        quality: Some(40),
                        dihedral: None,
                    },
                    MatchQuery::Md5(md5(9)),
                ],
                &MatchOptions::default(),
            )
            .await
            .unwrap();
        let m = &answers[0].matches;
        assert_eq!(m.len(), 1, "{}", b.name);
        assert_eq!(
            (
                m[0].set.as_str(),
                m[0].media_id.as_deref(),
                m[0].kind.as_str(),
                m[0].category.as_str()
            ),
            ("known", Some("1"), "md5", "csam")
        );
        let m = &answers[1].matches;
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].distance, m[0].media_id.as_deref()), (3, Some("3")));
        assert!(answers[1].unreliable);
        assert!(answers[2].matches.is_empty());
        let tight = store
            .match_hashes(
                &p,
                &[MatchQuery::Pdq {
                    hash: flip(hash(3), 3),
                    quality: None,
                    dihedral: None,
                }],
                &MatchOptions {
                    max_distance: Some(2),
                    dihedral: false,
                },
            )
            .await
            .unwrap();
        assert!(tight[0].matches.is_empty());
        // Dihedral: only a variant is near a known hash.
        let q = MatchQuery::Pdq {
            hash: hash(77),
            quality: Some(90),
            dihedral: Some(vec![hash(77), flip(hash(2), 1)]),
        };
        let plain = store
            .match_hashes(&p, std::slice::from_ref(&q), &MatchOptions::default())
            .await
            .unwrap();
        assert!(plain[0].matches.is_empty());
        let rotated = store
            .match_hashes(
                &p,
                &[q],
                &MatchOptions {
                    max_distance: None,
                    dihedral: true,
                },
            )
            .await
            .unwrap();
        assert_eq!(rotated[0].matches.len(), 1);
        assert!(rotated[0].matches[0].dihedral);
        assert_eq!(rotated[0].matches[0].distance, 1);

        // A synthetic scan.
        let case = store
            .create_case(&p, "Seized laptop", None, &Release::Agency, "test")
            .await
            .unwrap();
        let device = store
            .ensure_device(&p, case.id, "laptop", "test")
            .await
            .unwrap();
        let pool = store.raw_pool_for_tests();
        let scan_id: i64 = sqlx::Row::try_get(
            &sqlx::query(
                "INSERT INTO scans (uid, case_id, device_id, root, status, started_at, created_by) \
                 VALUES ('scan-1', $1, $2, '/mnt/x', 'complete', '2026-01-01T00:00:00.000000Z', $3) RETURNING id",
            )
            .bind(case.id)
            .bind(device.id)
            .bind(p.user_id)
            .fetch_one(&pool)
            .await
            .unwrap(),
            "id",
        )
        .unwrap();
        let items: Vec<Item> = vec![
            ("a.jpg", Some(md5(1)), Some(hash(1)), Some(90), None),
            ("b.jpg", Some(md5(2)), None, None, None),
            (
                "c.jpg",
                Some(md5(3)),
                Some(flip(hash(3), 5)),
                Some(40),
                None,
            ),
            ("u1.png", Some(md5(4)), Some(hash(50)), Some(90), None),
            (
                "u2.png",
                Some(md5(5)),
                Some(flip(hash(50), 2)),
                Some(90),
                None,
            ),
            (
                "u3.png",
                Some(md5(6)),
                Some(flip(hash(50), 4)),
                Some(90),
                None,
            ),
            ("v.png", Some(md5(7)), Some(hash(60)), Some(90), None),
            ("broken.jpg", None, None, None, Some("corrupt image")),
        ];
        for (path, m, pdq, q, err) in items {
            sqlx::query(
                "INSERT INTO evidence_items (scan_id, case_id, device_id, path, entry_type, md5, pdq, \
                 pdq_quality, error, recorded_at) VALUES ($1, $2, $3, $4, 'file', $5, $6, $7, $8, \
                 '2026-01-01T00:00:00.000000Z')",
            )
            .bind(scan_id)
            .bind(case.id)
            .bind(device.id)
            .bind(path)
            .bind(m.map(|h| h.to_hex()))
            .bind(pdq.map(|h| h.to_hex()))
            .bind(q)
            .bind(err)
            .execute(&pool)
            .await
            .unwrap();
        }
        let s = store.triage_summary(&p, scan_id).await.unwrap();
        assert_eq!((s.files, s.images, s.errors), (8, 6, 1), "{}", b.name);
        assert_eq!(s.known.get("csam"), Some(&1));
        assert_eq!(s.known.get("exploitive-non-csam"), Some(&1));
        assert_eq!(s.near_duplicates.get("csam"), Some(&1));
        let d = &s.near_duplicate_distances["csam"];
        assert_eq!((d.min, d.max), (5, 5));
        assert_eq!(s.unreliable_near_duplicates, 1);
        assert_eq!(s.unknown_images, 4);
        assert_eq!(
            (s.series.count, s.series.largest, s.series.singletons),
            (1, 3, 1)
        );
        let alpha = s
            .known_series
            .iter()
            .find(|k| k.series == "Series Alpha")
            .unwrap();
        assert_eq!(alpha.status, "unidentified — priority");
        assert_eq!(alpha.images, 2);
        let beta = s
            .known_series
            .iter()
            .find(|k| k.series == "Series Beta")
            .unwrap();
        assert_eq!(beta.status, "victim identified");
        // Matches are stored for the web app and packages.
        let n: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM scan_matches WHERE scan_id = $1")
                .bind(scan_id)
                .fetch_one(&pool)
                .await
                .unwrap(),
            "n",
        )
        .unwrap();
        assert!(n >= 3);
        // JSON keys the CLI promises.
        let v = serde_json::to_value(&s).unwrap();
        for k in [
            "files",
            "images",
            "errors",
            "known",
            "near_duplicates",
            "unknown_images",
            "series",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        // Deleting the set: the next summary knows nothing.
        store.delete_hash_set(&p, "known").await.unwrap();
        let s = store.triage_summary(&p, scan_id).await.unwrap();
        assert!(s.known.is_empty());
        assert_eq!(s.unknown_images, 6);
        // Without read access to the case: refused.
        let ivan = store.principal("ivan").await.unwrap();
        assert!(store.triage_summary(&ivan, scan_id).await.is_err());
    }
}
