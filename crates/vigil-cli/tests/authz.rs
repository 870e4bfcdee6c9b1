//! The authorisation matrix of the command line: every leaf command of the
//! `vigil` grammar (enumerated by the binary itself, `vigil __list-commands`)
//! × every role × (own agency, other agency with a release, other agency
//! without one), run against a seeded two-agency instance, with the expected
//! allow/deny derived from one declarative table ([`ROWS`]).
//!
//! **A command without a row fails the test**: add one line to `ROWS` naming
//! what the command needs (see [`Req`]) and its arguments, with `{case}`,
//! `{person}`, … standing for the target record of the scope being tested.
//!
//! Every run starts from a fresh copy of the seeded SQLite file, so commands
//! that change things cannot disturb each other. The store's decisions do
//! not depend on the backend (one SQL dialect, one `access` module); the
//! API matrix (`vigil-server/tests/authz.rs`) runs on both backends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use vigil_domain::{Capability, Role};

/// What a command needs. `Read`/`Write`/`Shows` act on the scope's target
/// record; the others do not depend on a record.
#[derive(Debug, Clone, Copy)]
enum Req {
    /// Any user of any agency.
    Any,
    /// The role must grant the capability (either agency).
    Cap(Capability),
    /// One of the capabilities (either agency).
    AnyCap(&'static [Capability]),
    /// One of the capabilities, and only the agency this instance belongs to
    /// (keys and packages): another agency's users with the capability fail
    /// too (they have no keys here).
    LocalCap(&'static [Capability]),
    /// Read the target (release markings apply).
    Read,
    /// Change the target (owning agency only).
    Write,
    /// A listing or search: needs the capability; the target's marker must
    /// appear in the output exactly when the caller may read the target.
    Shows(Capability, &'static str),
    /// Capability gate only: run against an id that does not exist, so a role
    /// with the capability gets "not found" and one without "permission
    /// denied" (the record-level rule is covered by the feature's own tests).
    Gate(Capability),
    /// Not run here, with the reason.
    Exempt(&'static str),
}

use Capability::*;
use Req::*;

struct Row {
    cmd: &'static str,
    args: &'static [&'static str],
    req: Req,
}

const fn row(cmd: &'static str, args: &'static [&'static str], req: Req) -> Row {
    Row { cmd, args, req }
}

/// The expectations: one row per command. Keep sorted by command.
const ROWS: &[Row] = &[
    row(
        "agency add",
        &["--name", "Agency Z", "--country", "FR"],
        Cap(ManageUsers),
    ),
    row("agency list", &[], Any),
    row(
        "agency update",
        &["{agency_b}", "--contact", "desk@example.org"],
        Cap(ManageUsers),
    ),
    row("alerts", &[], Cap(ReadCase)),
    row("alerts read", &["999999"], Gate(ReadCase)),
    row(
        "attribute",
        &["--operation", "Op Kestrel"],
        Shows(ReadCase, "{person_label}"),
    ),
    row("audit checkpoint", &[], LocalCap(&[ReadAudit])),
    row("audit log", &[], Cap(ReadAudit)),
    row("audit verify", &[], Any),
    row("backup", &["{dir}/out.backup"], LocalCap(&[ManageUsers])),
    row("case add-member", &["{case}", "a-spare"], Write),
    row("case create", &["--title", "New case"], Cap(WriteCase)),
    row("case list", &[], Shows(ReadCase, "{case_title}")),
    row("case show", &["{case}"], Read),
    row("case update", &["{case}", "--title", "Renamed"], Write),
    row("chat import", &["{dir}/irc.log", "--case", "{case}"], Write),
    row("chat reindex", &["--case", "{case}"], Read),
    row("chat search", &["zebra"], Shows(ReadCase, "{room}")),
    row(
        "demo",
        &[],
        Exempt(
            "creates its own instance and users, only in a new or demo database (tests/demo.rs)",
        ),
    ),
    row(
        "event add",
        &[
            "--person",
            "{person}",
            "--kind",
            "arrest",
            "--date",
            "2026-01-02",
            "--country",
            "CA",
        ],
        Write,
    ),
    row("event update", &["{event}", "--details", "remanded"], Write),
    row("graph communities", &["--case", "{case}"], Read),
    row(
        "graph export",
        &[
            "--case",
            "{case}",
            "--format",
            "graphml",
            "--out",
            "{dir}/g.graphml",
        ],
        Read,
    ),
    row("graph key-players", &["--case", "{case}"], Read),
    row("graph path", &["{person}", "{person}"], Read),
    row("hashset delete", &["{set}"], Cap(ManageHashSets)),
    row(
        "hashset export",
        &["{set}", "--out", "{dir}/set.json"],
        Cap(ReadCase),
    ),
    row(
        "hashset import",
        &["{dir}/vics.json", "--name", "new-set"],
        Cap(ManageHashSets),
    ),
    row("hashset list", &[], Cap(ReadCase)),
    row("hashset show", &["{set}"], Cap(ReadCase)),
    row(
        "identifier add",
        &[
            "--person",
            "{person}",
            "--kind",
            "handle",
            "--network",
            "irc",
            "n3w_handle",
        ],
        Write,
    ),
    row(
        "identifier lookup",
        &["{email}"],
        Shows(ReadCase, "{person_label}"),
    ),
    row(
        "init",
        &[],
        Exempt("bootstrap without an acting user; refused once initialised (tests/cli.rs)"),
    ),
    row(
        "keys export",
        &["--out", "{dir}/bundle.json"],
        LocalCap(&[Packages, ManageUsers]),
    ),
    row("keys generate", &[], LocalCap(&[Packages, ManageUsers])),
    row(
        "keys import",
        &["{dir}/c.json"],
        LocalCap(&[Packages, ManageUsers]),
    ),
    row("keys list", &[], AnyCap(&[Packages, ManageUsers])),
    row("link accept", &["999999"], Gate(WriteCase)),
    row("link candidates", &[], Cap(ReadCase)),
    row("link exact", &["{person}"], Read),
    row("link reject", &["999999"], Gate(WriteCase)),
    row(
        "match",
        &["--md5", "3524FF4E84BC9A63522832E83BE44967"],
        Cap(ReadCase),
    ),
    row("note add", &["--case", "{case}", "a note"], Write),
    row(
        "package build",
        &[
            "--operation",
            "Op Kestrel",
            "--to",
            "Agency B",
            "--out",
            "{dir}/p.vigil",
        ],
        LocalCap(&[Packages]),
    ),
    row(
        "package counts",
        &["--operation", "Op Kestrel"],
        Cap(ReadCase),
    ),
    row(
        "package import",
        &[],
        Exempt("needs a package sealed by a partner instance (tests/share.rs)"),
    ),
    row("package ack", &["999999"], Gate(Packages)),
    row("package list", &[], Cap(Packages)),
    row(
        "package outcomes",
        &[],
        Exempt("needs persons received in a package (tests/share.rs)"),
    ),
    row(
        "pdq",
        &[],
        Exempt("hashes image files only: no database, no acting user"),
    ),
    row(
        "person add",
        &["--case", "{case}", "--role", "victim", "--label", "V-9"],
        Write,
    ),
    row("person list", &[], Shows(ReadCase, "{person_label}")),
    row("person show", &["{person}"], Read),
    row("person unmerge", &["999999"], Gate(WriteCase)),
    row("person update", &["{person}", "--label", "renamed"], Write),
    row(
        "restore",
        &[],
        Exempt("writes a new, empty database only (tests/cli.rs)"),
    ),
    row(
        "retention review",
        &["--as-of", "2040-01-01"],
        Cap(ReadAudit),
    ),
    row(
        "scan",
        &["{dir}/device", "--case", "{case}", "--device", "laptop-9"],
        Exempt("needs run-scans and write on the case; tests/scan.rs"),
    ),
    row(
        "serve",
        &[],
        Exempt("long-running; every route is in the API/page matrix"),
    ),
    row("token create", &["--name", "ci"], Any),
    row("token list", &[], Any),
    row(
        "token revoke",
        &["999999"],
        Exempt("own tokens only; tests/auth"),
    ),
    row(
        "user add",
        &["new-user", "--roles", "analyst"],
        Cap(ManageUsers),
    ),
    row("user list", &[], Cap(ManageUsers)),
    row(
        "user update",
        &["{spare}", "--roles", "analyst"],
        Cap(ManageUsers),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    /// Actor of agency A, target A's unreleased case.
    Own,
    /// Actor of agency B, target A's case released to B.
    Released,
    /// Actor of agency B, target A's unreleased case.
    Unreleased,
}

const ROLES: &[Role] = &[
    Role::Investigator,
    Role::ForensicExaminer,
    Role::Analyst,
    Role::Supervisor,
    Role::LiaisonOfficer,
    Role::AgencyAdmin,
];

fn can(role: Role, cap: Capability) -> bool {
    role.capabilities().contains(&cap)
}

/// What the table says should happen.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allow,
    /// Allowed, and the marker is (true) or is not (false) in the output.
    AllowShows(bool),
    Deny,
    /// The id does not exist; the capability gate was passed.
    NotFound,
    /// Refused for a reason other than the role (any error exit).
    Fail,
}

fn expect(req: Req, role: Role, scope: Scope) -> Expect {
    let own = scope == Scope::Own;
    let readable = can(role, ReadCase) && scope != Scope::Unreleased;
    let yes = |b: bool| if b { Expect::Allow } else { Expect::Deny };
    match req {
        Any => Expect::Allow,
        Cap(c) => yes(can(role, c)),
        AnyCap(cs) => yes(cs.iter().any(|c| can(role, *c))),
        LocalCap(cs) if cs.iter().any(|c| can(role, *c)) && !own => Expect::Fail,
        LocalCap(cs) => yes(own && cs.iter().any(|c| can(role, *c))),
        Read => yes(readable),
        Write => yes(own && can(role, WriteCase)),
        Shows(c, _) if can(role, c) => Expect::AllowShows(readable),
        Shows(..) => Expect::Deny,
        Gate(c) if can(role, c) => Expect::NotFound,
        Gate(_) => Expect::Deny,
        Exempt(_) => unreachable!("exempt rows are not run"),
    }
}

/// The seeded instance and the ids the placeholders stand for.
struct Seed {
    dir: tempfile::TempDir,
    vars: BTreeMap<&'static str, String>,
    /// Per scope: the target's ids and markers.
    targets: BTreeMap<&'static str, [String; 2]>,
}

fn vigil(
    db: &Path,
    user: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> (i32, String, String) {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_USER")
        .env_remove("VIGIL_DATABASE_URL")
        .env_remove("VIGIL_SEARCH_DIR")
        .env("VIGIL_DB", db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(u) = user {
        c.env("VIGIL_USER", u);
    }
    let mut child = c.spawn().expect("vigil runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).expect("stdin written");
    }
    drop(input);
    let out = child.wait_with_output().expect("vigil finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(db: &Path, user: &str, args: &[&str]) -> String {
    let (code, out, err) = vigil(db, Some(user), args, None);
    assert_eq!(code, 0, "seed: vigil {args:?} as {user} failed: {err}");
    out
}

fn json_id(db: &Path, user: &str, args: &[&str]) -> String {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let v: serde_json::Value = serde_json::from_str(&ok(db, user, &full)).expect("JSON");
    v["id"].to_string()
}

fn init(db: &Path, agency: &str, country: &str, admin: &str) {
    let (code, _, err) = vigil(
        db,
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
    assert_eq!(code, 0, "init {agency}: {err}");
}

fn user_name(agency: char, role: Role) -> String {
    format!("{agency}-{}", role.as_str())
}

const IRC_LOG: &str = "--- Log opened Mon Mar 02 23:39:58 2009
23:40 -!- darkfox [~fox@192.0.2.10] has joined #hideout
23:41 <@darkfox> the zebra password changed
--- Log closed Mon Mar 02 23:50:00 2009
";

fn seed() -> Seed {
    let dir = vigil_testkit::tempdir();
    let d = dir.path();
    let db = d.join("seed.db");
    // Agency B's own instance and a third agency's, for their key bundles.
    for (name, country, admin, file) in [
        ("Agency B", "GB", "b0", "b.json"),
        ("Agency C", "FR", "c0", "c.json"),
    ] {
        let other = d.join(format!("{admin}.db"));
        init(&other, name, country, admin);
        ok(&other, admin, &["keys", "generate"]);
        ok(
            &other,
            admin,
            &["keys", "export", "--out", d.join(file).to_str().unwrap()],
        );
    }
    init(&db, "Agency A", "CA", "a0");
    ok(&db, "a0", &["keys", "generate"]);
    ok(
        &db,
        "a0",
        &["keys", "import", d.join("b.json").to_str().unwrap()],
    );
    let agencies = ok(&db, "a0", &["--json", "agency", "list"]);
    let agencies: serde_json::Value = serde_json::from_str(&agencies).unwrap();
    let agency_b = agencies
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Agency B")
        .expect("Agency B registered")["id"]
        .to_string();
    for r in ROLES {
        ok(
            &db,
            "a0",
            &["user", "add", &user_name('a', *r), "--roles", r.as_str()],
        );
        ok(
            &db,
            "a0",
            &[
                "user",
                "add",
                &user_name('b', *r),
                "--agency",
                "Agency B",
                "--roles",
                r.as_str(),
            ],
        );
    }
    ok(
        &db,
        "a0",
        &["user", "add", "a-spare", "--roles", "investigator"],
    );
    ok(
        &db,
        "a0",
        &[
            "user",
            "add",
            "b-spare",
            "--agency",
            "Agency B",
            "--roles",
            "investigator",
        ],
    );
    let owner = "a-investigator";
    let release_b = format!("to:agency={agency_b}");
    let mut targets: BTreeMap<&'static str, [String; 2]> = BTreeMap::new();
    // index 0: the unreleased case's records; 1: the released case's.
    let mut per = |key: &'static str, i: usize, v: String| {
        targets
            .entry(key)
            .or_insert_with(|| [String::new(), String::new()])[i] = v;
    };
    for (i, (title, release, tag)) in [
        ("Kestrel private", "agency", "priv"),
        ("Kestrel released", release_b.as_str(), "rel"),
    ]
    .into_iter()
    .enumerate()
    {
        let case = json_id(
            &db,
            owner,
            &[
                "case",
                "create",
                "--title",
                title,
                "--operation",
                "Op Kestrel",
                "--release",
                release,
            ],
        );
        for r in ROLES {
            if can(*r, ReadCase) && *r != Role::Investigator {
                ok(
                    &db,
                    owner,
                    &["case", "add-member", &case, &user_name('a', *r)],
                );
            }
        }
        let label = format!("{tag}_suspect");
        let person = json_id(
            &db,
            owner,
            &[
                "person", "add", "--case", &case, "--role", "suspect", "--label", &label,
            ],
        );
        let email = format!("{tag}.trader@example.net");
        ok(
            &db,
            owner,
            &[
                "identifier",
                "add",
                "--person",
                &person,
                "--kind",
                "email",
                &email,
            ],
        );
        let event = json_id(
            &db,
            owner,
            &[
                "event",
                "add",
                "--person",
                &person,
                "--kind",
                "tip-received",
                "--date",
                "2026-01-01",
                "--country",
                "CA",
            ],
        );
        let log = d.join(format!("{tag}.log"));
        std::fs::write(&log, IRC_LOG.replace("#hideout", &format!("#{tag}room"))).unwrap();
        ok(
            &db,
            owner,
            &["chat", "import", log.to_str().unwrap(), "--case", &case],
        );
        per("case", i, case);
        per("case_title", i, title.to_string());
        per("person", i, person);
        per("person_label", i, label);
        per("email", i, email);
        per("event", i, event);
        per("room", i, format!("#{tag}room"));
    }
    std::fs::write(
        d.join("vics.json"),
        include_bytes!("../../vigil-hashset/tests/data/vics2_media.json"),
    )
    .unwrap();
    ok(
        &db,
        "a-forensic-examiner",
        &[
            "hashset",
            "import",
            d.join("vics.json").to_str().unwrap(),
            "--name",
            "seed-set",
        ],
    );
    ok(
        &db,
        "b-forensic-examiner",
        &[
            "hashset",
            "import",
            d.join("vics.json").to_str().unwrap(),
            "--name",
            "seed-set-b",
        ],
    );
    std::fs::write(d.join("irc.log"), IRC_LOG).unwrap();
    std::fs::create_dir_all(d.join("device")).unwrap();
    std::fs::write(d.join("device").join("notes.txt"), "synthetic file\n").unwrap();
    let mut vars = BTreeMap::new();
    vars.insert("agency_b", agency_b);
    Seed { dir, vars, targets }
}

impl Seed {
    fn fill(&self, text: &str, scope: Scope, run_dir: &Path) -> String {
        let i = usize::from(scope == Scope::Released);
        // Things of the actor's own agency (users, hash sets).
        let (spare, set) = if scope == Scope::Own {
            ("a-spare", "seed-set")
        } else {
            ("b-spare", "seed-set-b")
        };
        let mut s = text
            .replace("{dir}", run_dir.to_str().unwrap())
            .replace("{spare}", spare)
            .replace("{set}", set);
        for (k, v) in &self.vars {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        for (k, v) in &self.targets {
            s = s.replace(&format!("{{{k}}}"), &v[i]);
        }
        assert!(!s.contains('{'), "unknown placeholder in {text:?}");
        s
    }

    /// A private copy of the seeded database (and the fixture files) for one
    /// run.
    fn copy(&self) -> tempfile::TempDir {
        let run = vigil_testkit::tempdir();
        copy_dir(self.dir.path(), run.path());
        run
    }
}

/// Copies the seeded instance (database, its search index, fixtures), not
/// the partner instances used only for their key bundles.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let text = name.to_string_lossy();
        if text.starts_with("b0.db") || text.starts_with("c0.db") {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn listed_commands() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("__list-commands")
        .output()
        .expect("vigil runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_has_a_row() {
    let listed: BTreeSet<String> = listed_commands().into_iter().collect();
    let rows: BTreeSet<String> = ROWS.iter().map(|r| r.cmd.to_string()).collect();
    let missing: Vec<&String> = listed.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "commands without an authorisation row (add one to ROWS in crates/vigil-cli/tests/authz.rs): {missing:?}"
    );
    let stale: Vec<&String> = rows.difference(&listed).collect();
    assert!(
        stale.is_empty(),
        "rows for commands that no longer exist: {stale:?}"
    );
    assert!(listed.len() > 40, "the grammar walk found too few commands");
    for r in ROWS {
        if let Exempt(reason) = r.req {
            assert!(
                reason.len() > 10,
                "{}: an exemption needs its reason",
                r.cmd
            );
        }
    }
}

#[test]
fn every_command_role_and_scope_is_allowed_or_denied_as_the_table_says() {
    let seed = seed();
    let mut failures = Vec::new();
    let mut runs = 0;
    for row in ROWS {
        if matches!(row.req, Exempt(_)) {
            continue;
        }
        let scopes: &[Scope] = match row.req {
            Read | Write | Shows(..) => &[Scope::Own, Scope::Released, Scope::Unreleased],
            _ => &[Scope::Own, Scope::Unreleased],
        };
        for role in ROLES {
            for scope in scopes {
                let run = seed.copy();
                runs += 1;
                let user = user_name(if *scope == Scope::Own { 'a' } else { 'b' }, *role);
                let mut args: Vec<String> = row.cmd.split(' ').map(str::to_string).collect();
                args.extend(row.args.iter().map(|a| seed.fill(a, *scope, run.path())));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let (code, out, err) = vigil(&run.path().join("seed.db"), Some(&user), &args, None);
                let denied = err.contains("permission denied");
                let not_found = err.contains("not found");
                let want = expect(row.req, *role, *scope);
                let got_ok = match &want {
                    Expect::Allow => code == 0,
                    Expect::AllowShows(shows) => {
                        let Shows(_, marker) = row.req else {
                            unreachable!()
                        };
                        let marker = seed.fill(marker, *scope, run.path());
                        code == 0 && out.contains(&marker) == *shows
                    }
                    // Another agency's unreleased record must look absent.
                    // (A role without the capability may instead be refused
                    // for its role first, which reveals nothing of the record.)
                    Expect::Deny
                        if *scope == Scope::Unreleased
                            && ((matches!(row.req, Read) && can(*role, ReadCase))
                                || (matches!(row.req, Write) && can(*role, WriteCase))) =>
                    {
                        code != 0 && not_found && !denied
                    }
                    Expect::Deny => code != 0 && (denied || not_found),
                    Expect::Fail => code != 0 && err.starts_with("error: "),
                    Expect::NotFound => code != 0 && not_found && !denied,
                };
                if !got_ok {
                    failures.push(format!(
                        "vigil {} as {user} ({scope:?}): expected {want:?}, got exit {code}: {}{}",
                        args.join(" "),
                        err.trim(),
                        if code == 0 {
                            out.chars().take(200).collect::<String>()
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
    }
    assert!(runs > 300, "only {runs} runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs disagree with the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
