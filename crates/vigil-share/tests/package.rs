//! Package envelope behaviour: round trip, and every kind of refusal.
//! All agencies are invented; payloads are synthetic JSON, never media.

use std::collections::HashMap;

use vigil_share::package::SignedPart;
use vigil_share::{
    AgencyKeys, CountryCode, Fingerprint, ManifestFields, OpenError, PackageKind, PublicBundle,
    contains_window, open, peek_manifest, seal,
};

fn agency(name: &str, cc: &str) -> AgencyKeys {
    AgencyKeys::generate(name, CountryCode::parse(cc).unwrap()).unwrap()
}

fn directory(bundles: &[&PublicBundle]) -> HashMap<Fingerprint, PublicBundle> {
    bundles
        .iter()
        .map(|b| (b.fingerprint().clone(), (*b).clone()))
        .collect()
}

const PAYLOAD: &[u8] =
    br#"{"leads":[{"person":"synthetic-0001","handles":["example_handle"],"country":"GB"}]}"#;

struct World {
    ca: AgencyKeys,
    gb: AgencyKeys,
    known_to_gb: HashMap<Fingerprint, PublicBundle>,
    package: Vec<u8>,
    fields: ManifestFields,
}

fn world() -> World {
    let ca = agency("Example Canadian Police Unit", "CA");
    let gb = agency("Example UK Crime Agency", "GB");
    let known_to_gb = directory(&[ca.public_bundle()]);
    let fields = ManifestFields::new(PackageKind::Leads);
    let package = seal(PAYLOAD, &fields, &ca, gb.public_bundle()).unwrap();
    World {
        ca,
        gb,
        known_to_gb,
        package,
        fields,
    }
}

fn open_as_gb(w: &World, pkg: &[u8]) -> Result<vigil_share::Opened, OpenError> {
    open(pkg, w.gb.identity(), w.gb.public_bundle(), |fp| {
        w.known_to_gb.get(fp).cloned()
    })
}

#[test]
fn round_trip_names_sender_recipient_and_id() {
    let w = world();
    let opened = open_as_gb(&w, &w.package).unwrap();
    assert_eq!(opened.payload, PAYLOAD);
    let m = &opened.manifest;
    assert_eq!(m.package_id, w.fields.package_id);
    assert_eq!(m.kind, PackageKind::Leads);
    assert_eq!(m.sender.country.as_str(), "CA");
    assert_eq!(m.recipient.fingerprint, *w.gb.public_bundle().fingerprint());
    assert_eq!(opened.sender, *w.ca.public_bundle());
    // The unverified peek gives the same id, for replay checks before crypto.
    assert_eq!(peek_manifest(&w.package).unwrap().package_id, m.package_id);
    // Sealing twice gives different bytes (fresh age key, fresh nonces) but
    // the same id: the store de-duplicates on the id, not the bytes.
    let again = seal(PAYLOAD, &w.fields, &w.ca, w.gb.public_bundle()).unwrap();
    assert_ne!(again, w.package);
    assert_eq!(
        open_as_gb(&w, &again).unwrap().manifest.package_id,
        m.package_id
    );
}

#[test]
fn outcomes_reply_round_trip() {
    let w = world();
    let mut fields = ManifestFields::new(PackageKind::Outcomes);
    fields.in_reply_to = Some(w.fields.package_id);
    let reply = seal(br#"{"arrested":1}"#, &fields, &w.gb, w.ca.public_bundle()).unwrap();
    let known_to_ca = directory(&[w.gb.public_bundle()]);
    let opened = open(&reply, w.ca.identity(), w.ca.public_bundle(), |fp| {
        known_to_ca.get(fp).cloned()
    })
    .unwrap();
    assert_eq!(opened.manifest.in_reply_to, Some(w.fields.package_id));
    assert_eq!(opened.manifest.kind, PackageKind::Outcomes);
}

/// Where each byte of the package lives, from the ustar layout.
fn regions(pkg: &[u8]) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let mut out = vec![];
    let mut pos = 0;
    for name in ["manifest.json", "manifest.json.minisig", "payload.age"] {
        let size_field = std::str::from_utf8(&pkg[pos + 124..pos + 135]).unwrap();
        let size = usize::from_str_radix(size_field, 8).unwrap();
        out.push((name, pos + 512..pos + 512 + size));
        pos += 512 + size.div_ceil(512) * 512;
    }
    out
}

