//! `vigil keys`, `vigil attribute`, `vigil package`: dissemination to other
//! agencies.
//!
//! The cryptography (minisign signatures, age encryption, the package
//! envelope) and the attribution signals come from `vigil-share`; which
//! records leave, and what an import changes, is decided by the store. This
//! file only joins the two: it attributes persons with the signals, seals
//! what the store selected, and opens what arrives before the store sees it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use vigil_share::secrecy::ExposeSecret;
use vigil_share::{
    AgencyKeys, GeoDatabase, GeoSet, IdentifierInput, ManifestFields, PackageKind, PersonInput,
    PublicBundle, Signal,
};
use vigil_store::{
    AckPayload, AttributionNote, KeyUse, LeadsPayload, OutcomesPayload, PersonFacts,
    ReceivedPackage, Store,
};

use super::acting;
use crate::UsageError;
use crate::cli::Global;
use crate::output::{Output, opt, table};

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Generate this agency's signing and encryption key pairs (liaison
    /// officers, administrators). An earlier pair stays, inactive.
    Generate,
    /// List this agency's keys and the registered partner keys.
    List,
    /// Export the public bundle (--out) or, for escrow, the age identity
    /// (--encryption-identity; administrators only, audited).
    Export(ExportArgs),
    /// Register another agency's public bundle (creates the agency if
    /// unknown); compare the printed fingerprint with them by phone.
    Import {
        /// The partner's bundle file (JSON).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the public bundle (our identity and public keys) here.
    #[arg(long, conflicts_with = "encryption_identity")]
    pub out: Option<PathBuf>,
    /// Write the standard age identity file (SECRET) here.
    #[arg(long)]
    pub encryption_identity: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PackageCmd {
    /// Build a signed, encrypted lead package for a partner agency.
    Build(BuildArgs),
    /// Verify, decrypt and import a package (leads, outcomes or an
    /// acknowledgement of one we sent).
    Import {
        file: PathBuf,
        /// Also write a signed, encrypted acknowledgement for the sender
        /// (leads and outcomes packages).
        #[arg(long)]
        ack_out: Option<PathBuf>,
    },
    /// Acknowledge a package imported here: a signed, encrypted `ack`
    /// package for its sender, who imports it to mark theirs acknowledged.
    Ack {
        /// The package id (UUID) of the imported package.
        package: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Package the outcomes recorded on persons received from an agency.
    Outcomes {
        /// Agency name or id.
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List packages built and received, with their states.
    List,
    /// Outcome counts of an operation per country and in total.
    Counts {
        #[arg(long)]
        operation: String,
    },
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Operation name or id.
    #[arg(long)]
    pub operation: String,
    /// Recipient agency name or id.
    #[arg(long, required_unless_present = "country", conflicts_with = "country")]
    pub to: Option<String>,
    /// Or: the partner agency registered for this country.
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// An agency IP-geolocation database (.mmdb) used with the embedded one.
    #[arg(long)]
    pub mmdb: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AttributeArgs {
    /// Operation name or id.
    #[arg(long)]
    pub operation: String,
    /// An agency IP-geolocation database (.mmdb) used with the embedded one.
    #[arg(long)]
    pub mmdb: Option<PathBuf>,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

// ----- keys -------------------------------------------------------------------

pub async fn keys(store: &Store, g: &Global, out: &Output, cmd: KeysCmd) -> Result<()> {
    let p = acting(store, g).await?;
    match cmd {
        KeysCmd::Generate => {
            let country = vigil_share::CountryCode::parse(&p.agency_country)
                .map_err(|e| usage(format!("agency country: {e}")))?;
            let generated = vigil_share::generate_stored_keys(
                &p.agency_name,
                country,
                key_passphrase().as_ref(),
            )
            .context("cannot generate the agency keys")?;
            let key = store
                .store_agency_keys(
                    &p,
                    generated.fingerprint.as_str(),
                    &generated.public_bundle,
                    generated.stored_secret.expose_secret(),
                )
                .await?;
            // Warned only once the keys are stored, so a refused command
            // says nothing but why it was refused.
            if !generated.protected {
                warn_clear_keys();
            }
            out.emit(&key, |k| {
                println!(
                    "generated keys for {}; fingerprint {}",
                    p.agency_name, k.fingerprint
                )
            })
        }
        KeysCmd::List => {
            let list = store.list_keys(&p).await?;
            out.emit(&list, |l| {
                let mut rows: Vec<Vec<String>> = l
                    .local
                    .iter()
                    .map(|k| {
                        vec![
                            "own".into(),
                            p.agency_name.clone(),
                            p.agency_country.clone(),
                            k.fingerprint.clone(),
                            if k.active { "active" } else { "inactive" }.into(),
                            k.created_at.clone(),
                        ]
                    })
                    .collect();
                rows.extend(l.partners.iter().map(|k| {
                    vec![
                        "partner".into(),
                        k.agency.clone(),
                        k.country.clone(),
                        k.fingerprint.clone(),
                        "registered".into(),
                        k.imported_at.clone(),
                    ]
                }));
                table(
                    &[
                        "whose",
                        "agency",
                        "country",
                        "fingerprint",
                        "state",
                        "since",
                    ],
                    rows,
                );
            })
        }
        KeysCmd::Export(a) => match (a.out, a.encryption_identity) {
            (Some(path), None) => {
                let list = store.list_keys(&p).await?;
                let key = list.local.iter().find(|k| k.active).ok_or_else(|| {
                    usage("this agency has no keys yet: run `vigil keys generate`")
                })?;
                std::fs::write(&path, &key.public_bundle)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                out.emit(
                    &serde_json::json!({"file": path, "fingerprint": key.fingerprint}),
                    |_| {
                        println!(
                            "public bundle written to {}; fingerprint {}",
                            path.display(),
                            key.fingerprint
                        )
                    },
                )
            }
            (None, Some(path)) => {
                let secret = store.agency_secret(&p, KeyUse::ExportIdentity).await?;
                let keys = open_secret(&secret.secret_json)?;
                write_secret(&path, keys.age_identity_file().expose_secret())?;
                out.emit(
                    &serde_json::json!({"file": path, "fingerprint": secret.fingerprint}),
                    |_| {
                        println!(
                            "age identity (SECRET) written to {}; keep it in escrow",
                            path.display()
                        )
                    },
                )
            }
            _ => Err(usage(
                "pass exactly one of --out FILE or --encryption-identity FILE",
            )),
        },
        KeysCmd::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let key = match store.import_partner_bundle(&p, &text).await {
                Err(vigil_store::StoreError::Invalid(v)) => {
                    return Err(usage(format!("{}: {}", file.display(), v.reason)));
                }
                other => other?,
            };
            out.emit(&key, |k| {
                println!(
                    "registered {} ({}); fingerprint {} — compare it with them by phone",
                    k.agency, k.country, k.fingerprint
                )
            })
        }
    }
}

/// Writes secret material readable by the owner only.
fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all()?;
    Ok(())
}

// ----- attribution ---------------------------------------------------------------

/// The geolocation databases consulted: the agency's .mmdb first, if any,
/// and always the embedded table.
fn open_geo(mmdb: Option<&Path>) -> Result<GeoSet> {
    let mut geo = GeoSet::embedded().context("the embedded geolocation table is unreadable")?;
    if let Some(path) = mmdb {
        geo.add_mmdb(path)
            .map_err(|e| usage(format!("--mmdb: {e}")))?;
    }
    Ok(geo)
}

/// A person's record as `vigil-share` attributes it (the same translation
/// the web's dissemination page makes).
fn person_input(facts: &PersonFacts) -> PersonInput<'_> {
    PersonInput {
        person_id: facts.person.id,
        country: facts.person.country.as_deref(),
        identifiers: facts
            .identifiers
            .iter()
            .map(|i| IdentifierInput {
                kind: i.kind.as_str(),
                raw: &i.raw,
                normalized: &i.normalized,
                first_seen: i.first_seen.as_deref(),
            })
            .collect(),
    }
}

/// Every signal Vigil can read from a person's record.
fn signals(geo: &GeoSet, facts: &PersonFacts) -> Vec<Signal> {
    vigil_share::person_signals(geo, &person_input(facts))
}

fn note(geo: &GeoSet, facts: &PersonFacts) -> AttributionNote {
    let a = vigil_share::attribute(signals(geo, facts));
    AttributionNote {
        country: a.top.map(|c| c.as_str().to_string()),
        why: a.why,
    }
}

#[derive(Debug, Serialize)]
struct AttributedPerson {
    person_id: i64,
    label: String,
    case: String,
    country: Option<String>,
    conflicts: Vec<String>,
    why: String,
    signals: Vec<Signal>,
}

#[derive(Debug, Serialize)]
struct AttributionReport {
    operation: String,
    databases: Vec<GeoDatabase>,
    persons: Vec<AttributedPerson>,
}

pub async fn attribute(store: &Store, g: &Global, out: &Output, args: AttributeArgs) -> Result<()> {
    let p = acting(store, g).await?;
    let geo = open_geo(args.mmdb.as_deref())?;
    let facts = store.attribution_facts(&p, &args.operation).await?;
    let mut persons: Vec<AttributedPerson> = facts
        .iter()
        .map(|f| {
            let a = vigil_share::attribute(signals(&geo, f));
            AttributedPerson {
                person_id: f.person.id,
                label: f.person.label.clone(),
                case: f.case_title.clone(),
                country: a.top.map(|c| c.as_str().to_string()),
                conflicts: a.conflicts.iter().map(|c| c.as_str().to_string()).collect(),
                why: a.why,
                signals: a.signals,
            }
        })
        .collect();
    persons.sort_by(|a, b| (&a.country, a.person_id).cmp(&(&b.country, b.person_id)));
    let report = AttributionReport {
        operation: args.operation.clone(),
        databases: geo.described(),
        persons,
    };
    out.emit(&report, |r| {
        for db in &r.databases {
            println!("geolocation: {} (built {})", db.name, db.built);
        }
        table(
            &["country", "person", "label", "conflicts", "why"],
            r.persons
                .iter()
                .map(|x| {
                    vec![
                        x.country.clone().unwrap_or_else(|| "??".into()),
                        x.person_id.to_string(),
                        x.label.clone(),
                        if x.conflicts.is_empty() {
                            "-".into()
                        } else {
                            x.conflicts.join(",")
                        },
                        x.why.clone(),
                    ]
                })
                .collect(),
        );
        for x in &r.persons {
            for s in &x.signals {
                println!(
                    "  person {}: {:?} {:?} {} — {}",
                    x.person_id, s.kind, s.strength, s.evidence, s.reason
                );
            }
        }
    })
}

// ----- packages -------------------------------------------------------------------

async fn find_agency(
    store: &Store,
    p: &vigil_domain::Principal,
    name_or_id: &str,
) -> Result<vigil_store::Agency> {
    let agencies = store.list_agencies(p).await?;
    let id = name_or_id.trim().parse::<i64>().ok();
    agencies
        .into_iter()
        .find(|a| Some(a.id) == id || a.name == name_or_id.trim())
        .ok_or_else(|| usage(format!("unknown agency {name_or_id:?}")))
}

/// The most recent registered bundle of an agency.
async fn partner_bundle(
    store: &Store,
    p: &vigil_domain::Principal,
    agency_id: i64,
) -> Result<PublicBundle> {
    let key = store
        .partner_keys(p)
        .await?
        .into_iter()
        .rev()
        .find(|k| k.agency_id == agency_id)
        .ok_or_else(|| {
            usage("no key registered for that agency: `vigil keys import` its bundle first")
        })?;
    PublicBundle::from_json(&key.public_bundle).context("stored partner key is unreadable")
}

async fn own_keys(
    store: &Store,
    p: &vigil_domain::Principal,
    usage_: KeyUse,
) -> Result<AgencyKeys> {
    let secret = store.agency_secret(p, usage_).await?;
    open_secret(&secret.secret_json)
}

use vigil_share::KEY_PASSPHRASE_ENV;

fn key_passphrase() -> Option<vigil_share::secrecy::SecretString> {
    vigil_share::key_passphrase_from_env()
}

/// Says once per process that the keys are stored in clear: `vigil demo`
/// and `vigil serve` open them many times, and one warning says it all.
fn warn_clear_keys() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "warning: the agency's secret keys are stored unencrypted in the database; \
             set {KEY_PASSPHRASE_ENV} (and run `vigil keys generate` again) to encrypt them at rest"
        )
    });
}

