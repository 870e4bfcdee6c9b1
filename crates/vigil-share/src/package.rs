//! The lead-package envelope: sign, encrypt, sign again; verify before
//! decrypting.
//!
//! # Layout (see also the crate README)
//!
//! The package is a POSIX ustar archive with exactly three members:
//!
//! | member                  | content                                                  |
//! |-------------------------|----------------------------------------------------------|
//! | `manifest.json`         | cleartext [`Manifest`]: id, kind, sender, recipient, created, SHA-256 and size of `payload.age` |
//! | `manifest.json.minisig` | minisign signature of `manifest.json` by the sender       |
//! | `payload.age`           | age (binary, X25519) encryption, to the recipient, of an inner ustar archive |
//!
//! The inner archive (the age plaintext) has two members:
//!
//! | member            | content                                              |
//! |-------------------|------------------------------------------------------|
//! | `payload`         | the opaque payload bytes (the integrator's JSON)     |
//! | `payload.minisig` | minisign signature of `payload` by the sender        |
//!
//! Both signatures carry a minisign *trusted comment* (signed too) of the form
//! `vigil-package/1 id=<uuid> part=<manifest|payload> kind=<kind> from=<fp> to=<fp>`.
//!
//! # Why this shape
//!
//! * The outer signature covers the manifest, and the manifest pins the
//!   ciphertext by SHA-256: tampering anywhere is detected **before**
//!   decryption, and a receiver can refuse packages from unknown senders or
//!   for other agencies without touching the ciphertext.
//! * The inner signature is inside the encryption (sign-then-encrypt): after
//!   decryption the content is bound to the sender on its own, and its trusted
//!   comment binds it to this package id and recipient, so a recipient cannot
//!   re-wrap someone else's signed content as a different package or forward
//!   it as if it had been addressed to a third party.
//! * Everything is a standard format: `tar -x`, `minisign -V` and `age -d`
//!   verify and open a package without Vigil.
//!
//! # Order of checks in [`open`]
//!
//! container → manifest JSON and format → claimed sender known (and its
//! registered name/country match) → outer signature → typed manifest and
//! binding → ciphertext hash → addressed to us → decrypt → inner container →
//! inner signature and binding. Each failure has its own [`OpenError`] variant. The package id
//! is in [`Opened::manifest`]; refusing replays (an id already imported) is
//! the store's job, and [`peek_manifest`] lets it check before any crypto.

use std::io::Cursor;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::country::CountryCode;
use crate::keys::{AgencyKeys, Fingerprint, PublicBundle};
use crate::ustar;

pub const PACKAGE_FORMAT: &str = "vigil-package/1";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const MANIFEST_SIG_FILE: &str = "manifest.json.minisig";
pub const PAYLOAD_FILE: &str = "payload.age";
pub const INNER_PAYLOAD_FILE: &str = "payload";
pub const INNER_SIG_FILE: &str = "payload.minisig";
const PAYLOAD_ENCRYPTION: &str = "age-x25519";
const OUTER: [&str; 3] = [MANIFEST_FILE, MANIFEST_SIG_FILE, PAYLOAD_FILE];
const INNER: [&str; 2] = [INNER_PAYLOAD_FILE, INNER_SIG_FILE];
const MAX_MANIFEST: usize = 1 << 20;
const MAX_SIG: usize = 4096;

/// What a package carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// Leads on suspects in the recipient's country.
    Leads,
    /// Outcomes (arrests, charges, children safeguarded) reported back.
    Outcomes,
    /// Acknowledgement of receipt of another package.
    Ack,
}

impl PackageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leads => "leads",
            Self::Outcomes => "outcomes",
            Self::Ack => "ack",
        }
    }
}

/// One side of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub agency: String,
    pub country: CountryCode,
    /// Fingerprint of the party's [`PublicBundle`]: the lookup key.
    pub fingerprint: Fingerprint,
}

impl Party {
    fn of(b: &PublicBundle) -> Self {
        Self {
            agency: b.agency().to_string(),
            country: b.country(),
            fingerprint: b.fingerprint().clone(),
        }
    }
}

