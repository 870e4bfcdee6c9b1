//! `vigil chat import` and `vigil chat search`: chat logs into a case, and
//! full-text search over the messages of the cases the user may read.
//!
//! The database is the source of truth; the tantivy index beside it
//! (`<db>.search/` for SQLite, a cache directory for PostgreSQL) is fed after
//! each import commits and only ever searched with the case ids the store
//! says the user may read.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vigil_chat::{Format, ParseOptions, Zone};
use vigil_search::{SearchIndex, SearchRequest};
use vigil_store::{ChatImportRequest, Store};

use crate::UsageError;
use crate::cli::Global;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum ChatCmd {
    /// Import a chat log (irssi, WeeChat, HexChat, mIRC, JSON Lines, CSV) into a case.
    Import(ImportArgs),
    /// Search the messages of the cases you may read.
    Search(SearchArgs),
    /// Rebuild the search index from the stored messages (after a restore,
    /// or when the index is corrupt or deleted).
    Reindex(ReindexArgs),
}

#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Only this case; otherwise every case you may read.
    #[arg(long)]
    pub case: Option<i64>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub case: i64,
    /// irssi, weechat, hexchat, mirc, jsonl or csv; detected when omitted.
    #[arg(long)]
    pub format: Option<String>,
    /// Room name; defaults to the channel the log names, else the file name.
    #[arg(long)]
    pub room: Option<String>,
    #[arg(long)]
    pub network: Option<String>,
    /// Zone the client wrote local times in (UTC, +02:00, Europe/London).
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// The officer's own nick in the log (stored as role `other`).
    #[arg(long)]
    pub officer_handle: Option<String>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    pub query: String,
    #[arg(long)]
    pub room: Option<String>,
    #[arg(long)]
    pub handle: Option<String>,
    /// Inclusive lower bound (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Exclusive upper bound (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub async fn chat(store: &Store, g: &Global, out: &Output, cmd: ChatCmd) -> Result<()> {
    match cmd {
        ChatCmd::Import(a) => import(store, g, out, a).await,
        ChatCmd::Search(a) => search(store, g, out, a).await,
        ChatCmd::Reindex(a) => reindex(store, g, out, a).await,
    }
}

/// Where the message index lives: beside the SQLite file, or for PostgreSQL
/// in the user's cache directory, one folder per database (`VIGIL_SEARCH_DIR`
/// overrides both).
pub(crate) fn index_dir(g: &Global) -> PathBuf {
    if let Some(d) = std::env::var_os("VIGIL_SEARCH_DIR") {
        return PathBuf::from(d);
    }
    match &g.database_url {
        None => {
            let mut s = g.db.clone().into_os_string();
            s.push(".search");
            PathBuf::from(s)
        }
        Some(url) => {
            // Never put credentials in a path: keep only what follows '@'.
            let tail = url.rsplit('@').next().unwrap_or(url);
            let name: String = tail
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir);
            base.join("vigil").join(format!("search-{name}"))
        }
    }
}

fn open_index(g: &Global) -> Result<SearchIndex> {
    let dir = index_dir(g);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the search index {}", dir.display()))?;
    SearchIndex::open(&dir)
        .with_context(|| format!("cannot open the search index {}", dir.display()))
}

