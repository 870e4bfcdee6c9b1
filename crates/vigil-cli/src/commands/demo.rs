//! `vigil demo`: the whole story in one command. It generates the synthetic
//! operation (`vigil-demo`), runs every pipeline on it through the very
//! commands officers run — each step is a command line parsed by the same
//! grammar as `vigil`'s and handed to [`super::dispatch`] with an output that
//! captures the `--json` documents instead of printing them — and then
//! serves the web application. Parsing real command lines (rather than
//! building `Command` values) keeps every option a step does not name at
//! its default, as it would be for an officer.
//!
//! Only three steps call the store directly, with the exact calls their
//! commands make: `init` and `user add`, whose commands read passwords from
//! standard input, and nothing else. The partner agency of the package round
//! trip is a second SQLite database beside the first (`<db>.partner.db`),
//! its own Vigil instance in everything but the process.
//!
//! A database is recognised as a demo by its local agency and demo user; a
//! finished demo leaves `<db>.demo/summary.json`. `vigil demo` never writes
//! into any other database.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::{Args, Parser};
use serde_json::{Value, json};
use vigil_demo::{
    DEMO_AGENCY, DEMO_PASSWORD, DEMO_USER, HOST_NEW, HOST_OLD, Manifest, Scale, Subject,
};
use vigil_store::Store;

use crate::UsageError;
use crate::cli::{Cli, Command, Global};
use crate::output::Output;

/// `vigil` arguments as the shell would pass them.
macro_rules! argv {
    ($($a:expr),* $(,)?) => {
        vec![$(std::ffi::OsString::from($a)),*]
    };
}

/// Parses a command line with `vigil`'s own grammar.
fn cli(args: Vec<std::ffi::OsString>) -> Result<Command> {
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let full = std::iter::once(std::ffi::OsString::from("vigil")).chain(args);
    Cli::try_parse_from(full)
        .map(|c| c.command)
        .map_err(|e| anyhow!("demo step `vigil {}` does not parse: {e}", shown.join(" ")))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to serve the web application on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Run the pipelines (or find the existing demo) and exit.
    #[arg(long)]
    pub no_serve: bool,
    /// Seed of the generated operation: the same seed, the same story.
    #[arg(long, default_value_t = 2009)]
    pub seed: u64,
    /// `full` (the story) or `small` (for tests).
    #[arg(long, default_value = "full", hide = true)]
    pub scale: String,
}

/// `<db>` + suffix, beside the database.
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

enum Existing {
    Fresh,
    Demo,
    Other,
}

async fn existing(db: &Path) -> Existing {
    match std::fs::metadata(db) {
        Err(_) => return Existing::Fresh,
        Ok(m) if m.len() == 0 => return Existing::Fresh,
        Ok(_) => {}
    }
    let Ok(store) = Store::open_sqlite(db).await else {
        return Existing::Other;
    };
    let demo = matches!(store.principal(DEMO_USER).await, Ok(p) if p.agency_name == DEMO_AGENCY);
    store.close().await;
    if demo {
        Existing::Demo
    } else {
        Existing::Other
    }
}

