//! Full-text index over chat messages, built on tantivy.
//!
//! The crate owns the on-disk index of messages (one directory), its schema,
//! and case-scoped search with highlighted snippets. The database stays the
//! source of truth: documents carry the message id so hits are resolved
//! against it, and the whole index can be rebuilt from the database.
//!
//! Invariants:
//! * every search is restricted to the case ids the caller passes; an empty
//!   list returns nothing (never "all cases"), so a caller that forgets the
//!   access check leaks nothing;
//! * room and handle filters match case-insensitively (IRC folding), while the
//!   stored values keep their original spelling;
//! * text is tokenised with lower-casing and ASCII folding, so `cafe` finds
//!   `café` in decoded Windows-1252 logs; no stemming, because investigators
//!   search for exact words and slang;
//! * snippets are returned as plain text with byte ranges, and as HTML in
//!   which every character of the message is escaped and only `<mark>` is
//!   markup.

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TantivyDocument,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, Term};
use thiserror::Error;
use time::OffsetDateTime;

const TOKENIZER: &str = "vigil_text";
/// Writer heap: tantivy splits it across its indexing threads; 128 MB per
/// writer keeps segment count low for multi-million-message imports.
const WRITER_HEAP: usize = 128 * 1024 * 1024;
/// The largest page a caller can ask for; deeper results need pagination.
pub const MAX_LIMIT: usize = 1000;

#[derive(Debug, Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open search index directory: {0}")]
    Directory(String),
    #[error("invalid search query: {0}")]
    Query(String),
    #[error("time {0} is outside the range the index can store")]
    Time(OffsetDateTime),
    #[error("stored document {0} lacks field {1}")]
    Corrupt(u32, &'static str),
}

/// One message to index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDoc {
    pub message_id: i64,
    pub case_id: i64,
    pub room: String,
    pub handle: String,
    /// UTC; stored with second precision.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub text: String,
}

/// A search request. `cases` is mandatory: the cases this user may see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// tantivy query syntax (`word`, `"a phrase"`, `a OR b`, `-word`, `pre*`);
    /// all words must match by default. Empty means "every message" (filters only).
    pub query: String,
    pub cases: Vec<i64>,
    pub room: Option<String>,
    pub handle: Option<String>,
    /// Inclusive lower bound.
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// Exclusive upper bound.
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    pub offset: usize,
    /// Page size, clamped to [`MAX_LIMIT`]; 0 means 20.
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub message_id: i64,
    pub case_id: i64,
    pub room: String,
    pub handle: String,
    /// RFC 3339, like every time Vigil prints.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub score: f32,
    /// Plain-text excerpt of the message.
    pub snippet: String,
    /// Byte ranges of matched words within `snippet`.
    pub highlights: Vec<(usize, usize)>,
    /// `snippet` HTML-escaped, matches wrapped in `<mark>`.
    pub snippet_html: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Number of matching messages (all pages).
    pub total: usize,
    pub hits: Vec<Hit>,
}

#[derive(Clone, Copy)]
struct Fields {
    message_id: Field,
    case_id: Field,
    room: Field,
    room_key: Field,
    handle: Field,
    handle_key: Field,
    time: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_opts = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let f = Fields {
        message_id: b.add_i64_field("message_id", INDEXED | STORED | FAST),
        case_id: b.add_i64_field("case_id", INDEXED | STORED | FAST),
        room: b.add_text_field("room", STORED),
        room_key: b.add_text_field("room_key", STRING),
        handle: b.add_text_field("handle", STORED),
        handle_key: b.add_text_field("handle_key", STRING),
        time: b.add_date_field("time", INDEXED | STORED | FAST),
        text: b.add_text_field("text", text_opts),
    };
    (b.build(), f)
}

/// IRC case folding, matching `vigil_chat::fold`, so `Bob[away]` finds `bob{away}`.
fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .flat_map(|c| match c {
            '[' => vec!['{'],
            ']' => vec!['}'],
            '\\' => vec!['|'],
            '~' => vec!['^'],
            c => c.to_lowercase().collect(),
        })
        .collect()
}

fn to_dt(t: OffsetDateTime) -> DateTime {
    DateTime::from_timestamp_secs(t.unix_timestamp())
}

