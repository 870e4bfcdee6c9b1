//! The integration tests of `vigil-cli`, built as one binary.
//!
//! Each file under `tests/` used to be its own test binary, and each binary
//! statically links the crate's whole dependency tree (the server's were 137 MB
//! apiece in a debug build): one binary links once and takes a fraction of the
//! disk. Add a test file by adding its `mod` line here.

mod authz;
mod chat;
mod checkpoint;
mod cli;
mod common;
mod demo;
mod graph;
mod hashset;
mod link;
mod scan;
mod secrets;
mod share;
mod story;
mod triage;