/// Where the encrypted payload is and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadInfo {
    pub file: String,
    pub encryption: String,
    /// Lower-case hex SHA-256 of `payload.age`.
    pub sha256: String,
    pub size: u64,
}

/// The cleartext, signed description of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub package_id: Uuid,
    pub kind: PackageKind,
    /// The package this one answers (outcomes and acks), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<Uuid>,
    pub sender: Party,
    pub recipient: Party,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    pub payload: PayloadInfo,
}

/// The caller's choices for a new package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFields {
    pub package_id: Uuid,
    pub kind: PackageKind,
    pub in_reply_to: Option<Uuid>,
    pub created: OffsetDateTime,
}

impl ManifestFields {
    /// A fresh time-ordered id, created now.
    pub fn new(kind: PackageKind) -> Self {
        Self {
            package_id: Uuid::now_v7(),
            kind,
            in_reply_to: None,
            created: OffsetDateTime::now_utc(),
        }
    }
}

/// Sealing failed (bad keys or an oversized payload). No secret content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("key problem: {0}")]
    Key(#[from] crate::keys::KeyError),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("cannot build container: {0}")]
    Container(String),
    #[error("refused: the payload starts like a {0} file; packages never carry media")]
    LooksLikeMedia(&'static str),
}

/// Magic numbers of image and video formats (at offset 0, or 4 for ISO
/// media). A last line of defence for "packages never carry media", not a
/// guarantee: the store decides what goes in; this only stops the obvious
/// mistake of sealing a media file itself.
fn media_magic(payload: &[u8]) -> Option<&'static str> {
    const AT0: &[(&[u8], &str)] = &[
        (b"\xFF\xD8\xFF", "JPEG"),
        (b"\x89PNG\r\n\x1A\n", "PNG"),
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"II*\0", "TIFF"),
        (b"MM\0*", "TIFF"),
        (b"\x1A\x45\xDF\xA3", "Matroska/WebM"),
        (b"\x00\x00\x01\xBA", "MPEG"),
        (b"\x00\x00\x01\xB3", "MPEG"),
        (b"FLV\x01", "FLV"),
        (b"8BPS", "Photoshop"),
        (b"\x00\x00\x00\x0CjP  ", "JPEG 2000"),
        (b"\xFF\x0A", "JPEG XL"),
    ];
    if let Some((_, name)) = AT0.iter().find(|(m, _)| payload.starts_with(m)) {
        return Some(name);
    }
    if payload.len() >= 12 && payload.starts_with(b"RIFF") {
        match &payload[8..12] {
            b"WEBP" => return Some("WebP"),
            b"AVI " => return Some("AVI"),
            _ => {}
        }
    }
    if payload.get(4..8) == Some(b"ftyp") {
        return Some("ISO media (MP4/MOV/HEIC/AVIF)");
    }
    if payload.starts_with(b"BM")
        && payload.get(14..18).is_some_and(|h| {
            matches!(h[0], 12 | 40 | 52 | 56 | 64 | 108 | 124) && h[1..] == [0, 0, 0]
        })
    {
        return Some("BMP");
    }
    None
}

/// Which signature failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPart {
    Manifest,
    Payload,
}

/// Why a package was refused. Each cause is its own variant so the
/// integrator can tell an attack from a misdirected package from a broken
/// file, and tell the officer which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not a valid Vigil package: {0}")]
    Malformed(String),
    #[error("unsupported package format {0:?}")]
    UnsupportedFormat(String),
    #[error("package from unknown sender {agency} ({country}), key fingerprint {fingerprint}")]
    UnknownSender {
        agency: String,
        country: CountryCode,
        fingerprint: Fingerprint,
    },
    #[error(
        "package claims to be from {claimed}, but key {fingerprint} is registered to {registered}"
    )]
    SenderMismatch {
        claimed: String,
        registered: String,
        fingerprint: Fingerprint,
    },
    #[error(
        "bad {part:?} signature: the package was altered or not signed by its sender ({detail})"
    )]
    BadSignature { part: SignedPart, detail: String },
    #[error("payload.age does not match the signed manifest (altered ciphertext): {0}")]
    TamperedCiphertext(String),
    #[error("package is addressed to {agency} ({country}, {fingerprint}), not to us")]
    NotAddressedToUs {
        agency: String,
        country: CountryCode,
        fingerprint: Fingerprint,
    },
    #[error("cannot decrypt the payload with our identity: {0}")]
    DecryptionFailed(String),
    #[error("decrypted payload is not a valid inner container: {0}")]
    MalformedPayload(String),
    #[error("signed content belongs to another package or recipient: {0}")]
    BindingMismatch(String),
}

