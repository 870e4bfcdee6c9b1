use time::macros::datetime;
use vigil_search::{MessageDoc, SearchError, SearchIndex, SearchRequest, to_html};

fn doc(
    id: i64,
    case: i64,
    room: &str,
    handle: &str,
    t: time::OffsetDateTime,
    text: &str,
) -> MessageDoc {
    MessageDoc {
        message_id: id,
        case_id: case,
        room: room.into(),
        handle: handle.into(),
        time: t,
        text: text.into(),
    }
}

fn sample() -> SearchIndex {
    let idx = SearchIndex::in_memory().unwrap();
    idx.add_batch(&[
        doc(
            1,
            10,
            "#hideout",
            "darkfox",
            datetime!(2009-03-02 23:41 UTC),
            "ty. my skype is live:dark.fox77",
        ),
        doc(
            2,
            10,
            "#hideout",
            "nightowl",
            datetime!(2009-03-02 23:42 UTC),
            "darkfox: got the new set? <b>new</b> & shiny",
        ),
        doc(
            3,
            10,
            "#other",
            "darkfox",
            datetime!(2009-03-05 10:00 UTC),
            "new set uploaded to the usual place",
        ),
        doc(
            4,
            20,
            "#hideout",
            "Dark[Fox]",
            datetime!(2010-01-01 00:00 UTC),
            "new set from another case",
        ),
        doc(
            5,
            10,
            "#hideout",
            "ChanBoss",
            datetime!(2009-03-03 00:09 UTC),
            "meet at the café tonight",
        ),
    ])
    .unwrap();
    idx.commit().unwrap();
    idx
}

fn ids(idx: &SearchIndex, req: &SearchRequest) -> Vec<i64> {
    let mut v: Vec<i64> = idx
        .search(req)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.message_id)
        .collect();
    v.sort();
    v
}

#[test]
fn case_scope_is_mandatory() {
    let idx = sample();
    assert!(
        ids(
            &idx,
            &SearchRequest {
                query: "set".into(),
                ..Default::default()
            }
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                query: "set".into(),
                cases: vec![10],
                ..Default::default()
            }
        ),
        vec![2, 3]
    );
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                query: "set".into(),
                cases: vec![10, 20],
                ..Default::default()
            }
        ),
        vec![2, 3, 4]
    );
}

#[test]
fn filters_room_handle_and_time() {
    let idx = sample();
    let base = SearchRequest {
        query: "new set".into(),
        cases: vec![10, 20],
        ..Default::default()
    };
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                room: Some("#HIDEOUT".into()),
                ..base.clone()
            }
        ),
        vec![2, 4]
    );
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                handle: Some("darkfox".into()),
                ..base.clone()
            }
        ),
        vec![3]
    );
    // IRC case folding: Dark[Fox] == dark{fox}
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                handle: Some("dark{fox}".into()),
                ..base.clone()
            }
        ),
        vec![4]
    );
    let r = SearchRequest {
        since: Some(datetime!(2009-03-03 00:00 UTC)),
        until: Some(datetime!(2010-01-01 00:00 UTC)),
        ..base.clone()
    };
    assert_eq!(ids(&idx, &r), vec![3]);
    // Filters alone, empty query.
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                query: String::new(),
                cases: vec![10],
                handle: Some("darkfox".into()),
                ..Default::default()
            }
        ),
        vec![1, 3]
    );
}

