//! A real browser against the real server: headless Chromium driven through
//! chromedriver's WebDriver protocol (`vigil_testkit::webdriver`, spoken
//! directly over a TCP socket so the test needs no client library). It
//! signs in, opens the dashboard, a case, a person and an identifier lookup,
//! checks what an officer would see, uses the keyboard to reach the main
//! content, and saves screenshots to `target/screenshots/`.
//!
//! Skipped, loudly, when `chromium` or `chromedriver` is not installed
//! (Debian packages `chromium` and `chromium-driver`).

use std::path::Path;

use serde_json::{Value, json};
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Release};
use vigil_store::Store;
use vigil_testkit::webdriver::{Driver, browsers};

const PW: &str = "correct horse battery";

async fn seed(store: &Store) -> (i64, i64) {
    let admin = store
        .init(
            "Toronto Police Service",
            "CA",
            Some("cet-desk@example.ca"),
            "admin",
            PW,
        )
        .await
        .unwrap();
    store
        .add_agency(&admin, "NCA CEOP", "GB", Some("ceop-liaison@example.uk"))
        .await
        .unwrap();
    store
        .add_user(
            &admin,
            "ofc.martin",
            None,
            "investigator,supervisor",
            Some(PW),
        )
        .await
        .unwrap();
    store
        .add_user(
            &admin,
            "dc.hughes",
            Some("NCA CEOP"),
            "investigator",
            Some(PW),
        )
        .await
        .unwrap();
    let me = store.principal("ofc.martin").await.unwrap();
    let uk = store.principal("dc.hughes").await.unwrap();
    let case = store
        .create_case(
            &me,
            "Room #nightjar undercover capture",
            Some("Op Heron"),
            &Release::Operation,
            "test",
        )
        .await
        .unwrap();
    store
        .create_case(
            &me,
            "Host device triage",
            Some("Op Heron"),
            &Release::Agency,
            "test",
        )
        .await
        .unwrap();
    let uk_case = store
        .create_case(
            &uk,
            "Son of God room host",
            Some("Op Heron"),
            &Release::Agency,
            "test",
        )
        .await
        .unwrap();
    let handles = [
        ("G.O.D.", "CA"),
        ("n1ghtowl", "US"),
        ("blue_fox", "GB"),
        ("kestrel77", "DE"),
        ("quietman", "AU"),
        ("mothwing", "US"),
    ];
    let mut first = 0;
    for (i, (h, country)) in handles.iter().enumerate() {
        let p = store
            .add_person(
                &me,
                case.id,
                &NewPerson::parse("suspect", h).unwrap(),
                "test",
            )
            .await
            .unwrap();
        if i == 0 {
            first = p.id;
        }
        let mut ident = NewIdentifier::parse("handle", h).unwrap();
        ident.network = Some("irc.example.net".into());
        store
            .add_identifier(&me, p.id, &ident, "test")
            .await
            .unwrap();
        store
            .add_identifier(
                &me,
                p.id,
                &NewIdentifier::parse("email", &format!("{}@example.net", h.replace('.', "")))
                    .unwrap(),
                "test",
            )
            .await
            .unwrap();
        let kinds: &[&str] = match i % 3 {
            0 => &["arrest", "charge", "conviction"],
            1 => &["arrest", "charge"],
            _ => &["arrest"],
        };
        for (k, kind) in kinds.iter().enumerate() {
            let date = format!("2026-{:02}-{:02}", 1 + (i + k * 2) % 9, 3 + i);
            store
                .add_event(
                    &me,
                    p.id,
                    &NewEvent::parse(kind, &date, country).unwrap(),
                    "test",
                )
                .await
                .unwrap();
        }
    }
    let victim = store
        .add_person(
            &me,
            case.id,
            &NewPerson::parse("victim", "Victim 1").unwrap(),
            "test",
        )
        .await
        .unwrap();
    store
        .add_event(
            &me,
            victim.id,
            &NewEvent::parse("child-safeguarded", "2026-04-11", "CA").unwrap(),
            "test",
        )
        .await
        .unwrap();
    store
        .add_note(
            &me,
            case.id,
            Some(first),
            "Admin of the room since March; offers trades in private messages.",
            "test",
        )
        .await
        .unwrap();
    // Agency B holds an identifier it has not released: a blind hit for A.
    let host = store
        .add_person(
            &uk,
            uk_case.id,
            &NewPerson::parse("suspect", "SonOfGod").unwrap(),
            "test",
        )
        .await
        .unwrap();
    store
        .add_identifier(
            &uk,
            host.id,
            &NewIdentifier::parse("email", "god@example.net").unwrap(),
            "test",
        )
        .await
        .unwrap();
    (case.id, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_uses_the_web_application_in_chromium() {
    let Some((chromium, chromedriver)) = browsers() else {
        eprintln!(
            "\n*** SKIPPED browser test: chromium and/or chromedriver not installed \
             (apt-get install chromium chromium-driver) ***\n"
        );
        return;
    };
    let dir = vigil_testkit::tempdir();
    let store = Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    let (case_id, person_id) = seed(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = vigil_server::Config {
        secure_cookies: false,
        session_ttl_seconds: 600,
        search_dir: None,
    };
    tokio::spawn(vigil_server::serve(store.clone(), config, listener));

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = vigil_testkit::tempdir();

    let driver = tokio::task::spawn_blocking(move || {
        let d = Driver::launch(&chromium, &chromedriver, profile.path());
        let base = format!("http://127.0.0.1:{port}");

        // Anonymous: sent to the sign-in page.
        d.go(&format!("{base}/cases"));
        assert!(
            d.wait_title("Sign in").starts_with("Sign in"),
            "{}",
            d.wait_title("")
        );
        d.screenshot(&shots, "01-sign-in");
        d.type_into("#user", "ofc.martin");
        d.type_into("#password", PW);
        d.click("button[type=submit]");
        assert!(
            d.wait_title("Dashboard").starts_with("Dashboard"),
            "signed in: {}",
            d.wait_title("")
        );
        let dash = d.wait_for("children safeguarded");
        assert!(dash.contains("children safeguarded"));
        assert!(dash.contains("Room #nightjar undercover capture"));
        assert!(dash.contains("<svg"), "charts");
        assert!(!dash.contains("<img"));
        d.screenshot(&shots, "02-dashboard");

        // Keyboard: the first Tab reaches the skip link, which leads to main.
        d.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "kb", "actions": [
            {"type": "keyDown", "value": "\u{E004}"}, {"type": "keyUp", "value": "\u{E004}"}]}]})),
        );
        let active = d.cmd("GET", "/element/active", None);
        let el = active
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let text = d.cmd("GET", &format!("/element/{el}/text"), None);
        assert_eq!(text.as_str(), Some("Skip to content"));

        d.go(&format!("{base}/cases"));
        d.screenshot(&shots, "03-cases");
        d.go(&format!("{base}/cases/{case_id}"));
        assert!(d.source().contains("n1ghtowl"));
        d.screenshot(&shots, "04-case");
        d.go(&format!("{base}/persons/{person_id}"));
        let person = d.source();
        assert!(person.contains("Timeline") && person.contains("conviction"));
        d.type_into("#note", "Confirmed as room admin from the 12 March log.");
        d.click("form.stack button[type=submit]");
        assert!(
            d.wait_for("Confirmed as room admin")
                .contains("Confirmed as room admin"),
            "note saved through the CSRF-protected form"
        );
        d.screenshot(&shots, "05-person");
        d.go(&format!("{base}/lookup"));
        d.type_into("#value", "GOD@example.net");
        d.click("form.search button[type=submit]");
        let lookup = d.wait_for("Also held by");
        assert!(lookup.contains("Also held by NCA CEOP"), "blind hit");
        assert!(lookup.contains("ceop-liaison@example.uk"));
        assert!(
            !lookup.contains("SonOfGod"),
            "no details of the unreleased record"
        );
        d.screenshot(&shots, "06-lookup");
        // The network chart: graph.js writes the counts into the status
        // line only after Cytoscape.js has drawn, so this proves both load
        // and run under the CSP (same-origin scripts, nothing inline).
        d.go(&format!("{base}/graph"));
        let graph = d.wait_for("Select a node for details");
        assert!(
            graph.contains("Select a node for details"),
            "Cytoscape.js rendered: {graph}"
        );
        assert!(graph.contains("<canvas"), "drawn on canvas");
        assert!(
            !graph.contains("SonOfGod"),
            "no other agency's unreleased record in the graph"
        );
        d.screenshot(&shots, "06b-graph");
        d.go(&format!("{base}/alerts"));
        let alerts = d.wait_for("De-confliction alerts");
        assert!(alerts.contains("De-confliction alerts"));
        assert!(!alerts.contains("SonOfGod"), "blind hits only");
        d.screenshot(&shots, "06a-alerts");
        d.go(&format!("{base}/dissemination"));
        let dis = d.wait_for("Attribution by country");
        assert!(dis.contains("Attribution by country") && dis.contains("<svg"));
        assert!(!dis.contains("<img"));
        d.screenshot(&shots, "06c-dissemination");
        d.go(&format!("{base}/audit"));
        assert!(d.source().contains("Chain verified"));
        d.screenshot(&shots, "07-audit");
        d.click("header form button[type=submit]");
        assert!(d.wait_title("Sign in").starts_with("Sign in"), "signed out");
    })
    .await;
    if let Err(e) = driver {
        std::panic::resume_unwind(e.into_panic());
    }
    store.close().await;
}
