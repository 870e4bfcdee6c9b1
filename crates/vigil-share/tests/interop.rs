//! A package opened with the standard tools only: `tar`, `age`, `minisign`,
//! `sha256sum`. This is the promise to agencies that do not run Vigil.
//! If a tool is missing the test says so loudly and passes (CI installs them:
//! `apt-get install age minisign`).

use std::path::Path;
use std::process::Command;

use vigil_share::secrecy::ExposeSecret;
use vigil_share::{AgencyKeys, CountryCode, ManifestFields, PackageKind, peek_manifest, seal};

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg(if tool == "tar" || tool == "sha256sum" {
            "--version"
        } else {
            "-h"
        })
        .output()
        .is_ok()
}

fn run(dir: &Path, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn fails(dir: &Path, cmd: &str, args: &[&str]) -> bool {
    !Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn standard_tools_verify_and_decrypt_a_package() {
    let missing: Vec<&str> = ["tar", "age", "minisign", "sha256sum"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             SKIPPED: real-tool interop test: {missing:?} not installed \
             (apt-get install age minisign)\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return;
    }
    let ca = AgencyKeys::generate(
        "Example Canadian Police Unit",
        CountryCode::parse("CA").unwrap(),
    )
    .unwrap();
    let gb =
        AgencyKeys::generate("Example UK Crime Agency", CountryCode::parse("GB").unwrap()).unwrap();
    let payload =
        br#"{"leads":[{"person":"synthetic-0042","identifiers":["user42@example.org"]}]}"#;
    let pkg = seal(
        payload,
        &ManifestFields::new(PackageKind::Leads),
        &ca,
        gb.public_bundle(),
    )
    .unwrap();
    let manifest = peek_manifest(&pkg).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("package.tar"), &pkg).unwrap();
    // The recipient's escrowed identity file and the sender's public key.
    std::fs::write(
        d.join("identity.txt"),
        gb.age_identity_file().expose_secret(),
    )
    .unwrap();
    std::fs::write(
        d.join("sender.pub"),
        ca.public_bundle().minisign_public_key_file(),
    )
    .unwrap();

    // 1. Unpack: exactly the three documented members.
    let listing = run(d, "tar", &["-tf", "package.tar"]);
    assert_eq!(
        listing.lines().collect::<Vec<_>>(),
        ["manifest.json", "manifest.json.minisig", "payload.age"]
    );
    run(d, "tar", &["-xf", "package.tar"]);

    // 2. Verify the envelope signature with minisign, by key string (-P).
    let out = run(
        d,
        "minisign",
        &[
            "-Vm",
            "manifest.json",
            "-x",
            "manifest.json.minisig",
            "-P",
            ca.public_bundle().minisign_public_key_base64(),
        ],
    );
    assert!(
        out.contains("Signature and comment signature verified"),
        "{out}"
    );
    assert!(
        out.contains(&format!("id={} part=manifest", manifest.package_id)),
        "trusted comment binds the package id: {out}"
    );

    // 3. The signed manifest pins the ciphertext.
    let sum = run(d, "sha256sum", &["payload.age"]);
    assert_eq!(
        sum.split_whitespace().next(),
        Some(manifest.payload.sha256.as_str())
    );

    // 4. Decrypt with the real age CLI and the exported identity file.
    run(
        d,
        "age",
        &["-d", "-i", "identity.txt", "-o", "inner.tar", "payload.age"],
    );
    run(d, "tar", &["-xf", "inner.tar"]);
    assert_eq!(std::fs::read(d.join("payload")).unwrap(), payload);

    // 5. Verify the inner signature with the key file (-p).
    let out = run(
        d,
        "minisign",
        &[
            "-Vm",
            "payload",
            "-x",
            "payload.minisig",
            "-p",
            "sender.pub",
        ],
    );
    assert!(
        out.contains(&format!("id={} part=payload", manifest.package_id)),
        "{out}"
    );

    // 6. The tools refuse tampering and the wrong key too.
    std::fs::write(d.join("payload"), b"{\"leads\":[]}").unwrap();
    assert!(fails(
        d,
        "minisign",
        &[
            "-Vm",
            "payload",
            "-x",
            "payload.minisig",
            "-p",
            "sender.pub"
        ]
    ));
    std::fs::write(
        d.join("other.pub"),
        gb.public_bundle().minisign_public_key_file(),
    )
    .unwrap();
    assert!(fails(
        d,
        "minisign",
        &[
            "-Vm",
            "manifest.json",
            "-x",
            "manifest.json.minisig",
            "-p",
            "other.pub"
        ]
    ));
    std::fs::write(
        d.join("ca-identity.txt"),
        ca.age_identity_file().expose_secret(),
    )
    .unwrap();
    assert!(fails(
        d,
        "age",
        &["-d", "-i", "ca-identity.txt", "-o", "x.tar", "payload.age"]
    ));
}

/// The other direction: a key pair made by `age-keygen` is a valid recipient.
#[test]
fn age_keygen_identity_file_format_matches_ours() {
    let gb =
        AgencyKeys::generate("Example UK Crime Agency", CountryCode::parse("GB").unwrap()).unwrap();
    let file = gb.age_identity_file();
    let text = file.expose_secret();
    // Same shape as age-keygen's output: comments, then one AGE-SECRET-KEY-1 line.
    let keys: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with("AGE-SECRET-KEY-1"));
    assert!(text.contains(&format!(
        "# public key: {}",
        gb.public_bundle().age_recipient_str()
    )));
    if have("age-keygen") {
        let out = Command::new("age-keygen")
            .args(["-y"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(text.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            gb.public_bundle().age_recipient_str()
        );
    } else {
        eprintln!("!!! SKIPPED age-keygen -y cross-check: age-keygen not installed");
    }
}
