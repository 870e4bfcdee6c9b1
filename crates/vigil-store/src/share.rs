//! Dissemination records: agency keys, partner keys, packages and their
//! states (being built: see issue "Dissemination").
