//! Dissemination end to end with two Vigil instances (agency A in Canada,
//! agency B in the UK): key exchange, a lead package A → B opened with the
//! real `age` and `minisign`, refusals that change nothing, outcomes B → A
//! and A's outcome counts. On SQLite always, and on PostgreSQL when
//! `VIGIL_TEST_DATABASE_URL` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use vigil_share::{AgencyKeys, CountryCode, ManifestFields, PackageKind, PublicBundle};

struct Env {
    db: PathBuf,
    url: Option<String>,
    dir: PathBuf,
}

impl Env {
    fn cmd(&self, user: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
        c.env_remove("VIGIL_USER")
            .env_remove("VIGIL_DATABASE_URL")
            .env("VIGIL_DB", &self.db)
            .current_dir(&self.dir);
        if let Some(url) = &self.url {
            c.env("VIGIL_DATABASE_URL", url);
        }
        if let Some(u) = user {
            c.env("VIGIL_USER", u);
        }
        c.args(args);
        c
    }

    fn run(&self, user: Option<&str>, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut c = self.cmd(user, args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("vigil runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, user: &str, args: &[&str]) -> String {
        let (code, out, err) = self.run(Some(user), args, None);
        assert_eq!(code, 0, "vigil {args:?} failed: {err}");
        out
    }

    fn json(&self, user: &str, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        serde_json::from_str(&self.ok(user, &full)).expect("valid JSON")
    }

    fn id(&self, user: &str, args: &[&str]) -> String {
        self.json(user, args)["id"]
            .as_i64()
            .expect("an id")
            .to_string()
    }

    fn init(&self, agency: &str, country: &str, admin: &str) {
        let (code, _, err) = self.run(
            None,
            &[
                "init",
                "--agency",
                agency,
                "--country",
                country,
                "--admin",
                admin,
                "--password-stdin",
            ],
            Some("a long passphrase\n"),
        );
        assert_eq!(code, 0, "init: {err}");
        self.ok(admin, &["user", "add", "lo", "--roles", "liaison-officer"]);
        self.ok(admin, &["user", "add", "inv", "--roles", "investigator"]);
    }

    /// Row counts that any import would change.
    fn counts(&self, admin: &str) -> (usize, usize, usize) {
        let persons = self.json(admin, &["person", "list"]);
        let packages = self.json("lo", &["package", "list"]);
        let cases = self.json(admin, &["case", "list"]);
        (
            persons.as_array().unwrap().len(),
            packages.as_array().unwrap().len(),
            cases.as_array().unwrap().len(),
        )
    }

    /// Asserts that importing `file` at this instance is refused with exit
    /// code 2, a message containing `why`, and no change to the records.
    fn refused(&self, admin: &str, file: &Path, why: &str) {
        let before = self.counts(admin);
        let (code, _, err) = self.run(
            Some("lo"),
            &["package", "import", file.to_str().unwrap()],
            None,
        );
        assert_eq!(code, 2, "expected refusal ({why}), got: {err}");
        assert!(err.contains(why), "expected {why:?} in: {err}");
        assert_eq!(self.counts(admin), before, "a refused import changed data");
    }
}

async fn pair() -> Vec<(Env, Env, tempfile::TempDir)> {
    let mut v = Vec::new();
    let dir = vigil_testkit::tempdir();
    let p = dir.path().to_path_buf();
    v.push((
        Env {
            db: p.join("a.db"),
            url: None,
            dir: p.clone(),
        },
        Env {
            db: p.join("b.db"),
            url: None,
            dir: p.clone(),
        },
        dir,
    ));
    if let (Some(ua), Some(ub)) = (
        vigil_testkit::fresh_postgres_url().await,
        vigil_testkit::fresh_postgres_url().await,
    ) {
        let dir = vigil_testkit::tempdir();
        let p = dir.path().to_path_buf();
        v.push((
            Env {
                db: p.join("unused-a.db"),
                url: Some(ua),
                dir: p.clone(),
            },
            Env {
                db: p.join("unused-b.db"),
                url: Some(ub),
                dir: p.clone(),
            },
            dir,
        ));
    }
    v
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-h").output().is_ok()
}

fn tool(dir: &Path, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A procedurally generated "image" (PNG signature + noise) in the test
/// directory: no package may contain any 32-byte window of it.
fn generated_image(dir: &Path) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..8192 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push((x >> 24) as u8);
    }
    std::fs::write(dir.join("seized-image.png"), &bytes).unwrap();
    bytes
}

#[tokio::test]
async fn two_agencies_exchange_leads_and_outcomes() {
    for (a, b, _dir) in pair().await {
        let d = a.dir.clone();
        let image = generated_image(&d);
        a.init("RCMP NCECC", "CA", "alice");
        b.init("NCA CEOP", "GB", "bob");

        // Keys: generate, export, exchange.
        a.ok("lo", &["keys", "generate"]);
        b.ok("bob", &["keys", "generate"]);
        a.ok("lo", &["keys", "export", "--out", "a.json"]);
        b.ok("lo", &["keys", "export", "--out", "b.json"]);
        // Escrow export is for administrators only.
        let (code, _, _) = b.run(
            Some("lo"),
            &["keys", "export", "--encryption-identity", "b-id-lo.txt"],
            None,
        );
        assert_ne!(code, 0, "a liaison officer may not export the identity");
        b.ok(
            "bob",
            &["keys", "export", "--encryption-identity", "b-id.txt"],
        );
        let imported = a.json("lo", &["keys", "import", "b.json"]);
        assert_eq!(imported["country"], "GB");
        let b_bundle =
            PublicBundle::from_json(&std::fs::read_to_string(d.join("b.json")).unwrap()).unwrap();
        assert_eq!(imported["fingerprint"], b_bundle.fingerprint().as_str());
        b.ok("lo", &["keys", "import", "a.json"]);
        let a_bundle =
            PublicBundle::from_json(&std::fs::read_to_string(d.join("a.json")).unwrap()).unwrap();
        let b_at_a = imported["agency_id"].as_i64().unwrap().to_string();

        // A's records: one released suspect in GB, one unreleased, one in CA.
        let case = a.id(
            "inv",
            &[
                "case",
                "create",
                "--title",
                "Room example",
                "--operation",
                "Op Hydrant",
            ],
        );
        let god = a.id(
            "inv",
            &[
                "person", "add", "--case", &case, "--role", "suspect", "--label", "G.O.D.",
            ],
        );
        a.ok(
            "inv",
            &[
                "person",
                "update",
                &god,
                "--country",
                "GB",
                "--release",
                &format!("to:agency={b_at_a}"),
            ],
        );
        a.ok(
            "inv",
            &[
                "identifier",
                "add",
                "--person",
                &god,
                "--kind",
                "email",
                "host.god@example.org",
            ],
        );
        a.ok(
            "inv",
            &[
                "identifier",
                "add",
                "--person",
                &god,
                "--kind",
                "ip",
                "198.51.100.23",
                "--first-seen",
                "2008-03-01T20:00:00Z",
            ],
        );
        let hidden = a.id(
            "inv",
            &[
                "person",
                "add",
                "--case",
                &case,
                "--role",
                "suspect",
                "--label",
                "Hidden Host",
            ],
        );
        a.ok("inv", &["person", "update", &hidden, "--country", "GB"]);
        a.ok(
            "inv",
            &[
                "identifier",
                "add",
                "--person",
                &hidden,
                "--kind",
                "email",
                "hidden.host@example.net",
            ],
        );
        let canuck = a.id(
            "inv",
            &[
                "person", "add", "--case", &case, "--role", "suspect", "--label", "Canuck",
            ],
        );
        a.ok(
            "inv",
            &[
                "person",
                "update",
                &canuck,
                "--country",
                "CA",
                "--release",
                "to:country=GB",
            ],
        );
        let phoned = a.id(
            "inv",
            &[
                "person", "add", "--case", &case, "--role", "suspect", "--label", "Phoner",
            ],
        );
        a.ok(
            "inv",
            &["person", "update", &phoned, "--release", "to:country=GB"],
        );
        a.ok(
            "inv",
            &[
                "identifier",
                "add",
                "--person",
                &phoned,
                "--kind",
                "phone",
                "+44 20 7946 0018",
            ],
        );

        // Attribution lists suspects by country with reasons and the database.
        let attr = a.json("inv", &["attribute", "--operation", "Op Hydrant"]);
        assert!(!attr["databases"].as_array().unwrap().is_empty());
        let by_label = |label: &str| {
            attr["persons"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["label"] == label)
                .cloned()
                .unwrap_or_else(|| panic!("{label} attributed"))
        };
        assert_eq!(by_label("G.O.D.")["country"], "GB");
        assert_eq!(by_label("Phoner")["country"], "GB");
        assert_eq!(by_label("Canuck")["country"], "CA");
        let email_sig = by_label("G.O.D.")["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "email_domain" && s["strength"] == "weak");
        // example.org has no ccTLD, so no e-mail signal; the person record is.
        assert!(!email_sig);
        // A liaison officer without case membership does not see them.
        let none = a.json("lo", &["attribute", "--operation", "Op Hydrant"]);
        assert!(none["persons"].as_array().unwrap().is_empty());
        // Investigators may not build packages.
        let (code, _, _) = a.run(
            Some("inv"),
            &[
                "package",
                "build",
                "--operation",
                "Op Hydrant",
                "--to",
                "NCA CEOP",
            ],
            None,
        );
        assert_ne!(code, 0);

        let built = a.json(
            "lo",
            &[
                "package",
                "build",
                "--operation",
                "Op Hydrant",
                "--country",
                "GB",
                "--out",
                "leads.vigil",
            ],
        );
        assert_eq!(built["state"], "sent");
        // G.O.D. and Phoner (attributed to GB, released) and Canuck (in CA, but
        // explicitly released to GB); not Hidden Host (attributed, unreleased).
        assert_eq!(built["summary"]["persons"], 3, "{built}");
        assert_eq!(built["summary"]["attributed_but_not_released"], 1);
        let pkg = std::fs::read(d.join("leads.vigil")).unwrap();
        assert!(
            !vigil_share::contains_window(&pkg, &image, 32),
            "package holds media bytes"
        );

        // The real tools verify A's signature and decrypt with B's identity.
        if ["tar", "age", "minisign"].iter().all(|t| have(t)) {
            let x = d.join("x");
            std::fs::create_dir_all(&x).unwrap();
            std::fs::copy(d.join("leads.vigil"), x.join("p.tar")).unwrap();
            std::fs::copy(d.join("b-id.txt"), x.join("id.txt")).unwrap();
            tool(&x, "tar", &["-xf", "p.tar"]);
            let v = tool(
                &x,
                "minisign",
                &[
                    "-Vm",
                    "manifest.json",
                    "-x",
                    "manifest.json.minisig",
                    "-P",
                    a_bundle.minisign_public_key_base64(),
                ],
            );
            assert!(
                v.contains("Signature and comment signature verified"),
                "{v}"
            );
            tool(
                &x,
                "age",
                &["-d", "-i", "id.txt", "-o", "inner.tar", "payload.age"],
            );
            tool(&x, "tar", &["-xf", "inner.tar"]);
            let v = tool(
                &x,
                "minisign",
                &[
                    "-Vm",
                    "payload",
                    "-x",
                    "payload.minisig",
                    "-P",
                    a_bundle.minisign_public_key_base64(),
                ],
            );
            assert!(
                v.contains("Signature and comment signature verified"),
                "{v}"
            );
            let payload = std::fs::read(x.join("payload")).unwrap();
            assert!(!vigil_share::contains_window(&payload, &image, 32));
            let content: Value = serde_json::from_slice(&payload).unwrap();
            let labels: Vec<&str> = content["persons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["label"].as_str().unwrap())
                .collect();
            assert_eq!(labels.len(), 3);
            assert!(labels.contains(&"Canuck") && !labels.contains(&"Hidden Host"));
            assert!(
                labels.contains(&"G.O.D.") && labels.contains(&"Phoner"),
                "{labels:?}"
            );
            let values: Vec<&str> = content["persons"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|p| p["identifiers"].as_array().unwrap())
                .map(|i| i["raw"].as_str().unwrap())
                .collect();
            assert!(values.contains(&"host.god@example.org"));
            assert!(
                !values.contains(&"hidden.host@example.net"),
                "unreleased identifier leaked"
            );
        } else {
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 SKIPPED: real age/minisign checks: tools missing \
                 (apt-get install age minisign)\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
        }

        // Refusals at B before the real import: tampered, unknown sender,
        // not for us, malformed content.
        let mut bad = pkg.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x01;
        std::fs::write(d.join("tampered.vigil"), &bad).unwrap();
        b.refused("bob", &d.join("tampered.vigil"), "refused");

        let rogue = AgencyKeys::generate("Rogue Unit", CountryCode::parse("CA").unwrap()).unwrap();
        let forged = vigil_share::seal(
            b"{}",
            &ManifestFields::new(PackageKind::Leads),
            &rogue,
            &b_bundle,
        )
        .unwrap();
        std::fs::write(d.join("forged.vigil"), &forged).unwrap();
        b.refused("bob", &d.join("forged.vigil"), "unknown sender");

        let third =
            AgencyKeys::generate("Third Agency", CountryCode::parse("FR").unwrap()).unwrap();
        std::fs::write(d.join("rogue.json"), rogue.public_bundle().to_json()).unwrap();
        b.ok("lo", &["keys", "import", "rogue.json"]);
        let elsewhere = vigil_share::seal(
            b"{}",
            &ManifestFields::new(PackageKind::Leads),
            &rogue,
            third.public_bundle(),
        )
        .unwrap();
        std::fs::write(d.join("elsewhere.vigil"), &elsewhere).unwrap();
        b.refused("bob", &d.join("elsewhere.vigil"), "not to us");
        let malformed = vigil_share::seal(
            br#"{"version":1,"kind":"leads","extra":true}"#,
            &ManifestFields::new(PackageKind::Leads),
            &rogue,
            &b_bundle,
        )
        .unwrap();
        std::fs::write(d.join("malformed.vigil"), &malformed).unwrap();
        b.refused("bob", &d.join("malformed.vigil"), "malformed content");

        // The real import, then a replay.
        let imp = b.json("lo", &["package", "import", "leads.vigil"]);
        assert_eq!(imp["persons_added"], 3, "{imp}");
        assert_eq!(imp["identifiers_added"], 3, "{imp}");
        let case_b = imp["package"]["case_id"].as_i64().unwrap();
        let shown = b.json("bob", &["case", "show", &case_b.to_string()]);
        assert_eq!(
            shown["case"]["title"],
            "Received from RCMP NCECC — Op Hydrant"
        );
        let god_b = shown["persons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["label"] == "G.O.D.")
            .unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string();
        let god_detail = b.json("bob", &["person", "show", &god_b]);
        assert!(
            god_detail["person"]["source"]
                .as_str()
                .unwrap()
                .starts_with("package:")
        );
        b.refused("bob", &d.join("leads.vigil"), "already imported");

        // B records outcomes and sends them back.
        b.ok(
            "bob",
            &[
                "event",
                "add",
                "--person",
                &god_b,
                "--kind",
                "arrest",
                "--date",
                "2026-01-10",
                "--country",
                "GB",
            ],
        );
        b.ok(
            "bob",
            &[
                "event",
                "add",
                "--person",
                &god_b,
                "--kind",
                "child-safeguarded",
                "--date",
                "2026-01-10",
                "--country",
                "GB",
            ],
        );
        let before = a.json("alice", &["package", "counts", "--operation", "Op Hydrant"]);
        assert_eq!(before["total"]["arrested"], 0);
        assert_eq!(before["total"]["suspects_identified"], 4);
        let sent = b.json(
            "lo",
            &[
                "package",
                "outcomes",
                "--to",
                "RCMP NCECC",
                "--out",
                "outcomes.vigil",
            ],
        );
        assert_eq!(sent["summary"]["outcomes"], 2);
        // Nothing new: a second outcomes package is refused.
        let (code, _, err) = b.run(
            Some("lo"),
            &[
                "package",
                "outcomes",
                "--to",
                "RCMP NCECC",
                "--out",
                "again.vigil",
            ],
            None,
        );
        assert_eq!(code, 2, "{err}");
        let got = a.json("lo", &["package", "import", "outcomes.vigil"]);
        assert_eq!(got["events_added"], 2, "{got}");
        let after = a.json("alice", &["package", "counts", "--operation", "Op Hydrant"]);
        assert_eq!(after["by_country"]["GB"]["arrested"], 1, "{after}");
        assert_eq!(after["by_country"]["GB"]["children_safeguarded"], 1);
        assert_eq!(after["total"]["arrested"], 1);
        let list = a.json("lo", &["package", "list"]);
        let leads = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "leads")
            .unwrap();
        assert_eq!(leads["state"], "outcomes-received");
        let god_a = a.json("alice", &["person", "show", &god]);
        assert_eq!(god_a["events"].as_array().unwrap().len(), 2);
        a.refused("alice", &d.join("outcomes.vigil"), "already imported");
    }
}

/// An irssi log: darkfox (released to B below) gives an e-mail address;
/// nightowl (not released) talks to him.
const HIDEOUT_LOG: &str = "--- Log opened Mon Mar 02 23:39:58 2009
23:40 -!- darkfox [~fox@192.0.2.10] has joined #hideout
23:41 <darkfox> ty. mail me at fox.trader@example.co.uk
23:42 < nightowl> darkfox: got the new set? owl.private@example.net
23:43  * darkfox checks the folder
--- Log closed Mon Mar 02 23:50:00 2009
";

/// Verifies and decrypts `pkg` with the recipient's own keys, read from its
/// database the way `vigil package import` reads them.
async fn decrypt_as(env: &Env, pkg: &[u8], sender: &PublicBundle) -> Vec<u8> {
    let store = match &env.url {
        Some(u) => vigil_store::Store::open_postgres(u).await.unwrap(),
        None => vigil_store::Store::open_sqlite(&env.db).await.unwrap(),
    };
    let p = store.principal("lo").await.unwrap();
    let secret = store
        .agency_secret(&p, vigil_store::KeyUse::Open)
        .await
        .unwrap();
    let keys = AgencyKeys::from_secret_json(&secret.secret_json).unwrap();
    vigil_share::open(pkg, keys.identity(), keys.public_bundle(), |fp| {
        (fp == sender.fingerprint()).then(|| sender.clone())
    })
    .unwrap()
    .payload
}

#[tokio::test]
async fn packages_carry_chat_excerpts_and_hash_matches_and_acks_round_trip() {
    for (a, b, _dir) in pair().await {
        let d = a.dir.clone();
        let image = generated_image(&d);
        let dev = d.join("device");
        std::fs::create_dir_all(dev.join("DCIM")).unwrap();
        std::fs::write(dev.join("DCIM").join("IMG_0001.png"), &image).unwrap();
        std::fs::write(d.join("hideout.log"), HIDEOUT_LOG).unwrap();
        a.init("RCMP NCECC", "CA", "alice");
        b.init("NCA CEOP", "GB", "bob");
        a.ok(
            "alice",
            &[
                "user",
                "add",
                "erin",
                "--roles",
                "forensic-examiner,supervisor",
            ],
        );
        a.ok("lo", &["keys", "generate"]);
        b.ok("lo", &["keys", "generate"]);
        a.ok("lo", &["keys", "export", "--out", "a.json"]);
        b.ok("lo", &["keys", "export", "--out", "b.json"]);
        let b_at_a = a.json("lo", &["keys", "import", "b.json"])["agency_id"]
            .as_i64()
            .unwrap()
            .to_string();
        b.ok("lo", &["keys", "import", "a.json"]);
        let a_bundle =
            PublicBundle::from_json(&std::fs::read_to_string(d.join("a.json")).unwrap()).unwrap();

        let case = a.id(
            "inv",
            &[
                "case",
                "create",
                "--title",
                "Hideout",
                "--operation",
                "Op Hydrant",
            ],
        );
        a.ok("inv", &["case", "add-member", &case, "erin"]);
        a.ok("inv", &["chat", "import", "hideout.log", "--case", &case]);
        let persons = a.json("inv", &["person", "list", "--case", &case]);
        let id_of = |label: &str| {
            persons
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["label"] == label)
                .unwrap_or_else(|| panic!("{label} imported: {persons}"))["id"]
                .as_i64()
                .unwrap()
                .to_string()
        };
        let (fox, owl) = (id_of("darkfox"), id_of("nightowl"));
        a.ok(
            "inv",
            &[
                "person",
                "update",
                &fox,
                "--country",
                "GB",
                "--release",
                &format!("to:agency={b_at_a}"),
            ],
        );
        a.ok("inv", &["person", "update", &owl, "--country", "GB"]);

        // darkfox's seized device: a real scan of the generated image, its
        // hash in a set, matched.
        let scan = a.ok(
            "erin",
            &[
                "--json",
                "scan",
                dev.to_str().unwrap(),
                "--case",
                &case,
                "--device",
                "fox laptop",
                "--person",
                &fox,
                "--report",
                "report.jsonl",
            ],
        );
        let scan: Value = scan
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["scan"].is_i64())
            .unwrap_or_else(|| panic!("scan summary in: {scan}"));
        let report = std::fs::read_to_string(d.join("report.jsonl")).unwrap();
        let item: Value = report
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|v| {
                v["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("IMG_0001.png"))
            })
            .expect("image in the scan report");
        let md5 = item["md5"].as_str().unwrap().to_string();
        std::fs::write(
            d.join("known.csv"),
            format!("media_id,md5,category\n1,{md5},1\n"),
        )
        .unwrap();
        a.ok(
            "erin",
            &[
                "hashset",
                "import",
                "known.csv",
                "--name",
                "known",
                "--scheme",
                "project-vic-us",
            ],
        );
        let scan_id = scan["scan"].as_i64().unwrap().to_string();
        a.ok("erin", &["match", "--scan", &scan_id]);

        let built = a.json(
            "lo",
            &[
                "package",
                "build",
                "--operation",
                "Op Hydrant",
                "--to",
                "NCA CEOP",
                "--out",
                "leads.vigil",
            ],
        );
        // Written out: sent.
        assert_eq!(built["state"], "sent", "{built}");
        assert!(built["sent_at"].is_string());
        assert_eq!(built["summary"]["persons"], 1, "{built}");
        assert_eq!(built["summary"]["chat_excerpts"], 2, "{built}");
        assert_eq!(built["summary"]["hash_matches"], 1, "{built}");
        let lead_uid = built["package_uid"].as_str().unwrap().to_string();
        let pkg = std::fs::read(d.join("leads.vigil")).unwrap();
        assert!(!vigil_share::contains_window(&pkg, &image, 32));

        // The decrypted payload: darkfox's lines and match, nothing of
        // nightowl, no byte of the image, no file path.
        let payload = decrypt_as(&b, &pkg, &a_bundle).await;
        assert!(
            !vigil_share::contains_window(&payload, &image, 32),
            "payload holds media bytes"
        );
        let text = String::from_utf8(payload.clone()).unwrap();
        let content: Value = serde_json::from_slice(&payload).unwrap();
        let chat = content["sections"]["chat_excerpts"].as_array().unwrap();
        let lines: Vec<&str> = chat.iter().map(|x| x["text"].as_str().unwrap()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("fox.trader@example.co.uk")));
        assert!(lines.iter().any(|l| l.contains("checks the folder")));
        assert!(!text.contains("got the new set") && !text.contains("owl.private"));
        assert!(!text.contains("nightowl"));
        let hashes = content["sections"]["hash_matches"].as_array().unwrap();
        assert_eq!(hashes.len(), 1);
        assert_eq!(hashes[0]["md5"], md5.to_ascii_lowercase());
        assert_eq!(hashes[0]["category"], "csam");
        assert!(!text.contains("IMG_0001") && !text.contains("DCIM"));

        // B imports and acknowledges in one go.
        let imp = b.json(
            "lo",
            &["package", "import", "leads.vigil", "--ack-out", "ack.vigil"],
        );
        assert_eq!(imp["chat_excerpts_added"], 2, "{imp}");
        assert_eq!(imp["hash_matches_added"], 1, "{imp}");
        assert_eq!(imp["ack"]["kind"], "ack");
        assert_eq!(imp["ack"]["state"], "sent");
        let state = |env: &Env| -> Value {
            env.json("lo", &["package", "list"])
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["package_uid"] == lead_uid.as_str())
                .cloned()
                .unwrap()
        };
        assert_eq!(state(&a)["state"], "sent");
        assert!(state(&a)["acknowledged_at"].is_null());
        let acked = a.json("lo", &["package", "import", "ack.vigil"]);
        assert_eq!(acked["package_uid"], lead_uid.as_str());
        assert_eq!(acked["state"], "acknowledged");
        assert!(state(&a)["acknowledged_at"].is_string());
        // The table shows the states and times too.
        let table = a.ok("lo", &["package", "list"]);
        assert!(table.contains("acknowledged") && table.contains("sent"));
        // A replayed ack is refused and changes nothing.
        a.refused("alice", &d.join("ack.vigil"), "already imported");
        // An ack from an unregistered key is refused.
        let rogue = AgencyKeys::generate("Rogue Unit", CountryCode::parse("GB").unwrap()).unwrap();
        let a_bundle_json = std::fs::read_to_string(d.join("a.json")).unwrap();
        let forged = vigil_share::seal(
            br#"{}"#,
            &ManifestFields::new(PackageKind::Ack),
            &rogue,
            &PublicBundle::from_json(&a_bundle_json).unwrap(),
        )
        .unwrap();
        std::fs::write(d.join("forged-ack.vigil"), &forged).unwrap();
        a.refused("alice", &d.join("forged-ack.vigil"), "unknown sender");
        // A second, explicit acknowledgement: accepted, state unchanged.
        let again = b.json("lo", &["package", "ack", &lead_uid, "--out", "ack2.vigil"]);
        assert_eq!(again["in_reply_to"], lead_uid.as_str());
        let acked = a.json("lo", &["package", "import", "ack2.vigil"]);
        assert_eq!(acked["state"], "acknowledged");
        // B cannot acknowledge a package it never received.
        let (code, _, err) = b.run(
            Some("lo"),
            &["package", "ack", "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0fff"],
            None,
        );
        assert_eq!(code, 2, "{err}");
    }
}

