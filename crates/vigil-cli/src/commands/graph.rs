//! `vigil graph`: the offender network of an operation, a case or
//! everything the user may read — exports for Gephi/networkx, the
//! key-players report, paths between two persons, and communities.
//!
//! Every subcommand reads the graph through [`Store::offender_graph`], so
//! only records the user may read go in and each read is audited once.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use vigil_graph::export::ExportFormat;
use vigil_graph::{KeyPlayersReport, PathKind};
use vigil_store::{GraphCounts, GraphScope, Store};

use crate::UsageError;
use crate::cli::Global;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum GraphCmd {
    /// Write the graph as GraphML, GEXF or CSV node/edge lists.
    Export(ExportArgs),
    /// Hosts, administrators (and who appointed them), distributors, brokers, newcomers.
    KeyPlayers(KeyPlayersArgs),
    /// Shortest (fewest hops) or strongest (most evidence) path between two persons.
    Path(PathArgs),
    /// Communities (Louvain) with their central members.
    Communities(CommunitiesArgs),
}

/// Which cases the graph covers; neither flag means every readable case.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Operation name (or id).
    #[arg(long, conflicts_with = "case")]
    pub operation: Option<String>,
    /// Case id.
    #[arg(long)]
    pub case: Option<i64>,
}

impl ScopeArgs {
    fn scope(&self) -> GraphScope {
        match (&self.operation, self.case) {
            (Some(o), _) => GraphScope::Operation(o.clone()),
            (None, Some(c)) => GraphScope::Case(c),
            (None, None) => GraphScope::All,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// graphml, gexf, gexf-dynamic, cytoscape, or csv (nodes to FILE, edges
    /// beside it as `<stem>-edges.csv`).
    #[arg(long)]
    pub format: String,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeyPlayersArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Entries per list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// Person id.
    pub person_a: i64,
    /// Person id.
    pub person_b: i64,
    /// Most evidence instead of fewest hops.
    #[arg(long)]
    pub strongest: bool,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

#[derive(Debug, Args)]
pub struct CommunitiesArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Central members named per community.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

#[derive(Serialize)]
struct ExportOut {
    scope: String,
    cases: Vec<i64>,
    format: &'static str,
    files: Vec<String>,
    #[serde(flatten)]
    counts: GraphCounts,
}

#[derive(Serialize)]
struct KeyPlayersOut {
    scope: String,
    cases: Vec<i64>,
    #[serde(flatten)]
    counts: GraphCounts,
    #[serde(flatten)]
    report: KeyPlayersReport,
}

#[derive(Serialize)]
struct PathOut {
    scope: String,
    from: String,
    to: String,
    kind: &'static str,
    path: Option<vigil_graph::Path>,
}

#[derive(Serialize)]
struct CommunitiesOut {
    scope: String,
    #[serde(flatten)]
    counts: GraphCounts,
    count: usize,
    modularity: f64,
    communities: Vec<vigil_graph::CommunityEntry>,
}

pub async fn graph(store: &Store, g: &Global, out: &Output, cmd: GraphCmd) -> Result<()> {
    let p = super::acting(store, g).await?;
    match cmd {
        GraphCmd::Export(a) => {
            let format = if a.format.eq_ignore_ascii_case("csv") {
                None
            } else {
                Some(a.format.parse::<ExportFormat>().map_err(|_| {
                    UsageError(format!(
                        "unknown format {:?}: use graphml, gexf, gexf-dynamic, cytoscape or csv",
                        a.format
                    ))
                })?)
            };
            let sg = store.offender_graph(&p, &a.scope.scope()).await?;
            let an = sg.analyse();
            let files = match format {
                Some(f) => {
                    write_file(&a.out, |w| {
                        vigil_graph::export::write(f, w, &sg.graph, Some(an.annotations()))
                    })?;
                    vec![a.out.display().to_string()]
                }
                None => {
                    let edges = edges_path(&a.out);
                    write_file(&a.out, |w| {
                        vigil_graph::export::write_nodes_csv(w, &sg.graph, Some(an.annotations()))
                    })?;
                    write_file(&edges, |w| {
                        vigil_graph::export::write_edges_csv(w, &sg.graph)
                    })?;
                    vec![a.out.display().to_string(), edges.display().to_string()]
                }
            };
            let o = ExportOut {
                scope: sg.scope.clone(),
                cases: sg.cases.clone(),
                format: format.map_or("csv", |f| f.name()),
                counts: sg.counts(),
                files,
            };
            out.emit(&o, |o| {
                println!(
                    "{} nodes, {} edges ({}) written to {}",
                    o.counts.nodes,
                    o.counts.edges,
                    o.format,
                    o.files.join(" and ")
                )
            })
        }
        GraphCmd::KeyPlayers(a) => {
            if a.top == 0 {
                return Err(UsageError("--top must be at least 1".into()).into());
            }
            let sg = store.offender_graph(&p, &a.scope.scope()).await?;
            let an = sg.analyse();
            let report = an.key_players(&sg, a.top)?;
            let o = KeyPlayersOut {
                scope: sg.scope.clone(),
                cases: sg.cases.clone(),
                counts: sg.counts(),
                report,
            };
            out.emit(&o, print_key_players)
        }
        GraphCmd::Path(a) => {
            let sg = store.offender_graph(&p, &a.scope.scope()).await?;
            let key = |id: i64| -> Result<String> {
                sg.person_key(id).ok_or_else(|| {
                    UsageError(format!(
                        "person {id} not found in your graph of {}",
                        sg.scope
                    ))
                    .into()
                })
            };
            let (from, to) = (key(a.person_a)?, key(a.person_b)?);
            let kind = if a.strongest {
                PathKind::Strongest
            } else {
                PathKind::Shortest
            };
            let an = sg.analyse();
            let path = vigil_graph::find_path(&sg.graph, &an.view, &from, &to, kind)?;
            let o = PathOut {
                scope: sg.scope.clone(),
                from,
                to,
                kind: if a.strongest { "strongest" } else { "shortest" },
                path,
            };
            out.emit(&o, print_path)
        }
        GraphCmd::Communities(a) => {
            let sg = store.offender_graph(&p, &a.scope.scope()).await?;
            let an = sg.analyse();
            let communities =
                vigil_graph::communities_report(&sg.graph, &an.view, &an.metrics, a.top.max(1))?;
            let o = CommunitiesOut {
                scope: sg.scope.clone(),
                counts: sg.counts(),
                count: an.metrics.communities.count,
                modularity: an.metrics.communities.modularity,
                communities,
            };
            out.emit(&o, |o| {
                println!(
                    "{} communities, modularity {:.3} ({} nodes, {} edges)",
                    o.count, o.modularity, o.counts.nodes, o.counts.edges
                );
                table(
                    &["id", "size", "players", "rooms", "central"],
                    o.communities
                        .iter()
                        .map(|c| {
                            vec![
                                c.id.to_string(),
                                c.size.to_string(),
                                c.players.to_string(),
                                c.rooms.join(", "),
                                c.central
                                    .iter()
                                    .map(|n| n.label.clone())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            ]
                        })
                        .collect(),
                );
            })
        }
    }
}

/// `nodes.csv` → `nodes-edges.csv`, beside it.
fn edges_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "graph".into());
    out.with_file_name(format!("{stem}-edges.csv"))
}

fn write_file(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> Result<(), vigil_graph::GraphError>,
) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(file);
    f(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn who(n: &vigil_graph::paths::PathNode) -> String {
    if n.aliases.is_empty() {
        format!("{} ({})", n.label, n.key)
    } else {
        format!("{} aka {} ({})", n.label, n.aliases.join(", "), n.key)
    }
}

fn print_key_players(o: &KeyPlayersOut) {
    let r = &o.report;
    println!(
        "{}: {} nodes, {} edges, {} communities (modularity {:.3})",
        o.scope, o.counts.nodes, o.counts.edges, r.communities, r.modularity
    );
    println!("\nRanking");
    table(
        &["rank", "player", "score", "why"],
        r.ranking
            .iter()
            .map(|x| {
                vec![
                    x.rank.to_string(),
                    who(&x.player),
                    format!("{:.3}", x.score),
                    x.reasons.join("; "),
                ]
            })
            .collect(),
    );
    println!("\nHosts");
    table(
        &["player", "rooms", "since"],
        r.hosts
            .iter()
            .map(|h| vec![who(&h.player), h.rooms.join(", "), h.since.to_string()])
            .collect(),
    );
    println!("\nAdministrators");
    table(
        &["player", "as", "room", "appointed by", "at"],
        r.administrators
            .iter()
            .map(|a| {
                vec![
                    who(&a.player),
                    a.as_handle.clone(),
                    a.room.clone(),
                    a.appointed_by
                        .as_ref()
                        .map(who)
                        .unwrap_or_else(|| "unknown".into()),
                    a.appointed_at.to_string(),
                ]
            })
            .collect(),
    );
    println!("\nDistributors by files supplied");
    table(
        &[
            "player",
            "supplied",
            "sent",
            "offered",
            "recipients",
            "shared hashes",
        ],
        r.distributors_by_files
            .iter()
            .map(|d| {
                vec![
                    who(&d.player),
                    d.files_supplied.to_string(),
                    d.files_sent.to_string(),
                    d.files_offered.to_string(),
                    d.recipients.to_string(),
                    d.shared_media_hashes.to_string(),
                ]
            })
            .collect(),
    );
    println!("\nDistributors by recipients");
    table(
        &["player", "recipients", "supplied"],
        r.distributors_by_recipients
            .iter()
            .map(|d| {
                vec![
                    who(&d.player),
                    d.recipients.to_string(),
                    d.files_supplied.to_string(),
                ]
            })
            .collect(),
    );
    println!("\nMedia on other persons' seized devices");
    table(
        &["player", "shared hashes", "supplied"],
        r.distributors_by_shared_media
            .iter()
            .map(|d| {
                vec![
                    who(&d.player),
                    d.shared_media_hashes.to_string(),
                    d.files_supplied.to_string(),
                ]
            })
            .collect(),
    );
    println!("\nBrokers");
    table(
        &["player", "betweenness", "communities bridged"],
        r.brokers
            .iter()
            .map(|b| {
                vec![
                    who(&b.player),
                    format!("{:.4}", b.betweenness),
                    b.communities_bridged.to_string(),
                ]
            })
            .collect(),
    );
    println!("\nNewcomers");
    table(
        &["player", "first seen"],
        r.newcomers
            .iter()
            .map(|n| vec![who(&n.player), n.first_seen.to_string()])
            .collect(),
    );
}

fn print_path(o: &PathOut) {
    let Some(p) = &o.path else {
        println!("no path between {} and {} in {}", o.from, o.to, o.scope);
        return;
    };
    println!(
        "{} path, {} hops (cost {:.3}):",
        o.kind,
        p.hops.len(),
        p.cost
    );
    println!(
        "  {}",
        p.nodes.iter().map(who).collect::<Vec<_>>().join("\n  -> ")
    );
    for h in &p.hops {
        let ev: Vec<String> = h
            .evidence
            .iter()
            .map(|e| format!("{} x{}", e.kind.as_str(), e.count))
            .collect();
        println!("  {} - {}: {}", h.from, h.to, ev.join(", "));
    }
}
