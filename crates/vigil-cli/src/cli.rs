//! The command-line grammar. Kept apart from the command bodies so the
//! authorisation matrix test can enumerate every subcommand from here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    about = "Investigation system for online child-exploitation networks: records, chat capture, media triage, linking, network analysis and dissemination."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Embedded SQLite database file.
    #[arg(long, global = true, env = "VIGIL_DB", default_value = "vigil.db")]
    pub db: PathBuf,
    /// PostgreSQL URL (postgres://…); takes precedence over --db.
    #[arg(long, global = true, env = "VIGIL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// The acting user (every write records it).
    #[arg(long = "as", global = true, env = "VIGIL_USER", value_name = "USER")]
    pub as_user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create this instance's agency and its first administrator.
    Init(InitArgs),
    /// Agencies: this one and its partners.
    #[command(subcommand)]
    Agency(AgencyCmd),
    /// Users of the agency.
    #[command(subcommand)]
    User(UserCmd),
    /// Cases and operations.
    #[command(subcommand)]
    Case(CaseCmd),
    /// Persons in cases: suspects, victims (pseudonymous), others.
    #[command(subcommand)]
    Person(PersonCmd),
    /// Typed identifiers: handles, e-mails, IPs, phones, …
    #[command(subcommand)]
    Identifier(IdentifierCmd),
    /// Events: arrests, charges, convictions, children safeguarded, …
    #[command(subcommand)]
    Event(EventCmd),
    /// Notes on cases and persons.
    #[command(subcommand)]
    Note(NoteCmd),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Write a consistent snapshot of the database to FILE.
    Backup(BackupArgs),
    /// Restore a backup FILE into a new, empty database.
    Restore(RestoreArgs),
    /// Agency keys: signing and encryption, own and partners'.
    #[command(subcommand)]
    Keys(crate::commands::share::KeysCmd),
    /// Attribute suspects of an operation to countries, with the evidence.
    Attribute(crate::commands::share::AttributeArgs),
    /// Lead packages: build, import, outcomes.
    #[command(subcommand)]
    Package(crate::commands::share::PackageCmd),
    /// Known-image hash sets: import, export, list.
    #[command(subcommand)]
    Hashset(crate::commands::hashset::HashsetCmd),
    /// Match hashes, files or a whole scan against the hash sets.
    Match(crate::commands::hashset::MatchArgs),
    /// Serve the web application and the REST API.
    Serve(crate::commands::serve::ServeArgs),
    /// API tokens for the REST API: create (shown once), list, revoke.
    Token(crate::commands::serve::TokenArgs),
    /// Hash every file of a seized device into a case (read-only, resumable).
    Scan(crate::commands::scan::ScanArgs),
    /// Print PDQ hashes of images (`hash,quality,path`), like pdq-photo-hasher.
    Pdq(crate::commands::scan::PdqArgs),
    /// Chat logs: import into a case, search messages.
    #[command(subcommand)]
    Chat(crate::commands::chat::ChatCmd),
    /// Candidate links between persons: compute, accept (merge), reject.
    #[command(subcommand)]
    Link(crate::commands::link::LinkCmd),
    /// De-confliction alerts for your agency; `vigil alerts read ID`.
    Alerts(crate::commands::link::AlertsArgs),
    /// The offender network: exports, key players, paths, communities.
    #[command(subcommand)]
    Graph(crate::commands::graph::GraphCmd),
    /// Generate the synthetic demo operation, run every pipeline on it and
    /// serve the web application (`--db` must be new or an earlier demo).
    Demo(crate::commands::demo::DemoArgs),
    /// Retention: which cases have reached their review date.
    #[command(subcommand)]
    Retention(RetentionCmd),
}

#[derive(Debug, Subcommand)]
pub enum RetentionCmd {
    /// List this agency's cases whose retention date has come (supervisors,
    /// agency administrators).
    Review {
        /// Review as of this date (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<String>,
    },
}

