//! Chat capture over HTTP: full-text search with highlighted snippets, rooms
//! (participants, operators, nick changes, file offers, messages) and the
//! same log import `vigil chat import` runs.
//!
//! The search index is the directory `vigil chat import` writes
//! ([`crate::Config::search_dir`]). It is opened per request rather than kept
//! open, so the CLI can keep importing while the server runs (tantivy allows
//! one writer per index; a long-lived server writer would lock the CLI out)
//! and every search sees the latest commit.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_chat::{Format, ParseOptions, Zone};
use vigil_search::{SearchIndex, SearchRequest};
use vigil_store::{ChatImportRequest, Principal, Store};

use super::{ApiPath, ApiQuery, ApiResult, ApiRouter, MAX_LIMIT, PageInfo, PageParams};
use crate::AppState;
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

// ----- shapes --------------------------------------------------------------

/// A byte range of the snippet that matched the query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct HighlightOut {
    pub start: u64,
    pub end: u64,
}

/// One matching message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatHitOut {
    pub message_id: i64,
    pub case_id: i64,
    /// The room page of the message (absent only if the index is ahead of
    /// the database, e.g. after a restore).
    pub room_id: Option<i64>,
    pub room: String,
    pub handle: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// Plain-text excerpt of the message.
    pub snippet: String,
    /// Byte ranges of matched words within `snippet`.
    pub highlights: Vec<HighlightOut>,
    /// `snippet` HTML-escaped, matches wrapped in `<mark>` (nothing else is
    /// markup).
    pub snippet_html: String,
}

/// One page of search hits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatSearchOut {
    pub items: Vec<ChatHitOut>,
    pub page: PageInfo,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatSearchParams {
    /// Query text (tantivy syntax: words must all match, `"a phrase"`,
    /// `a OR b`, `-word`, `pre*`). Empty: every message (filters only).
    pub q: Option<String>,
    /// Only messages of this handle (IRC case folding).
    pub handle: Option<String>,
    /// Only messages of this room (by name, IRC case folding).
    pub room: Option<String>,
    /// Only messages of this case.
    pub case_id: Option<i64>,
    /// Inclusive lower bound (YYYY-MM-DD or RFC 3339; empty: none).
    #[param(
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9:.]+([Zz]|[+-][0-9]{2}:[0-9]{2}))?)?$"
    )]
    pub since: Option<String>,
    /// Exclusive upper bound (YYYY-MM-DD or RFC 3339; empty: none).
    #[param(
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9:.]+([Zz]|[+-][0-9]{2}:[0-9]{2}))?)?$"
    )]
    pub until: Option<String>,
}

/// A chat room as listed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatRoomOut {
    pub id: i64,
    pub case_id: i64,
    pub name: String,
    pub network: String,
    pub messages: i64,
    pub participants: i64,
    pub first_message: Option<String>,
    pub last_message: Option<String>,
    pub created_at: String,
    pub source: String,
}

impl From<vigil_store::ChatRoom> for ChatRoomOut {
    fn from(r: vigil_store::ChatRoom) -> Self {
        let vigil_store::ChatRoom {
            id,
            case_id,
            name,
            network,
            messages,
            participants,
            first_message,
            last_message,
            created_at,
            source,
        } = r;
        ChatRoomOut {
            id,
            case_id,
            name,
            network,
            messages,
            participants,
            first_message,
            last_message,
            created_at,
            source,
        }
    }
}