/// A verified, decrypted package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub manifest: Manifest,
    /// The sender's bundle, as registered with us.
    pub sender: PublicBundle,
    /// The payload bytes, signed by the sender and addressed to us.
    pub payload: Vec<u8>,
}

fn trusted_comment(m: &Manifest, part: &str) -> String {
    format!(
        "{PACKAGE_FORMAT} id={} part={part} kind={} from={} to={}",
        m.package_id,
        m.kind.as_str(),
        m.sender.fingerprint,
        m.recipient.fingerprint
    )
}

/// minisign's first line is *not* signed; it is fixed so that a changed
/// byte there is still refused (see `verify`).
fn untrusted_comment(sender: &Party) -> String {
    format!(
        "vigil package signature from {} ({})",
        sender.agency, sender.fingerprint
    )
}

fn sign(keys: &AgencyKeys, data: &[u8], comment: &str) -> Result<String, SealError> {
    let pk = keys
        .public_bundle()
        .minisign_public_key()
        .map_err(SealError::Key)?;
    let untrusted = untrusted_comment(&Party::of(keys.public_bundle()));
    minisign::sign(
        Some(&pk),
        keys.signing_key(),
        Cursor::new(data),
        Some(comment),
        Some(&untrusted),
    )
    .map(|b| b.into_string())
    .map_err(|e| SealError::Sign(e.to_string()))
}

/// Signs `payload`, encrypts it to `recipient`, and wraps it with a signed
/// manifest. The payload must never contain media content; one that starts
/// like an image or video file is refused ([`SealError::LooksLikeMedia`]).
pub fn seal(
    payload: &[u8],
    fields: &ManifestFields,
    sender: &AgencyKeys,
    recipient: &PublicBundle,
) -> Result<Vec<u8>, SealError> {
    if let Some(kind) = media_magic(payload) {
        return Err(SealError::LooksLikeMedia(kind));
    }
    let created = fields
        .created
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(fields.created);
    let mut manifest = Manifest {
        format: PACKAGE_FORMAT.into(),
        package_id: fields.package_id,
        kind: fields.kind,
        in_reply_to: fields.in_reply_to,
        sender: Party::of(sender.public_bundle()),
        recipient: Party::of(recipient),
        created,
        payload: PayloadInfo {
            file: PAYLOAD_FILE.into(),
            encryption: PAYLOAD_ENCRYPTION.into(),
            sha256: String::new(),
            size: 0,
        },
    };
    let inner_sig = sign(sender, payload, &trusted_comment(&manifest, "payload"))?;
    let mtime = created.unix_timestamp();
    let inner = ustar::write(
        &[
            ustar::Entry {
                name: INNER_PAYLOAD_FILE,
                data: payload,
            },
            ustar::Entry {
                name: INNER_SIG_FILE,
                data: inner_sig.as_bytes(),
            },
        ],
        mtime,
    )
    .map_err(SealError::Container)?;
    let ciphertext = age::encrypt(&recipient.age_recipient()?, &inner)
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    manifest.payload.sha256 = hex::encode(Sha256::digest(&ciphertext));
    manifest.payload.size = ciphertext.len() as u64;
    let mut manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| SealError::Container(e.to_string()))?;
    manifest_json.push(b'\n');
    let manifest_sig = sign(
        sender,
        &manifest_json,
        &trusted_comment(&manifest, "manifest"),
    )?;
    ustar::write(
        &[
            ustar::Entry {
                name: MANIFEST_FILE,
                data: &manifest_json,
            },
            ustar::Entry {
                name: MANIFEST_SIG_FILE,
                data: manifest_sig.as_bytes(),
            },
            ustar::Entry {
                name: PAYLOAD_FILE,
                data: &ciphertext,
            },
        ],
        mtime,
    )
    .map_err(SealError::Container)
}

