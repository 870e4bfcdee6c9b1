//! The one place where the error policy of [`crate::error`] is applied, so
//! that every reader skips, counts, de-duplicates and stops the same way.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use crate::error::{EntryError, EntryErrorKind, ImportError};
use crate::model::HashEntry;

/// Integer MediaIDs below this are tracked in a bitmap (at most 8 MiB per
/// case); larger or non-integer ids in a hash set.
const BITMAP_LIMIT: u64 = 1 << 26;

pub(crate) struct Sink<F> {
    on_item: F,
    strict: bool,
    /// Seen MediaIDs per case key (0 = no case). Exporters number media
    /// 1..n, so a bitmap makes duplicate detection cost n/8 bytes, which
    /// keeps memory flat for files of millions of entries.
    seen_bits: HashMap<u32, Vec<u64>>,
    seen_text: HashSet<(u32, String)>,
    pub(crate) entries: u64,
    pub(crate) errors: u64,
    /// Why the reader must stop; taken by the reader when it unwinds.
    pub(crate) stop: Option<ImportError>,
}

/// `Some(n)` if `id` is the canonical decimal spelling of `n`.
fn canonical_id(id: &str) -> Option<u64> {
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    if !digits || (id.len() > 1 && id.starts_with('0')) {
        return None;
    }
    id.parse().ok()
}

impl<F> Sink<F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    pub(crate) fn new(on_item: F, strict: bool) -> Self {
        Self {
            on_item,
            strict,
            seen_bits: HashMap::new(),
            seen_text: HashSet::new(),
            entries: 0,
            errors: 0,
            stop: None,
        }
    }

    /// Whether `(case, id)` was seen before; records it otherwise.
    fn is_duplicate(&mut self, case: Option<u32>, id: &str) -> bool {
        let case_key = case.map_or(0, |c| c.saturating_add(1));
        if let Some(n) = canonical_id(id).filter(|&n| n < BITMAP_LIMIT) {
            let bits = self.seen_bits.entry(case_key).or_default();
            let word = (n / 64) as usize;
            if bits.len() <= word {
                bits.resize(word + 1, 0);
            }
            let mask = 1u64 << (n % 64);
            let seen = bits[word] & mask != 0;
            bits[word] |= mask;
            return seen;
        }
        !self.seen_text.insert((case_key, id.to_string()))
    }

    /// Hands one entry (or its error) to the caller. `Err(())` means the
    /// reader must stop; the reason is in `self.stop`.
    pub(crate) fn push(&mut self, item: Result<HashEntry, EntryError>) -> Result<(), ()> {
        let item = match item {
            Ok(entry) => match &entry.media_id {
                Some(id) if self.is_duplicate(entry.case, id) => Err(EntryError {
                    pos: entry.pos,
                    media_id: Some(id.clone()),
                    field: Some("MediaID".into()),
                    kind: Box::new(EntryErrorKind::DuplicateMediaId(id.clone())),
                }),
                _ => Ok(entry),
            },
            Err(e) => Err(e),
        };
        match &item {
            Ok(_) => self.entries += 1,
            Err(e) => {
                self.errors += 1;
                if self.strict {
                    self.stop = Some(ImportError::Entry(Box::new(e.clone())));
                    return Err(());
                }
            }
        }
        match (self.on_item)(item) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => {
                self.stop = Some(ImportError::Cancelled);
                Err(())
            }
        }
    }
}