/// Opens the stored secret keys: passphrase-protected ones with
/// `VIGIL_KEY_PASSPHRASE`, clear ones as they are (with a warning).
fn open_secret(stored: &str) -> Result<AgencyKeys> {
    let pass = key_passphrase();
    if !vigil_share::is_protected(stored) {
        warn_clear_keys();
    }
    let json = vigil_share::unprotect_secret(stored, pass.as_ref()).map_err(|e| {
        usage(format!(
            "{e} ({KEY_PASSPHRASE_ENV} holds the key-encryption passphrase)"
        ))
    })?;
    AgencyKeys::from_secret_json(json.expose_secret()).context("stored agency keys are unreadable")
}

/// Writes a built package out and records it as sent: the package file is
/// what leaves, so the state changes only once the bytes are on disk.
async fn write_package(
    store: &Store,
    p: &vigil_domain::Principal,
    path: &Path,
    built: &vigil_store::BuiltPackage,
) -> Result<vigil_store::PackageRecord> {
    std::fs::write(path, &built.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(store
        .mark_package_sent(p, &built.record.package_uid)
        .await?)
}

/// Builds, writes and records as sent an acknowledgement of `acked`.
async fn write_ack(
    store: &Store,
    p: &vigil_domain::Principal,
    acked: &str,
    out: Option<PathBuf>,
) -> Result<(vigil_store::PackageRecord, PathBuf)> {
    let received = store
        .list_packages(p)
        .await?
        .into_iter()
        .find(|r| r.package_uid == acked && r.direction == "received")
        .ok_or_else(|| {
            usage(format!(
                "package {acked} not found among the packages imported here"
            ))
        })?;
    let recipient = partner_bundle(store, p, received.peer_agency_id).await?;
    let keys = own_keys(store, p, KeyUse::Seal).await?;
    let mut fields = ManifestFields::new(PackageKind::Ack);
    fields.in_reply_to =
        Some(uuid::Uuid::parse_str(acked).map_err(|e| usage(format!("package id {acked}: {e}")))?);
    let uid = fields.package_id.to_string();
    let built = store
        .build_ack(p, acked, &uid, |json| {
            vigil_share::seal(json, &fields, &keys, &recipient)
        })
        .await?;
    let path = out.unwrap_or_else(|| PathBuf::from(format!("ack-{uid}.vigil")));
    let record = write_package(store, p, &path, &built).await?;
    Ok((record, path))
}

pub async fn package(store: &Store, g: &Global, out: &Output, cmd: PackageCmd) -> Result<()> {
    let p = acting(store, g).await?;
    match cmd {
        PackageCmd::Build(a) => {
            let agency = match (&a.to, &a.country) {
                (Some(to), _) => find_agency(store, &p, to).await?,
                (None, Some(cc)) => {
                    let cc = cc.trim().to_ascii_uppercase();
                    let mut ids: Vec<i64> = store
                        .partner_keys(&p)
                        .await?
                        .into_iter()
                        .filter(|k| k.country == cc)
                        .map(|k| k.agency_id)
                        .collect();
                    ids.dedup();
                    match ids.as_slice() {
                        [id] => find_agency(store, &p, &id.to_string()).await?,
                        [] => return Err(usage(format!("no partner agency registered for {cc}"))),
                        _ => {
                            return Err(usage(format!(
                                "several agencies are registered for {cc}: use --to"
                            )));
                        }
                    }
                }
                (None, None) => return Err(usage("pass --to AGENCY or --country CC")),
            };
            let geo = open_geo(a.mmdb.as_deref())?;
            let recipient = partner_bundle(store, &p, agency.id).await?;
            let keys = own_keys(store, &p, KeyUse::Seal).await?;
            let fields = ManifestFields::new(PackageKind::Leads);
            let uid = fields.package_id.to_string();
            let built = store
                .build_leads(
                    &p,
                    &a.operation,
                    agency.id,
                    &uid,
                    |f| note(&geo, f),
                    |json| vigil_share::seal(json, &fields, &keys, &recipient),
                )
                .await?;
            let path = a
                .out
                .unwrap_or_else(|| PathBuf::from(format!("package-{uid}.vigil")));
            let record = write_package(store, &p, &path, &built).await?;
            out.emit(&record, |r| {
                println!(
                    "package {} for {} written to {}: {}",
                    r.package_uid,
                    r.peer_agency,
                    path.display(),
                    r.summary
                )
            })
        }
        PackageCmd::Outcomes { to, out: file } => {
            let agency = find_agency(store, &p, &to).await?;
            let recipient = partner_bundle(store, &p, agency.id).await?;
            let keys = own_keys(store, &p, KeyUse::Seal).await?;
            let fields = ManifestFields::new(PackageKind::Outcomes);
            let uid = fields.package_id.to_string();
            let built = store
                .build_outcomes(&p, agency.id, &uid, |json| {
                    vigil_share::seal(json, &fields, &keys, &recipient)
                })
                .await?;
            let path = file.unwrap_or_else(|| PathBuf::from(format!("outcomes-{uid}.vigil")));
            let record = write_package(store, &p, &path, &built).await?;
            out.emit(&record, |r| {
                println!(
                    "outcomes package {} for {} written to {}: {}",
                    r.package_uid,
                    r.peer_agency,
                    path.display(),
                    r.summary
                )
            })
        }
        PackageCmd::Ack { package, out: file } => {
            let (record, path) = write_ack(store, &p, package.trim(), file).await?;
            out.emit(&record, |r| {
                println!(
                    "acknowledgement {} of {} for {} written to {}",
                    r.package_uid,
                    package.trim(),
                    r.peer_agency,
                    path.display()
                )
            })
        }
        PackageCmd::Import { file, ack_out } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let keys = own_keys(store, &p, KeyUse::Open).await?;
            let partners: Vec<PublicBundle> = store
                .partner_keys(&p)
                .await?
                .iter()
                .filter_map(|k| PublicBundle::from_json(&k.public_bundle).ok())
                .collect();
            let opened = vigil_share::open(&bytes, keys.identity(), keys.public_bundle(), |fp| {
                partners.iter().find(|b| b.fingerprint() == fp).cloned()
            })
            .map_err(|e| usage(format!("package {} refused: {e}", file.display())))?;
            let pkg = ReceivedPackage {
                package_uid: opened.manifest.package_id.to_string(),
                sender_fingerprint: opened.sender.fingerprint().as_str().to_string(),
                in_reply_to: opened.manifest.in_reply_to.map(|u| u.to_string()),
            };
            let malformed = |e: serde_json::Error| {
                usage(format!(
                    "package {} refused: malformed content: {e}",
                    file.display()
                ))
            };
            let summary = match opened.manifest.kind {
                PackageKind::Leads => {
                    let content: LeadsPayload =
                        serde_json::from_slice(&opened.payload).map_err(malformed)?;
                    store.import_leads(&p, &pkg, &content).await
                }
                PackageKind::Outcomes => {
                    let content: OutcomesPayload =
                        serde_json::from_slice(&opened.payload).map_err(malformed)?;
                    store.import_outcomes(&p, &pkg, &content).await
                }
                PackageKind::Ack => {
                    if ack_out.is_some() {
                        return Err(usage("an acknowledgement is not itself acknowledged"));
                    }
                    let content: AckPayload =
                        serde_json::from_slice(&opened.payload).map_err(malformed)?;
                    let acked = store
                        .import_ack(&p, &pkg, &content)
                        .await
                        .with_context(|| format!("package {} refused", file.display()))?;
                    return out.emit(&acked, |r| {
                        println!(
                            "{} acknowledged package {} on {}",
                            r.peer_agency,
                            r.package_uid,
                            opt(&r.acknowledged_at)
                        )
                    });
                }
            }
            .with_context(|| format!("package {} refused", file.display()))?;
            let ack = match ack_out {
                Some(path) => {
                    Some(write_ack(store, &p, &summary.package.package_uid, Some(path)).await?)
                }
                None => None,
            };
            let mut emitted =
                serde_json::to_value(&summary).context("cannot encode the summary")?;
            if let (Some((record, _)), Some(obj)) = (&ack, emitted.as_object_mut()) {
                obj.insert(
                    "ack".into(),
                    serde_json::to_value(record).context("cannot encode the ack")?,
                );
            }
            out.emit(&emitted, |_| {
                let s = &summary;
                println!(
                    "imported {} package {} from {}: {}",
                    s.package.kind, s.package.package_uid, s.package.peer_agency, s.package.summary
                );
                if let Some(c) = s.package.case_id {
                    println!("stored in case {c}");
                }
                for k in &s.known_elsewhere {
                    println!(
                        "  already known: {} {} in case {} ({})",
                        k.kind, k.value, k.case_id, k.agency
                    );
                }
                if let Some((r, path)) = &ack {
                    println!(
                        "acknowledgement {} written to {}",
                        r.package_uid,
                        path.display()
                    );
                }
            })
        }
        PackageCmd::List => {
            let list = store.list_packages(&p).await?;
            out.emit(&list, |l| {
                table(
                    &[
                        "id",
                        "package",
                        "kind",
                        "direction",
                        "agency",
                        "operation",
                        "state",
                        "created",
                        "sent",
                        "acknowledged",
                        "outcomes",
                    ],
                    l.iter()
                        .map(|r| {
                            vec![
                                r.id.to_string(),
                                r.package_uid.clone(),
                                r.kind.clone(),
                                r.direction.clone(),
                                r.peer_agency.clone(),
                                opt(&r.operation),
                                r.state.clone(),
                                r.created_at.clone(),
                                opt(&r.sent_at),
                                opt(&r.acknowledged_at),
                                opt(&r.outcomes_received_at),
                            ]
                        })
                        .collect(),
                )
            })
        }
        PackageCmd::Counts { operation } => {
            let counts = store.outcome_counts(&p, &operation).await?;
            out.emit(&counts, |c| {
                let row = |name: &str, x: &vigil_store::OutcomeCounts| {
                    vec![
                        name.to_string(),
                        x.suspects_identified.to_string(),
                        x.arrested.to_string(),
                        x.charged.to_string(),
                        x.convicted.to_string(),
                        x.pending.to_string(),
                        x.deceased.to_string(),
                        x.children_safeguarded.to_string(),
                    ]
                };
                let mut rows: Vec<Vec<String>> =
                    c.by_country.iter().map(|(k, v)| row(k, v)).collect();
                rows.push(row("TOTAL", &c.total));
                table(
                    &[
                        "country",
                        "identified",
                        "arrested",
                        "charged",
                        "convicted",
                        "pending",
                        "deceased",
                        "safeguarded",
                    ],
                    rows,
                );
            })
        }
    }
}