pub async fn demo(g: &Global, out: &Output, args: DemoArgs) -> Result<()> {
    if g.database_url.is_some() {
        return Err(UsageError(
            "vigil demo builds SQLite databases: pass --db FILE, not --database-url".into(),
        )
        .into());
    }
    let scale = Scale::parse(&args.scale)
        .ok_or_else(|| UsageError(format!("--scale {:?}: expected full or small", args.scale)))?;
    let work = beside(&g.db, ".demo");
    let marker = work.join("summary.json");
    let summary: Value = match existing(&g.db).await {
        Existing::Other => {
            return Err(UsageError(format!(
                "{} is not a demo database; vigil demo writes only into a new file (choose another --db)",
                g.db.display()
            ))
            .into());
        }
        Existing::Demo => {
            let text = std::fs::read_to_string(&marker).map_err(|_| {
                UsageError(format!(
                    "{} holds an unfinished demo (no {}): delete it, {} and {} and run vigil demo again",
                    g.db.display(),
                    marker.display(),
                    beside(&g.db, ".partner.db").display(),
                    work.display()
                ))
            })?;
            if !out.json {
                eprintln!(
                    "{} already holds the demo: not regenerating it",
                    g.db.display()
                );
            }
            serde_json::from_str(&text).context("the demo summary is unreadable")?
        }
        Existing::Fresh => {
            let partner = beside(&g.db, ".partner.db");
            if partner.exists() || work.exists() {
                return Err(UsageError(format!(
                    "{} or {} is left from an earlier run: delete them first",
                    partner.display(),
                    work.display()
                ))
                .into());
            }
            let summary = build(g, out, &args, scale, &work, &partner).await?;
            std::fs::write(&marker, serde_json::to_string_pretty(&summary)?)
                .with_context(|| format!("cannot write {}", marker.display()))?;
            summary
        }
    };
    let addr = args.addr.clone();
    if out.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    if args.no_serve {
        return Ok(());
    }
    if !out.json {
        println!();
        println!("Open http://{addr}/ and sign in as {DEMO_USER} with password {DEMO_PASSWORD}");
        println!("(synthetic data only; Ctrl-C stops the server)");
    }
    let serve = cli(argv!["serve", "--addr", &addr, "--insecure-cookies"])?;
    let store = super::open_store(g).await?;
    let result = super::dispatch(&store, g, out, serve).await;
    store.close().await;
    result
}

fn print_summary(s: &Value) {
    let d = &s["demo"];
    println!("Vigil demo: {}", d["operation"].as_str().unwrap_or("-"));
    println!(
        "  database {} (partner agency: {}), generated inputs in {}",
        d["database"].as_str().unwrap_or("-"),
        d["partner_database"].as_str().unwrap_or("-"),
        d["work_dir"].as_str().unwrap_or("-")
    );
    if let Some(p) = s["pipelines"].as_object() {
        for (name, v) in p {
            println!("  {name:<12} {v}");
        }
    }
}

/// One Vigil instance and the work directory, with the output that
/// captures each command's JSON.
struct Instance<'a> {
    store: Store,
    db: PathBuf,
    cap: Output,
    bar: Option<&'a indicatif::ProgressBar>,
}

impl Instance<'_> {
    fn global(&self, user: &str) -> Global {
        Global {
            db: self.db.clone(),
            database_url: None,
            json: true,
            as_user: Some(user.to_string()),
        }
    }

    /// Runs a command as `user` and returns every JSON document it emitted.
    async fn all(&self, user: &str, cmd: Command) -> Result<Vec<Value>> {
        let what = format!("{cmd:?}");
        self.cap.take();
        super::dispatch(&self.store, &self.global(user), &self.cap, cmd)
            .await
            .with_context(|| {
                let short: String = what.chars().take(120).collect();
                format!("demo step failed (as {user}): {short}")
            })?;
        Ok(self.cap.take())
    }

    /// Runs a command and returns its last JSON document.
    async fn run(&self, user: &str, cmd: Command) -> Result<Value> {
        self.all(user, cmd)
            .await?
            .pop()
            .ok_or_else(|| anyhow!("a demo step printed nothing"))
    }

    fn step(&self, msg: &str) {
        if let Some(b) = self.bar {
            b.inc(1);
            b.set_message(msg.to_string());
        }
    }
}

