//! Issue 4 end to end through `vigil scan`: procedurally generated images
//! and derived copies (resized, recompressed at another JPEG quality,
//! mirrored), a VICS 2.0 set and a PDQ list built from the originals, and
//! the triage summary the scan ends with: exact matches by category,
//! near-duplicates with their distances (the mirrored copy found through its
//! dihedral hash, naming the transform), unknown images grouped into series
//! and the known series with their victim status. SQLite always, PostgreSQL
//! when `VIGIL_TEST_DATABASE_URL` is set.

use std::path::Path;
use std::process::Command;

use image::{ImageBuffer, Rgb, RgbImage, imageops};
use serde_json::Value;

use crate::common;
use common::Env;

/// Synthetic content only: smooth fields and shapes from a seed, with enough
/// structure for a high PDQ quality.
fn pattern(seed: u32, w: u32, h: u32) -> RgbImage {
    let s = seed as f32;
    ImageBuffer::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let a = ((fx * (3.0 + s) + fy * (1.0 + s * 0.7)) * std::f32::consts::PI).sin();
        let b = ((fx * fx * (5.0 + s * 1.3) - fy * (2.0 + s)) * std::f32::consts::PI).cos();
        let blob = if ((fx - 0.3).powi(2) + (fy - 0.35 - s * 0.04).powi(2)) < 0.02 {
            0.8
        } else {
            0.0
        };
        let v =
            |k: f32| (((a * k + b * (1.0 - k) + blob) * 0.5 + 0.5).clamp(0.0, 1.0) * 255.0) as u8;
        Rgb([v(0.3), v(0.6), v(0.9)])
    })
}

fn png(img: &RgbImage, path: &Path) {
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

fn jpeg(img: &RgbImage, path: &Path, quality: u8) {
    let f = std::fs::File::create(path).unwrap();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(f, quality);
    enc.encode_image(img).unwrap();
}

fn md5(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..32].to_string()
}

