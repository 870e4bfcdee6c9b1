//! Import -> export -> import loses nothing, for every format; fixtures are
//! synthetic (hashes derived from counters, invented series names).

use std::ops::ControlFlow;

use serde_json::{Value, json};
use vigil_hashset::*;

const V2: &[u8] = include_bytes!("data/vics2_media.json");
const V1: &[u8] = include_bytes!("data/vics1_media.json");
const CASES: &[u8] = include_bytes!("data/vics2_cases.json");
const ICSE: &[u8] = include_bytes!("data/icse.csv");

fn read(bytes: &[u8], opts: &ImportOptions) -> (ImportReport, Vec<HashEntry>) {
    let (report, entries, errors) = import_all(bytes, opts).unwrap();
    assert!(errors.is_empty(), "unexpected entry errors: {errors:#?}");
    (report, entries)
}

fn assert_same(a: &[HashEntry], b: &[HashEntry]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(x.same_content(y), "entry changed:\n{x:#?}\n{y:#?}");
    }
}

fn vics_out(meta: &HashSetMeta, entries: &[HashEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = write_vics(&mut out, meta, &VicsWriteOptions::default(), entries).unwrap();
    assert_eq!(n, entries.len() as u64);
    out
}

#[test]
fn vics2_fields_are_read_with_exporter_tolerance() {
    let (report, e) = read(V2, &ImportOptions::default());
    assert_eq!(report.meta.format, Format::Vics);
    assert_eq!(report.meta.vics_major, Some(2));
    assert_eq!(report.meta.vics_profile.as_deref(), Some("US"));
    assert_eq!(report.meta.vics_shape, Some(VicsShape::Media));
    assert_eq!(report.meta.scheme, CategoryScheme::ProjectVicUs);
    assert_eq!(e.len(), 4);

    let a = &e[0];
    assert_eq!(a.media_id.as_deref(), Some("1"));
    assert!(a.category.as_ref().unwrap().normalized.is_csam());
    assert_eq!(a.media_size, Some(12345));
    assert_eq!(a.victim_identified, Some(true));
    assert_eq!(a.offender_identified, Some(false));
    assert_eq!(a.is_distributed, Some(true));
    assert_eq!(a.is_precategorized, Some(true));
    assert_eq!(a.is_suspected, Some(false));
    assert_eq!(a.series.as_deref(), Some("Synthetic Series Alpha"));
    assert_eq!(a.pdq_quality, Some(90));
    assert!(a.pdq.is_some());
    // The PDQ element was absorbed; the PhotoDNA one is kept as is.
    assert_eq!(a.alternative_hashes.len(), 1);
    assert_eq!(
        a.alternative_hashes[0].hash_name.as_deref(),
        Some("PhotoDNA")
    );
    assert_eq!(a.media_files[0].file_name.as_deref(), Some("a.jpg"));
    assert_eq!(a.media_files[0].extra["Deleted"], json!("false"));
    assert!(a.extra.contains_key("Exifs"));
    assert_eq!(
        a.extra["VendorExtension"],
        json!({"nested": [1, 2, {"x": null}]})
    );
    assert_eq!(a.extra["PrecategorizationSource"], json!("SYNTH"));
    // Positions: the first entry's brace is on line 4, column 5 (BOM skipped).
    assert_eq!(a.pos.line, 4);
    assert_eq!(a.pos.column, Some(5));

    let b = &e[1];
    assert_eq!(b.category, None, "null category is absent, not 0");
    assert_eq!(b.victim_identified, None);
    assert_eq!(b.md5, e[1].md5);
    let c = &e[2];
    assert_eq!(
        c.category.as_ref().unwrap().normalized,
        NormalizedCategory::NonPertinent
    );
    assert!(c.sha256.is_some(), "SHA256 alternative hash absorbed");
    // The first PDQ had an extra key (kept verbatim); the second PDQ is kept.
    assert_eq!(c.alternative_hashes.len(), 2);
    let d = &e[3];
    assert!(d.md5.is_none() && d.sha1.is_some());
    assert_eq!(d.tags, None);
}

#[test]
fn vics2_round_trip_is_lossless_and_readable_by_others() {
    let (report, first) = read(V2, &ImportOptions::default());
    let out = vics_out(&report.meta, &first);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with(
        "{\"@odata.context\":\"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media\",\"value\":["
    ));
    // What a generic reader (IPED-like) relies on: two top-level keys,
    // integer categories, MD5 as text.
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc.as_object().unwrap().len(), 2);
    assert_eq!(doc["value"][0]["Category"], json!(1));
    assert_eq!(doc["value"][0]["MediaID"], json!(1));
    assert!(doc["value"][0]["MD5"].as_str().unwrap().len() == 32);
    assert_eq!(doc["value"][0]["VictimIdentified"], json!(true));

    let (report2, second) = read(&out, &ImportOptions::default());
    assert_same(&first, &second);
    assert_eq!(report2.meta.vics_profile, report.meta.vics_profile);
    // And once more: the output is a fixed point.
    assert_eq!(vics_out(&report2.meta, &second), out);
}

