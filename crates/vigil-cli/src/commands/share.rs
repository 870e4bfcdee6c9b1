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
use vigil_share::{AgencyKeys, GeoDatabase, GeoSet, Signal};
use vigil_store::{KeyUnlock, KeyUse, OpenedPackage, PersonFacts, Recipient, Store};

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

/// Every signal Vigil can read from a person's record.
fn signals(geo: &GeoSet, facts: &PersonFacts) -> Vec<Signal> {
    vigil_share::person_signals(geo, &vigil_store::person_input(facts))
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

pub use vigil_store::KEY_PASSPHRASE_ENV;

fn key_passphrase() -> Option<vigil_share::secrecy::SecretString> {
    vigil_store::key_passphrase_from_env()
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
    Ok(vigil_store::open_agency_keys(
        stored,
        unlock(pass.as_ref()),
    )?)
}

/// How the CLI unlocks the agency's keys: the passphrase from the
/// environment, a warning when they are stored in clear.
fn unlock(pass: Option<&vigil_share::secrecy::SecretString>) -> KeyUnlock<'_> {
    KeyUnlock {
        passphrase: pass,
        on_clear: &warn_clear_keys,
    }
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
    let pass = key_passphrase();
    let built = store.seal_ack(p, acked, unlock(pass.as_ref())).await?;
    let uid = built.record.package_uid.clone();
    let path = out.unwrap_or_else(|| PathBuf::from(format!("ack-{uid}.vigil")));
    let record = write_package(store, p, &path, &built).await?;
    Ok((record, path))
}

pub async fn package(store: &Store, g: &Global, out: &Output, cmd: PackageCmd) -> Result<()> {
    let p = acting(store, g).await?;
    match cmd {
        PackageCmd::Build(a) => {
            let to = match (&a.to, &a.country) {
                (Some(to), _) => Recipient::Agency(to),
                (None, Some(cc)) => Recipient::Country(cc),
                (None, None) => return Err(usage("pass --to AGENCY or --country CC")),
            };
            let geo = open_geo(a.mmdb.as_deref())?;
            let pass = key_passphrase();
            let built = store
                .seal_leads(&p, &a.operation, to, &geo, unlock(pass.as_ref()))
                .await?;
            let uid = built.record.package_uid.clone();
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
            let pass = key_passphrase();
            let built = store.seal_outcomes(&p, &to, unlock(pass.as_ref())).await?;
            let uid = built.record.package_uid.clone();
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
            let pass = key_passphrase();
            let label = file.display().to_string();
            let opened = store
                .open_package(&p, &label, &bytes, ack_out.is_some(), unlock(pass.as_ref()))
                .await
                .with_context(|| format!("package {label} refused"))?;
            let summary = match opened {
                OpenedPackage::Imported(s) => s,
                OpenedPackage::Acknowledged(acked) => {
                    return out.emit(&acked, |r| {
                        println!(
                            "{} acknowledged package {} on {}",
                            r.peer_agency,
                            r.package_uid,
                            opt(&r.acknowledged_at)
                        )
                    });
                }
            };
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
