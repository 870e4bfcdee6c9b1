//! The integration tests of `vigil-server`, built as one binary.
//!
//! Each file under `tests/` used to be its own test binary, and each binary
//! statically links the crate's whole dependency tree (the server's were 137 MB
//! apiece in a debug build): one binary links once and takes a fraction of the
//! disk. Add a test file by adding its `mod` line here.

mod common;

mod api;
mod api_admin;
mod api_chat;
mod api_data;
mod authz;
mod browser;
mod graph;
mod links_share;
