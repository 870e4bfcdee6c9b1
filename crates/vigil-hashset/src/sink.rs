//! The one place where the error policy of [`crate::error`] is applied, so
//! that every reader skips, counts, de-duplicates and stops the same way.

use std::collections::HashSet;
use std::ops::ControlFlow;

use crate::error::{EntryError, EntryErrorKind, ImportError};
use crate::model::HashEntry;

pub(crate) struct Sink<F> {
    on_item: F,
    strict: bool,
    /// `(case + 1) << 48 | id` for integer ids (the usual VICS case): 8 bytes
    /// per entry is the only memory that grows with the file.
    seen_packed: HashSet<u64>,
    seen_text: HashSet<(u32, String)>,
    pub(crate) entries: u64,
    pub(crate) errors: u64,
    /// Why the reader must stop; taken by the reader when it unwinds.
    pub(crate) stop: Option<ImportError>,
}

impl<F> Sink<F>
where
    F: FnMut(Result<HashEntry, EntryError>) -> ControlFlow<()>,
{
    pub(crate) fn new(on_item: F, strict: bool) -> Self {
        Self {
            on_item,
            strict,
            seen_packed: HashSet::new(),
            seen_text: HashSet::new(),
            entries: 0,
            errors: 0,
            stop: None,
        }
    }

    /// Whether `(case, id)` was seen before; records it otherwise.
    fn is_duplicate(&mut self, case: Option<u32>, id: &str) -> bool {
        let case_key = case.map_or(0, |c| c.saturating_add(1));
        if let Ok(n) = id.parse::<u64>()
            && n < (1 << 48)
            && case_key < (1 << 16)
            && n.to_string() == id
        {
            return !self.seen_packed.insert(u64::from(case_key) << 48 | n);
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