page_of!(ChatRoomPage, ChatRoomOut);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatParticipantOut {
    pub handle: String,
    pub handle_key: String,
    pub person_id: Option<i64>,
    /// Every `ident@host` seen for the handle.
    pub hostmasks: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub messages: i64,
    /// Holds a channel role at the end of the log.
    pub operator: bool,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatOperatorOut {
    pub nick: String,
    /// owner, admin, operator or half-operator.
    pub role: String,
    /// false when the role was taken away.
    pub granted: bool,
    /// Who set the mode.
    pub by: String,
    pub time: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatNickChangeOut {
    pub old: String,
    pub new: String,
    pub time: Option<String>,
    pub source: String,
}

/// A DCC SEND offer: names and sizes only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatFileOfferOut {
    pub from: String,
    pub to: Option<String>,
    pub file: String,
    pub size: Option<u64>,
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub time: Option<String>,
    pub source: String,
}

/// A room with its participants and facts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatRoomDetailOut {
    pub room: ChatRoomOut,
    pub case_title: String,
    pub participants: Vec<ChatParticipantOut>,
    pub operators: Vec<ChatOperatorOut>,
    pub nick_changes: Vec<ChatNickChangeOut>,
    pub file_offers: Vec<ChatFileOfferOut>,
}

impl From<vigil_store::ChatRoomDetail> for ChatRoomDetailOut {
    fn from(d: vigil_store::ChatRoomDetail) -> Self {
        let vigil_store::ChatRoomDetail {
            room,
            case_title,
            participants,
            operators,
            nick_changes,
            file_offers,
        } = d;
        ChatRoomDetailOut {
            room: room.into(),
            case_title,
            participants: participants
                .into_iter()
                .map(|p| {
                    let vigil_store::ChatParticipant {
                        handle,
                        handle_key,
                        person_id,
                        hostmasks,
                        first_seen,
                        last_seen,
                        messages,
                        operator,
                        source,
                    } = p;
                    ChatParticipantOut {
                        handle,
                        handle_key,
                        person_id,
                        hostmasks,
                        first_seen,
                        last_seen,
                        messages,
                        operator,
                        source,
                    }
                })
                .collect(),
            operators: operators
                .into_iter()
                .map(|g| {
                    let vigil_store::ChatOperatorGrant {
                        nick,
                        role,
                        granted,
                        by,
                        time,
                        source,
                    } = g;
                    ChatOperatorOut {
                        nick,
                        role,
                        granted,
                        by,
                        time,
                        source,
                    }
                })
                .collect(),
            nick_changes: nick_changes
                .into_iter()
                .map(|n| {
                    let vigil_store::ChatNickChange {
                        old,
                        new,
                        time,
                        source,
                    } = n;
                    ChatNickChangeOut {
                        old,
                        new,
                        time,
                        source,
                    }
                })
                .collect(),
            file_offers: file_offers
                .into_iter()
                .map(|f| {
                    let vigil_store::ChatFileOffer {
                        from,
                        to,
                        file,
                        size,
                        ip,
                        port,
                        time,
                        source,
                    } = f;
                    ChatFileOfferOut {
                        from,
                        to,
                        file,
                        size,
                        ip,
                        port,
                        time,
                        source,
                    }
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatMessageOut {
    pub id: i64,
    pub room_id: i64,
    pub case_id: i64,
    pub sent_at: Option<String>,
    pub handle: String,
    /// message, action or notice.
    pub kind: String,
    pub text: String,
    pub addressed_to: Option<String>,
    pub source: String,
}

impl From<vigil_store::ChatMessage> for ChatMessageOut {
    fn from(m: vigil_store::ChatMessage) -> Self {
        let vigil_store::ChatMessage {
            id,
            room_id,
            case_id,
            sent_at,
            handle,
            kind,
            text,
            addressed_to,
            source,
        } = m;
        ChatMessageOut {
            id,
            room_id,
            case_id,
            sent_at,
            handle,
            kind,
            text,
            addressed_to,
            source,
        }
    }
}

/// One page of a room's messages, in time order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatMessagePage {
    pub items: Vec<ChatMessageOut>,
    pub page: PageInfo,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomFilter {
    /// Only rooms of this case.
    pub case_id: Option<i64>,
}

/// How to import a log: the query string of a `text/plain` upload, or the
/// fields beside `log` in a JSON body.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatImportParams {
    /// The case to import into (required).
    pub case_id: Option<i64>,
    /// irssi, weechat, hexchat, mirc, jsonl or csv; detected when omitted.
    pub format: Option<String>,
    /// Room name; defaults to the channel the log names, else the file name.
    pub room: Option<String>,
    pub network: Option<String>,
    /// Zone the client wrote local times in (UTC, +02:00, Europe/London).
    pub tz: Option<String>,
    /// The officer's own nick in the log (stored with role `other`).
    pub officer_handle: Option<String>,
    /// The file name recorded in provenance (`FILE:LINE`); default `upload`.
    pub file_name: Option<String>,
}

/// A log and how to import it, as JSON.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatImportIn {
    pub case_id: i64,
    /// The log text as the client wrote it.
    #[schema(min_length = 1, pattern = r"\S")]
    pub log: String,
    pub format: Option<String>,
    pub room: Option<String>,
    pub network: Option<String>,
    pub tz: Option<String>,
    pub officer_handle: Option<String>,
    pub file_name: Option<String>,
}

/// An extracted identifier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatIdentifierOut {
    pub kind: String,
    pub value: String,
    /// The participant it belongs to, when it is theirs (else mentioned).
    pub owner: Option<String>,
    pub line: u64,
}

/// A line that could not be parsed (the rest was imported).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnparsedLineOut {
    pub line: u64,
    pub reason: String,
    pub text: String,
}

/// What an import found and stored (a re-import stores nothing new).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatImportOut {
    pub format: String,
    pub case_id: i64,
    pub room: String,
    pub room_id: i64,
    pub messages: u64,
    pub participants: u64,
    pub operators: u64,
    pub nick_changes: u64,
    pub file_offers: u64,
    pub identifiers: Vec<ChatIdentifierOut>,
    pub unparsed_lines: Vec<UnparsedLineOut>,
    pub messages_added: u64,
    pub persons_added: u64,
    pub identifiers_added: u64,
    pub facts_added: u64,
    /// Whether the new messages are searchable; false when the index could
    /// not be written (the messages are stored; rebuild the index).
    pub indexed: bool,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        search_chat,
        list_rooms,
        show_room,
        room_messages,
        import_chat,
        reindex_chat
    ),
    components(schemas(
        HighlightOut,
        ChatHitOut,
        ChatSearchOut,
        ChatRoomOut,
        ChatRoomPage,
        ChatParticipantOut,
        ChatOperatorOut,
        ChatNickChangeOut,
        ChatFileOfferOut,
        ChatRoomDetailOut,
        ChatMessageOut,
        ChatMessagePage,
        ChatImportIn,
        ChatIdentifierOut,
        UnparsedLineOut,
        ChatImportOut,
        ReindexOut,
        CaseReindexedOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/chat/search", search_chat)
        .get("/api/chat/rooms", list_rooms)
        .get("/api/chat/rooms/{id}", show_room)
        .get("/api/chat/rooms/{id}/messages", room_messages)
        .post("/api/chat/import", import_chat)
        .post("/api/chat/reindex", reindex_chat)
}

// ----- shared with the pages ----------------------------------------------

/// The deepest search result a page can start at.
pub const MAX_SEARCH_OFFSET: u64 = 100_000;

fn no_index() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no-search-index",
        "this server has no chat search index configured",
    )
}