/// An open index. Cheap to share behind an `Arc`: searches run concurrently,
/// writes are serialised by the internal writer lock.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and index if needed.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))?;
        let index = Index::open_or_create(mmap, schema)?;
        Self::from_index(index, fields)
    }

    /// An index that lives in memory only (tests, throw-away analysis).
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<SearchIndex, SearchError> {
        let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        index.tokenizers().register(TOKENIZER, analyzer);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(None),
            fields,
        })
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError>,
    ) -> Result<T, SearchError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.index.writer(WRITER_HEAP)?);
        }
        match guard.as_mut() {
            Some(w) => f(w),
            None => Err(SearchError::Directory("index writer unavailable".into())),
        }
    }

    /// Adds messages; they become searchable after [`SearchIndex::commit`].
    /// Re-adding a message id replaces the earlier copy, so re-imports do not
    /// duplicate hits.
    pub fn add_batch(&self, docs: &[MessageDoc]) -> Result<(), SearchError> {
        let f = self.fields;
        self.with_writer(|w| {
            for d in docs {
                w.delete_term(Term::from_field_i64(f.message_id, d.message_id));
                let mut doc = TantivyDocument::default();
                doc.add_i64(f.message_id, d.message_id);
                doc.add_i64(f.case_id, d.case_id);
                doc.add_text(f.room, &d.room);
                doc.add_text(f.room_key, fold(&d.room));
                doc.add_text(f.handle, &d.handle);
                doc.add_text(f.handle_key, fold(&d.handle));
                doc.add_date(f.time, to_dt(d.time));
                doc.add_text(f.text, &d.text);
                w.add_document(doc)?;
            }
            Ok(())
        })
    }

    /// Removes every message of a case (after commit).
    pub fn delete_case(&self, case_id: i64) -> Result<(), SearchError> {
        let f = self.fields;
        self.with_writer(|w| {
            w.delete_term(Term::from_field_i64(f.case_id, case_id));
            Ok(())
        })
    }

    /// Makes all added and deleted documents durable and visible to searches.
    pub fn commit(&self) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Number of searchable messages (all cases).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Number of index segments: every one is searched per query, so the
    /// count is worth watching after large imports (benchmarks, diagnostics).
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    pub fn search(&self, req: &SearchRequest) -> Result<SearchPage, SearchError> {
        let f = self.fields;
        if req.cases.is_empty() {
            return Ok(SearchPage {
                total: 0,
                hits: Vec::new(),
            });
        }
        let searcher = self.reader.searcher();
        let text_query: Box<dyn Query> = if req.query.trim().is_empty() {
            Box::new(AllQuery)
        } else {
            let mut qp = QueryParser::for_index(&self.index, vec![f.text]);
            qp.set_conjunction_by_default();
            qp.parse_query(&req.query)
                .map_err(|e| SearchError::Query(e.to_string()))?
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        if !scope_covers_index(&searcher, f.case_id, &req.cases)? {
            clauses.push((Occur::Must, case_filter(f.case_id, &req.cases)));
        }
        if let Some(room) = &req.room {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.room_key, &fold(room)),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(handle) = &req.handle {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.handle_key, &fold(handle)),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if req.since.is_some() || req.until.is_some() {
            let lo = match req.since {
                Some(t) => Bound::Included(Term::from_field_date(f.time, to_dt(t))),
                None => Bound::Unbounded,
            };
            let hi = match req.until {
                Some(t) => Bound::Excluded(Term::from_field_date(f.time, to_dt(t))),
                None => Bound::Unbounded,
            };
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        let limit = match req.limit {
            0 => 20,
            n => n.min(MAX_LIMIT),
        };
        let top = TopDocs::with_limit(limit)
            .and_offset(req.offset)
            .order_by_score();
        let (docs, total) = if clauses.len() == 1 && prunable(&*text_query) {
            // Words only, over every case in the index: count without scoring
            // (a term's document frequency when nothing is deleted) and let
            // block-WAND skip the blocks that cannot reach the top page. A
            // combined (top, Count) pass would score every matching message,
            // which for a common word is millions of documents.
            let total = text_query.count(&searcher)?;
            (searcher.search(&*text_query, &top)?, total)
        } else {
            searcher.search(&BooleanQuery::new(clauses), &(top, Count))?
        };
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.text)?;
        snippets.set_max_num_chars(240);
        let mut hits = Vec::with_capacity(docs.len());
        for (score, addr) in docs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let id = addr.doc_id;
            let get_str = |field: Field, name: &'static str| {
                doc.get_first(field)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .ok_or(SearchError::Corrupt(id, name))
            };
            let text = get_str(f.text, "text")?;
            let time = doc
                .get_first(f.time)
                .and_then(|v| v.as_datetime())
                .ok_or(SearchError::Corrupt(id, "time"))?;
            let time = OffsetDateTime::from_unix_timestamp(time.into_timestamp_secs())
                .map_err(|_| SearchError::Corrupt(id, "time"))?;
            let (snippet, highlights) = make_snippet(&snippets, &text);
            hits.push(Hit {
                message_id: doc
                    .get_first(f.message_id)
                    .and_then(|v| v.as_i64())
                    .ok_or(SearchError::Corrupt(id, "message_id"))?,
                case_id: doc
                    .get_first(f.case_id)
                    .and_then(|v| v.as_i64())
                    .ok_or(SearchError::Corrupt(id, "case_id"))?,
                room: get_str(f.room, "room")?,
                handle: get_str(f.handle, "handle")?,
                time,
                score,
                snippet_html: to_html(&snippet, &highlights),
                snippet,
                highlights,
            });
        }
        Ok(SearchPage { total, hits })
    }
}

