//! Randomised losslessness: thousands of generated entries, every field
//! present or absent at random, with awkward text (quotes, separators,
//! newlines, non-ASCII) and arbitrary unknown fields, survive writer -> reader
//! for VICS, CSV, ICSE and PDQ lists. Deterministic (fixed seeds).

use serde_json::{Map, Value, json};
use vigil_domain::{Md5, PdqHash, Sha1, Sha256};
use vigil_hashset::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.next() as u8;
        }
        out
    }
    /// Non-empty text without surrounding whitespace (CSV cells are trimmed).
    fn text(&mut self, multiline: bool) -> String {
        const PARTS: &[&str] = &[
            "Synthetic",
            "série",
            "\"quoted\"",
            "a;b",
            "c,d",
            "tab\tin",
            "Ω≈ç",
            "x",
            "42",
            "\\",
            "{json}",
            "|",
        ];
        let mut s = String::new();
        for i in 0..=self.below(4) {
            if i > 0 {
                s.push(if multiline && self.below(5) == 0 {
                    '\n'
                } else {
                    ' '
                });
            }
            s.push_str(PARTS[self.below(PARTS.len() as u64) as usize]);
        }
        s
    }
    fn json(&mut self, depth: u32) -> Value {
        match self.below(if depth > 2 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(self.chance()),
            2 => json!(self.below(1 << 40)),
            3 => json!(-(self.below(1000) as i64)),
            4 => Value::String(self.text(true)),
            5 => Value::Array((0..self.below(3)).map(|_| self.json(depth + 1)).collect()),
            _ => Value::Object(self.object(depth + 1, &[])),
        }
    }
    /// An object whose keys avoid `reserved` case-insensitively.
    fn object(&mut self, depth: u32, reserved: &[&str]) -> Map<String, Value> {
        let mut m = Map::new();
        for _ in 0..self.below(3) {
            let key = format!(
                "Vendor{}",
                ["Field", "Note", "ñ", "X"][self.below(4) as usize]
            );
            if !reserved.iter().any(|r| r.eq_ignore_ascii_case(&key)) {
                let v = self.json(depth);
                m.insert(key, v);
            }
        }
        m
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.chance() { Some(f(self)) } else { None }
    }
}

fn entry(r: &mut Rng, i: u64) -> HashEntry {
    let mut e = HashEntry {
        media_id: Some((i + 1).to_string()),
        md5: r.opt(|r| Md5(r.bytes())),
        sha1: r.opt(|r| Sha1(r.bytes())),
        sha256: r.opt(|r| Sha256(r.bytes())),
        pdq: r.opt(|r| PdqHash(r.bytes())),
        photodna: r.opt(|r| format!("PDNA{}", r.next())),
        category: r.opt(|r| {
            CategoryScheme::ProjectVicUs
                .categorize(&r.below(5).to_string())
                .unwrap()
        }),
        series: r.opt(|r| r.text(true)),
        victim_identified: r.opt(Rng::chance),
        offender_identified: r.opt(Rng::chance),
        is_distributed: r.opt(Rng::chance),
        is_precategorized: r.opt(Rng::chance),
        is_suspected: r.opt(Rng::chance),
        media_size: r.opt(|r| r.below(1 << 40)),
        mime_type: r.opt(|r| r.text(false)),
        date_updated: r.opt(|r| format!("2026-01-{:02}T00:00:00Z", r.below(28) + 1)),
        tags: r.opt(|r| r.text(true)),
        comments: r.opt(|r| r.text(true)),
        ..HashEntry::default()
    };
    if e.pdq.is_some() {
        e.pdq_quality = r.opt(|r| r.below(101) as u8);
    }
    if e.md5.is_none() && e.sha1.is_none() {
        e.md5 = Some(Md5(r.bytes()));
    }
    e
}

/// The VICS-only parts: nested records and unknown fields.
fn vics_extras(r: &mut Rng, e: &mut HashEntry) {
    for _ in 0..r.below(3) {
        e.media_files.push(MediaFile {
            file_name: r.opt(|r| r.text(false)),
            file_path: r.opt(|r| format!("/synthetic/{}", r.text(false))),
            extra: r.object(0, &["FileName", "FilePath"]),
        });
    }
    for _ in 0..r.below(3) {
        let name = ["PhotoDNA", "NetClean", "vPDQ", "TMK"][r.below(4) as usize];
        e.alternative_hashes.push(AlternativeHash {
            hash_name: Some(name.into()),
            hash_value: r.opt(|r| format!("{:x}", r.next())),
            extra: r.object(0, &["HashName", "HashValue"]),
        });
    }
    e.extra = r.object(0, &[]);
    if r.chance() {
        e.extra.insert(
            "Exifs".into(),
            json!([{"PropertyName": "Make", "PropertyValue": r.text(false)}]),
        );
    }
}

fn assert_same(a: &[HashEntry], b: &[HashEntry]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(x.same_content(y), "entry changed:\n{x:#?}\n{y:#?}");
    }
}

fn reread(bytes: &[u8], format: Format) -> Vec<HashEntry> {
    let opts = ImportOptions {
        format: Some(format),
        ..ImportOptions::default()
    };
    let (_, entries, errors) = import_all(bytes, &opts).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    entries
}