/// (hash, quality) from `vigil pdq`.
fn pdq(env: &Env, path: &Path) -> (String, u32) {
    let (code, out, err) = env.run(None, &["pdq", path.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let mut parts = out.trim().split(',');
    let hash = parts.next().unwrap().to_string();
    let quality = parts.next().unwrap().parse().unwrap();
    (hash, quality)
}

fn vics_entry(
    id: u32,
    md5: &str,
    pdq: &str,
    category: u32,
    series: &str,
    identified: bool,
) -> Value {
    serde_json::json!({
        "MediaID": id,
        "Category": category,
        "MD5": md5.to_uppercase(),
        "Series": series,
        "VictimIdentified": identified,
        "AlternativeHashes": [{"MD5": md5.to_uppercase(), "HashName": "PDQ", "HashValue": pdq}],
    })
}

#[tokio::test]
async fn scan_reports_exact_near_mirrored_and_series() {
    for env in Env::all().await {
        let name = env.name().to_string();
        env.init();
        env.ok(
            "alice",
            &[
                "user",
                "add",
                "erin",
                "--roles",
                "forensic-examiner,supervisor",
            ],
        );
        let root = env._dir.path();
        let src = root.join("sources");
        let seized = root.join("seized");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&seized).unwrap();

        // Originals: A (PNG), B (JPEG q95), C (PNG), D unknown to any set.
        let (a, b, c, d) = (
            pattern(1, 320, 256),
            pattern(4, 256, 320),
            pattern(7, 300, 300),
            pattern(10, 280, 280),
        );
        let a_png = seized.join("a.png");
        png(&a, &a_png);
        let b_jpg = seized.join("b.jpg");
        jpeg(&b, &b_jpg, 95);
        let c_png = src.join("c.png");
        png(&c, &c_png);
        // Derived copies in the seized folder.
        png(
            &imageops::resize(&a, 200, 160, imageops::FilterType::Triangle),
            &seized.join("a-small.png"),
        );
        jpeg(&b, &seized.join("b-q40.jpg"), 40);
        png(
            &imageops::flip_horizontal(&c),
            &seized.join("c-mirrored.png"),
        );
        png(&d, &seized.join("d.png"));
        png(
            &imageops::resize(&d, 240, 240, imageops::FilterType::Triangle),
            &seized.join("d-small.png"),
        );
        let (pa, qa) = pdq(&env, &a_png);
        let (pb, qb) = pdq(&env, &b_jpg);
        let (pc, qc) = pdq(&env, &c_png);
        assert!(
            qa >= 50 && qb >= 50 && qc >= 50,
            "{name}: qualities {qa} {qb} {qc}"
        );

        // A VICS 2.0 set: A in category 1 of an unidentified series, B in
        // category 2 of an identified one; a PDQ list with C.
        let vics = serde_json::json!({
            "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
            "value": [
                vics_entry(1, &md5(&a_png), &pa, 1, "Synthetic Series Alpha", false),
                vics_entry(2, &md5(&b_jpg), &pb, 2, "Synthetic Series Beta", true),
            ],
        });
        let vics_path = root.join("set.json");
        std::fs::write(&vics_path, serde_json::to_vec_pretty(&vics).unwrap()).unwrap();
        let list_path = root.join("list.pdq");
        std::fs::write(&list_path, format!("{pc},{qc}\n")).unwrap();
        let v = env.json(
            "erin",
            &[
                "hashset",
                "import",
                vics_path.to_str().unwrap(),
                "--name",
                "vics",
            ],
        );
        assert_eq!(v["added"], 2, "{name}: {v}");
        let v = env.json(
            "erin",
            &[
                "hashset",
                "import",
                list_path.to_str().unwrap(),
                "--name",
                "pdq-list",
                "--format",
                "pdq",
            ],
        );
        assert_eq!(v["added"], 1, "{name}: {v}");

        let case = env.json("erin", &["case", "create", "--title", "Seizure"])["id"].to_string();
        let out = env.ok(
            "erin",
            &[
                "--json",
                "scan",
                seized.to_str().unwrap(),
                "--case",
                &case,
                "--device",
                "laptop-1",
            ],
        );
        let last = out.lines().last().unwrap();
        let t: Value = serde_json::from_str(last).unwrap();
        assert_eq!(t["files"], 7, "{name}: {t}");
        assert_eq!(t["images"], 7, "{name}: {t}");
        assert_eq!(t["errors"], 0, "{name}: {t}");
        // Exact: a.png (category 1) and b.jpg (category 2).
        let known = t["known"].as_object().unwrap();
        assert_eq!(
            known.values().filter_map(Value::as_i64).sum::<i64>(),
            2,
            "{name}: {t}"
        );
        assert_eq!(known.len(), 2, "{name}: two categories {t}");
        // Near: a-small and b-q40 (their categories), c-mirrored (the list's).
        let near = t["near_duplicates"].as_object().unwrap();
        assert_eq!(
            near.values().filter_map(Value::as_i64).sum::<i64>(),
            3,
            "{name}: {t}"
        );
        for (cat, stats) in t["near_duplicate_distances"].as_object().unwrap() {
            assert!(near.contains_key(cat), "{name}: {t}");
            assert!(stats["max"].as_u64().unwrap() <= 31, "{name}: {t}");
        }
        assert!(
            known.keys().all(|k| near.contains_key(k)),
            "{name}: resized/recompressed copies carry the originals' categories: {t}"
        );
        // A left-right mirror is the reference's `flipy` (reflection across
        // the vertical axis).
        assert_eq!(t["near_duplicate_transforms"]["flipy"], 1, "{name}: {t}");
        // Unknown: d and d-small, one series of two.
        assert_eq!(t["unknown_images"], 2, "{name}: {t}");
        assert_eq!(t["series"]["count"], 1, "{name}: {t}");
        assert_eq!(t["series"]["largest"], 2, "{name}: {t}");
        // Known series, the unidentified one first.
        let ks = t["known_series"].as_array().unwrap();
        assert_eq!(ks.len(), 2, "{name}: {t}");
        assert_eq!(ks[0]["series"], "Synthetic Series Alpha", "{name}: {t}");
        assert_eq!(ks[0]["status"], "unidentified — priority", "{name}: {t}");
        assert_eq!(ks[0]["images"], 2, "{name}: {t}");
        assert_eq!(ks[1]["status"], "victim identified", "{name}: {t}");

        // The mirrored copy through `vigil match`, naming the transform.
        let m = env.json(
            "erin",
            &[
                "match",
                "--file",
                seized.join("c-mirrored.png").to_str().unwrap(),
                "--dihedral",
            ],
        );
        let text = m.to_string();
        assert!(text.contains("\"transform\":\"flipy\""), "{name}: {text}");
    }
}