struct Parts<'a> {
    /// The manifest as JSON, not yet trusted.
    value: serde_json::Value,
    manifest_bytes: &'a [u8],
    manifest_sig: &'a [u8],
    ciphertext: &'a [u8],
}

fn parse(package: &[u8]) -> Result<Parts<'_>, OpenError> {
    let (parts, _) = ustar::read(package, &OUTER).map_err(OpenError::Malformed)?;
    let (manifest_bytes, manifest_sig, ciphertext) = (parts[0], parts[1], parts[2]);
    if manifest_bytes.len() > MAX_MANIFEST || manifest_sig.len() > MAX_SIG {
        return Err(OpenError::Malformed(
            "manifest or signature too large".into(),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(manifest_bytes)
        .map_err(|e| OpenError::Malformed(format!("manifest.json is not JSON: {e}")))?;
    // The format first, so a future version gets a clear error rather than
    // a field-by-field complaint.
    match value.get("format").and_then(|f| f.as_str()) {
        Some(PACKAGE_FORMAT) => {}
        Some(other) => return Err(OpenError::UnsupportedFormat(other.to_string())),
        None => return Err(OpenError::Malformed("manifest.json has no format".into())),
    }
    Ok(Parts {
        value,
        manifest_bytes,
        manifest_sig,
        ciphertext,
    })
}

fn typed(value: serde_json::Value) -> Result<Manifest, OpenError> {
    let manifest: Manifest = serde_json::from_value(value)
        .map_err(|e| OpenError::Malformed(format!("manifest.json: {e}")))?;
    if manifest.payload.file != PAYLOAD_FILE || manifest.payload.encryption != PAYLOAD_ENCRYPTION {
        return Err(OpenError::Malformed(
            "manifest names an unexpected payload".into(),
        ));
    }
    Ok(manifest)
}

/// The manifest **without any verification**: for routing and replay checks
/// (has this package id been imported already?) before doing the crypto.
/// Never act on its contents otherwise; use [`open`].
pub fn peek_manifest(package: &[u8]) -> Result<Manifest, OpenError> {
    parse(package).and_then(|p| typed(p.value))
}

/// Checks a detached minisign signature and returns its trusted comment.
fn verify(
    pk: &minisign::PublicKey,
    data: &[u8],
    sig: &[u8],
    part: SignedPart,
    expected_untrusted: &str,
) -> Result<String, OpenError> {
    let bad = |detail: String| OpenError::BadSignature { part, detail };
    let sig_text =
        std::str::from_utf8(sig).map_err(|_| bad("signature file is not text".into()))?;
    let sig_box = minisign::SignatureBox::from_string(sig_text)
        .map_err(|e| bad(format!("unreadable signature: {e}")))?;
    // The parser trims whitespace, ignores extra lines and accepts
    // non-canonical base64; the untrusted comment is unsigned. Requiring the
    // exact bytes the writer produces makes every changed byte count.
    if sig_box.to_string() != sig_text {
        return Err(bad(
            "signature file is not in canonical form (altered)".into()
        ));
    }
    if sig_box.untrusted_comment().ok().as_deref() != Some(expected_untrusted) {
        return Err(bad("untrusted comment altered".into()));
    }
    minisign::verify(pk, &sig_box, Cursor::new(data), true, false, false)
        .map_err(|e| bad(e.to_string()))?;
    sig_box
        .trusted_comment()
        .map_err(|e| bad(format!("no trusted comment: {e}")))
}

fn check_binding(comment: &str, expected: &str, part: SignedPart) -> Result<(), OpenError> {
    if comment != expected {
        return Err(OpenError::BindingMismatch(format!(
            "{part:?} signature is for {comment:?}, expected {expected:?}"
        )));
    }
    Ok(())
}

/// Verifies and decrypts a package addressed to `me`.
///
/// `known_senders` maps a sender fingerprint to the bundle this agency
/// imported (and compared by phone) earlier. Only the sender fields are read
/// before the signature is checked; the rest of the manifest is interpreted
/// only once it is known to be the sender's.
pub fn open<F>(
    package: &[u8],
    my_identity: &age::x25519::Identity,
    me: &PublicBundle,
    known_senders: F,
) -> Result<Opened, OpenError>
where
    F: Fn(&Fingerprint) -> Option<PublicBundle>,
{
    open_inner(
        package,
        |fp| (fp == me.fingerprint()).then_some(my_identity),
        known_senders,
    )
}

/// Like [`open`], for an agency holding several key generations (after a key
/// rotation, packages sealed to the previous bundle are still in flight).
/// The key whose bundle fingerprint the manifest names is used.
pub fn open_with_any<F>(
    package: &[u8],
    my_keys: &[&AgencyKeys],
    known_senders: F,
) -> Result<Opened, OpenError>
where
    F: Fn(&Fingerprint) -> Option<PublicBundle>,
{
    open_inner(
        package,
        |fp| {
            my_keys
                .iter()
                .find(|k| k.public_bundle().fingerprint() == fp)
                .map(|k| k.identity())
        },
        known_senders,
    )
}

fn open_inner<'k, S, F>(
    package: &[u8],
    my_identity_for: S,
    known_senders: F,
) -> Result<Opened, OpenError>
where
    S: Fn(&Fingerprint) -> Option<&'k age::x25519::Identity>,
    F: Fn(&Fingerprint) -> Option<PublicBundle>,
{
    let parts = parse(package)?;
    let claimed: Party = parts
        .value
        .get("sender")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| OpenError::Malformed("manifest.json has no valid sender".into()))?;

    let sender = known_senders(&claimed.fingerprint).ok_or_else(|| OpenError::UnknownSender {
        agency: claimed.agency.clone(),
        country: claimed.country,
        fingerprint: claimed.fingerprint.clone(),
    })?;
    if sender.fingerprint() != &claimed.fingerprint
        || sender.agency() != claimed.agency
        || sender.country() != claimed.country
    {
        return Err(OpenError::SenderMismatch {
            claimed: format!("{} ({})", claimed.agency, claimed.country),
            registered: format!("{} ({})", sender.agency(), sender.country()),
            fingerprint: claimed.fingerprint.clone(),
        });
    }
    let pk = sender
        .minisign_public_key()
        .map_err(|e| OpenError::UnknownSender {
            agency: format!("{} (unusable key: {e})", claimed.agency),
            country: claimed.country,
            fingerprint: claimed.fingerprint.clone(),
        })?;

    let comment = verify(
        &pk,
        parts.manifest_bytes,
        parts.manifest_sig,
        SignedPart::Manifest,
        &untrusted_comment(&claimed),
    )?;
    let m = typed(parts.value)?;
    check_binding(
        &comment,
        &trusted_comment(&m, "manifest"),
        SignedPart::Manifest,
    )?;

    let digest = hex::encode(Sha256::digest(parts.ciphertext));
    if digest != m.payload.sha256 || parts.ciphertext.len() as u64 != m.payload.size {
        return Err(OpenError::TamperedCiphertext(format!(
            "SHA-256 {digest}, size {}; manifest says {}, size {}",
            parts.ciphertext.len(),
            m.payload.sha256,
            m.payload.size
        )));
    }

    let Some(my_identity) = my_identity_for(&m.recipient.fingerprint) else {
        return Err(OpenError::NotAddressedToUs {
            agency: m.recipient.agency.clone(),
            country: m.recipient.country,
            fingerprint: m.recipient.fingerprint.clone(),
        });
    };

    let inner = age::decrypt(my_identity, parts.ciphertext).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => OpenError::DecryptionFailed(
            "our identity is not a recipient of this payload (wrong or outdated key)".into(),
        ),
        other => OpenError::DecryptionFailed(other.to_string()),
    })?;

    let (inner_parts, _) = ustar::read(&inner, &INNER).map_err(OpenError::MalformedPayload)?;
    let (payload, payload_sig) = (inner_parts[0], inner_parts[1]);
    if payload_sig.len() > MAX_SIG {
        return Err(OpenError::MalformedPayload("signature too large".into()));
    }
    let comment = verify(
        &pk,
        payload,
        payload_sig,
        SignedPart::Payload,
        &untrusted_comment(&m.sender),
    )?;
    check_binding(
        &comment,
        &trusted_comment(&m, "payload"),
        SignedPart::Payload,
    )?;

    Ok(Opened {
        payload: payload.to_vec(),
        manifest: m,
        sender,
    })
}

