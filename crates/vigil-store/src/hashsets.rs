//! Hash sets, their entries and matching (being built: see issue "Hash sets
//! and matching").
