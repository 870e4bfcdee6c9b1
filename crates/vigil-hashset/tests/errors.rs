//! The documented error policy: bad entries are reported (line, column for
//! JSON, MediaID, field) and skipped; file-level corruption is fatal; strict
//! mode makes the first bad entry fatal.

use std::ops::ControlFlow;

use vigil_hashset::*;

const CTX: &str =
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media";

fn md5(n: u32) -> String {
    format!("{:032X}", u128::from(n) * 0x9E37_79B9_7F4A_7C15)
}

/// One media record per line, starting on line 2.
fn vics(records: &[String]) -> String {
    format!(
        "{{\"@odata.context\":\"{CTX}\",\"value\":[\n{}\n]}}",
        records.join(",\n")
    )
}

fn rec(id: u32, extra: &str) -> String {
    format!("{{\"MediaID\":{id},\"MD5\":\"{}\"{extra}}}", md5(id))
}

fn run(text: &str, opts: &ImportOptions) -> Result<(Vec<HashEntry>, Vec<EntryError>), ImportError> {
    import_all(text.as_bytes(), opts).map(|(_, e, er)| (e, er))
}

#[test]
fn bad_hex_is_an_entry_error_with_line_column_id_and_field() {
    let text = vics(&[
        rec(1, ""),
        "  {\"MediaID\":2,\"MD5\":\"ABC\"}".into(),
        rec(3, ",\"SHA1\":\"zz\""),
        rec(4, ""),
    ]);
    let (entries, errors) = run(&text, &ImportOptions::default()).unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e.media_id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["1", "4"]
    );
    assert_eq!(errors.len(), 2);
    let e = &errors[0];
    assert_eq!(
        e.pos,
        SourcePos {
            line: 3,
            column: Some(3)
        }
    );
    assert_eq!(e.media_id.as_deref(), Some("2"));
    assert_eq!(e.field.as_deref(), Some("MD5"));
    assert!(matches!(*e.kind, EntryErrorKind::BadHash(_)));
    assert_eq!(
        e.to_string(),
        "line 3, column 3 (MediaID 2), field MD5: invalid MD5 \"ABC\": expected 32 hex digits"
    );
    assert_eq!(errors[1].pos.line, 4);
    assert_eq!(errors[1].field.as_deref(), Some("SHA1"));
}

#[test]
fn unknown_category_depends_on_the_scheme() {
    let text = vics(&[rec(1, ",\"Category\":5"), rec(2, ",\"Category\":\"1\"")]);
    let (entries, errors) = run(&text, &ImportOptions::default()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(errors[0].field.as_deref(), Some("Category"));
    assert!(
        matches!(&*errors[0].kind, EntryErrorKind::UnknownCategory { label, .. } if label == "5")
    );
    // Under the older DHS scheme, 5 is "non-pertinent".
    let dhs = ImportOptions {
        scheme: Some(CategoryScheme::Dhs),
        ..ImportOptions::default()
    };
    let (entries, errors) = run(&text, &dhs).unwrap();
    assert!(errors.is_empty());
    assert_eq!(
        entries[0].category.as_ref().unwrap().normalized,
        NormalizedCategory::NonPertinent
    );
}

#[test]
fn duplicate_media_ids_keep_the_first() {
    let text = vics(&[rec(7, ""), rec(8, ""), rec(7, ",\"Series\":\"dup\"")]);
    let (entries, errors) = run(&text, &ImportOptions::default()).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].series, None);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pos.line, 4);
    assert!(matches!(&*errors[0].kind, EntryErrorKind::DuplicateMediaId(id) if id == "7"));
}

#[test]
fn entry_without_any_hash_is_reported() {
    let text = vics(&[rec(1, ""), "{\"MediaID\":2,\"Category\":1}".into()]);
    let (_, errors) = run(&text, &ImportOptions::default()).unwrap();
    assert!(matches!(*errors[0].kind, EntryErrorKind::NoHash));
    assert_eq!(errors[0].media_id.as_deref(), Some("2"));
}

#[test]
fn truncated_json_is_fatal_with_position() {
    let full = vics(&[rec(1, ""), rec(2, ""), rec(3, "")]);
    let cut = &full[..full.len() - 40];
    let mut delivered = 0;
    let err = import(cut.as_bytes(), &ImportOptions::default(), |_| {
        delivered += 1;
        ControlFlow::Continue(())
    })
    .unwrap_err();
    match err {
        ImportError::Truncated { pos, .. } => assert_eq!(pos.line, 4),
        other => panic!("expected Truncated, got {other:?}"),
    }
    // Entries before the cut were handed out; the policy says the caller
    // must now discard them.
    assert_eq!(delivered, 2);
}