/// Runs `vigil` as `user` with `VIGIL_KEY_PASSPHRASE` set (or removed).
fn with_pass(env: &Env, user: &str, pass: Option<&str>, args: &[&str]) -> (i32, String) {
    let mut c = env.cmd(Some(user), args);
    match pass {
        Some(p) => c.env("VIGIL_KEY_PASSPHRASE", p),
        None => c.env_remove("VIGIL_KEY_PASSPHRASE"),
    };
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn secret_keys_are_encrypted_at_rest_with_the_passphrase() {
    for (a, _b, _dir) in pair().await {
        a.init("RCMP NCECC", "CA", "alice");
        let pass = Some("an example key passphrase");
        let (code, err) = with_pass(&a, "lo", pass, &["keys", "generate"]);
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("unencrypted"), "{err}");
        // What the database holds is age armor, not the keys.
        let store = match &a.url {
            Some(u) => vigil_store::Store::open_postgres(u).await.unwrap(),
            None => vigil_store::Store::open_sqlite(&a.db).await.unwrap(),
        };
        let p = store.principal("lo").await.unwrap();
        let stored = store
            .agency_secret(&p, vigil_store::KeyUse::Open)
            .await
            .unwrap()
            .secret_json;
        assert!(stored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!stored.contains("AGE-SECRET-KEY"));
        drop(store);
        // Using the keys needs the passphrase.
        let (code, err) = with_pass(
            &a,
            "alice",
            None,
            &["keys", "export", "--encryption-identity", "id-none.txt"],
        );
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("VIGIL_KEY_PASSPHRASE"), "{err}");
        let (code, err) = with_pass(
            &a,
            "alice",
            Some("not the passphrase"),
            &["keys", "export", "--encryption-identity", "id-wrong.txt"],
        );
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("wrong key-encryption passphrase"), "{err}");
        let (code, err) = with_pass(
            &a,
            "alice",
            pass,
            &["keys", "export", "--encryption-identity", "id.txt"],
        );
        assert_eq!(code, 0, "{err}");
        let id = std::fs::read_to_string(a.dir.join("id.txt")).unwrap();
        assert!(id.contains("AGE-SECRET-KEY-1"));
        // Protected keys sign audit checkpoints given the passphrase, and
        // say what is missing without it (they used to be read as clear
        // JSON, so automatic checkpoints silently stopped).
        let (code, err) = with_pass(&a, "alice", None, &["audit", "checkpoint"]);
        assert_ne!(code, 0, "{err}");
        assert!(err.contains("VIGIL_KEY_PASSPHRASE"), "{err}");
        let (code, err) = with_pass(&a, "alice", pass, &["audit", "checkpoint"]);
        assert_eq!(code, 0, "{err}");
        let v = a.json("alice", &["audit", "verify"]);
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["checkpoints"], 1, "{v}");
        // Keys generated without the passphrase still work, with a warning.
        let (code, err) = with_pass(&a, "lo", None, &["keys", "generate"]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("unencrypted"), "{err}");
    }
}