#[test]
fn vics_round_trip_random_entries() {
    let mut r = Rng(1);
    let entries: Vec<HashEntry> = (0..3000)
        .map(|i| {
            let mut e = entry(&mut r, i);
            vics_extras(&mut r, &mut e);
            e
        })
        .collect();
    let meta = HashSetMeta::new(Format::Vics, CategoryScheme::ProjectVicUs);
    let mut out = Vec::new();
    write_vics(&mut out, &meta, &VicsWriteOptions::default(), &entries).unwrap();
    assert_same(&entries, &reread(&out, Format::Vics));
}

#[test]
fn vics_cases_round_trip_random_entries() {
    let mut r = Rng(2);
    let mut meta = HashSetMeta::new(Format::Vics, CategoryScheme::ProjectVicUs);
    for c in 0..5 {
        let mut fields = r.object(0, &["Media"]);
        fields.insert("CaseNumber".into(), json!(format!("SYN-{c}")));
        meta.cases.push(CaseInfo { fields });
    }
    // Cases 0 and 3 stay empty; media ids restart in each case.
    let mut entries = Vec::new();
    for case in [1u32, 2, 4] {
        for i in 0..200 {
            let mut e = entry(&mut r, i);
            vics_extras(&mut r, &mut e);
            e.case = Some(case);
            entries.push(e);
        }
    }
    let mut out = Vec::new();
    write_vics(&mut out, &meta, &VicsWriteOptions::default(), &entries).unwrap();
    let (report, back, errors) = import_all(&out[..], &ImportOptions::default()).unwrap();
    assert!(errors.is_empty());
    assert_eq!(report.meta.cases, meta.cases);
    assert_same(&entries, &back);
}

#[test]
fn csv_round_trip_random_entries() {
    let mut r = Rng(3);
    let mut entries: Vec<HashEntry> = (0..3000).map(|i| entry(&mut r, i)).collect();
    for e in &mut entries {
        if r.chance() {
            e.extra.insert("note".into(), Value::String(r.text(true)));
        }
    }
    for delimiter in [b',', b'\t', b';'] {
        let opts = CsvWriteOptions {
            delimiter,
            extra_columns: vec!["note".into()],
        };
        let mut out = Vec::new();
        write_csv(&mut out, &opts, &entries).unwrap();
        // The category column makes the scheme custom on re-import unless named.
        let read_opts = ImportOptions {
            scheme: Some(CategoryScheme::ProjectVicUs),
            ..ImportOptions::default()
        };
        let (_, back, errors) = import_all(&out[..], &read_opts).unwrap();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_same(&entries, &back);
    }
}

#[test]
fn icse_round_trip_random_entries() {
    let mut r = Rng(4);
    let entries: Vec<HashEntry> = (0..3000)
        .map(|i| {
            // Only what ICSE has columns for.
            let mut e = HashEntry {
                media_id: Some(format!("IMG-{i}")),
                md5: r.opt(|r| Md5(r.bytes())),
                sha1: r.opt(|r| Sha1(r.bytes())),
                photodna: r.opt(|r| format!("PDNA{}", r.next())),
                series: r.opt(|r| r.text(true)),
                victim_identified: r.opt(Rng::chance),
                offender_identified: r.opt(Rng::chance),
                is_distributed: r.opt(Rng::chance),
                ..HashEntry::default()
            };
            if e.md5.is_none() && e.sha1.is_none() {
                e.sha1 = Some(Sha1(r.bytes()));
            }
            if r.chance() {
                e.extra
                    .insert("NumberOfSubmissions".into(), json!(r.below(100)));
            }
            for k in ["FileAvailable", "Baseline"] {
                if r.chance() {
                    e.extra.insert(k.into(), Value::Bool(r.chance()));
                }
            }
            if r.chance() {
                e.extra.insert(
                    "MediaType".into(),
                    json!(["Image", "Video"][r.below(2) as usize]),
                );
            }
            e
        })
        .collect();
    let mut out = Vec::new();
    write_icse(&mut out, &entries).unwrap();
    let back = reread(&out, Format::IcseCsv);
    assert_same(&entries, &back);
    // And through VICS.
    let meta = HashSetMeta::new(Format::IcseCsv, CategoryScheme::ProjectVicUs);
    let mut vics = Vec::new();
    write_vics(&mut vics, &meta, &VicsWriteOptions::default(), &back).unwrap();
    assert_same(&entries, &reread(&vics, Format::Vics));
}

#[test]
fn pdq_list_round_trip_random_entries() {
    let mut r = Rng(5);
    let entries: Vec<HashEntry> = (0..3000)
        .map(|_| {
            let mut e = HashEntry {
                pdq: Some(PdqHash(r.bytes())),
                pdq_quality: r.opt(|r| r.below(101) as u8),
                ..HashEntry::default()
            };
            if r.chance() {
                e.extra.insert(
                    "path".into(),
                    Value::String(format!("/x/{}", r.text(false))),
                );
            }
            e
        })
        .collect();
    let mut out = Vec::new();
    write_pdq_list(&mut out, &entries).unwrap();
    assert_same(&entries, &reread(&out, Format::PdqList));
}