#[test]
fn vics1_round_trips_through_vics2() {
    let (report, first) = read(V1, &ImportOptions::default());
    assert_eq!(report.meta.vics_major, Some(1));
    assert_eq!(report.meta.vics_profile, None);
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[0].extra["odata.id"],
        json!("http://example.invalid/Media(10)")
    );
    assert_eq!(first[0].media_size, Some(2048));
    assert_eq!(first[0].series, None, "empty series is absent");
    let out = vics_out(&report.meta, &first);
    let (report2, second) = read(&out, &ImportOptions::default());
    assert_eq!(report2.meta.vics_major, Some(2));
    assert_eq!(report2.meta.vics_profile.as_deref(), Some("Default"));
    assert_same(&first, &second);
}

#[test]
fn cases_export_round_trips_with_case_fields_and_empty_cases() {
    let (report, first) = read(CASES, &ImportOptions::default());
    assert_eq!(report.meta.vics_shape, Some(VicsShape::Cases));
    assert_eq!(report.meta.cases.len(), 3);
    assert_eq!(
        report.meta.cases[0].case_number().as_deref(),
        Some("SYN-2026-001")
    );
    assert_eq!(
        report.meta.cases[2].fields["SeizureDate"],
        json!("2026-01-01")
    );
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].case, Some(0));
    assert_eq!(first[2].case, Some(2));
    // MediaID 1 appears in two cases: unique per case, so no error.
    assert_eq!(first[2].media_id.as_deref(), Some("1"));
    assert_eq!(
        first[1].media_files[0].file_path.as_deref(),
        Some("/mnt/x/b.png")
    );

    let out = vics_out(&report.meta, &first);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert!(doc["@odata.context"].as_str().unwrap().ends_with("#Cases"));
    assert_eq!(doc["value"][1]["Media"], json!([]));
    let (report2, second) = read(&out, &ImportOptions::default());
    assert_eq!(report2.meta.cases, report.meta.cases);
    assert_same(&first, &second);
}

#[test]
fn cases_can_be_flattened_to_a_media_hash_set() {
    let (report, first) = read(CASES, &ImportOptions::default());
    let opts = VicsWriteOptions {
        shape: Some(VicsShape::Media),
        ..VicsWriteOptions::default()
    };
    let mut out = Vec::new();
    write_vics(&mut out, &report.meta, &opts, &first).unwrap();
    // Same MediaID in two cases collides once flattened: reported, not lost silently.
    let (_, entries, errors) = import_all(&out[..], &ImportOptions::default()).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(errors.len(), 1);
    assert!(matches!(
        *errors[0].kind,
        EntryErrorKind::DuplicateMediaId(_)
    ));
}

#[test]
fn icse_round_trips_through_icse_and_through_vics() {
    let (report, first) = read(ICSE, &ImportOptions::default());
    assert_eq!(report.meta.format, Format::IcseCsv);
    assert_eq!(first.len(), 3);
    let a = &first[0];
    assert_eq!(a.media_id.as_deref(), Some("IMG-201"));
    assert_eq!(a.is_distributed, Some(true));
    assert_eq!(a.victim_identified, Some(false));
    assert_eq!(a.extra["NumberOfSubmissions"], json!(3));
    assert_eq!(a.extra["FileAvailable"], json!(true));
    assert_eq!(a.extra["MediaType"], json!("Image"));
    assert_eq!(a.extra["Baseline"], json!(false));
    assert_eq!(first[1].series.as_deref(), Some("Series; with semicolon"));
    assert_eq!(first[2].pos.line, 4);

    let mut out = Vec::new();
    let summary = write_icse(&mut out, &first).unwrap();
    assert_eq!((summary.written, summary.skipped), (3, 0));
    let mut pdq_only = first.clone();
    pdq_only.push(HashEntry {
        pdq: Some(vigil_domain::PdqHash([7; 32])),
        ..HashEntry::default()
    });
    let summary = write_icse(std::io::sink(), &pdq_only).unwrap();
    assert_eq!(
        (summary.written, summary.skipped),
        (3, 1),
        "no ICSE hash: skipped"
    );
    assert!(out.starts_with(ICSE_COLUMNS.join(";").as_bytes()));
    let (_, second) = read(&out, &ImportOptions::default());
    assert_same(&first, &second);

    let vics = vics_out(&report.meta, &first);
    let (_, via_vics) = read(&vics, &ImportOptions::default());
    let mut back = Vec::new();
    write_icse(&mut back, &via_vics).unwrap();
    assert_eq!(back, out, "ICSE -> VICS -> ICSE gives the same ICSE file");
}

