//! `vigil link`, `vigil alerts` and `vigil person unmerge`: candidate links
//! between persons (scored and explained, decided by an officer, never
//! applied silently), exact links, and de-confliction alerts.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;
use vigil_domain::Principal;
use vigil_store::{Alert, ExactLink, Holder, MergeOutcome, Store};

use crate::cli::Global;
use crate::output::{Output, opt, table};

#[derive(Debug, Subcommand)]
pub enum LinkCmd {
    /// Compute and list candidate links between the persons you may read.
    Candidates {
        /// Only candidates with a person in this case.
        #[arg(long)]
        case: Option<i64>,
        /// Only candidates scoring at least this many bits.
        #[arg(long)]
        min_score: Option<f64>,
    },
    /// Accept a candidate: merge the two persons (same agency only).
    Accept {
        candidate: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject a candidate; the decision survives re-runs.
    Reject {
        candidate: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// The exact links of a person's identifiers across cases and agencies.
    Exact { person: i64 },
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub cmd: Option<AlertsCmd>,
    /// Only alerts not yet marked read.
    #[arg(long)]
    pub unread: bool,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCmd {
    /// Mark an alert read.
    Read { id: i64 },
}

fn holder_text(h: &Holder) -> String {
    match h {
        Holder::Visible {
            record,
            raw,
            person_label,
            case_id,
            case_title,
            agency,
            ..
        } => format!(
            "{agency}: case {case_id} \"{case_title}\", {record} {} (person {})",
            opt(raw),
            opt(person_label)
        ),
        Holder::Blind {
            agency,
            country,
            contact,
        } => format!(
            "blind hit: {agency} ({country}) holds a matching record; contact {}",
            opt(contact)
        ),
    }
}

fn print_merge(m: &MergeOutcome, verb: &str) {
    let moved: Vec<String> = m
        .moved
        .iter()
        .map(|(t, ids)| format!("{} {t}", ids.len()))
        .collect();
    println!(
        "person {} {verb} person {} (merge {}; {})",
        m.merged,
        m.kept,
        m.merge_id,
        moved.join(", ")
    );
}

pub async fn link(store: &Store, g: &Global, out: &Output, cmd: LinkCmd) -> Result<()> {
    let p = super::acting(store, g).await?;
    match cmd {
        LinkCmd::Candidates { case, min_score } => {
            let c = store.link_candidates(&p, case, min_score).await?;
            out.emit(&c, |c| {
                table(
                    &["id", "a", "b", "score", "certain", "status", "evidence"],
                    c.iter()
                        .map(|c| {
                            vec![
                                c.id.to_string(),
                                format!("{} {}", c.person_a.id, c.person_a.label),
                                format!("{} {}", c.person_b.id, c.person_b.label),
                                format!("{:.1}", c.score),
                                if c.certain { "yes" } else { "" }.into(),
                                if c.cross_agency {
                                    format!("{} (cross-agency)", c.status)
                                } else {
                                    c.status.clone()
                                },
                                c.evidence
                                    .iter()
                                    .map(|e| e.kind.as_str())
                                    .collect::<Vec<_>>()
                                    .join(","),
                            ]
                        })
                        .collect(),
                );
                for c in c {
                    println!("\ncandidate {}:", c.id);
                    for e in &c.evidence {
                        println!(
                            "  {:+.1} {}: {} [{}]",
                            e.weight,
                            e.kind.as_str(),
                            e.detail,
                            e.sources.join("; ")
                        );
                    }
                }
            })
        }
        LinkCmd::Accept { candidate, note } => {
            let m = store
                .accept_candidate(&p, candidate, note.as_deref())
                .await?;
            out.emit(&m, |m| print_merge(m, "merged into"))
        }
        LinkCmd::Reject { candidate, note } => {
            store
                .reject_candidate(&p, candidate, note.as_deref())
                .await?;
            out.emit(
                &serde_json::json!({"candidate": candidate, "status": "rejected"}),
                |_| println!("candidate {candidate} rejected"),
            )
        }
        LinkCmd::Exact { person } => {
            let links = store.exact_links(&p, person).await?;
            out.emit(&links, |links| {
                table(
                    &["identifier", "kind", "value", "also held by"],
                    links
                        .iter()
                        .map(|l| {
                            vec![
                                l.identifier_id.to_string(),
                                l.kind.clone(),
                                l.normalized.clone(),
                                holder_text(&l.other),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

/// What `vigil person show` adds about links: the person's exact links
/// (the same normalised identifier held elsewhere, with the holder as the
/// viewer may see it) and how many candidate links involve the person.
#[derive(Debug, Serialize)]
pub struct PersonLinks {
    pub exact_links: Vec<ExactLink>,
    pub candidate_links: CandidateCounts,
}

#[derive(Debug, Serialize)]
pub struct CandidateCounts {
    /// Open candidates (awaiting a decision).
    pub open: usize,
    /// Open candidates backed by certain evidence (a nick change).
    pub certain: usize,
    /// Accepted or rejected ones.
    pub decided: usize,
    /// Candidate ids, for `vigil link accept|reject`.
    pub ids: Vec<i64>,
}

/// The link part of `vigil person show`. Candidates are recomputed for the
/// person's case (the same call as `vigil link candidates --case`), so the
/// count is current rather than whatever the last run stored.
pub async fn person_links(
    store: &Store,
    p: &Principal,
    person: i64,
    case_id: i64,
) -> Result<PersonLinks> {
    let exact_links = store.exact_links(p, person).await?;
    let candidates = store.link_candidates(p, Some(case_id), None).await?;
    let mine: Vec<_> = candidates
        .iter()
        .filter(|c| c.person_a.id == person || c.person_b.id == person)
        .collect();
    let open: Vec<_> = mine.iter().filter(|c| c.status == "open").collect();
    Ok(PersonLinks {
        candidate_links: CandidateCounts {
            open: open.len(),
            certain: open.iter().filter(|c| c.certain).count(),
            decided: mine.len() - open.len(),
            ids: mine.iter().map(|c| c.id).collect(),
        },
        exact_links,
    })
}

/// Prints the link part of `vigil person show` for people.
pub fn print_person_links(l: &PersonLinks) {
    if !l.exact_links.is_empty() {
        println!();
        table(
            &["identifier", "same", "value", "also held by"],
            l.exact_links
                .iter()
                .map(|x| {
                    vec![
                        x.identifier_id.to_string(),
                        x.kind.clone(),
                        x.normalized.clone(),
                        holder_text(&x.other),
                    ]
                })
                .collect(),
        );
    }
    let c = &l.candidate_links;
    println!(
        "
candidate links: {} open ({} certain), {} decided{}",
        c.open,
        c.certain,
        c.decided,
        if c.ids.is_empty() {
            String::new()
        } else {
            format!(
                "; see `vigil link candidates` ids {}",
                c.ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
}

/// `vigil person unmerge PERSON`.
pub async fn unmerge(store: &Store, g: &Global, out: &Output, person: i64) -> Result<()> {
    let p = super::acting(store, g).await?;
    let m = store.unmerge_person(&p, person).await?;
    out.emit(&m, |m| print_merge(m, "split again from"))
}

pub async fn alerts(store: &Store, g: &Global, out: &Output, args: AlertsArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    match args.cmd {
        Some(AlertsCmd::Read { id }) => {
            store.read_alert(&p, id).await?;
            out.emit(&serde_json::json!({"alert": id, "read": true}), |_| {
                println!("alert {id} marked read")
            })
        }
        None => {
            let alerts: Vec<Alert> = store.alerts(&p, args.unread).await?;
            out.emit(&alerts, |alerts| {
                table(
                    &["id", "read", "case", "yours", "kind", "value", "other side"],
                    alerts
                        .iter()
                        .map(|a| {
                            vec![
                                a.id.to_string(),
                                if a.read { "yes" } else { "" }.into(),
                                opt(&a.case_id),
                                a.own.clone(),
                                a.kind.clone(),
                                a.value.clone(),
                                format!("{}: {}", a.other_action, holder_text(&a.other)),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}
