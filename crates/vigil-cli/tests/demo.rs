//! `vigil demo --no-serve --json`: the whole story runs through every real
//! pipeline, deterministically for a seed, and only into a demo database.
//! The small scale keeps a debug build's run short; the pipelines are the
//! same as at full scale.

use crate::common;

use common::Env;
use serde_json::Value;

fn demo(env: &Env, seed: &str) -> (i32, Value, String) {
    let (code, out, err) = env.run(
        None,
        &[
            "demo",
            "--no-serve",
            "--json",
            "--scale",
            "small",
            "--seed",
            seed,
        ],
        None,
    );
    let v = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, v, err)
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn demo_runs_every_pipeline_deterministically() {
    let env = Env::sqlite();
    let (code, s, err) = demo(&env, "7");
    assert_eq!(code, 0, "demo failed: {err}");
    let p = &s["pipelines"];
    assert_eq!(s["demo"]["sign_in"]["user"], "demo");
    assert!(s["demo"]["sign_in"]["password"].as_str().unwrap().len() >= 8);

    // chat: both rooms, every line parsed, operators, nick changes, DCC offers
    assert!(n(&p["chat"]["messages"]) > 50, "{p}");
    assert_eq!(n(&p["chat"]["unparsed_lines"]), 0, "{p}");
    assert!(n(&p["chat"]["operators"]) >= 3, "{p}");
    assert!(n(&p["chat"]["nick_changes"]) >= 1, "{p}");
    assert!(n(&p["chat"]["file_offers"]) >= 1, "{p}");
    assert!(n(&p["chat"]["identifiers_added"]) > 10, "{p}");
    // hash sets and scans: exact and near matches, unknown series
    assert!(n(&p["hashsets"]["vics_entries"]) > 0, "{p}");
    assert!(n(&p["hashsets"]["pdq_entries"]) > 0, "{p}");
    assert!(n(&p["scans"]["images"]) > 20, "{p}");
    assert_eq!(n(&p["scans"]["errors"]), 0, "{p}");
    assert!(n(&p["scans"]["matches_exact"]) > 0, "{p}");
    assert!(n(&p["scans"]["matches_near"]) > 0, "{p}");
    assert!(n(&p["scans"]["unknown_series"]) >= 1, "{p}");
    // … exactly as many as the generator planted
    let mut manifest = env.db.clone().into_os_string();
    manifest.push(".demo/manifest.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let want = &manifest["expected"];
    assert_eq!(p["scans"]["images"], want["images"], "{p}");
    assert_eq!(p["scans"]["matches_exact"], want["exact_files"], "{p}");
    assert_eq!(
        n(&p["scans"]["matches_near"]),
        n(&want["near_files"]) + n(&want["mirrored_files"]),
        "{p}"
    );
    assert_eq!(p["scans"]["unknown_series"], want["unknown_series"], "{p}");
    // the graph names the persons whose seized devices hold the same
    // files, with the count the generator planted
    let shared = &p["graph"]["shared_media"];
    assert_eq!(shared[0]["hashes"], want["shared_hashes"], "{p}");
    let mut named: Vec<&str> = [&shared[0], &shared[1]]
        .iter()
        .map(|d| d["player"].as_str().unwrap_or_default())
        .collect();
    named.sort();
    let mut owners: Vec<&str> = manifest["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["owner"].as_str().unwrap())
        .collect();
    owners.sort();
    assert_eq!(named, owners, "{p}");
    // linking: the alias pair, proposed because of the shared address
    assert!(n(&p["links"]["candidates"]) >= 1, "{p}");
    let ev = p["links"]["alias_pair_evidence"].to_string();
    assert!(ev.contains("ip-overlap"), "{ev}");
    assert!(ev.contains("handle-"), "{ev}");
    // attribution and outcomes
    assert!(n(&p["attribution"]["countries"]) >= 12, "{p}");
    assert!(n(&p["events"]["recorded"]) > 10, "{p}");
    // the package round trip: leads out, outcomes back, counts changed
    assert!(n(&p["packages"]["partner_persons_added"]) > 0, "{p}");
    assert_eq!(p["packages"]["outcomes_back"], true, "{p}");
    assert!(
        n(&p["packages"]["arrested_after"]) > n(&p["packages"]["arrested_before"]),
        "{p}"
    );
    assert!(
        n(&p["packages"]["safeguarded_after"]) > n(&p["packages"]["safeguarded_before"]),
        "{p}"
    );

    // The same seed into another database tells the same story.
    let again = Env::sqlite();
    let (code, s2, err) = demo(&again, "7");
    assert_eq!(code, 0, "{err}");
    assert_eq!(s2["pipelines"], s["pipelines"]);
    // Another seed tells another one.
    let other = Env::sqlite();
    let (code, s3, err) = demo(&other, "8");
    assert_eq!(code, 0, "{err}");
    assert_ne!(s3["pipelines"], s["pipelines"]);

    // Running it again on the demo database does not regenerate it.
    let (code, s4, err) = demo(&env, "7");
    assert_eq!(code, 0, "{err}");
    assert_eq!(s4, s);
}

#[test]
fn demo_refuses_a_database_that_is_not_a_demo() {
    let env = Env::sqlite();
    env.init();
    let (code, _, err) = demo(&env, "7");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a demo database"), "{err}");
    // nothing of the demo was written beside it
    let mut work = env.db.clone().into_os_string();
    work.push(".demo");
    assert!(!std::path::Path::new(&work).exists());
}
