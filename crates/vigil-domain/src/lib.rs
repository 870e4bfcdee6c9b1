//! Vigil's domain: the records an investigation keeps, the identifiers that
//! connect them, and the rules about who may see what.
//!
//! This crate does no I/O — no files, no network, no clock, no randomness —
//! so every rule in it can be tested with plain values and reused unchanged by
//! the store, the CLI and the server.

pub mod access;
pub mod country;
mod error;
pub mod hashes;
pub mod identifier;
pub mod normalize;
pub mod records;

pub use access::{Capability, Decision, Principal, Release, Role};
pub use error::ValidationError;
pub use hashes::{HexError, Md5, PdqHash, Sha1, Sha256};
pub use identifier::IdentifierKind;
pub use records::{EventKind, NewEvent, NewIdentifier, NewPerson, PersonRole};