fn id_of(v: &Value) -> Result<i64> {
    v["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("expected an id in {v}"))
}

fn len(v: &Value) -> u64 {
    match v {
        Value::Array(a) => a.len() as u64,
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn sum_map(v: &Value) -> i64 {
    v.as_object()
        .map(|m| m.values().filter_map(Value::as_i64).sum())
        .unwrap_or(0)
}

const STEPS: u64 = 15;

async fn build(
    g: &Global,
    out: &Output,
    args: &DemoArgs,
    scale: Scale,
    work: &Path,
    partner_db: &Path,
) -> Result<Value> {
    let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(STEPS);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    if let Some(b) = &bar {
        b.set_message("generating the synthetic operation");
    }
    let m = vigil_demo::generate(args.seed, scale, work)
        .with_context(|| format!("cannot generate the demo into {}", work.display()))?;
    let a = Instance {
        store: Store::open_sqlite(&g.db)
            .await
            .with_context(|| format!("cannot open the database {}", g.db.display()))?,
        db: g.db.clone(),
        cap: Output::capture(),
        bar: bar.as_ref(),
    };
    let b = Instance {
        store: Store::open_sqlite(partner_db)
            .await
            .with_context(|| format!("cannot open the database {}", partner_db.display()))?,
        db: partner_db.to_path_buf(),
        cap: Output::capture(),
        bar: None,
    };
    let result = pipelines(&a, &b, &m, work).await;
    a.store.close().await;
    b.store.close().await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let pipelines = result?;
    Ok(json!({
        "demo": {
            "operation": m.operation,
            "seed": m.seed,
            "scale": args.scale,
            "database": g.db,
            "partner_database": partner_db,
            "work_dir": work,
            "sign_in": {"user": DEMO_USER, "password": DEMO_PASSWORD},
        },
        "pipelines": pipelines,
    }))
}

// The demo officers of the hosting (Canadian) agency, one per role.
const ADMIN: &str = "ca.admin";
const INV: &str = "ca.investigator";
const EXAMINER: &str = "ca.examiner";
const ANALYST: &str = "ca.analyst";
const LIAISON: &str = "ca.liaison";

/// The story, step by step. Returns the counts per pipeline.
async fn pipelines(a: &Instance<'_>, b: &Instance<'_>, m: &Manifest, work: &Path) -> Result<Value> {
    let mut s = BTreeMap::<&str, Value>::new();

    // ----- init, agencies, users --------------------------------------------
    a.step("agencies and users");
    let admin = a
        .store
        .init(
            &m.local.name,
            &m.local.country,
            Some(&m.local.contact),
            ADMIN,
            DEMO_PASSWORD,
        )
        .await?;
    for p in &m.partners {
        a.run(
            ADMIN,
            cli(argv![
                "agency",
                "add",
                "--name",
                &p.name,
                "--country",
                &p.country,
                "--contact",
                &p.contact
            ])?,
        )
        .await?;
    }
    for u in &m.users {
        a.store
            .add_user(&admin, &u.name, None, &u.roles, Some(DEMO_PASSWORD))
            .await?;
    }
    s.insert(
        "setup",
        json!({"agencies": 1 + m.partners.len(), "users": 1 + m.users.len()}),
    );

    // ----- cases of the operation ---------------------------------------------
    a.step("cases");
    let case = |title: &str| {
        cli(argv![
            "case",
            "create",
            "--title",
            title,
            "--operation",
            &m.operation,
            "--release",
            "agency",
            "--source",
            "demo"
        ])
    };
    let room_one = id_of(
        &a.run(INV, case("Undercover: #lowlight (irssi logs)")?)
            .await?,
    )?;
    let room_two = id_of(
        &a.run(INV, case("Undercover: #sanctum (WeeChat logs)")?)
            .await?,
    )?;
    let tower = id_of(
        &a.run(
            INV,
            case("Seizure: tower of Son_of_G0d (shared by the UK)")?,
        )
        .await?,
    )?;
    let laptop = id_of(
        &a.run(INV, case("Seizure: laptop of a distributor")?)
            .await?,
    )?;
    let leads = id_of(
        &a.run(INV, case("Network leads: suspects by country")?)
            .await?,
    )?;
    let members: [(i64, &[&str]); 5] = [
        (room_one, &[ANALYST, LIAISON]),
        (room_two, &[ANALYST, LIAISON]),
        // the analyst maps the network, seized devices included
        (tower, &[EXAMINER, LIAISON, ANALYST]),
        (laptop, &[EXAMINER, LIAISON, ANALYST]),
        (leads, &[ANALYST, LIAISON]),
    ];
    for (id, users) in members {
        for u in users {
            a.run(INV, cli(argv!["case", "add-member", id.to_string(), *u])?)
                .await?;
        }
    }
    s.insert("cases", json!({"created": 5}));

    // ----- chat capture ---------------------------------------------------------
    a.step("importing chat logs");
    let mut chat_sum = BTreeMap::<&str, u64>::new();
    for log in &m.chat_logs {
        let case = if log.room_case == 1 {
            room_one
        } else {
            room_two
        };
        let v = a
            .run(
                INV,
                cli(argv![
                    "chat",
                    "import",
                    work.join(&log.path),
                    "--case",
                    case.to_string(),
                    "--format",
                    &log.format,
                    "--room",
                    &log.room,
                    "--network",
                    "ExampleNet",
                    // `=`: a zone such as -05:00 is not an option
                    format!("--tz={}", log.tz),
                    "--officer-handle",
                    vigil_demo::OFFICER
                ])?,
            )
            .await?;
        *chat_sum.entry("files").or_default() += 1;
        for k in [
            "messages",
            "operators",
            "nick_changes",
            "file_offers",
            "identifiers",
            "unparsed_lines",
        ] {
            *chat_sum.entry(k).or_default() += len(&v[k]);
        }
        *chat_sum.entry("persons_added").or_default() += len(&v["stored"]["persons_added"]);
        *chat_sum.entry("identifiers_added").or_default() += len(&v["stored"]["identifiers_added"]);
    }
    s.insert("chat", json!(chat_sum));

    // the countries the agency established for the room members
    let mut by_label: BTreeMap<String, i64> = BTreeMap::new();
    for c in [room_two, room_one] {
        let list = a
            .run(INV, cli(argv!["person", "list", "--case", c.to_string()])?)
            .await?;
        for p in list.as_array().into_iter().flatten() {
            if let (Some(l), Some(id)) = (p["label"].as_str(), p["id"].as_i64()) {
                by_label.insert(l.to_string(), id);
            }
        }
    }
    for (nick, country) in &m.member_countries {
        if let Some(&id) = by_label.get(nick) {
            a.run(
                INV,
                cli(argv![
                    "person",
                    "update",
                    id.to_string(),
                    "--country",
                    country
                ])?,
            )
            .await?;
        }
    }

    // ----- hash sets --------------------------------------------------------------
    a.step("importing hash sets");
    let vics = a
        .run(
            EXAMINER,
            cli(argv![
                "hashset",
                "import",
                work.join(&m.vics_file),
                "--name",
                "Project VIC (demo)",
                "--format",
                "vics",
                "--source",
                "synthetic VICS 2.0 export"
            ])?,
        )
        .await?;
    let pdq = a
        .run(
            EXAMINER,
            cli(argv![
                "hashset",
                "import",
                work.join(&m.pdq_list_file),
                "--name",
                "Industry PDQ list (demo)",
                "--format",
                "pdq",
                "--source",
                "synthetic industry PDQ list"
            ])?,
        )
        .await?;
    s.insert(
        "hashsets",
        json!({"vics_entries": vics["added"], "pdq_entries": pdq["added"], "errors": len(&vics["errors"]) + len(&pdq["errors"])}),
    );

    // ----- scans and matching --------------------------------------------------------
    a.step("scanning the seized folders");
    let mut scans = Vec::new();
    for (dev, case_id) in m.devices.iter().zip([tower, laptop]) {
        // The person it was seized from, recorded in the seizure's case, so
        // the graph names who holds what the devices share.
        let owner = id_of(
            &a.run(
                INV,
                cli(argv![
                    "person",
                    "add",
                    "--case",
                    case_id.to_string(),
                    "--role",
                    "suspect",
                    "--label",
                    &dev.owner,
                    "--source",
                    "seizure record"
                ])?,
            )
            .await?,
        )?;
        let docs = a
            .all(
                EXAMINER,
                cli(argv![
                    "scan",
                    work.join(&dev.path),
                    "--case",
                    case_id.to_string(),
                    "--device",
                    &dev.label,
                    "--person",
                    owner.to_string()
                ])?,
            )
            .await?;
        let scan_id = docs
            .first()
            .and_then(|d| d["scan"].as_i64())
            .ok_or_else(|| anyhow!("the scan printed no summary"))?;
        scans.push((scan_id, docs));
    }
    a.step("matching (exact, near-duplicate, dihedral)");
    let mut scan_sum = BTreeMap::<&str, i64>::new();
    for (scan_id, docs) in &scans {
        let first = docs.first().cloned().unwrap_or(Value::Null);
        *scan_sum.entry("files").or_default() += first["files"].as_i64().unwrap_or(0);
        *scan_sum.entry("images").or_default() += first["images"].as_i64().unwrap_or(0);
        *scan_sum.entry("errors").or_default() += first["errors"].as_i64().unwrap_or(0);
        let triage = a
            .run(
                EXAMINER,
                cli(argv!["match", "--scan", scan_id.to_string(), "--dihedral"])?,
            )
            .await?;
        *scan_sum.entry("matches_exact").or_default() += sum_map(&triage["known"]);
        *scan_sum.entry("matches_near").or_default() += sum_map(&triage["near_duplicates"]);
        *scan_sum.entry("unknown_images").or_default() +=
            triage["unknown_images"].as_i64().unwrap_or(0);
        *scan_sum.entry("unknown_series").or_default() +=
            triage["series"]["count"].as_i64().unwrap_or(0);
    }
    s.insert("scans", json!(scan_sum));

    // ----- the suspects of the network ---------------------------------------------
    a.step("recording suspects");
    let mut lead_ids = Vec::with_capacity(m.leads.len());
    for l in &m.leads {
        let id = id_of(
            &a.run(
                INV,
                cli(argv![
                    "person",
                    "add",
                    "--case",
                    leads.to_string(),
                    "--role",
                    "suspect",
                    "--label",
                    &l.handle,
                    "--source",
                    "seized address book"
                ])?,
            )
            .await?,
        )?;
        for (kind, value, seen) in [
            ("handle", &l.handle, None),
            ("email", &l.email, None),
            ("phone", &l.phone, None),
            ("ip", &l.ip, Some(&l.ip_seen)),
        ] {
            let mut args = argv![
                "identifier",
                "add",
                "--person",
                id.to_string(),
                "--kind",
                kind,
                "--source",
                "seized address book"
            ];
            if let Some(t) = seen {
                args.extend(argv!["--first-seen", t, "--last-seen", t]);
            }
            // after `--`: a value is never an option
            args.extend(argv!["--", value]);
            a.run(INV, cli(args)?).await?;
        }
        // each lead goes to the country where the suspect lives
        a.run(
            INV,
            cli(argv![
                "person",
                "update",
                id.to_string(),
                "--country",
                &l.country,
                "--release",
                format!("to:country={}", l.country)
            ])?,
        )
        .await?;
        lead_ids.push(id);
    }
    s.insert(
        "suspects",
        json!({"leads": lead_ids.len(), "chat_persons": by_label.len()}),
    );

    // ----- linking -------------------------------------------------------------------
    a.step("linking identities");
    let candidates = a.run(ANALYST, cli(argv!["link", "candidates"])?).await?;
    let list = candidates.as_array().cloned().unwrap_or_default();
    let alias = list
        .iter()
        .find(|c| {
            let labels = [
                c["person_a"]["label"].as_str(),
                c["person_b"]["label"].as_str(),
            ];
            labels.contains(&Some(HOST_OLD)) && labels.contains(&Some(HOST_NEW))
        })
        .ok_or_else(|| anyhow!("the linker proposed no link between {HOST_OLD} and {HOST_NEW}"))?;
    let evidence: Vec<String> = alias["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str().map(str::to_string))
        .collect();
    let merged = a
        .run(
            ANALYST,
            cli(argv![
                "link",
                "accept",
                id_of(alias)?.to_string(),
                "--note",
                "same address behind both aliases; the host's own rooms"
            ])?,
        )
        .await?;
    let host = merged["kept"]
        .as_i64()
        .ok_or_else(|| anyhow!("the merge kept no person"))?;
    s.insert(
        "links",
        json!({
            "candidates": list.len(),
            "certain": list.iter().filter(|c| c["certain"] == json!(true)).count(),
            "alias_pair_evidence": evidence,
            "alias_pair_accepted": true,
        }),
    );

    // ----- outcomes recorded by the operation's agencies -----------------------------
    a.step("recording outcomes");
    let mut events = 0;
    for o in &m.outcomes {
        let person = match &o.subject {
            Subject::Lead(i) => lead_ids.get(*i).copied(),
            Subject::Handle(h) if h == HOST_OLD => Some(host),
            Subject::Handle(h) => by_label.get(h).copied(),
        };
        let Some(person) = person else { continue };
        a.run(
            INV,
            event(person, &o.kind, &o.date, &o.country, o.details.as_deref())?,
        )
        .await?;
        events += 1;
    }
    s.insert("events", json!({"recorded": events}));

    // ----- the network graph ---------------------------------------------------------
    a.step("network graph");
    if let Some(v) = step_graph(a, &m.operation).await? {
        s.insert("graph", v);
    }

    // ----- attribution ------------------------------------------------------------------
    a.step("attributing suspects to countries");
    let attribution = a
        .run(
            LIAISON,
            cli(argv!["attribute", "--operation", &m.operation])?,
        )
        .await?;
    let persons = attribution["persons"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut countries = std::collections::BTreeSet::new();
    for p in &persons {
        if let Some(c) = p["country"].as_str() {
            countries.insert(c.to_string());
        }
    }
    s.insert(
        "attribution",
        json!({
            "persons": persons.len(),
            "attributed": persons.iter().filter(|p| p["country"].is_string()).count(),
            "countries": countries.len(),
        }),
    );

    // ----- keys ---------------------------------------------------------------------------
    a.step("agency keys");
    let keys_dir = work.join("keys");
    std::fs::create_dir_all(&keys_dir)
        .with_context(|| format!("cannot create {}", keys_dir.display()))?;
    let p = &m.partner_instance;
    let b_admin = b
        .store
        .init(
            &p.name,
            &p.country,
            Some(&p.contact),
            "gb.admin",
            DEMO_PASSWORD,
        )
        .await?;
    for u in &m.partner_users {
        b.store
            .add_user(&b_admin, &u.name, None, &u.roles, Some(DEMO_PASSWORD))
            .await?;
    }
    let ca_bundle = keys_dir.join("ca-public.json");
    let gb_bundle = keys_dir.join("gb-public.json");
    a.run(LIAISON, cli(argv!["keys", "generate"])?).await?;
    a.run(LIAISON, cli(argv!["keys", "export", "--out", &ca_bundle])?)
        .await?;
    b.run("gb.liaison", cli(argv!["keys", "generate"])?).await?;
    b.run(
        "gb.liaison",
        cli(argv!["keys", "export", "--out", &gb_bundle])?,
    )
    .await?;
    a.run(LIAISON, cli(argv!["keys", "import", &gb_bundle])?)
        .await?;
    b.run("gb.liaison", cli(argv!["keys", "import", &ca_bundle])?)
        .await?;
    // The other partners run no instance here; their public bundles are
    // made with the same library their Vigil would use.
    for other in m.partners.iter().filter(|x| x.name != p.name) {
        let country = vigil_share::CountryCode::parse(&other.country)
            .map_err(|e| anyhow!("partner country: {e}"))?;
        let keys = vigil_share::AgencyKeys::generate(&other.name, country)
            .context("cannot generate a partner's keys")?;
        let file = keys_dir.join(format!("{}-public.json", other.country.to_lowercase()));
        std::fs::write(&file, keys.public_bundle().to_json())
            .with_context(|| format!("cannot write {}", file.display()))?;
        a.run(LIAISON, cli(argv!["keys", "import", &file])?).await?;
    }

    // ----- packages: leads out, outcomes back ------------------------------------------
    a.step("building lead packages");
    let packages_dir = work.join("packages");
    std::fs::create_dir_all(&packages_dir)
        .with_context(|| format!("cannot create {}", packages_dir.display()))?;
    let mut built = BTreeMap::new();
    for partner in &m.partners {
        let file = packages_dir.join(format!("leads-{}.vigil", partner.country.to_lowercase()));
        let r = a
            .run(
                LIAISON,
                cli(argv![
                    "package",
                    "build",
                    "--operation",
                    &m.operation,
                    "--to",
                    &partner.name,
                    "--out",
                    &file
                ])?,
            )
            .await?;
        built.insert(partner.country.clone(), r["summary"]["persons"].clone());
    }
    let counts = || cli(argv!["package", "counts", "--operation", &m.operation]);
    let before = a.run(DEMO_USER, counts()?).await?;

    a.step("partner imports, records outcomes, replies");
    let gb_file = packages_dir.join(format!("leads-{}.vigil", p.country.to_lowercase()));
    let imported = b
        .run("gb.liaison", cli(argv!["package", "import", &gb_file])?)
        .await?;
    let received_case = imported["package"]["case_id"]
        .as_i64()
        .ok_or_else(|| anyhow!("the partner's import made no case"))?;
    let received = b
        .run(
            "gb.investigator",
            cli(argv!["person", "list", "--case", received_case.to_string()])?,
        )
        .await?;
    let received: Vec<i64> = received
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["id"].as_i64())
        .collect();
    let mut partner_events = 0;
    for (i, person) in received.iter().take(2).enumerate() {
        let mut kinds = vec![("arrest", "arrested on the Canadian lead")];
        if i == 0 {
            kinds.push(("child-safeguarded", "one child safeguarded"));
        } else {
            kinds.push(("charge", "possession"));
        }
        for (kind, details) in kinds {
            b.run(
                "gb.investigator",
                event(*person, kind, "2010-01-12", &p.country, Some(details))?,
            )
            .await?;
            partner_events += 1;
        }
    }
    let reply = packages_dir.join("outcomes-gb-to-ca.vigil");
    b.run(
        "gb.liaison",
        cli(argv![
            "package",
            "outcomes",
            "--to",
            &m.local.name,
            "--out",
            &reply
        ])?,
    )
    .await?;
    let back = a
        .run(LIAISON, cli(argv!["package", "import", &reply])?)
        .await?;
    let after = a.run(DEMO_USER, counts()?).await?;
    s.insert(
        "packages",
        json!({
            "built_persons": built,
            "partner_persons_added": imported["persons_added"],
            "partner_events": partner_events,
            "outcomes_back": back["package"]["kind"] == json!("outcomes"),
            "arrested_before": before["total"]["arrested"],
            "arrested_after": after["total"]["arrested"],
            "safeguarded_before": before["total"]["children_safeguarded"],
            "safeguarded_after": after["total"]["children_safeguarded"],
        }),
    );

    a.step("outcomes dashboard");
    let by_country = after["by_country"]
        .as_object()
        .map(|o| o.len())
        .unwrap_or(0);
    s.insert(
        "outcomes",
        json!({"total": after["total"], "countries": by_country}),
    );
    Ok(json!(s))
}

/// The network analysis of the operation: `vigil graph key-players` as the
/// analyst, exactly as an analyst would run it. The summary keeps what the
/// story turns on — who ranks first, who was made administrator by whom, and
/// who supplied the most files — so a change that breaks the analysis shows
/// in the demo's own output.
async fn step_graph(a: &Instance<'_>, operation: &str) -> Result<Option<Value>> {
    let v = a
        .run(
            ANALYST,
            cli(argv![
                "graph",
                "key-players",
                "--operation",
                operation,
                "--top",
                "10"
            ])?,
        )
        .await?;
    let label = |p: &Value| p["label"].as_str().unwrap_or_default().to_string();
    // The report's fields are flattened beside the scope and counts.
    let report = &v;
    let administrators: Vec<Value> = report["administrators"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            json!({
                "administrator": label(&e["player"]),
                "room": e["room"],
                "appointed_by": e["appointed_by"].as_object().map(|_| label(&e["appointed_by"])),
            })
        })
        .collect();
    let top_distributor = report["distributors_by_files"]
        .get(0)
        .map(|d| json!({"player": label(&d["player"]), "files_supplied": d["files_supplied"]}));
    // Forensic evidence of supply: the persons whose seized devices hold
    // the same files, with how many.
    let shared_media: Vec<Value> = report["distributors_by_shared_media"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|d| json!({"player": label(&d["player"]), "hashes": d["shared_media_hashes"]}))
        .collect();
    Ok(Some(json!({
        "nodes": v["nodes"],
        "edges": v["edges"],
        "top_player": report["ranking"].get(0).map(|r| label(&r["player"])),
        "administrators": administrators,
        "top_distributor": top_distributor,
        "shared_media": shared_media,
    })))
}

/// `vigil event add` for one outcome.
fn event(
    person: i64,
    kind: &str,
    date: &str,
    country: &str,
    details: Option<&str>,
) -> Result<Command> {
    let mut args = argv![
        "event",
        "add",
        "--person",
        person.to_string(),
        "--kind",
        kind,
        "--date",
        date,
        "--country",
        country,
        "--source",
        "demo"
    ];
    if let Some(d) = details {
        args.extend(argv!["--details", d]);
    }
    cli(args)
}
