//! Chat-log import for Vigil: parsing, identifier extraction and room
//! analysis. Pure functions, bytes in and data out; storage, provenance
//! records and the CLI live in the caller.
//!
//! The crate owns:
//! * the readers for irssi, WeeChat, HexChat/XChat and mIRC default logs and
//!   for the generic JSON Lines/CSV schema (see README), with auto-detection
//!   ([`detect`]) that refuses files that are not chat logs;
//! * per-line decoding (UTF-8, else Windows-1252) that never drops a byte;
//! * local-time interpretation in a given zone and output in UTC;
//! * identifier extraction with ownership ([`extract`]);
//! * room analysis ([`analyse`]) and the import summary ([`summarize`]).
//!
//! Invariants:
//! * parsing never fails because of one line: bad lines are reported with
//!   their number in [`ParsedLog::unparsed`] and the rest is parsed;
//! * every [`Event::key`] depends only on what happened (UTC minute, event
//!   type, case-folded nicks, text, repeat ordinal), never on the client's
//!   notation, so the same conversation logged by two clients yields the
//!   same keys, and re-importing a file is idempotent;
//! * times are UTC `OffsetDateTime`s; `None` only when the log has no date
//!   and no base date was given.

mod decode;
mod error;
mod event;
mod extract;
mod format;
pub mod irc;
mod parse;
mod room;
mod summary;
mod zone;

pub use decode::{DecodedLine, FileEncoding, LineEncoding, decode_line, decode_lines};
pub use error::ChatError;
pub use event::{Event, EventKind, ModeChange, SELF_NICK, UserHost, event_key, fold};
pub use extract::{Found, Identifier, Ownership, Source, extract, extract_event, find_in_text};
pub use format::{Format, detect};
pub use parse::{ParseOptions, ParsedLog, UnparsedLine, parse};
pub use room::{Addressed, FileOffer, Grant, Member, NickChange, Role, RoomAnalysis, analyse};
pub use summary::{ImportSummary, MessageRecord, summarize};
pub use vigil_domain::IdentifierKind;
pub use zone::Zone;