/// Every leaf command of the grammar as its words (`case create`), for the
/// authorisation matrix test (`vigil __list-commands`): the test fails for a
/// command it has no expectation for.
pub fn leaf_commands() -> Vec<String> {
    fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<String>) {
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help")
            .collect();
        // A command whose subcommand is optional (`vigil alerts`) runs on
        // its own too.
        if subs.is_empty() || (!prefix.is_empty() && !cmd.is_subcommand_required_set()) {
            out.push(prefix.trim().to_string());
        }
        for c in subs {
            walk(&format!("{prefix} {}", c.get_name()), c, out);
        }
    }
    let mut out = Vec::new();
    walk("", &<Cli as clap::CommandFactory>::command(), &mut out);
    out
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long)]
    pub agency: String,
    /// ISO 3166-1 alpha-2 country code of the agency.
    #[arg(long)]
    pub country: String,
    #[arg(long)]
    pub admin: String,
    /// Contact line shown to other agencies in de-confliction hits.
    #[arg(long)]
    pub contact: Option<String>,
    /// Read the administrator's password from the first line of stdin.
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum AgencyCmd {
    /// Register a partner agency.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        country: String,
        #[arg(long)]
        contact: Option<String>,
    },
    List,
    /// Change an agency's contact line.
    Update {
        id: i64,
        #[arg(long)]
        contact: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    Add {
        name: String,
        /// Comma-separated: investigator, forensic-examiner, analyst, supervisor, liaison-officer, agency-admin.
        #[arg(long)]
        roles: String,
        /// Agency name (default: the acting user's).
        #[arg(long)]
        agency: Option<String>,
        /// Read a password from the first line of stdin (for web sign-in).
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    Update {
        name: String,
        #[arg(long)]
        roles: Option<String>,
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        #[arg(long)]
        enable: bool,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaseCmd {
    /// Create a case; prints its id.
    Create {
        #[arg(long)]
        title: String,
        /// Operation name (created if new); groups cases across agencies.
        #[arg(long)]
        operation: Option<String>,
        /// agency (default), operation, or to:agency=ID,country=CC
        #[arg(long, default_value = "agency")]
        release: String,
        #[arg(long, default_value = "cli")]
        source: String,
    },
    List,
    Show {
        id: i64,
    },
    Update {
        id: i64,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        release: Option<String>,
        /// Keep the case's data until this date (YYYY-MM-DD), then review.
        #[arg(long)]
        retention_until: Option<String>,
        /// The legal basis for keeping it (required with the first date).
        #[arg(long)]
        retention_basis: Option<String>,
    },
    /// Give a user of the agency access to the case.
    AddMember {
        id: i64,
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonCmd {
    /// Add a person to a case; prints the id.
    Add {
        #[arg(long)]
        case: i64,
        #[arg(long)]
        role: String,
        /// A handle or pseudonym; victims are never named.
        #[arg(long)]
        label: String,
        #[arg(long, default_value = "cli")]
        source: String,
    },
    Show {
        id: i64,
    },
    List {
        #[arg(long)]
        case: Option<i64>,
    },
    Update {
        id: i64,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Declared country of residence (ISO alpha-2).
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        release: Option<String>,
    },
    /// Undo the latest merge of PERSON, restoring the prior state exactly.
    Unmerge {
        person: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum IdentifierCmd {
    /// Attach an identifier to a person.
    Add {
        #[arg(long)]
        person: i64,
        /// handle, email, ip, phone, payment-account, device-serial, chat-room, url, messenger-id, media-hash
        #[arg(long)]
        kind: String,
        value: String,
        /// Network or platform of a handle.
        #[arg(long)]
        network: Option<String>,
        #[arg(long)]
        port: Option<u16>,
        /// When first seen (RFC 3339).
        #[arg(long)]
        first_seen: Option<String>,
        #[arg(long)]
        last_seen: Option<String>,
        #[arg(long, default_value = "cli")]
        source: String,
    },
    /// Everything known about a value, across all cases and agencies you may see.
    Lookup {
        value: String,
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventCmd {
    Add {
        #[arg(long)]
        person: i64,
        /// tip-received, arrest, charge, plea, conviction, acquittal, sentence, death, child-safeguarded
        #[arg(long)]
        kind: String,
        /// YYYY-MM-DD
        #[arg(long)]
        date: String,
        /// Jurisdiction (ISO alpha-2).
        #[arg(long)]
        country: String,
        #[arg(long)]
        details: Option<String>,
        #[arg(long, default_value = "cli")]
        source: String,
    },
    Update {
        id: i64,
        #[arg(long)]
        details: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NoteCmd {
    Add {
        #[arg(long)]
        case: i64,
        #[arg(long)]
        person: Option<i64>,
        text: String,
        #[arg(long, default_value = "cli")]
        source: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Walk the hash chain and check every signed checkpoint; report the
    /// first broken entry or checkpoint.
    Verify,
    /// Sign the current head of the chain with the agency key (a checkpoint).
    Checkpoint {
        /// Also write the signed text to FILE and its minisign signature to
        /// FILE.minisig (check with `minisign -V -P KEY -m FILE`).
        #[arg(long)]
        export: Option<PathBuf>,
    },
    Log {
        #[arg(long)]
        case: Option<i64>,
        #[arg(long)]
        user: Option<String>,
        /// YYYY-MM-DD or RFC 3339.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        limit: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    pub file: PathBuf,
}