#[test]
fn snippets_are_highlighted_and_escaped() {
    let idx = sample();
    let page = idx
        .search(&SearchRequest {
            query: "new".into(),
            cases: vec![10],
            handle: Some("nightowl".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 1);
    let h = &page.hits[0];
    assert!(h.score > 0.0);
    let marked: Vec<&str> = h
        .highlights
        .iter()
        .map(|(s, e)| &h.snippet[*s..*e])
        .collect();
    assert_eq!(marked, vec!["new", "new"]);
    assert!(
        h.snippet_html
            .contains("&lt;b&gt;<mark>new</mark>&lt;/b&gt; &amp; shiny"),
        "{}",
        h.snippet_html
    );
    assert!(!h.snippet_html.contains("<b>"));
    assert_eq!(to_html("a<b", &[(0, 1)]), "<mark>a</mark>&lt;b");
    // ASCII folding: "cafe" finds "café".
    let c = idx
        .search(&SearchRequest {
            query: "cafe".into(),
            cases: vec![10],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c.hits[0].message_id, 5);
    assert_eq!(
        c.hits[0].snippet_html,
        "meet at the <mark>café</mark> tonight"
    );
}

#[test]
fn pagination_and_total() {
    let idx = SearchIndex::in_memory().unwrap();
    let docs: Vec<MessageDoc> = (0..45)
        .map(|i| {
            doc(
                i,
                1,
                "#r",
                "u",
                datetime!(2020-01-01 00:00 UTC) + time::Duration::minutes(i),
                &format!("token number {i}"),
            )
        })
        .collect();
    idx.add_batch(&docs).unwrap();
    idx.commit().unwrap();
    let mut seen = Vec::new();
    for page in 0..3 {
        let p = idx
            .search(&SearchRequest {
                query: "token".into(),
                cases: vec![1],
                offset: page * 20,
                limit: 20,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(p.total, 45);
        seen.extend(p.hits.iter().map(|h| h.message_id));
    }
    seen.sort();
    assert_eq!(seen, (0..45).collect::<Vec<_>>());
}

#[test]
fn delete_case_and_reimport_do_not_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = SearchIndex::open(dir.path()).unwrap();
        idx.add_batch(&[doc(
            1,
            10,
            "#r",
            "a",
            datetime!(2020-01-01 00:00 UTC),
            "alpha",
        )])
        .unwrap();
        idx.add_batch(&[doc(
            1,
            10,
            "#r",
            "a",
            datetime!(2020-01-01 00:00 UTC),
            "alpha",
        )])
        .unwrap();
        idx.add_batch(&[doc(
            2,
            20,
            "#r",
            "b",
            datetime!(2020-01-01 00:00 UTC),
            "alpha",
        )])
        .unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_docs(), 2);
        idx.delete_case(20).unwrap();
        idx.commit().unwrap();
    }
    // Reopened from disk.
    let idx = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(
        ids(
            &idx,
            &SearchRequest {
                query: "alpha".into(),
                cases: vec![10, 20],
                ..Default::default()
            }
        ),
        vec![1]
    );
    let err = idx.search(&SearchRequest {
        query: "nosuchfield:alpha".into(),
        cases: vec![10],
        ..Default::default()
    });
    assert!(matches!(err, Err(SearchError::Query(_))), "{err:?}");
}

/// A scope that names every case in the index (and more) takes the unfiltered
/// path; it must return exactly what the filtered path returns, and a scope
/// that lacks one case must still exclude that case, also across segments.
#[test]
fn full_scope_shortcut_matches_filtered_search() {
    let idx = sample();
    // A second commit makes a second segment holding only case 30.
    idx.add_batch(&[doc(
        9,
        30,
        "#elsewhere",
        "stranger",
        datetime!(2011-01-01 00:00 UTC),
        "new set in case thirty",
    )])
    .unwrap();
    idx.commit().unwrap();
    let req = |query: &str, cases: Vec<i64>| SearchRequest {
        query: query.into(),
        cases,
        ..Default::default()
    };
    for q in ["set", "new set", "new OR tonight", "\"new set\""] {
        let all = idx.search(&req(q, vec![30, 10, 20, 99])).unwrap();
        let mut all_ids: Vec<i64> = all.hits.iter().map(|h| h.message_id).collect();
        all_ids.sort();
        let without_30 = ids(&idx, &req(q, vec![10, 20]));
        assert!(!without_30.contains(&9), "{q}: case 30 leaked");
        let mut expected = without_30.clone();
        expected.push(9);
        expected.sort();
        assert_eq!(all_ids, expected, "{q}");
        assert_eq!(all.total, expected.len(), "{q}: total");
        // The shortcut must not drop the highlights.
        assert!(all.hits.iter().all(|h| !h.highlights.is_empty()), "{q}");
    }
}

/// The word-only path counts with the term's document frequency; a
/// re-imported message (deleted and re-added) must still count once.
#[test]
fn total_counts_reimported_messages_once() {
    let idx = sample();
    let before = idx
        .search(&SearchRequest {
            query: "set".into(),
            cases: vec![10, 20],
            ..Default::default()
        })
        .unwrap()
        .total;
    idx.add_batch(&[doc(
        3,
        10,
        "#other",
        "darkfox",
        datetime!(2009-03-05 10:00 UTC),
        "new set uploaded to the usual place",
    )])
    .unwrap();
    idx.commit().unwrap();
    let after = idx
        .search(&SearchRequest {
            query: "set".into(),
            cases: vec![10, 20],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(after.total, before);
    assert_eq!(after.hits.len(), before);
}
