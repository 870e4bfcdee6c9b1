//! Chat search (results with highlighted snippets) and room pages
//! (participants, operators, nick changes, file offers, the timeline).
//!
//! Everything from a log is escaped by the templates. The one piece of
//! markup in a snippet is `<mark>`, placed by [`vigil_search::to_html`] from
//! the index's highlight byte ranges over text it escapes itself; a log line
//! can never inject HTML.

use askama::Template;

use super::PageRouter;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, fail, render};
use crate::AppState;
use crate::api::PageParams;
use crate::api::chat::{ChatSearchOut, ChatSearchParams, search};
use crate::auth::WebCaller;
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/chat", chat).get("/chat/rooms/{id}", room)
}

/// Results per page on the search page.
const HITS: u32 = 25;
/// Messages per page on a room page.
const MESSAGES: u32 = 100;

/// The search form as the browser sends it: every field text, empty when
/// left blank.
#[derive(Deserialize, Default)]
struct SearchForm {
    q: Option<String>,
    handle: Option<String>,
    room: Option<String>,
    case_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    offset: Option<i64>,
}

/// A hit ready for the template.
struct HitView {
    case_id: i64,
    room_id: Option<i64>,
    room: String,
    handle: String,
    time: String,
    /// Escaped text with `<mark>` around the highlight ranges only.
    snippet_html: String,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    chrome: Chrome,
    q: String,
    handle: String,
    room: String,
    case_id: String,
    since: String,
    until: String,
    searched: bool,
    error: Option<String>,
    total: u64,
    hits: Vec<HitView>,
    first: u64,
    last: u64,
    prev: Option<String>,
    next: Option<String>,
    rooms: Vec<vigil_store::ChatRoom>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

async fn chat(
    c: WebCaller,
    State(s): State<AppState>,
    q: Result<Query<SearchForm>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let f = q.map(|q| q.0).unwrap_or_default();
    let rooms = c
        .store
        .list_chat_rooms(&c.principal, None)
        .await
        .map_err(fail)?;
    let q_text = blank(&f.q).unwrap_or_default();
    let params = ChatSearchParams {
        q: Some(q_text.clone()),
        handle: blank(&f.handle),
        room: blank(&f.room),
        case_id: None,
        since: blank(&f.since),
        until: blank(&f.until),
    };
    let searched = !q_text.is_empty() || params.handle.is_some() || params.room.is_some();
    let mut page = ChatPage {
        chrome: Chrome::new(&c, "chat"),
        q: q_text,
        handle: params.handle.clone().unwrap_or_default(),
        room: params.room.clone().unwrap_or_default(),
        case_id: blank(&f.case_id).unwrap_or_default(),
        since: params.since.clone().unwrap_or_default(),
        until: params.until.clone().unwrap_or_default(),
        searched,
        error: None,
        total: 0,
        hits: Vec::new(),
        first: 0,
        last: 0,
        prev: None,
        next: None,
        rooms,
    };
    if !searched {
        return Ok(render(&page));
    }
    let mut params = params;
    if !page.case_id.is_empty() {
        match page.case_id.parse::<i64>() {
            Ok(id) => params.case_id = Some(id),
            Err(_) => {
                page.error = Some("Case must be a case number.".into());
                return Ok(render(&page));
            }
        }
    }
    let offset = f.offset.unwrap_or(0).max(0);
    let pp = PageParams {
        limit: Some(HITS),
        offset: Some(offset),
    };
    match search(
        &c.store,
        &c.principal,
        s.config.search_dir.clone(),
        &params,
        &pp,
    )
    .await
    {
        Ok(out) => fill(&mut page, out, offset as u64),
        // Bad queries and a missing index are explained on the page; access
        // and internal errors are error pages.
        Err(p) if p.status == 400 || p.status == 503 => {
            page.error = p.detail;
        }
        Err(p) => return Err(fail(p)),
    }
    Ok(render(&page))
}

fn fill(page: &mut ChatPage, out: ChatSearchOut, offset: u64) {
    page.total = out.page.total;
    page.first = offset + 1;
    page.last = offset + out.items.len() as u64;
    let link = |off: u64| {
        let pairs = [
            ("q", page.q.as_str()),
            ("handle", page.handle.as_str()),
            ("room", page.room.as_str()),
            ("case_id", page.case_id.as_str()),
            ("since", page.since.as_str()),
            ("until", page.until.as_str()),
        ];
        let mut qs: Vec<(String, String)> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        qs.push(("offset".into(), off.to_string()));
        format!(
            "/chat?{}",
            serde_urlencoded::to_string(&qs).unwrap_or_default()
        )
    };
    page.prev = (offset > 0).then(|| link(offset.saturating_sub(u64::from(HITS))));
    page.next = out.page.next.as_ref().map(|_| link(page.last));
    page.hits = out
        .items
        .into_iter()
        .map(|h| HitView {
            case_id: h.case_id,
            room_id: h.room_id,
            room: h.room,
            handle: h.handle,
            time: h.time,
            snippet_html: vigil_search::to_html(
                &h.snippet,
                &h.highlights
                    .iter()
                    .map(|r| (r.start as usize, r.end as usize))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
}

#[derive(Deserialize, Default)]
struct RoomQuery {
    offset: Option<i64>,
}

#[derive(Template)]
#[template(path = "chat_room.html")]
struct RoomPage {
    chrome: Chrome,
    d: vigil_store::ChatRoomDetail,
    messages: Vec<vigil_store::ChatMessage>,
    total: i64,
    first: i64,
    last: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn room(
    c: WebCaller,
    id: Option<Path<i64>>,
    q: Result<Query<RoomQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such chat room")));
    };
    let offset = q.ok().and_then(|q| q.0.offset).unwrap_or(0).max(0);
    let d = c
        .store
        .show_chat_room(&c.principal, id)
        .await
        .map_err(fail)?;
    let limit = i64::from(MESSAGES);
    let (total, messages) = c
        .store
        .chat_room_messages(&c.principal, id, limit, offset)
        .await
        .map_err(fail)?;
    let last = offset + messages.len() as i64;
    Ok(render(&RoomPage {
        chrome: Chrome::new(&c, "chat"),
        d,
        first: offset + 1,
        last,
        prev: (offset > 0).then(|| (offset - limit).max(0)),
        next: (last < total).then_some(last),
        total,
        messages,
    }))
}
