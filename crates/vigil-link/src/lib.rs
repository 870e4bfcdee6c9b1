//! Candidate links between persons — scored, explained, never applied.
//!
//! The store holds persons (one per case and agency, often the same human
//! under another name); this crate suggests which of them may be one person
//! and says why, so an officer can accept or reject each suggestion and
//! defend it in court. It owns:
//!
//! * the input model ([`Profile`]): handles, e-mails, IP sightings, room
//!   presences, media, nick changes and announcements, each with a source
//!   reference;
//! * **blocking** ([`Linker::new`]): inverted indexes on handle keys, words
//!   and prefixes/suffixes, e-mail, IP, room + day, media hash and other
//!   identifiers, so only persons sharing a key are compared — never all
//!   pairs. Blocks larger than a cap ("admin", a busy room) are not expanded
//!   and are reported;
//! * **scoring** ([`Linker::candidates`], [`Linker::score_pair`]): a
//!   Fellegi–Sunter sum of log-likelihood weights in bits (see [`config`]),
//!   with certain evidence (a nick change) short-circuiting to "certain";
//! * the **evaluation harness** ([`synth`], [`eval`]): a seeded synthetic
//!   population with injected disguises and decoys, and precision / recall.
//!
//! Invariants: the crate is pure (no I/O, no clock, no global state); a
//! candidate is only ever a suggestion; every [`Evidence`] names the values it
//! compared and cites the sources it rests on; a shared address considered
//! and rejected is reported as such (weight 0) rather than silently dropped;
//! results are deterministic for the same input.

pub mod config;
pub mod eval;

pub mod evidence;
mod linker;
pub mod model;
mod score;
pub mod synth;

pub use config::{COMMON_HANDLES, LinkConfig, Weights};
pub use evidence::{BlockStats, Candidate, Evidence, EvidenceKind, LinkReport};
pub use linker::{Linker, sort_candidates};
pub use model::{
    Announcement, EmailItem, HandleItem, IpItem, MediaItem, MediaRole, NickChange, OtherItem,
    Profile, RoomItem,
};

/// Builds the indexes and returns the candidates in one call.
pub fn link(profiles: &[Profile], cfg: LinkConfig) -> LinkReport {
    Linker::new(profiles, cfg).candidates()
}
