//! One function per subcommand: validate, call the store, print. Each
//! capability's commands live in a submodule of their own.

pub mod chat;
pub mod demo;
pub mod graph;
pub mod hashset;
pub mod link;
pub mod scan;
pub mod serve;
pub mod share;

use std::io::BufRead;

use anyhow::{Context, Result};
use vigil_domain::{IdentifierKind, NewEvent, NewIdentifier, NewPerson, Principal, Release};
use vigil_store::{AuditFilter, CaseUpdate, PersonUpdate, Store};

use crate::UsageError;
use crate::cli::*;
use crate::output::{Output, opt, table};

pub async fn run(cli: Cli) -> Result<()> {
    let out = Output::new(cli.global.json);
    if let Command::Restore(args) = &cli.command {
        return restore(&cli.global, &out, args).await;
    }
    let command = match cli.command {
        // reads image files only: no database, no acting user
        Command::Pdq(args) => return scan::pdq(args),
        // opens (and creates) its own two databases
        Command::Demo(args) => return demo::demo(&cli.global, &out, args).await,
        other => other,
    };
    let store = open_store(&cli.global).await?;
    let result = dispatch(&store, &cli.global, &out, command).await;
    store.close().await;
    result
}

pub async fn open_store(g: &Global) -> Result<Store> {
    match &g.database_url {
        Some(url) => Store::open_postgres(url)
            .await
            .context("cannot open the PostgreSQL database"),
        None => Store::open_sqlite(&g.db)
            .await
            .with_context(|| format!("cannot open the database {}", g.db.display())),
    }
}

async fn acting(store: &Store, g: &Global) -> Result<Principal> {
    let name = g
        .as_user
        .as_deref()
        .ok_or_else(|| UsageError("no acting user: pass --as USER or set VIGIL_USER".into()))?;
    Ok(store.principal(name).await?)
}

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        return Err(UsageError("no password on stdin".into()).into());
    }
    Ok(pw)
}

fn parse_release(s: &str) -> Result<Release> {
    Ok(Release::parse(s)?)
}