fn internal(what: &str, e: impl std::fmt::Display) -> Problem {
    eprintln!("vigil serve: {what}: {e}");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; the details are in the server log",
    )
}

fn parse_when(s: &str, what: &str) -> Result<OffsetDateTime, Problem> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| Problem::bad_request(format!("{what}: expected YYYY-MM-DD or RFC 3339")))
}

/// Searches the messages of the cases `p` may read (the scope comes from
/// the store, which audits the search).
pub async fn search(
    store: &Store,
    p: &Principal,
    dir: Option<PathBuf>,
    q: &ChatSearchParams,
    pp: &PageParams,
) -> Result<ChatSearchOut, Problem> {
    let limit = pp.limit.unwrap_or(super::DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = u64::try_from(pp.offset.unwrap_or(0))
        .map_err(|_| Problem::bad_request("offset must not be negative"))?;
    // tantivy collects offset + limit documents; past this depth answer an
    // empty page (with the true total) rather than collect millions.
    let too_deep = offset > MAX_SEARCH_OFFSET;
    let since = q
        .since
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_when(s.trim(), "since"))
        .transpose()?;
    let until = q
        .until
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_when(s.trim(), "until"))
        .transpose()?;
    let dir = dir.ok_or_else(no_index)?;
    let text = q.q.clone().unwrap_or_default();
    let mut cases = store.chat_search_scope(p, &text).await?;
    if let Some(c) = q.case_id {
        cases.retain(|x| *x == c);
    }
    let req = SearchRequest {
        query: text,
        cases,
        room: q.room.clone().filter(|r| !r.trim().is_empty()),
        handle: q.handle.clone().filter(|h| !h.trim().is_empty()),
        since,
        until,
        offset: if too_deep { 0 } else { offset as usize },
        limit: if too_deep { 1 } else { limit as usize },
    };
    let page = tokio::task::spawn_blocking(move || {
        let index = SearchIndex::open(&dir).map_err(|e| internal("search index", e))?;
        index.search(&req).map_err(|e| match e {
            vigil_search::SearchError::Query(m) => Problem::bad_request(format!("query: {m}")),
            other => internal("search", other),
        })
    })
    .await
    .map_err(|e| internal("search task", e))??;
    let mut page = page;
    if too_deep {
        page.hits.clear();
    }
    let ids: Vec<i64> = page.hits.iter().map(|h| h.message_id).collect();
    let rooms = store.chat_message_rooms(p, &ids).await?;
    let total = page.total as u64;
    let items: Vec<ChatHitOut> = page
        .hits
        .into_iter()
        .map(|h| ChatHitOut {
            message_id: h.message_id,
            case_id: h.case_id,
            room_id: rooms.get(&h.message_id).copied(),
            room: h.room,
            handle: h.handle,
            time: h.time.format(&Rfc3339).unwrap_or_default(),
            highlights: h
                .highlights
                .iter()
                .map(|&(s, e)| HighlightOut {
                    start: s as u64,
                    end: e as u64,
                })
                .collect(),
            snippet: h.snippet,
            snippet_html: h.snippet_html,
        })
        .collect();
    let end = offset.saturating_add(items.len() as u64);
    Ok(ChatSearchOut {
        items,
        page: PageInfo {
            total,
            limit,
            offset,
            next: (end < total).then(|| format!("?limit={limit}&offset={end}")),
        },
    })
}