/// True if `haystack` contains a run of `needle` at least `2 * window - 1`
/// bytes long (shorter shared runs may also be found; a `needle` no longer
/// than `window` is found exactly).
///
/// Why: a cheap guard that a package or export holds no bytes of a media
/// file. `needle` is cut into aligned `window`-byte blocks and every
/// `window`-byte slice of `haystack` is checked against them, so memory is
/// `needle.len() / window` entries and any long enough shared run contains at
/// least one aligned block.
pub fn contains_window(haystack: &[u8], needle: &[u8], window: usize) -> bool {
    if window == 0 || needle.is_empty() {
        return false;
    }
    if needle.len() <= window {
        return haystack.windows(needle.len()).any(|w| w == needle);
    }
    let blocks: std::collections::HashSet<&[u8]> = needle.chunks_exact(window).collect();
    haystack.windows(window).any(|w| blocks.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(name: &str, cc: &str) -> AgencyKeys {
        AgencyKeys::generate(name, CountryCode::parse(cc).unwrap()).unwrap()
    }

    /// Builds a package by hand: `outer` signs the manifest, `inner` signs
    /// the payload with the trusted comment of `inner_for` (a manifest).
    fn craft(outer: &AgencyKeys, inner: &AgencyKeys, to: &AgencyKeys, same_id: bool) -> Vec<u8> {
        let fields = ManifestFields::new(PackageKind::Leads);
        let mut manifest = Manifest {
            format: PACKAGE_FORMAT.into(),
            package_id: fields.package_id,
            kind: fields.kind,
            in_reply_to: None,
            sender: Party::of(outer.public_bundle()),
            recipient: Party::of(to.public_bundle()),
            created: fields.created.replace_nanosecond(0).unwrap(),
            payload: PayloadInfo {
                file: PAYLOAD_FILE.into(),
                encryption: PAYLOAD_ENCRYPTION.into(),
                sha256: String::new(),
                size: 0,
            },
        };
        let mut inner_for = manifest.clone();
        if !same_id {
            inner_for.package_id = Uuid::now_v7();
        }
        let payload = br#"{"leads":[]}"#;
        let mut inner_sig = sign(inner, payload, &trusted_comment(&inner_for, "payload")).unwrap();
        if inner.public_bundle() != outer.public_bundle() {
            // Keep the unsigned comment line as the receiver expects, so only
            // the signature itself can object.
            let wrong = untrusted_comment(&Party::of(inner.public_bundle()));
            inner_sig = inner_sig.replace(&wrong, &untrusted_comment(&manifest.sender));
        }
        let inner_tar = ustar::write(
            &[
                ustar::Entry {
                    name: INNER_PAYLOAD_FILE,
                    data: payload,
                },
                ustar::Entry {
                    name: INNER_SIG_FILE,
                    data: inner_sig.as_bytes(),
                },
            ],
            0,
        )
        .unwrap();
        let ct = age::encrypt(&to.public_bundle().age_recipient().unwrap(), &inner_tar).unwrap();
        manifest.payload.sha256 = hex::encode(Sha256::digest(&ct));
        manifest.payload.size = ct.len() as u64;
        let mj = serde_json::to_vec_pretty(&manifest).unwrap();
        let ms = sign(outer, &mj, &trusted_comment(&manifest, "manifest")).unwrap();
        ustar::write(
            &[
                ustar::Entry {
                    name: MANIFEST_FILE,
                    data: &mj,
                },
                ustar::Entry {
                    name: MANIFEST_SIG_FILE,
                    data: ms.as_bytes(),
                },
                ustar::Entry {
                    name: PAYLOAD_FILE,
                    data: &ct,
                },
            ],
            0,
        )
        .unwrap()
    }

    fn open_by(pkg: &[u8], me: &AgencyKeys, known: &[&AgencyKeys]) -> Result<Opened, OpenError> {
        let known: Vec<PublicBundle> = known.iter().map(|k| k.public_bundle().clone()).collect();
        open(pkg, me.identity(), me.public_bundle(), |fp| {
            known.iter().find(|b| b.fingerprint() == fp).cloned()
        })
    }

    #[test]
    fn crafted_packages_check_out_when_consistent() {
        let (a, b) = (
            agency("Example Police A", "CA"),
            agency("Example Police B", "GB"),
        );
        assert!(open_by(&craft(&a, &a, &b, true), &b, &[&a]).is_ok());
    }

    /// An insider re-using signed content from one package in a new envelope.
    #[test]
    fn inner_content_from_another_package_is_refused() {
        let (a, b) = (
            agency("Example Police A", "CA"),
            agency("Example Police B", "GB"),
        );
        let err = open_by(&craft(&a, &a, &b, false), &b, &[&a]).unwrap_err();
        assert!(matches!(err, OpenError::BindingMismatch(_)), "{err}");
    }

    /// C wraps content signed by A in an envelope C signs: the inner
    /// signature does not verify under the envelope's sender.
    #[test]
    fn inner_signature_by_another_key_is_refused() {
        let (a, b) = (
            agency("Example Police A", "CA"),
            agency("Example Police B", "GB"),
        );
        let c = agency("Example Police C", "FR");
        let err = open_by(&craft(&c, &a, &b, true), &b, &[&a, &c]).unwrap_err();
        assert!(
            matches!(
                err,
                OpenError::BadSignature {
                    part: SignedPart::Payload,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn media_files_are_refused_at_seal() {
        let (a, b) = (
            agency("Example Police A", "CA"),
            agency("Example Police B", "GB"),
        );
        let fields = ManifestFields::new(PackageKind::Leads);
        let mut mp4 = vec![0, 0, 0, 0x18];
        mp4.extend_from_slice(b"ftypisom\0\0\0\0");
        let mut webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
        webp.extend_from_slice(&[0; 8]);
        for (bytes, kind) in [
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF".to_vec(), "JPEG"),
            (b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR".to_vec(), "PNG"),
            (b"GIF89a\x01\0\x01\0".to_vec(), "GIF"),
            (webp, "WebP"),
            (mp4, "ISO media (MP4/MOV/HEIC/AVIF)"),
        ] {
            assert_eq!(
                seal(&bytes, &fields, &a, b.public_bundle()),
                Err(SealError::LooksLikeMedia(kind))
            );
        }
        // JSON, even mentioning file names, is fine.
        assert!(
            seal(
                br#"{"file":"IMG_0001.jpg","md5":"00"}"#,
                &fields,
                &a,
                b.public_bundle()
            )
            .is_ok()
        );
        assert!(seal(b"", &fields, &a, b.public_bundle()).is_ok());
    }

    #[test]
    fn contains_window_finds_shared_runs() {
        let needle: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        let mut hay = vec![0u8; 1000];
        assert!(!contains_window(&hay, &needle, 32));
        hay[300..300 + 63].copy_from_slice(&needle[5..68]); // 63 = 2*32-1, unaligned
        assert!(contains_window(&hay, &needle, 32));
        assert!(contains_window(&needle[10..42], &needle[10..42], 32));
        assert!(!contains_window(&hay, &[], 32));
        assert!(!contains_window(&hay, &needle, 0));
    }
}