pub(crate) async fn dispatch(
    store: &Store,
    g: &Global,
    out: &Output,
    command: Command,
) -> Result<()> {
    match command {
        Command::Init(a) => {
            let pw = read_password()?;
            let p = store
                .init(&a.agency, &a.country, a.contact.as_deref(), &a.admin, &pw)
                .await?;
            out.emit(&p, |p| {
                println!(
                    "initialised agency {} ({}) with administrator {}",
                    p.agency_name, p.agency_country, p.user_name
                )
            })
        }
        Command::Agency(cmd) => {
            let p = acting(store, g).await?;
            match cmd {
                AgencyCmd::Add {
                    name,
                    country,
                    contact,
                } => {
                    let a = store
                        .add_agency(&p, &name, &country, contact.as_deref())
                        .await?;
                    out.emit(&a, |a| println!("{}", a.id))
                }
                AgencyCmd::List => {
                    let list = store.list_agencies(&p).await?;
                    out.emit(&list, |list| {
                        table(
                            &["id", "name", "country", "contact", "local"],
                            list.iter()
                                .map(|a| {
                                    vec![
                                        a.id.to_string(),
                                        a.name.clone(),
                                        a.country.clone(),
                                        opt(&a.contact),
                                        if a.is_local { "yes".into() } else { "".into() },
                                    ]
                                })
                                .collect(),
                        )
                    })
                }
                AgencyCmd::Update { id, contact } => {
                    let a = store.update_agency_contact(&p, id, &contact).await?;
                    out.emit(&a, |a| println!("updated agency {}", a.id))
                }
            }
        }
        Command::User(cmd) => {
            let p = acting(store, g).await?;
            match cmd {
                UserCmd::Add {
                    name,
                    roles,
                    agency,
                    password_stdin,
                } => {
                    let pw = if password_stdin {
                        Some(read_password()?)
                    } else {
                        None
                    };
                    let u = store
                        .add_user(&p, &name, agency.as_deref(), &roles, pw.as_deref())
                        .await?;
                    out.emit(&u, |u| println!("{}", u.id))
                }
                UserCmd::List => {
                    let list = store.list_users(&p).await?;
                    out.emit(&list, |list| {
                        table(
                            &["id", "name", "agency", "roles", "disabled"],
                            list.iter()
                                .map(|u| {
                                    vec![
                                        u.id.to_string(),
                                        u.name.clone(),
                                        u.agency.clone(),
                                        vigil_domain::Role::format_list(&u.roles),
                                        if u.disabled { "yes".into() } else { "".into() },
                                    ]
                                })
                                .collect(),
                        )
                    })
                }
                UserCmd::Update {
                    name,
                    roles,
                    disable,
                    enable,
                    password_stdin,
                } => {
                    let pw = if password_stdin {
                        Some(read_password()?)
                    } else {
                        None
                    };
                    let disabled = if disable {
                        Some(true)
                    } else if enable {
                        Some(false)
                    } else {
                        None
                    };
                    let u = store
                        .update_user(&p, &name, roles.as_deref(), disabled, pw.as_deref())
                        .await?;
                    out.emit(&u, |u| println!("updated user {}", u.name))
                }
            }
        }
        Command::Case(cmd) => {
            let p = acting(store, g).await?;
            match cmd {
                CaseCmd::Create {
                    title,
                    operation,
                    release,
                    source,
                } => {
                    let release = parse_release(&release)?;
                    let c = store
                        .create_case(&p, &title, operation.as_deref(), &release, &source)
                        .await?;
                    out.emit(&serde_json::json!({"id": c.id, "uid": c.uid}), |_| {
                        println!("{}", c.id)
                    })
                }
                CaseCmd::List => {
                    let list = store.list_cases(&p).await?;
                    out.emit(&list, |list| {
                        table(
                            &["id", "title", "operation", "agency", "release"],
                            list.iter()
                                .map(|c| {
                                    vec![
                                        c.id.to_string(),
                                        c.title.clone(),
                                        opt(&c.operation),
                                        c.agency.clone(),
                                        c.release.to_text(),
                                    ]
                                })
                                .collect(),
                        )
                    })
                }
                CaseCmd::Show { id } => {
                    let d = store.show_case(&p, id).await?;
                    out.emit(&d, |d| {
                        println!("case {}: {}", d.case.id, d.case.title);
                        println!("  agency:    {}", d.case.agency);
                        println!("  operation: {}", opt(&d.case.operation));
                        println!("  release:   {}", d.case.release.to_text());
                        if let Some(until) = &d.case.retention_until {
                            println!(
                                "  retention: until {until} ({})",
                                opt(&d.case.retention_basis)
                            );
                        }
                        println!(
                            "  created:   {} by {}",
                            d.case.created_at, d.case.created_by
                        );
                        println!("  members:   {}", d.members.join(", "));
                        println!();
                        table(
                            &["person", "role", "label"],
                            d.persons
                                .iter()
                                .map(|x| {
                                    vec![x.id.to_string(), x.role.to_string(), x.label.clone()]
                                })
                                .collect(),
                        );
                        if !d.devices.is_empty() {
                            println!();
                            table(
                                &["device", "label"],
                                d.devices
                                    .iter()
                                    .map(|x| vec![x.id.to_string(), x.label.clone()])
                                    .collect(),
                            );
                        }
                        for n in &d.notes {
                            println!(
                                "\nnote {} ({} {}): {}",
                                n.id, n.created_by, n.created_at, n.body
                            );
                        }
                    })
                }
                CaseCmd::Update {
                    id,
                    title,
                    release,
                    retention_until,
                    retention_basis,
                } => {
                    let update = CaseUpdate {
                        title,
                        release: release.as_deref().map(parse_release).transpose()?,
                        retention_until,
                        retention_basis,
                    };
                    if update == CaseUpdate::default() {
                        return Err(UsageError(
                            "nothing to update: pass --title, --release or --retention-until/--retention-basis"
                                .into(),
                        )
                        .into());
                    }
                    let c = store.apply_case_update(&p, id, &update).await?;
                    out.emit(&c, |c| println!("updated case {}", c.id))
                }
                CaseCmd::AddMember { id, user } => {
                    store.add_case_member(&p, id, &user).await?;
                    out.emit(&serde_json::json!({"case": id, "member": user}), |_| {
                        println!("{user} is now a member of case {id}")
                    })
                }
            }
        }
        Command::Person(cmd) => {
            let p = acting(store, g).await?;
            match cmd {
                PersonCmd::Add {
                    case,
                    role,
                    label,
                    source,
                } => {
                    let new = NewPerson::parse(&role, &label)?;
                    let person = store.add_person(&p, case, &new, &source).await?;
                    out.emit(
                        &serde_json::json!({"id": person.id, "uid": person.uid}),
                        |_| println!("{}", person.id),
                    )
                }
                PersonCmd::Show { id } => {
                    let d = store.show_person(&p, id).await?;
                    let links = link::person_links(store, &p, id, d.person.case_id).await?;
                    let mut value = serde_json::to_value(&d)?;
                    if let Some(obj) = value.as_object_mut() {
                        obj.insert(
                            "exact_links".into(),
                            serde_json::to_value(&links.exact_links)?,
                        );
                        obj.insert(
                            "candidate_links".into(),
                            serde_json::to_value(&links.candidate_links)?,
                        );
                    }
                    out.emit(&value, |_| {
                        println!(
                            "person {}: {} ({})",
                            d.person.id, d.person.label, d.person.role
                        );
                        println!("  case:    {} {}", d.person.case_id, d.case_title);
                        println!("  agency:  {}", d.agency);
                        println!("  country: {}", opt(&d.person.country));
                        println!(
                            "  recorded {} by {} from {}",
                            d.person.created_at, d.person.created_by, d.person.source
                        );
                        if !d.identifiers.is_empty() {
                            println!();
                            table(
                                &["identifier", "kind", "value", "normalised", "source"],
                                d.identifiers
                                    .iter()
                                    .map(|i| {
                                        vec![
                                            i.id.to_string(),
                                            i.kind.to_string(),
                                            i.raw.clone(),
                                            i.normalized.clone(),
                                            i.source.clone(),
                                        ]
                                    })
                                    .collect(),
                            );
                        }
                        if !d.events.is_empty() {
                            println!();
                            table(
                                &["date", "event", "country", "agency"],
                                d.events
                                    .iter()
                                    .map(|e| {
                                        vec![
                                            e.date.clone(),
                                            e.kind.to_string(),
                                            e.country.clone(),
                                            e.agency.clone(),
                                        ]
                                    })
                                    .collect(),
                            );
                        }
                        for n in &d.notes {
                            println!(
                                "\nnote {} ({} {}): {}",
                                n.id, n.created_by, n.created_at, n.body
                            );
                        }
                        link::print_person_links(&links);
                    })
                }
                PersonCmd::List { case } => {
                    let list = store.list_persons(&p, case).await?;
                    out.emit(&list, |list| {
                        table(
                            &["id", "case", "role", "label", "country"],
                            list.iter()
                                .map(|x| {
                                    vec![
                                        x.id.to_string(),
                                        x.case_id.to_string(),
                                        x.role.to_string(),
                                        x.label.clone(),
                                        opt(&x.country),
                                    ]
                                })
                                .collect(),
                        )
                    })
                }
                PersonCmd::Update {
                    id,
                    label,
                    role,
                    country,
                    release,
                } => {
                    let update = PersonUpdate {
                        label,
                        role,
                        country,
                        release: release.as_deref().map(parse_release).transpose()?,
                    };
                    let person = store.update_person(&p, id, &update).await?;
                    out.emit(&person, |x| println!("updated person {}", x.id))
                }
                PersonCmd::Unmerge { person } => link::unmerge(store, g, out, person).await,
            }
        }
        Command::Identifier(cmd) => {
            let p = acting(store, g).await?;
            match cmd {
                IdentifierCmd::Add {
                    person,
                    kind,
                    value,
                    network,
                    port,
                    first_seen,
                    last_seen,
                    source,
                } => {
                    let mut new = NewIdentifier::parse(&kind, &value)?;
                    new.network = network;
                    new.port = port;
                    new.first_seen = first_seen
                        .as_deref()
                        .map(|t| timestamp("first-seen", t))
                        .transpose()?;
                    new.last_seen = last_seen
                        .as_deref()
                        .map(|t| timestamp("last-seen", t))
                        .transpose()?;
                    let ident = store.add_identifier(&p, person, &new, &source).await?;
                    out.emit(&ident, |i| println!("{}", i.id))
                }
                IdentifierCmd::Lookup { value, kind } => {
                    let kind = kind
                        .as_deref()
                        .map(|k| {
                            IdentifierKind::parse(k).ok_or_else(|| {
                                UsageError(format!("invalid kind {k:?}: not an identifier kind"))
                            })
                        })
                        .transpose()?;
                    let r = store.lookup_identifier(&p, &value, kind).await?;
                    out.emit(&r, |r| {
                        if r.hits.is_empty() && r.blind_hits.is_empty() {
                            println!("nothing known about {:?}", r.query);
                            return;
                        }
                        table(
                            &["kind", "value", "person", "case", "agency", "source"],
                            r.hits
                                .iter()
                                .map(|h| {
                                    vec![
                                        h.identifier.kind.to_string(),
                                        h.identifier.raw.clone(),
                                        h.person
                                            .as_ref()
                                            .map(|x| format!("{} {}", x.id, x.label))
                                            .unwrap_or_else(|| "-".into()),
                                        format!("{} {}", h.case.id, h.case.title),
                                        format!("{} ({})", h.agency.name, h.agency.country),
                                        h.identifier.source.clone(),
                                    ]
                                })
                                .collect(),
                        );
                        for b in &r.blind_hits {
                            println!(
                                "also held by {} ({}) in a record you cannot see; contact: {}",
                                b.agency,
                                b.country,
                                opt(&b.contact)
                            );
                        }
                    })
                }
            }
        }
        Command::Event(cmd) => {
            let p = acting(store, g).await?;
            match cmd {
                EventCmd::Add {
                    person,
                    kind,
                    date,
                    country,
                    details,
                    source,
                } => {
                    let mut new = NewEvent::parse(&kind, &date, &country)?;
                    new.details = details;
                    let e = store.add_event(&p, person, &new, &source).await?;
                    out.emit(&e, |e| println!("{}", e.id))
                }
                EventCmd::Update { id, details } => {
                    let e = store.update_event_details(&p, id, &details).await?;
                    out.emit(&e, |e| println!("updated event {}", e.id))
                }
            }
        }
        Command::Note(NoteCmd::Add {
            case,
            person,
            text,
            source,
        }) => {
            let p = acting(store, g).await?;
            let n = store.add_note(&p, case, person, &text, &source).await?;
            out.emit(&n, |n| println!("{}", n.id))
        }
        Command::Audit(cmd) => match cmd {
            AuditCmd::Verify => {
                // Verification needs no principal: it reveals nothing but
                // whether the chain is intact, and must work for an auditor
                // holding only the database file.
                let v = store.verify_audit().await?;
                out.emit(&v, |v| {
                    if v.ok {
                        println!(
                            "audit log intact: {} entries, head {}, {} signed checkpoints verified",
                            v.entries,
                            opt(&v.head_hash),
                            v.checkpoints
                        );
                    } else {
                        println!(
                            "AUDIT LOG BROKEN at entry {}: {}",
                            opt(&v.first_bad_seq),
                            opt(&v.problem)
                        );
                    }
                })?;
                if !v.ok {
                    return Err(anyhow::anyhow!(
                        "audit chain broken at entry {}",
                        v.first_bad_seq.unwrap_or_default()
                    ));
                }
                Ok(())
            }
            AuditCmd::Checkpoint { export } => {
                let p = acting(store, g).await?;
                let cp = store.audit_checkpoint(&p).await?;
                if let Some(file) = &export {
                    let sig = file.with_file_name(format!(
                        "{}.minisig",
                        file.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ));
                    std::fs::write(file, &cp.message)
                        .with_context(|| format!("cannot write {}", file.display()))?;
                    std::fs::write(&sig, &cp.signature)
                        .with_context(|| format!("cannot write {}", sig.display()))?;
                }
                out.emit(&cp, |cp| {
                    println!(
                        "checkpoint {} signed: entry {} hash {} (key {})",
                        cp.id, cp.seq, cp.hash, cp.key_fingerprint
                    );
                    if let (Some(file), Some(pk)) = (&export, &cp.public_key) {
                        println!("check it with: minisign -V -P {pk} -m {}", file.display());
                    }
                })
            }
            AuditCmd::Log {
                case,
                user,
                since,
                limit,
            } => {
                let p = acting(store, g).await?;
                let filter = AuditFilter {
                    case_id: case,
                    user_name: user,
                    since,
                    limit,
                };
                let entries = store.audit_log(&p, &filter).await?;
                out.emit(&entries, |entries| {
                    table(
                        &["seq", "at", "user", "action", "target", "origin", "outcome"],
                        entries
                            .iter()
                            .map(|e| {
                                vec![
                                    e.seq.to_string(),
                                    e.at.clone(),
                                    e.user_name.clone(),
                                    e.action.clone(),
                                    e.target.clone(),
                                    e.origin.clone(),
                                    e.outcome.clone(),
                                ]
                            })
                            .collect(),
                    )
                })
            }
        },
        Command::Retention(RetentionCmd::Review { as_of }) => {
            let p = acting(store, g).await?;
            let due = store.retention_review(&p, as_of.as_deref()).await?;
            out.emit(&due, |due| {
                if due.is_empty() {
                    println!("no case is due for retention review");
                    return;
                }
                table(
                    &["case", "title", "retain until", "days over", "basis"],
                    due.iter()
                        .map(|d| {
                            vec![
                                d.case_id.to_string(),
                                d.title.clone(),
                                d.retention_until.clone(),
                                d.days_overdue.to_string(),
                                opt(&d.retention_basis),
                            ]
                        })
                        .collect(),
                )
            })
        }
        Command::Backup(a) => {
            let p = acting(store, g).await?;
            let tmp = a.file.with_extension("partial");
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let summary = store.backup(&p, &mut w).await?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &a.file)
                .with_context(|| format!("cannot write {}", a.file.display()))?;
            out.emit(&summary, |s| {
                println!(
                    "backup written to {}: {} rows, sha256 {}",
                    a.file.display(),
                    s.rows,
                    s.sha256
                )
            })
        }
        Command::Restore(_) => unreachable!("handled before opening the store"),
        Command::Keys(cmd) => share::keys(store, g, out, cmd).await,
        Command::Attribute(args) => share::attribute(store, g, out, args).await,
        Command::Package(cmd) => share::package(store, g, out, cmd).await,
        Command::Hashset(cmd) => hashset::hashset(store, g, out, cmd).await,
        Command::Match(args) => hashset::matching(store, g, out, args).await,
        Command::Serve(args) => serve::serve(store, g, out, args).await,
        Command::Token(args) => serve::token(store, g, out, args).await,
        Command::Scan(args) => scan::scan(store, g, out, args).await,
        Command::Chat(cmd) => chat::chat(store, g, out, cmd).await,
        Command::Link(cmd) => link::link(store, g, out, cmd).await,
        Command::Alerts(args) => link::alerts(store, g, out, args).await,
        Command::Graph(cmd) => graph::graph(store, g, out, cmd).await,
        Command::Pdq(_) | Command::Demo(_) => {
            unreachable!("handled before opening the store")
        }
    }
}

fn timestamp(field: &'static str, s: &str) -> Result<String> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
        vigil_domain::ValidationError::new(
            field,
            s,
            "expected an RFC 3339 time such as 2008-03-01T21:04:00Z",
        )
    })?;
    Ok(vigil_store::timestamp_text(t))
}

/// Restores into a database that must not exist yet (SQLite) or be empty
/// (PostgreSQL), so a restore can never overwrite live data.
async fn restore(g: &Global, out: &Output, args: &RestoreArgs) -> Result<()> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))
        .map_err(|e| UsageError(format!("{e:#}")))?;
    if g.database_url.is_none() && g.db.exists() {
        return Err(UsageError(format!(
            "{} already exists; restore into a new file (--db NEW.db)",
            g.db.display()
        ))
        .into());
    }
    let store = open_store(g).await?;
    let result = store.restore(std::io::BufReader::new(file)).await;
    store.close().await;
    if result.is_err() && g.database_url.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", g.db.display()));
        }
    }
    let summary = result?;
    out.emit(&summary, |s| {
        println!("restored {} rows into {}", s.rows, g.db.display())
    })
}
