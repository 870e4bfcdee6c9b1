//! The offender graph's media evidence, on SQLite and PostgreSQL: shared
//! media folded onto the persons the devices were seized from, media-series
//! nodes (known from a hash set's `Series` field, unknown from PDQ groups
//! found on two devices) with `holds` edges, and the key-players list that
//! names those persons.

use crate::common;

use common::backends;
use sha2::{Digest, Sha256 as Sha};
use vigil_domain::{Md5, NewPerson, PdqHash, Principal, Release};
use vigil_graph::{EdgeKind, NodeKind};
use vigil_store::{GraphScope, HashSetImportOptions, MatchOptions, Store};

async fn examiner(store: &Store) -> Principal {
    let admin = store
        .init("Example Unit", "CA", None, "admin", "a long passphrase")
        .await
        .unwrap();
    store
        .add_user(
            &admin,
            "erin",
            None,
            "investigator,forensic-examiner,supervisor",
            None,
        )
        .await
        .unwrap();
    store.principal("erin").await.unwrap()
}

/// Deterministic pseudo-random PDQ hashes (xorshift).
fn pdq(seed: u64) -> PdqHash {
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

fn sha(tag: &str) -> String {
    hex::encode(Sha::digest(format!("synthetic {tag}").as_bytes()))
}

/// A seized file: path, SHA-256, size, MD5, PDQ.
type File = (&'static str, String, i64, Option<Md5>, Option<PdqHash>);

async fn scan(
    store: &Store,
    p: &Principal,
    case: i64,
    device: i64,
    uid: &str,
    files: &[File],
) -> i64 {
    let pool = store.raw_pool_for_tests();
    let scan_id: i64 = sqlx::Row::try_get(
        &sqlx::query(
            "INSERT INTO scans (uid, case_id, device_id, root, status, started_at, created_by) \
             VALUES ($1, $2, $3, '/mnt/x', 'complete', '2026-01-01T00:00:00.000000Z', $4) RETURNING id",
        )
        .bind(uid)
        .bind(case)
        .bind(device)
        .bind(p.user_id)
        .fetch_one(&pool)
        .await
        .unwrap(),
        "id",
    )
    .unwrap();
    for (path, sha256, size, md5, h) in files {
        sqlx::query(
            "INSERT INTO evidence_items (scan_id, case_id, device_id, path, entry_type, size, \
             sha256, md5, pdq, pdq_quality, recorded_at) VALUES ($1, $2, $3, $4, 'file', $5, $6, \
             $7, $8, 90, '2026-01-02T00:00:00.000000Z')",
        )
        .bind(scan_id)
        .bind(case)
        .bind(device)
        .bind(*path)
        .bind(*size)
        .bind(sha256.clone())
        .bind(md5.map(|m| m.to_hex()))
        .bind(h.map(|h| h.to_hex()))
        .execute(&pool)
        .await
        .unwrap();
    }
    scan_id
}

#[tokio::test]
async fn media_evidence_is_folded_onto_persons_and_series() {
    for b in backends().await {
        let store = &b.store;
        let p = examiner(store).await;
        let case = store
            .create_case(&p, "Seizures", Some("Lantern"), &Release::Agency, "test")
            .await
            .unwrap();
        let person = |label: &'static str| {
            let (store, p) = (store, &p);
            async move {
                store
                    .add_person(
                        p,
                        case.id,
                        &NewPerson::parse("suspect", label).unwrap(),
                        "test",
                    )
                    .await
                    .unwrap()
                    .id
            }
        };
        let kestrel = person("kestrel").await;
        let heron = person("heron").await;
        let dev = |label: &'static str| {
            let (store, p) = (store, &p);
            async move {
                store
                    .ensure_device(p, case.id, label, "test")
                    .await
                    .unwrap()
                    .id
            }
        };
        let (d1, d2, d3) = (dev("laptop").await, dev("phone").await, dev("usb").await);
        store.set_device_person(&p, d1, kestrel).await.unwrap();
        store.set_device_person(&p, d2, heron).await.unwrap();

        // A hash set naming one series; its file is on both persons' devices.
        let known = Md5([7; 16]);
        let csv = format!("media_id,md5,category,series\n1,{known},1,Synthetic Series Heron\n");
        let o = HashSetImportOptions {
            name: "known".into(),
            format: None,
            scheme: None,
            source: Some("synthetic test data".into()),
            file_name: "known.csv".into(),
            file_sha256: hex::encode(Sha::digest(csv.as_bytes())),
            file_size: csv.len() as u64,
            replace: false,
            max_distance: None,
        };
        store
            .import_hash_set(
                &p,
                &o,
                std::io::Cursor::new(csv.into_bytes()),
                |_| {},
                |_| {},
            )
            .await
            .unwrap();

        let u = pdq(41);
        let empty = sha("");
        let s1 = scan(
            store,
            &p,
            case.id,
            d1,
            "s1",
            &[
                ("a", sha("a"), 10, None, None),
                ("b", sha("b"), 10, None, None),
                ("c", sha("c"), 10, None, None),
                ("k", sha("k on laptop"), 10, Some(known), None),
                ("u", sha("u laptop"), 10, None, Some(u)),
                ("own", sha("own laptop"), 10, None, None),
                ("empty", empty.clone(), 0, None, None),
            ],
        )
        .await;
        let s2 = scan(
            store,
            &p,
            case.id,
            d2,
            "s2",
            &[
                ("a", sha("a"), 10, None, None),
                ("b", sha("b"), 10, None, None),
                ("c", sha("c"), 10, None, None),
                ("d", sha("d"), 10, None, None),
                ("k", sha("k on phone"), 10, Some(known), None),
                ("u", sha("u phone"), 10, None, Some(flip(u, 3))),
                ("empty", empty.clone(), 0, None, None),
            ],
        )
        .await;
        let s3 = scan(
            store,
            &p,
            case.id,
            d3,
            "s3",
            &[
                ("a", sha("a"), 10, None, None),
                ("d", sha("d"), 10, None, None),
                ("u", sha("u usb"), 10, None, Some(flip(u, 5))),
                // A group on this device only: not a network fact.
                ("v1", sha("v1"), 10, None, Some(pdq(77))),
                ("v2", sha("v2"), 10, None, Some(flip(pdq(77), 2))),
            ],
        )
        .await;
        for s in [s1, s2, s3] {
            store
                .match_scan(&p, s, &MatchOptions::default())
                .await
                .unwrap();
        }

        let g = store
            .offender_graph(&p, &GraphScope::Operation("Lantern".into()))
            .await
            .unwrap();
        let graph = &g.graph;
        let key = |id: vigil_graph::NodeId| graph.nodes()[id.index()].key().to_string();
        let edges = |kind: EdgeKind| -> Vec<(String, String, u64)> {
            let mut v: Vec<_> = graph
                .edges()
                .iter()
                .filter(|e| e.kind() == kind)
                .map(|e| (key(e.source()), key(e.target()), e.count()))
                .collect();
            v.sort();
            v
        };
        let (pk, ph, dk3) = (
            format!("person:{kestrel}"),
            format!("person:{heron}"),
            format!("device:{d3}"),
        );
        // Shared media: on the persons, never device to device for owned
        // devices; the empty file does not count.
        // Symmetric edges are stored with their endpoints in key order.
        let pair = |a: &String, c: &String, n: u64| {
            if a < c {
                (a.clone(), c.clone(), n)
            } else {
                (c.clone(), a.clone(), n)
            }
        };
        let mut want = vec![
            pair(&ph, &pk, 3),  // a, b, c
            pair(&dk3, &pk, 1), // a
            pair(&dk3, &ph, 2), // a, d
        ];
        want.sort();
        assert_eq!(edges(EdgeKind::SharedMedia), want, "{}", b.name);

        // Series: the known one, held by both persons; the unknown group
        // found on three devices; nothing for the usb-only group.
        let series: Vec<(String, String)> = graph
            .nodes()
            .iter()
            .filter(|n| n.kind() == NodeKind::MediaSeries)
            .map(|n| (n.key().to_string(), n.label().to_string()))
            .collect();
        assert_eq!(series.len(), 2, "{}: {series:?}", b.name);
        let known_key = "series:known:synthetic series heron".to_string();
        assert!(
            series.contains(&(known_key.clone(), "Synthetic Series Heron".into())),
            "{series:?}"
        );
        let unknown_key = series
            .iter()
            .map(|s| s.0.clone())
            .find(|k| k.starts_with("series:unknown:"))
            .unwrap();
        let mut want = vec![
            (pk.clone(), known_key.clone(), 1),
            (ph.clone(), known_key.clone(), 1),
            (pk.clone(), unknown_key.clone(), 1),
            (ph.clone(), unknown_key.clone(), 1),
            (dk3.clone(), unknown_key.clone(), 1),
        ];
        want.sort();
        assert_eq!(edges(EdgeKind::Holds), want, "{}", b.name);

        // Key players: the person whose seized device shares most, by name.
        let a = g.analyse();
        let kp = a.key_players(&g, 5).unwrap();
        let top = &kp.distributors_by_shared_media[0];
        assert_eq!(top.player.label, "heron", "{}: {kp:#?}", b.name);
        assert_eq!(top.shared_media_hashes, 5);
        assert_eq!(kp.distributors_by_shared_media[1].player.label, "kestrel");
        assert_eq!(kp.distributors_by_shared_media[1].shared_media_hashes, 4);

        // Without owners, the devices themselves share.
        let case2 = store
            .create_case(&p, "Loose devices", Some("Ember"), &Release::Agency, "test")
            .await
            .unwrap();
        let x = store
            .ensure_device(&p, case2.id, "x", "test")
            .await
            .unwrap()
            .id;
        let y = store
            .ensure_device(&p, case2.id, "y", "test")
            .await
            .unwrap()
            .id;
        scan(
            store,
            &p,
            case2.id,
            x,
            "s4",
            &[("a", sha("a"), 10, None, None)],
        )
        .await;
        scan(
            store,
            &p,
            case2.id,
            y,
            "s5",
            &[("a", sha("a"), 10, None, None)],
        )
        .await;
        let g = store
            .offender_graph(&p, &GraphScope::Operation("Ember".into()))
            .await
            .unwrap();
        let shared: Vec<(String, String, u64)> = g
            .graph
            .edges()
            .iter()
            .filter(|e| e.kind() == EdgeKind::SharedMedia)
            .map(|e| {
                (
                    g.graph.nodes()[e.source().index()].key().to_string(),
                    g.graph.nodes()[e.target().index()].key().to_string(),
                    e.count(),
                )
            })
            .collect();
        assert_eq!(
            shared,
            vec![(format!("device:{x}"), format!("device:{y}"), 1)],
            "{}",
            b.name
        );
    }
}