#[test]
fn json_syntax_error_is_fatal_with_line_and_column() {
    let text = format!(
        "{{\"@odata.context\":\"{CTX}\",\"value\":[\n{}\n{}\n]}}",
        rec(1, ""),
        rec(2, "")
    );
    match run(&text, &ImportOptions::default()).unwrap_err() {
        ImportError::Syntax { pos, .. } => {
            assert_eq!(
                pos,
                SourcePos {
                    line: 3,
                    column: Some(1)
                }
            )
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
    let trailing = format!("{} x", vics(&[rec(1, "")]));
    assert!(matches!(
        run(&trailing, &ImportOptions::default()).unwrap_err(),
        ImportError::Syntax { .. }
    ));
}

#[test]
fn wrong_structure_is_fatal() {
    let no_value = format!("{{\"@odata.context\":\"{CTX}\",\"items\":[]}}");
    let opts = ImportOptions {
        format: Some(Format::Vics),
        ..ImportOptions::default()
    };
    assert!(matches!(
        run(&no_value, &opts).unwrap_err(),
        ImportError::Structure { .. }
    ));
    let not_objects = format!("{{\"@odata.context\":\"{CTX}\",\"value\":[1]}}");
    assert!(matches!(
        run(&not_objects, &opts).unwrap_err(),
        ImportError::Structure { .. }
    ));
    assert!(matches!(
        run("[]", &opts).unwrap_err(),
        ImportError::Structure { .. }
    ));
    assert!(matches!(
        run("hello world\n", &ImportOptions::default()).unwrap_err(),
        ImportError::UnknownFormat
    ));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("{\"value\":[]}".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert!(matches!(
        import_all(&utf16[..], &ImportOptions::default()).unwrap_err(),
        ImportError::Encoding("UTF-16LE")
    ));
}

#[test]
fn strict_mode_stops_at_the_first_bad_entry() {
    let text = vics(&[rec(1, ""), rec(2, ",\"Category\":9"), rec(3, "")]);
    let strict = ImportOptions {
        strict: true,
        ..ImportOptions::default()
    };
    match run(&text, &strict).unwrap_err() {
        ImportError::Entry(e) => {
            assert_eq!(e.pos.line, 3);
            assert_eq!(e.media_id.as_deref(), Some("2"));
        }
        other => panic!("expected Entry, got {other:?}"),
    }
}

const ICSE_HEADER: &str = "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline";

#[test]
fn bad_csv_rows_are_entry_errors_with_lines() {
    let text = format!(
        "\u{feff}{ICSE_HEADER}\n\
         {};;;A1;Y;N;N;S;1;Y;Image;N\n\
         {};;;A2;Y;N\n\
         {};;;A3;Y;maybe;N;S;1;Y;Image;N\n\
         {};;;A4;Y;N;N;S;many;Y;Image;N\n\
         \n\
         {};;;A5;Y;N;N;S;1;Y;Image;N\n",
        md5(1),
        md5(2),
        md5(3),
        md5(4),
        md5(5)
    );
    let (entries, errors) = run(&text, &ImportOptions::default()).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].pos.line, 7);
    let lines: Vec<u64> = errors.iter().map(|e| e.pos.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert!(matches!(
        *errors[0].kind,
        EntryErrorKind::FieldCount {
            expected: 12,
            found: 6
        }
    ));
    assert_eq!(errors[1].field.as_deref(), Some("Victim identified"));
    assert_eq!(errors[1].media_id.as_deref(), Some("A3"));
    assert_eq!(errors[2].field.as_deref(), Some("Number of submissions"));
}

#[test]
fn csv_header_without_hash_column_is_fatal() {
    let opts = ImportOptions {
        format: Some(Format::Delimited { delimiter: b',' }),
        ..ImportOptions::default()
    };
    match run("category,series\n1,x\n", &opts).unwrap_err() {
        ImportError::Header { line, .. } => assert_eq!(line, 1),
        other => panic!("expected Header, got {other:?}"),
    }
    let icse = ImportOptions {
        format: Some(Format::IcseCsv),
        ..ImportOptions::default()
    };
    assert!(matches!(
        run("MD5;SHA1\n", &icse).unwrap_err(),
        ImportError::Header { .. }
    ));
}

#[test]
fn pdq_list_bad_lines() {
    let good = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let text = format!("{good},90\n{}\n{good},101\n{good}\n", &good[..60]);
    let opts = ImportOptions {
        format: Some(Format::PdqList),
        ..ImportOptions::default()
    };
    let (entries, errors) = run(&text, &opts).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (errors[0].pos.line, errors[0].field.as_deref()),
        (2, Some("hash"))
    );
    assert_eq!(
        (errors[1].pos.line, errors[1].field.as_deref()),
        (3, Some("quality"))
    );
}