/// A room's messages, one page.
pub async fn messages(
    store: &Store,
    p: &Principal,
    room_id: i64,
    pp: &PageParams,
) -> Result<ChatMessagePage, Problem> {
    let limit = pp.limit.unwrap_or(super::DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = pp.offset.unwrap_or(0);
    if offset < 0 {
        return Err(Problem::bad_request("offset must not be negative"));
    }
    let (total, items) = store
        .chat_room_messages(p, room_id, i64::from(limit), offset)
        .await?;
    let total = u64::try_from(total).unwrap_or(0);
    let offset = offset as u64;
    let end = offset.saturating_add(items.len() as u64);
    Ok(ChatMessagePage {
        items: items.into_iter().map(Into::into).collect(),
        page: PageInfo {
            total,
            limit,
            offset,
            next: (end < total).then(|| format!("?limit={limit}&offset={end}")),
        },
    })
}

/// Parses, stores and indexes one log, as `vigil chat import` does.
pub async fn import(
    store: &Store,
    p: &Principal,
    dir: Option<PathBuf>,
    bytes: Vec<u8>,
    o: ChatImportParams,
) -> Result<ChatImportOut, Problem> {
    let case_id = o
        .case_id
        .ok_or_else(|| Problem::bad_request("case_id is required"))?;
    let format = match o.format.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(
            f.parse::<Format>()
                .map_err(|e| Problem::bad_request(e.to_string()))?,
        ),
        None => None,
    };
    let zone = Zone::parse(o.tz.as_deref().unwrap_or("UTC"))
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let file_name = o
        .file_name
        .clone()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "upload".into());
    let opts = ParseOptions {
        format,
        zone,
        base_date: None,
    };
    let fname = file_name.clone();
    let summary = tokio::task::spawn_blocking(move || {
        vigil_chat::parse(&bytes, &opts)
            .map(|log| vigil_chat::summarize(&log))
            .map_err(|e| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "not-a-chat-log",
                    format!("{fname}: {e}"),
                )
            })
    })
    .await
    .map_err(|e| internal("parse task", e))??;
    let room = o
        .room
        .clone()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| summary.channel.clone())
        .unwrap_or_else(|| file_name.clone());
    let result = store
        .import_chat(
            p,
            &ChatImportRequest {
                case_id,
                file: file_name,
                room: room.clone(),
                network: o.network.clone().filter(|n| !n.trim().is_empty()),
                officer_handle: o.officer_handle.clone().filter(|n| !n.trim().is_empty()),
                summary: &summary,
            },
        )
        .await?;
    // Index after the commit: the database is the source of truth.
    let indexed = if result.new_messages.is_empty() {
        true
    } else {
        match dir {
            None => false,
            Some(dir) => {
                let docs = crate::chat_index::message_docs(&result.new_messages);
                let done = tokio::task::spawn_blocking(move || {
                    let index = SearchIndex::open(&dir)?;
                    index.add_batch(&docs)?;
                    index.commit()
                })
                .await;
                match done {
                    Ok(Ok(())) => true,
                    Ok(Err(e)) => {
                        eprintln!("vigil serve: cannot index imported messages: {e}");
                        false
                    }
                    Err(e) => {
                        eprintln!("vigil serve: index task failed: {e}");
                        false
                    }
                }
            }
        }
    };
    Ok(ChatImportOut {
        format: summary.format.as_str().to_owned(),
        case_id,
        room,
        room_id: result.room_id,
        messages: summary.messages.len() as u64,
        participants: summary.participants.len() as u64,
        operators: summary.operators.len() as u64,
        nick_changes: summary.nick_changes.len() as u64,
        file_offers: summary.file_offers.len() as u64,
        identifiers: summary
            .identifiers
            .iter()
            .map(|i| ChatIdentifierOut {
                kind: i.kind.as_str().to_owned(),
                value: i.value.clone(),
                owner: i.owner.clone(),
                line: i.line as u64,
            })
            .collect(),
        unparsed_lines: summary
            .unparsed_lines
            .iter()
            .map(|u| UnparsedLineOut {
                line: u.line as u64,
                reason: u.reason.clone(),
                text: u.text.clone(),
            })
            .collect(),
        messages_added: result.messages_added as u64,
        persons_added: result.persons_added as u64,
        identifiers_added: result.identifiers_added as u64,
        facts_added: result.facts_added as u64,
        indexed,
    })
}

