//! The integration tests of `vigil-store`, built as one binary.
//!
//! Each file under `tests/` used to be its own test binary, and each binary
//! statically links the crate's whole dependency tree (the server's were 137 MB
//! apiece in a debug build): one binary links once and takes a fraction of the
//! disk. Add a test file by adding its `mod` line here.

mod audit;
mod auth;
mod chat;
mod common;
mod graph;
mod hashsets;
mod links;
mod share;
mod store;