#[test]
fn one_flipped_byte_anywhere_is_refused_with_the_right_error() {
    let w = world();
    let regions = regions(&w.package);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for i in 0..w.package.len() {
        let mut p = w.package.clone();
        p[i] ^= 0x01;
        let err = match open_as_gb(&w, &p) {
            Ok(_) => panic!("byte {i} flipped and the package was accepted"),
            Err(e) => e,
        };
        let region = regions
            .iter()
            .find(|(_, r)| r.contains(&i))
            .map_or("tar structure", |(n, _)| *n);
        let ok = match region {
            "tar structure" => matches!(err, OpenError::Malformed(_)),
            "manifest.json" => matches!(
                err,
                OpenError::BadSignature {
                    part: SignedPart::Manifest,
                    ..
                } | OpenError::Malformed(_)
                    | OpenError::UnsupportedFormat(_)
                    | OpenError::UnknownSender { .. }
                    | OpenError::SenderMismatch { .. }
            ),
            "manifest.json.minisig" => matches!(
                err,
                OpenError::BadSignature {
                    part: SignedPart::Manifest,
                    ..
                }
            ),
            "payload.age" => matches!(err, OpenError::TamperedCiphertext(_)),
            _ => false,
        };
        assert!(ok, "byte {i} in {region}: unexpected error {err:?}");
        *counts.entry(region).or_default() += 1;
    }
    assert_eq!(counts.len(), 4, "{counts:?}");
}

