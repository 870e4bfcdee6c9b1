//! Embeds every migration found under `migrations/{sqlite,postgres}/` so that
//! adding a feature's schema is adding two files, never editing a list.
//! Files are named `NNNN_name.sql`; both folders must hold the same set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn scan(dir: &Path) -> BTreeMap<u32, (String, String)> {
    let mut found = BTreeMap::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let (num, label) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("migration {name} must be named NNNN_name.sql"));
        let version: u32 = num
            .parse()
            .unwrap_or_else(|_| panic!("migration {name} must start with a number"));
        let path = entry.path().canonicalize().expect("migration path");
        if found
            .insert(version, (label.to_string(), path.display().to_string()))
            .is_some()
        {
            panic!("two migrations numbered {version} in {}", dir.display());
        }
    }
    found
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo:rerun-if-changed={}", root.display());
    for sub in ["sqlite", "postgres"] {
        println!("cargo:rerun-if-changed={}", root.join(sub).display());
    }
    let sqlite = scan(&root.join("sqlite"));
    let postgres = scan(&root.join("postgres"));
    let sv: Vec<_> = sqlite.keys().collect();
    let pv: Vec<_> = postgres.keys().collect();
    assert_eq!(
        sv, pv,
        "migrations/sqlite and migrations/postgres must hold the same versions"
    );
    let mut out = String::from("&[\n");
    for (version, (name, sqlite_path)) in &sqlite {
        let pg_path = &postgres[version].1;
        writeln!(
            out,
            "    Migration {{ version: {version}, name: {name:?}, sqlite: include_str!({sqlite_path:?}), postgres: include_str!({pg_path:?}) }},"
        )
        .ok();
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(dest, out).expect("write migrations.rs");
}
