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
//!   with certain evidence (a nick change) short-circuiting to "certain",
//!   one disagreement weight (different public lines at the same time), and
//!   one collective pass (two persons both linked to a third, COPLINK's
//!   later "collective" idea) — each an explained [`Evidence`] item;
//! * the **evaluation harness** ([`synth`], [`eval`]): a seeded synthetic
//!   population with injected disguises and decoys, and precision / recall.
//!
//! Invariants: the crate is pure (no I/O, no clock, no global state); a
//! candidate is only ever a suggestion; every [`Evidence`] names the values it
//! compared and cites the sources it rests on; a shared address considered
//! and rejected is reported as such (weight 0) rather than silently dropped;
//! results are deterministic for the same input.
//!
//! ```
//! use std::net::IpAddr;
//! use time::macros::datetime;
//! use vigil_domain::normalize::TimeWindow;
//! use vigil_link::{LinkConfig, Profile, link};
//!
//! let window = TimeWindow::new(datetime!(2024-03-01 20:00 UTC), datetime!(2024-03-01 23:00 UTC));
//! let ip: IpAddr = "203.0.113.7".parse().unwrap();
//! let persons = vec![
//!     Profile::new(1).handle("G.O.D.", "room1.log:12").ip(ip, None, window, "isp-answer:2"),
//!     Profile::new(2).handle("Son_of_G0d", "room2.log:40").ip(ip, None, window, "subpoena-17"),
//! ];
//! let report = link(&persons, LinkConfig::default());
//! let c = &report.candidates[0];
//! assert_eq!((c.a, c.b), (1, 2));
//! println!("{}", c.explain()); // one line per piece of evidence, with sources
//! ```

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

/// Compares two handles on their own (no population): the strongest name
/// agreement and its explanation, or `None` when they do not agree at all.
/// Frequencies are those of a pair, so a common handle still weighs
/// nothing only if it is on the [`COMMON_HANDLES`] list.
pub fn compare_handles(a: &str, b: &str) -> Option<Evidence> {
    let pair = [
        Profile::new(0).handle(a, "a"),
        Profile::new(1).handle(b, "b"),
    ];
    Linker::new(&pair, LinkConfig::default())
        .score_pair(0, 1)?
        .evidence
        .into_iter()
        .find(|e| {
            matches!(
                e.kind,
                EvidenceKind::HandleExact
                    | EvidenceKind::HandleContained
                    | EvidenceKind::HandleSimilar
            )
        })
}

/// Builds the indexes and returns the candidates in one call.
pub fn link(profiles: &[Profile], cfg: LinkConfig) -> LinkReport {
    Linker::new(profiles, cfg).candidates()
}