async fn import(store: &Store, g: &Global, out: &Output, a: ImportArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let format = match &a.format {
        Some(f) => Some(f.parse::<Format>().map_err(|e| UsageError(e.to_string()))?),
        None => None,
    };
    let zone = Zone::parse(&a.tz).map_err(|e| UsageError(e.to_string()))?;
    let opts = ParseOptions {
        format,
        zone,
        base_date: None,
    };
    let bar = progress_bar(out);
    if let Some(b) = &bar {
        b.set_message(format!("parsing {}", a.file.display()));
    }
    let log = vigil_chat::parse(&bytes, &opts)
        .map_err(|e| UsageError(format!("{}: {e}", a.file.display())))?;
    let summary = vigil_chat::summarize(&log);
    if let Some(b) = &bar {
        b.set_length(summary.messages.len() as u64);
        b.set_message("storing messages");
    }
    let file_name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| a.file.display().to_string());
    let room = a
        .room
        .clone()
        .or_else(|| summary.channel.clone())
        .unwrap_or_else(|| file_name.clone());
    let report = |n: usize| {
        if let Some(b) = &bar {
            b.set_position(n as u64);
        }
    };
    let result = store
        .import_chat_with_progress(
            &p,
            &ChatImportRequest {
                case_id: a.case,
                file: file_name.clone(),
                room: room.clone(),
                network: a.network.clone(),
                officer_handle: a.officer_handle.clone(),
                summary: &summary,
            },
            &report,
        )
        .await?;
    // Index after the commit: the database is the source of truth.
    if !result.new_messages.is_empty() {
        let index = open_index(g)?;
        if let Some(b) = &bar {
            b.set_position(0);
            b.set_length(result.new_messages.len() as u64);
            b.set_message("indexing messages");
        }
        for chunk in result.new_messages.chunks(INDEX_CHUNK) {
            index
                .add_batch(&vigil_server::chat_index::message_docs(chunk))
                .context("cannot index the messages")?;
            if let Some(b) = &bar {
                b.inc(chunk.len() as u64);
            }
        }
        index.commit().context("cannot commit the search index")?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut value = serde_json::to_value(&summary)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("stored".into(), serde_json::to_value(&result)?);
    }
    for u in &summary.unparsed_lines {
        eprintln!(
            "warning: {}:{}: not parsed ({}): {}",
            file_name, u.line, u.reason, u.text
        );
    }
    out.emit(&value, |_| {
        println!(
            "imported {} ({}) into case {} room {room}: {} messages ({} new), {} participants ({} new persons), {} identifiers added, {} operators, {} nick changes, {} file offers, {} unparsed lines",
            file_name,
            summary.format.as_str(),
            a.case,
            summary.messages.len(),
            result.messages_added,
            summary.participants.len(),
            result.persons_added,
            result.identifiers_added,
            summary.operators.len(),
            summary.nick_changes.len(),
            summary.file_offers.len(),
            summary.unparsed_lines.len()
        )
    })
}

/// Messages handed to the index writer at a time.
const INDEX_CHUNK: usize = 5000;

/// A progress bar on stderr for long imports and rebuilds: only on a
/// terminal and never under `--json`, whose stdout must stay one document.
fn progress_bar(out: &Output) -> Option<indicatif::ProgressBar> {
    if out.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} {pos}/{len} ({per_sec}) [{elapsed_precise}, ETA {eta}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// `vigil chat reindex`: for each case (one, or every readable one), drop
/// its messages from the index and add them again from the database, then
/// commit once. Cases the user cannot read are left as they are, which is
/// safe because searches are always filtered to readable cases.
async fn reindex(store: &Store, g: &Global, out: &Output, a: ReindexArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    let index = open_index(g)?;
    let bar = progress_bar(out);
    let done = vigil_server::chat_index::reindex(store, &p, &index, a.case, |case_id, n| {
        if let Some(b) = &bar {
            b.set_message(format!("case {case_id}"));
            b.inc(n);
        }
    })
    .await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let r = match done {
        Ok(r) => r,
        Err(vigil_server::chat_index::ReindexError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(anyhow::Error::new(e).context("cannot rebuild the search index")),
    };
    out.emit(&r, |r| {
        println!(
            "reindexed {} messages of {} cases into {}",
            r.messages,
            r.cases.len(),
            index_dir(g).display()
        )
    })
}

fn parse_when(s: &str, what: &str) -> Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| UsageError(format!("--{what} {s:?}: expected YYYY-MM-DD or RFC 3339")).into())
}

async fn search(store: &Store, g: &Global, out: &Output, a: SearchArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    let since = a
        .since
        .as_deref()
        .map(|s| parse_when(s, "since"))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|s| parse_when(s, "until"))
        .transpose()?;
    let cases = store.chat_search_scope(&p, &a.query).await?;
    let index = open_index(g)?;
    let page = index
        .search(&SearchRequest {
            query: a.query.clone(),
            cases,
            room: a.room.clone(),
            handle: a.handle.clone(),
            since,
            until,
            offset: 0,
            limit: a.limit,
        })
        .map_err(|e| UsageError(format!("search: {e}")))?;
    out.emit(&page, |page| {
        let rows = page
            .hits
            .iter()
            .map(|h| {
                vec![
                    h.case_id.to_string(),
                    h.room.clone(),
                    h.time.format(&Rfc3339).unwrap_or_default(),
                    h.handle.clone(),
                    highlight(&h.snippet, &h.highlights),
                ]
            })
            .collect();
        table(&["case", "room", "time", "handle", "snippet"], rows);
        println!("{} matching messages", page.total);
    })
}

/// Marks matches as `[word]` for a terminal.
fn highlight(snippet: &str, ranges: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for &(s, e) in ranges {
        if s < at
            || e > snippet.len()
            || !snippet.is_char_boundary(s)
            || !snippet.is_char_boundary(e)
        {
            continue;
        }
        out.push_str(&snippet[at..s]);
        out.push('[');
        out.push_str(&snippet[s..e]);
        out.push(']');
        at = e;
    }
    out.push_str(&snippet[at..]);
    out
}