#[test]
fn csv_and_tsv_round_trip_with_extra_columns() {
    let md5 = "00112233445566778899aabbccddeeff";
    let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let tsv = format!(
        "MD5\tPDQ\tQuality\tCategory\tSeries Name\tVictim_Identified\tCase Note\n\
         {md5}\t{pdq}\t88\tCAM\tSynthetic Series Delta\tYes\tfrom tip 7\n\
         \t{pdq}\t\tother\t\t\t\n"
    );
    let (report, first) = read(tsv.as_bytes(), &ImportOptions::default());
    assert_eq!(report.meta.format, Format::Delimited { delimiter: b'\t' });
    assert_eq!(report.meta.scheme, CategoryScheme::Custom);
    assert_eq!(first[0].pdq_quality, Some(88));
    assert_eq!(first[0].victim_identified, Some(true));
    assert_eq!(
        first[0].category.as_ref().unwrap().normalized,
        NormalizedCategory::Custom("cam".into())
    );
    assert_eq!(first[0].extra["Case Note"], json!("from tip 7"));
    assert!(first[1].md5.is_none());

    for delimiter in [b',', b'\t'] {
        let opts = CsvWriteOptions {
            delimiter,
            extra_columns: vec!["Case Note".into()],
        };
        let mut out = Vec::new();
        write_csv(&mut out, &opts, &first).unwrap();
        let (_, second) = read(&out, &ImportOptions::default());
        assert_same(&first, &second);
    }
}

#[test]
fn pdq_list_round_trips_and_skips_entries_without_pdq() {
    let a = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let b = "0000000000000000000000000000000000000000000000000000000000000001";
    let text = format!("# synthetic\nhash,quality\n{a},100\n\n{b}\n{a},49,/tmp/x, y.png\n");
    let (report, first) = read(text.as_bytes(), &ImportOptions::default());
    assert_eq!(report.meta.format, Format::PdqList);
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].pdq_quality, Some(100));
    assert_eq!(first[1].pdq_quality, None);
    assert_eq!(first[2].extra["path"], json!("/tmp/x, y.png"));
    assert_eq!(first[2].pos.line, 6);

    let mut with_md5_only = first.clone();
    with_md5_only.push(HashEntry {
        md5: Some("00112233445566778899aabbccddeeff".parse().unwrap()),
        ..HashEntry::default()
    });
    let mut out = Vec::new();
    let s = write_pdq_list(&mut out, &with_md5_only).unwrap();
    assert_eq!((s.written, s.skipped), (3, 1));
    let (_, second) = read(&out, &ImportOptions::default());
    assert_same(&first, &second);
}

#[test]
fn cross_format_csv_to_vics_keeps_pdq_and_sha256() {
    let text = "sha256,pdq,pdq_quality\n\
        00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff,\
        f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,77\n";
    let (report, first) = read(text.as_bytes(), &ImportOptions::default());
    let out = vics_out(&report.meta, &first);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let alts = doc["value"][0]["AlternativeHashes"].as_array().unwrap();
    assert_eq!(alts[0]["HashName"], json!("PDQ"));
    assert_eq!(alts[0]["Quality"], json!(77));
    assert_eq!(alts[1]["HashName"], json!("SHA256"));
    let (_, second) = read(&out, &ImportOptions::default());
    assert_same(&first, &second);

    // For readers that insist on a MediaID.
    let opts = VicsWriteOptions {
        assign_media_ids: true,
        ..VicsWriteOptions::default()
    };
    let mut out = Vec::new();
    write_vics(&mut out, &report.meta, &opts, &first).unwrap();
    let (_, numbered) = read(&out, &ImportOptions::default());
    assert_eq!(numbered[0].media_id.as_deref(), Some("1"));
}

#[test]
fn callback_can_cancel() {
    let mut seen = 0;
    let err = import(V2, &ImportOptions::default(), |_| {
        seen += 1;
        ControlFlow::Break(())
    })
    .unwrap_err();
    assert!(matches!(err, ImportError::Cancelled));
    assert_eq!(seen, 1);
}