#[test]
fn flips_inside_the_manifest_body_are_signature_failures() {
    // A flipped letter inside a JSON string keeps the JSON valid: it must be
    // caught by the signature, not by luck in parsing.
    let w = world();
    let r = regions(&w.package)[0].1.clone();
    let text = std::str::from_utf8(&w.package[r.clone()]).unwrap();
    let at = r.start + text.find("\"kind\": \"leads\"").unwrap() + 10;
    let mut p = w.package.clone();
    p[at] = b'L';
    let err = open_as_gb(&w, &p).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::BadSignature {
                part: SignedPart::Manifest,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn truncated_or_empty_input_is_malformed() {
    let w = world();
    for p in [
        &w.package[..0],
        &w.package[..100],
        &w.package[..w.package.len() - 512],
    ] {
        assert!(matches!(open_as_gb(&w, p), Err(OpenError::Malformed(_))));
    }
    assert!(matches!(
        open_as_gb(&w, b"PK\x03\x04 not a tar"),
        Err(OpenError::Malformed(_))
    ));
}

#[test]
fn signed_by_an_unregistered_key_is_unknown_sender() {
    let w = world();
    let stranger = agency("Example Unregistered Unit", "FR");
    let pkg = seal(
        PAYLOAD,
        &ManifestFields::new(PackageKind::Leads),
        &stranger,
        w.gb.public_bundle(),
    )
    .unwrap();
    match open_as_gb(&w, &pkg) {
        Err(OpenError::UnknownSender {
            agency,
            fingerprint,
            ..
        }) => {
            assert_eq!(agency, "Example Unregistered Unit");
            assert_eq!(fingerprint, *stranger.public_bundle().fingerprint());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn impostor_claiming_a_known_sender_fails_the_signature() {
    // Same agency name and country as the registered Canadian unit, new keys:
    // its fingerprint differs, so it is simply unknown...
    let w = world();
    let impostor = agency("Example Canadian Police Unit", "CA");
    let pkg = seal(PAYLOAD, &w.fields, &impostor, w.gb.public_bundle()).unwrap();
    assert!(matches!(
        open_as_gb(&w, &pkg),
        Err(OpenError::UnknownSender { .. })
    ));
    // ...and if it copies the real fingerprint into its manifest, the
    // signature does not verify under the registered key.
    let real_fp = w.ca.public_bundle().fingerprint().to_string();
    let fake_fp = impostor.public_bundle().fingerprint().to_string();
    let forged = swap_in_manifest(&pkg, &fake_fp, &real_fp);
    assert!(matches!(
        open_as_gb(&w, &forged),
        Err(OpenError::BadSignature {
            part: SignedPart::Manifest,
            ..
        })
    ));
}

/// Replaces same-length text inside manifest.json (the tar header stays
/// valid), so only the cryptography can object.
fn swap_in_manifest(pkg: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut p = pkg.to_vec();
    let r = regions(pkg)[0].1.clone();
    let text = String::from_utf8(p[r.clone()].to_vec())
        .unwrap()
        .replace(from, to);
    p[r].copy_from_slice(text.as_bytes());
    p
}

#[test]
fn addressed_to_another_agency_is_refused() {
    let w = world();
    let ie = agency("Example Irish Police Bureau", "IE");
    let pkg = seal(PAYLOAD, &w.fields, &w.ca, ie.public_bundle()).unwrap();
    match open_as_gb(&w, &pkg) {
        Err(OpenError::NotAddressedToUs {
            agency, country, ..
        }) => {
            assert_eq!(agency, "Example Irish Police Bureau");
            assert_eq!(country.as_str(), "IE");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_identity_cannot_decrypt() {
    let w = world();
    let other = agency("Example UK Crime Agency", "GB");
    // Our bundle, somebody else's (e.g. rotated) identity.
    let err = open(&w.package, other.identity(), w.gb.public_bundle(), |fp| {
        w.known_to_gb.get(fp).cloned()
    })
    .unwrap_err();
    assert!(matches!(err, OpenError::DecryptionFailed(_)), "{err}");
}

#[test]
fn forwarder_cannot_disguise_as_the_original_sender() {
    // GB decrypts a CA package and re-sends the content to IE. IE knows both.
    let w = world();
    let ie = agency("Example Irish Police Bureau", "IE");
    let opened = open_as_gb(&w, &w.package).unwrap();
    let forwarded = seal(&opened.payload, &w.fields, &w.gb, ie.public_bundle()).unwrap();
    let known_to_ie = directory(&[w.ca.public_bundle(), w.gb.public_bundle()]);
    // Re-sealing with GB's key is legitimate (GB vouches for it)...
    let ok = open(&forwarded, ie.identity(), ie.public_bundle(), |fp| {
        known_to_ie.get(fp).cloned()
    })
    .unwrap();
    assert_eq!(ok.sender.agency(), "Example UK Crime Agency");
    // ...but GB cannot make it look as if CA sent it to IE: swapping the
    // sender in the manifest breaks the outer signature.
    let gb_fp = w.gb.public_bundle().fingerprint().to_string();
    let ca_fp = w.ca.public_bundle().fingerprint().to_string();
    let disguised = swap_in_manifest(&forwarded, &gb_fp, &ca_fp);
    let err = open(&disguised, ie.identity(), ie.public_bundle(), |fp| {
        known_to_ie.get(fp).cloned()
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::SenderMismatch { .. } | OpenError::BadSignature { .. }
        ),
        "{err}"
    );
}

#[test]
fn package_holds_no_bytes_of_a_media_sample() {
    // A random "media" marker that is not in the payload must not appear
    // anywhere in the package; the payload itself is only encrypted, so its
    // plaintext must not appear either.
    let w = world();
    let mut marker = [0u8; 32];
    for (i, b) in marker.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(97).wrapping_add(13) ^ 0xA5;
    }
    assert!(!contains_window(&w.package, &marker, 32));
    assert!(
        !contains_window(&w.package, PAYLOAD, 32),
        "payload leaked in clear"
    );
}

/// Deterministic xorshift, so failures reproduce without a proptest dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_corruptions_never_open_and_never_panic() {
    let w = world();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for round in 0..400 {
        let mut p = w.package.clone();
        match round % 4 {
            // several random bytes
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(p.len());
                    p[i] = rng.next() as u8 ^ 0x5A;
                }
            }
            // truncate
            1 => p.truncate(rng.below(p.len())),
            // insert junk
            2 => {
                let i = rng.below(p.len());
                let junk: Vec<u8> = (0..1 + rng.below(600)).map(|_| rng.next() as u8).collect();
                p.splice(i..i, junk);
            }
            // delete a span
            _ => {
                let i = rng.below(p.len());
                let j = (i + 1 + rng.below(700)).min(p.len());
                p.drain(i..j);
            }
        }
        if p == w.package {
            continue;
        }
        assert!(open_as_gb(&w, &p).is_err(), "round {round} accepted");
        let _ = peek_manifest(&p);
    }
    // Pure garbage of many sizes.
    for len in [0, 1, 511, 512, 1024, 1536, 4096] {
        let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(matches!(
            open_as_gb(&w, &junk),
            Err(OpenError::Malformed(_))
        ));
    }
}

#[test]
fn bundles_and_stored_keys_reject_garbage_without_panicking() {
    let mut rng = Rng(0xBAD_C0DE);
    let w = world();
    let original = w.ca.public_bundle();
    let good = original.to_json();
    let mut accepted = 0;
    for _ in 0..300 {
        let mut b = good.clone().into_bytes();
        let i = rng.below(b.len());
        let alphabet = b"{}[]\",:0aZ-\\ \n";
        b[i] = alphabet[rng.below(alphabet.len())];
        if let Ok(text) = String::from_utf8(b)
            && let Ok(bundle) = PublicBundle::from_json(&text)
        {
            // Only meaning-preserving edits (whitespace, fingerprint case)
            // may pass; any real change contradicts the stated fingerprint.
            assert_eq!(&bundle, original, "accepted altered bundle:\n{text}");
            accepted += 1;
        }
    }
    assert!(accepted < 300);
    assert!(AgencyKeys::from_secret_json("").is_err());
    assert!(AgencyKeys::from_secret_json("{}").is_err());
    assert!(AgencyKeys::from_secret_json(&good).is_err());
}

#[test]
fn after_key_rotation_both_generations_open() {
    let w = world();
    let gb_new = agency("Example UK Crime Agency", "GB");
    let to_new = seal(
        PAYLOAD,
        &ManifestFields::new(PackageKind::Leads),
        &w.ca,
        gb_new.public_bundle(),
    )
    .unwrap();
    let known = |fp: &Fingerprint| w.known_to_gb.get(fp).cloned();
    let keyring = [&gb_new, &w.gb];
    assert_eq!(
        vigil_share::open_with_any(&w.package, &keyring, known)
            .unwrap()
            .payload,
        PAYLOAD
    );
    assert_eq!(
        vigil_share::open_with_any(&to_new, &keyring, known)
            .unwrap()
            .payload,
        PAYLOAD
    );
    // The old key alone is not the addressee of the new package.
    assert!(matches!(
        vigil_share::open_with_any(&to_new, &[&w.gb], known),
        Err(OpenError::NotAddressedToUs { .. })
    ));
}
