//! The whole story in a real browser: `vigil demo` generates the synthetic
//! operation and serves it, and headless Chromium signs in as the demo
//! officer, opens the outcomes dashboard, searches the chat rooms, opens a
//! person with a candidate link, draws the offender network and looks at the
//! scans and the dissemination page — saving a screenshot of each to
//! `target/screenshots/story/`.
//!
//! This is issue 10's acceptance walk. It runs the demo at its small scale
//! (the same pipelines on fewer suspects) so it fits the test budget.
//! Skipped, loudly, when `chromium` or `chromedriver` is not installed
//! (Debian packages `chromium` and `chromium-driver`).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_testkit::webdriver::{Driver, browsers};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_USER")
        .env_remove("VIGIL_DATABASE_URL")
        .env_remove("VIGIL_DB")
        .env_remove("VIGIL_KEY_PASSPHRASE");
    c
}

fn json_of(c: &mut Command) -> Value {
    let out = c.output().expect("run vigil");
    assert!(
        out.status.success(),
        "vigil failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The demo server, stopped when the test ends (even when it fails).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `%`-encodes a query value (the operation name has spaces and brackets).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn an_officer_walks_the_demo_story_in_chromium() {
    let Some((chromium, chromedriver)) = browsers() else {
        eprintln!(
            "\n*** SKIPPED story browser test: chromium and/or chromedriver not installed \
             (apt-get install chromium chromium-driver) ***\n"
        );
        return;
    };
    let dir = vigil_testkit::tempdir();
    let db = dir.path().join("demo.db");

    // Generate the story and run every pipeline on it.
    let summary = json_of(
        vigil()
            .args(["demo", "--no-serve", "--json", "--scale", "small", "--db"])
            .arg(&db),
    );
    let user = summary["demo"]["sign_in"]["user"]
        .as_str()
        .expect("sign-in user")
        .to_string();
    let password = summary["demo"]["sign_in"]["password"]
        .as_str()
        .expect("sign-in password")
        .to_string();
    let operation = summary["demo"]["operation"]
        .as_str()
        .expect("operation")
        .to_string();
    let top_player = summary["pipelines"]["graph"]["top_player"]
        .as_str()
        .expect("the key-players report ran")
        .to_string();

    // A person with an open candidate link, as the analyst's list shows it.
    let candidates =
        json_of(
            vigil()
                .arg("--db")
                .arg(&db)
                .args(["--as", &user, "--json", "link", "candidates"]),
        );
    let open = candidates
        .as_array()
        .and_then(|c| c.iter().find(|c| c["status"] == "open"))
        .expect("the demo has an open candidate link");
    let person = open["person_a"]["id"].as_i64().expect("person id");
    let other = open["person_b"]["label"]
        .as_str()
        .expect("label")
        .to_string();

    // Serve it: a second `vigil demo` on the same database serves without
    // regenerating.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let log = std::fs::File::create(dir.path().join("serve.log")).expect("log file");
    let _server = Server(
        vigil()
            .args(["demo", "--addr", &format!("127.0.0.1:{port}"), "--db"])
            .arg(&db)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start vigil demo"),
    );
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the demo server did not start: {}",
            std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots/story");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let profile = vigil_testkit::tempdir();
    let d = Driver::launch(&chromium, &chromedriver, profile.path());
    let base = format!("http://127.0.0.1:{port}");

    // Sign in.
    d.go(&format!("{base}/"));
    assert!(d.wait_title("Sign in").starts_with("Sign in"));
    d.type_into("#user", &user);
    d.type_into("#password", &password);
    d.click("button[type=submit]");
    assert!(
        d.wait_title("Dashboard").starts_with("Dashboard"),
        "signed in: {}",
        d.wait_title("")
    );

    // The outcomes dashboard: counts, charts, outcomes received back.
    let dash = d.wait_for("children safeguarded");
    assert!(dash.contains("children safeguarded"), "outcome counts");
    assert!(dash.contains(&operation), "the demo operation");
    assert!(dash.contains("<svg"), "charts");
    assert!(!dash.contains("<img"), "never an image");
    d.screenshot(&shots, "01-dashboard");

    // Chat search with highlighted hits.
    d.go(&format!("{base}/chat?q=skype"));
    let chat = d.wait_for("<mark>");
    assert!(chat.contains("<mark>"), "highlighted hits");
    assert!(chat.to_lowercase().contains("skype"));
    d.screenshot(&shots, "02-chat-search");

    // A person with a candidate link and its evidence.
    d.go(&format!("{base}/persons/{person}"));
    let page = d.wait_for("Candidate links");
    assert!(page.contains("Candidate links"));
    assert!(page.contains(&other), "the candidate's other person");
    assert!(page.contains("Accept"), "the decision form");
    d.screenshot(&shots, "03-person-candidate");

    // The offender network, drawn by Cytoscape.js, with its key players.
    d.go(&format!("{base}/graph?operation={}", encode(&operation)));
    let graph = d.wait_for("Select a node for details");
    assert!(graph.contains("Select a node for details"), "drawn");
    assert!(graph.contains("<canvas"), "on a canvas");
    assert!(graph.contains(&top_player), "key players");
    d.screenshot(&shots, "04-graph");

    // Scans: counts by category, never an image.
    d.go(&format!("{base}/scans"));
    let scans = d.wait_for("Scans");
    assert!(!scans.contains("<img"), "never an image");
    d.screenshot(&shots, "05-scans");

    // Dissemination: suspects by country and the packages.
    d.go(&format!(
        "{base}/dissemination?operation={}",
        encode(&operation)
    ));
    let dis = d.wait_for("Attribution by country");
    assert!(dis.contains("Attribution by country") && dis.contains("<svg"));
    d.screenshot(&shots, "06-dissemination");
}