// ----- handlers --------------------------------------------------------------

/// Full-text search over the messages of the cases the caller may read,
/// with highlighted snippets.
#[utoipa::path(get, path = "/api/chat/search", tag = "chat",
    params(ChatSearchParams, PageParams),
    responses((status = 200, body = ChatSearchOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn search_chat(
    c: ApiCaller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ChatSearchParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<ChatSearchOut> {
    let dir = s.config.search_dir.clone();
    Ok(axum::Json(
        search(&c.store, &c.principal, dir, &q, &pp).await?,
    ))
}

/// Chat rooms of the cases the caller may read, optionally of one case.
#[utoipa::path(get, path = "/api/chat/rooms", tag = "chat", params(RoomFilter, PageParams),
    responses((status = 200, body = ChatRoomPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_rooms(
    c: ApiCaller,
    ApiQuery(f): ApiQuery<RoomFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<ChatRoomPage> {
    let all = c.store.list_chat_rooms(&c.principal, f.case_id).await?;
    Ok(axum::Json(ChatRoomPage::of(all, &pp)?))
}

/// A room: participants with handles, hostmasks, message counts and first/
/// last seen; operator grants and who gave them; nick changes; DCC offers.
#[utoipa::path(get, path = "/api/chat/rooms/{id}", tag = "chat",
    params(("id" = i64, Path, description = "room id")),
    responses((status = 200, body = ChatRoomDetailOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show_room(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> ApiResult<ChatRoomDetailOut> {
    Ok(axum::Json(
        c.store.show_chat_room(&c.principal, id).await?.into(),
    ))
}

/// A room's messages in time order, paginated.
#[utoipa::path(get, path = "/api/chat/rooms/{id}/messages", tag = "chat",
    params(("id" = i64, Path, description = "room id"), PageParams),
    responses((status = 200, body = ChatMessagePage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn room_messages(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<ChatMessagePage> {
    Ok(axum::Json(messages(&c.store, &c.principal, id, &pp).await?))
}

/// Imports a chat log into a case: the log as the body (`text/plain` or
/// `application/octet-stream`, any encoding the importer detects) with the
/// options in the query string, or a JSON body with the log as `log`.
/// Importing the same log again adds nothing.
#[utoipa::path(post, path = "/api/chat/import", tag = "chat",
    params(ChatImportParams),
    request_body(content(
        (ChatImportIn = "application/json"),
        (String = "text/plain"),
        (Vec<u8> = "application/octet-stream")
    )),
    responses((status = 201, body = ChatImportOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn import_chat(
    c: ApiCaller,
    State(s): State<AppState>,
    ApiQuery(mut o): ApiQuery<ChatImportParams>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, axum::Json<ChatImportOut>), Problem> {
    let body = body.map_err(|e| {
        Problem::new(
            e.status(),
            "bad-request",
            format!("cannot read the body: {}", e.body_text()),
        )
    })?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let bytes = if json {
        let i: ChatImportIn = serde_json::from_slice(&body)
            .map_err(|e| Problem::bad_request(format!("JSON body: {e}")))?;
        o = ChatImportParams {
            case_id: Some(i.case_id),
            format: i.format,
            room: i.room,
            network: i.network,
            tz: i.tz,
            officer_handle: i.officer_handle,
            file_name: i.file_name,
        };
        i.log.into_bytes()
    } else {
        body.to_vec()
    };
    let dir = s.config.search_dir.clone();
    let out = import(&c.store, &c.principal, dir, bytes, o).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// `POST /api/chat/reindex` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReindexParams {
    /// Only this case; otherwise every case the caller may read.
    pub case: Option<i64>,
}

/// Messages re-indexed for one case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseReindexedOut {
    pub case: i64,
    pub messages: u64,
}

/// What a rebuild of the search index did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReindexOut {
    pub cases: Vec<CaseReindexedOut>,
    /// Messages indexed in all.
    pub messages: u64,
    /// Documents in the index afterwards (all cases).
    pub indexed: u64,
}

/// Rebuilds the full-text index from the stored messages (after a restore,
/// or when the index is corrupt or deleted), for one case or every case the
/// caller may read, as `vigil chat reindex` does. Cases the caller cannot
/// read are left as they are.
#[utoipa::path(post, path = "/api/chat/reindex", tag = "chat", params(ReindexParams),
    responses((status = 200, body = ReindexOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn reindex_chat(
    State(s): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ReindexParams>,
) -> ApiResult<ReindexOut> {
    let dir = s.config.search_dir.clone().ok_or_else(no_index)?;
    std::fs::create_dir_all(&dir).map_err(|e| internal("search index directory", e))?;
    let index = SearchIndex::open(&dir).map_err(|e| internal("search index", e))?;
    let r = crate::chat_index::reindex(&c.store, &c.principal, &index, q.case, |_, _| {})
        .await
        .map_err(|e| match e {
            crate::chat_index::ReindexError::Store(e) => Problem::from(e),
            other => internal("reindex", other),
        })?;
    Ok(axum::Json(ReindexOut {
        cases: r
            .cases
            .into_iter()
            .map(|c| CaseReindexedOut {
                case: c.case,
                messages: c.messages,
            })
            .collect(),
        messages: r.messages,
        indexed: r.indexed,
    }))
}