/// True when every case that has messages in the index is in `cases`, so
/// the case filter would keep every document and can be left out (a
/// supervisor's search over all cases). Checked per segment against the
/// case-id term dictionary; terms of deleted messages can only make the
/// answer "no", never wrongly "yes".
fn scope_covers_index(
    searcher: &tantivy::Searcher,
    field: Field,
    cases: &[i64],
) -> Result<bool, SearchError> {
    let mut ids = cases.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for seg in searcher.segment_readers() {
        let inv = seg.inverted_index(field)?;
        let dict = inv.terms();
        let mut present = 0;
        for c in &ids {
            let term = Term::from_field_i64(field, *c);
            if dict
                .term_ord(term.serialized_value_bytes())
                .map_err(|e| SearchError::Directory(format!("case-id terms: {e}")))?
                .is_some()
            {
                present += 1;
            }
        }
        if present != dict.num_terms() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Queries for which tantivy's top-k collection can prune (block-WAND): a
/// single term, or terms that must all (or any may) match. Phrases, prefixes
/// and exclusions are scored in full anyway, so for them one combined pass
/// that counts while it ranks is cheaper than a separate count.
fn prunable(q: &dyn Query) -> bool {
    if q.downcast_ref::<TermQuery>().is_some() {
        return true;
    }
    match q.downcast_ref::<BooleanQuery>() {
        Some(b) => {
            let all = |o: Occur| {
                b.clauses()
                    .iter()
                    .all(|(occ, c)| *occ == o && c.downcast_ref::<TermQuery>().is_some())
            };
            !b.clauses().is_empty() && (all(Occur::Must) || all(Occur::Should))
        }
        None => false,
    }
}

/// Restricts to the allowed cases without affecting the score. A union of
/// per-case term queries lets the conjunction seek from the rarest text term,
/// where a `TermSetQuery` would first build a bitset of every message of the
/// allowed cases (measured: cost grew with index size even for rare words).
fn case_filter(field: Field, cases: &[i64]) -> Box<dyn Query> {
    let mut ids = cases.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let terms: Vec<(Occur, Box<dyn Query>)> = ids
        .iter()
        .map(|c| {
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_i64(field, *c),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            )
        })
        .collect();
    Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(terms)),
        0.0,
    ))
}

/// The highlighted fragment, or the start of the message when nothing in
/// the text query matched (filter-only searches).
fn make_snippet(gen_: &SnippetGenerator, text: &str) -> (String, Vec<(usize, usize)>) {
    let s = gen_.snippet(text);
    if s.is_empty() {
        let mut end = text.len().min(240);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        return (text[..end].to_owned(), Vec::new());
    }
    (
        s.fragment().to_owned(),
        s.highlighted().iter().map(|r| (r.start, r.end)).collect(),
    )
}

/// HTML-escapes the whole fragment and wraps highlight ranges in `<mark>`.
pub fn to_html(fragment: &str, highlights: &[(usize, usize)]) -> String {
    fn esc(out: &mut String, s: &str) {
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
    }
    let mut out = String::with_capacity(fragment.len() + 16);
    let mut pos = 0;
    for &(s, e) in highlights {
        if s < pos
            || e > fragment.len()
            || !fragment.is_char_boundary(s)
            || !fragment.is_char_boundary(e)
        {
            continue;
        }
        esc(&mut out, &fragment[pos..s]);
        out.push_str("<mark>");
        esc(&mut out, &fragment[s..e]);
        out.push_str("</mark>");
        pos = e;
    }
    esc(&mut out, &fragment[pos..]);
    out
}