#[test]
fn uk_profile_implies_the_uk_scheme_and_round_trips_letter_categories() {
    let text = r#"{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Media","value":[
{"MediaID":1,"MD5":"00112233445566778899AABBCCDDEEFF","Category":"A"},
{"MediaID":2,"MD5":"00112233445566778899AABBCCDDEEF0","Category":"Cat C"},
{"MediaID":3,"MD5":"00112233445566778899AABBCCDDEEF1","Category":"7"}
],"odata.count":3}"#;
    let (report, first, errors) = import_all(text.as_bytes(), &ImportOptions::default()).unwrap();
    assert_eq!(report.meta.scheme, CategoryScheme::Uk);
    assert_eq!(report.meta.extra["odata.count"], json!(3));
    assert_eq!(
        first[0].category.as_ref().unwrap().normalized,
        NormalizedCategory::CsamA
    );
    assert_eq!(
        first[1].category.as_ref().unwrap().normalized,
        NormalizedCategory::CsamC
    );
    assert_eq!(errors.len(), 1, "7 is not a UK category");
    assert_eq!(errors[0].pos.line, 4);

    let out = vics_out(&report.meta, &first);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert!(doc["@odata.context"].as_str().unwrap().contains("/UK/"));
    assert_eq!(doc["value"][0]["Category"], json!("A"));
    assert_eq!(doc["odata.count"], json!(3), "top-level extras are kept");
    let (report2, second) = read(&out, &ImportOptions::default());
    assert_eq!(report2.meta.scheme, CategoryScheme::Uk);
    assert_same(&first, &second);
}

#[test]
fn alternative_hash_with_a_different_md5_is_kept_verbatim() {
    let text = r#"{"@odata.context":"x#Media","value":[{"MediaID":1,"MD5":"00112233445566778899AABBCCDDEEFF",
"AlternativeHashes":[{"MD5":"FFEEDDCCBBAA99887766554433221100","HashName":"PDQ","HashValue":"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"}]}]}"#;
    let (report, first) = read(text.as_bytes(), &ImportOptions::default());
    let e = &first[0];
    assert!(e.pdq.is_some(), "PDQ is still usable for matching");
    assert_eq!(e.alternative_hashes.len(), 1, "but the element is kept");
    assert_eq!(
        e.alternative_hashes[0].extra["MD5"],
        json!("FFEEDDCCBBAA99887766554433221100")
    );
    let out = vics_out(&report.meta, &first);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        doc["value"][0]["AlternativeHashes"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "no duplicate PDQ element on export"
    );
    let (_, second) = read(&out, &ImportOptions::default());
    assert_same(&first, &second);
}

#[test]
fn tiny_read_buffers_give_the_same_entries_and_positions() {
    // Every token straddles buffer boundaries: the scanner must not care.
    for fixture in [V2, V1, CASES] {
        let (report, whole) = read(fixture, &ImportOptions::default());
        for capacity in [1, 2, 7, 64] {
            let mut pieces = Vec::new();
            let small = std::io::BufReader::with_capacity(capacity, fixture);
            let r = read_vics(small, &ImportOptions::default(), |item| {
                pieces.push(item.unwrap());
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(r.meta, report.meta);
            assert_eq!(pieces, whole, "capacity {capacity}");
        }
    }
}

#[test]
fn shape_from_content_when_the_context_is_missing_or_late() {
    // No context first; a case with `"Media": null`, a case whose key is
    // spelled with an escape, a flat media record, strings with brackets.
    let text = r#"{"value":[
 {"CaseID":"c1","Media":null},
 {"CaseID":"c2","Med\u0069a":[{"MediaID":1,"MD5":"00112233445566778899AABBCCDDEEFF","Comments":"[{\"}"}]},
 {"MediaID":5,"MD5":"00112233445566778899AABBCCDDEEF0","Series":"a ] } \\"}
],"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Cases"}"#;
    let (report, entries) = read(text.as_bytes(), &ImportOptions::default());
    assert_eq!(report.meta.cases.len(), 2);
    assert_eq!(report.meta.cases[1].case_id().as_deref(), Some("c2"));
    assert_eq!(report.meta.vics_profile.as_deref(), Some("CUSTOM"));
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].case, Some(1));
    assert_eq!(entries[0].comments.as_deref(), Some("[{\"}"));
    assert_eq!(
        entries[0].pos,
        SourcePos {
            line: 3,
            column: Some(31)
        }
    );
    assert_eq!(entries[1].case, None);
    assert_eq!(entries[1].series.as_deref(), Some("a ] } \\"));
    assert_eq!(entries[1].pos.line, 4);
}
