//! The chat messages' full-text index as both interfaces maintain it:
//! stored messages as index documents, and the rebuild of the index from
//! the database (`vigil chat reindex`, `POST /api/chat/reindex`). One
//! implementation so the CLI and the API index the same way.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vigil_search::{MessageDoc, SearchIndex};
use vigil_store::{Principal, Store, StoreError, StoredMessage};

/// Stored messages as index documents (an unreadable time sorts first).
pub fn message_docs(messages: &[StoredMessage]) -> Vec<MessageDoc> {
    messages
        .iter()
        .map(|m| MessageDoc {
            message_id: m.id,
            case_id: m.case_id,
            room: m.room.clone(),
            handle: m.handle.clone(),
            time: m
                .time
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            text: m.text.clone(),
        })
        .collect()
}

/// Why a rebuild stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReindexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Index(#[from] vigil_search::SearchError),
}

/// Messages re-indexed for one case.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseReindexed {
    pub case: i64,
    pub messages: u64,
}

/// What a rebuild did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reindexed {
    pub cases: Vec<CaseReindexed>,
    /// Messages indexed in all.
    pub messages: u64,
    /// Documents in the index afterwards (all cases).
    pub indexed: u64,
}

/// Rebuilds the index of one case, or of every case the caller may read:
/// each case's documents are replaced by its stored messages, then the
/// index commits once. A case is cleared only once the store has let the
/// caller read it, so a refused case keeps its documents (searches are
/// filtered to readable cases anyway). `on_batch` is told each batch's size
/// (progress). The index work is blocking and done in place: a rebuild is a
/// rare administrative act.
pub async fn reindex(
    store: &Store,
    p: &Principal,
    index: &SearchIndex,
    case: Option<i64>,
    mut on_batch: impl FnMut(i64, u64) + Send,
) -> Result<Reindexed, ReindexError> {
    let cases: Vec<i64> = match case {
        Some(c) => vec![c],
        None => store
            .list_cases(p)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    };
    let mut per_case = Vec::new();
    for case_id in cases {
        let mut cleared = false;
        let mut sink = |batch: &[StoredMessage]| -> Result<(), StoreError> {
            let index_err =
                |e: vigil_search::SearchError| StoreError::Config(format!("search index: {e}"));
            if !cleared {
                index.delete_case(case_id).map_err(index_err)?;
                cleared = true;
            }
            index.add_batch(&message_docs(batch)).map_err(index_err)?;
            on_batch(case_id, batch.len() as u64);
            Ok(())
        };
        let n = store
            .chat_messages_for_reindex(p, case_id, &mut sink)
            .await?;
        if !cleared {
            index.delete_case(case_id)?;
        }
        per_case.push(CaseReindexed {
            case: case_id,
            messages: n,
        });
    }
    index.commit()?;
    Ok(Reindexed {
        messages: per_case.iter().map(|c| c.messages).sum(),
        cases: per_case,
        indexed: index.num_docs(),
    })
}
