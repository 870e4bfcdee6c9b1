//! Agency key pairs and the public key bundle.
//!
//! Each agency holds two key pairs with one job each:
//! * a **minisign** (Ed25519) signing key — packages it sends are signed with
//!   it, in the standard minisign signature format any `minisign -V` checks;
//! * an **age X25519** identity — packages sent *to* it are encrypted to its
//!   recipient, in the standard age format any `age -d` opens.
//!
//! Keeping them apart means a leaked decryption key cannot forge packages and
//! vice versa, and each half can be checked with its own standard tool.
//!
//! The [`PublicBundle`] is what agencies exchange (JSON). Its
//! [`Fingerprint`] is a SHA-256 over a canonical text of every field, shortened
//! to 120 bits and shown as six groups of four base32 characters, so two
//! liaison officers can read it to each other over the phone before trusting
//! a bundle. Secrets never appear in `Debug` output or error messages: secret
//! material is only handed out as [`SecretString`], whose `Debug` is redacted.

use std::fmt;
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::country::CountryCode;

pub const BUNDLE_FORMAT: &str = "vigil-agency-keys/1";
const SECRET_FORMAT: &str = "vigil-agency-secret-keys/1";

/// Key generation, parsing or validation failed. Never carries secret bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("invalid agency name: {0}")]
    AgencyName(String),
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("not a valid {what}: {detail}")]
    Parse { what: &'static str, detail: String },
    #[error(
        "fingerprint mismatch: the bundle says {stated} but its contents hash to {computed}; \
         it was altered or damaged"
    )]
    FingerprintMismatch { stated: String, computed: String },
    #[error("unsupported key format {0:?}")]
    Format(String),
    #[error("secret keys encrypted at rest: {0}")]
    Protection(String),
    #[error("signature: {0}")]
    Signature(String),
}

/// How secret key material encrypted at rest begins: the standard age
/// ASCII armor, so `age -d` with the passphrase opens it too.
const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// True if stored secret key material is passphrase-encrypted
/// ([`protect_secret`]) rather than clear JSON.
pub fn is_protected(stored: &str) -> bool {
    stored.trim_start().starts_with(ARMOR_BEGIN)
}

/// Encrypts secret key material (the JSON of
/// [`AgencyKeys::to_secret_json`]) with a key-encryption passphrase, as an
/// age file with a scrypt (passphrase) recipient in ASCII armor.
///
/// Why age/scrypt: the database (and every backup of it) then holds the
/// agency's signing and decryption keys only in a form a standard tool can
/// open given the passphrase, and scrypt makes guessing it expensive.
/// `log_n` is the scrypt work factor (age's default is 18); `None` keeps
/// age's default.
pub fn protect_secret(
    secret: &SecretString,
    passphrase: &SecretString,
    log_n: Option<u8>,
) -> Result<String, KeyError> {
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    if let Some(n) = log_n {
        recipient.set_work_factor(n);
    }
    age::encrypt_and_armor(&recipient, secret.expose_secret().as_bytes())
        .map_err(|e| KeyError::Protection(format!("cannot encrypt: {e}")))
}

/// Opens stored secret key material: clear JSON as it is, or armored age
/// from [`protect_secret`] with the passphrase. A wrong or missing
/// passphrase is an error that never echoes the input.
pub fn unprotect_secret(
    stored: &str,
    passphrase: Option<&SecretString>,
) -> Result<SecretString, KeyError> {
    if !is_protected(stored) {
        return Ok(SecretString::from(stored.to_string()));
    }
    let Some(passphrase) = passphrase else {
        return Err(KeyError::Protection(
            "the stored keys are passphrase-protected; set the key-encryption passphrase".into(),
        ));
    };
    let identity = age::scrypt::Identity::new(passphrase.clone());
    // With the `armor` feature, age::decrypt reads the armored form.
    let plain = age::decrypt(&identity, stored.trim().as_bytes()).map_err(|e| match e {
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
            KeyError::Protection("wrong key-encryption passphrase".into())
        }
        other => KeyError::Protection(format!("cannot decrypt the stored keys: {other}")),
    })?;
    String::from_utf8(plain)
        .map(SecretString::from)
        .map_err(|_| KeyError::Protection("the decrypted keys are not text".into()))
}

/// The environment variable holding the key-encryption passphrase.
///
/// Why an environment variable: the passphrase must reach every process that
/// opens or stores the agency's keys (`vigil keys …`, `vigil package …`,
/// `vigil serve`) without ever being written to the database, a command line
/// (visible in `ps`) or a request body.
pub const KEY_PASSPHRASE_ENV: &str = "VIGIL_KEY_PASSPHRASE";

/// The key-encryption passphrase from [`KEY_PASSPHRASE_ENV`], if set and
/// not empty.
pub fn key_passphrase_from_env() -> Option<SecretString> {
    std::env::var(KEY_PASSPHRASE_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(SecretString::from)
}

/// Freshly generated agency keys in the form the store keeps them: the
/// public bundle (JSON), its fingerprint, and the secret keys either
/// passphrase-encrypted ([`protect_secret`]) or, without a passphrase, as
/// clear JSON. `Debug` never shows the secret.
pub struct StoredKeys {
    pub fingerprint: Fingerprint,
    pub public_bundle: String,
    /// What goes into `agency_keys.secret`: armored age or clear JSON.
    pub stored_secret: SecretString,
    /// Whether `stored_secret` is passphrase-encrypted.
    pub protected: bool,
}

impl fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKeys")
            .field("fingerprint", &self.fingerprint)
            .field("protected", &self.protected)
            .field("stored_secret", &"[redacted]")
            .finish()
    }
}

/// Generates an agency's key pairs and prepares them for storage.
///
/// Why here: `vigil keys generate` and `POST /api/keys` must produce the
/// same thing (same protection at rest, same bundle), so the recipe lives
/// once, beside the cryptography; callers only hand the result to
/// `Store::store_agency_keys`, which authorises and audits.
pub fn generate_stored_keys(
    agency: &str,
    country: CountryCode,
    passphrase: Option<&SecretString>,
) -> Result<StoredKeys, KeyError> {
    let keys = AgencyKeys::generate(agency, country)?;
    let secret = keys.to_secret_json()?;
    let (stored_secret, protected) = match passphrase {
        Some(pass) => (
            SecretString::from(protect_secret(&secret, pass, None)?),
            true,
        ),
        None => (secret, false),
    };
    let bundle = keys.public_bundle();
    Ok(StoredKeys {
        fingerprint: bundle.fingerprint().clone(),
        public_bundle: bundle.to_json(),
        stored_secret,
        protected,
    })
}

fn parse_err(what: &'static str, detail: impl fmt::Display) -> KeyError {
    KeyError::Parse {
        what,
        detail: detail.to_string(),
    }
}

/// Why: the name goes into the fingerprint's canonical text (line-based) and
/// into signatures' trusted comments (one line), so control characters would
/// make two different bundles print alike.
fn check_agency(name: &str) -> Result<(), KeyError> {
    if name.trim().is_empty() || name.trim() != name {
        return Err(KeyError::AgencyName(
            "must be non-empty without leading/trailing spaces".into(),
        ));
    }
    if name.chars().count() > 200 {
        return Err(KeyError::AgencyName("longer than 200 characters".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(KeyError::AgencyName("contains control characters".into()));
    }
    Ok(())
}

/// Whole seconds, UTC: the one form whose RFC 3339 text is canonical.
fn canonical_time(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

// ---------------------------------------------------------------- fingerprint

/// Short, phone-readable identity of a [`PublicBundle`], e.g.
/// `K7QX-2M4P-...` (24 base32 characters = 120 bits of SHA-256).
///
/// Also the sender/recipient id in package manifests: receivers look up the
/// sender's bundle by it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    fn from_digest(d: &[u8]) -> Self {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut bits: u64 = 0;
        let mut nbits = 0;
        let mut chars = Vec::with_capacity(24);
        for &b in d.iter().take(15) {
            bits = (bits << 8) | u64::from(b);
            nbits += 8;
            while nbits >= 5 {
                nbits -= 5;
                chars.push(ALPHABET[((bits >> nbits) & 31) as usize]);
            }
        }
        let groups: Vec<String> = chars
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        Self(groups.join("-"))
    }

    /// Accepts the grouped form in any case, with or without dashes/spaces.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() != 24
            || !compact
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        {
            return Err(parse_err("fingerprint", "expected 24 base32 characters"));
        }
        let groups: Vec<&str> = (0..6).map(|i| &compact[i * 4..i * 4 + 4]).collect();
        Ok(Self(groups.join("-")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = KeyError;
    fn try_from(s: String) -> Result<Self, KeyError> {
        Self::parse(&s)
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.0
    }
}

impl FromStr for Fingerprint {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

// ---------------------------------------------------------------- public bundle

/// An agency's public keys, as exchanged between agencies (JSON).
///
/// Construct with [`AgencyKeys::public_bundle`] or [`PublicBundle::from_json`]
/// (which re-checks the keys and the fingerprint): every `PublicBundle` value
/// holds keys that parse and a fingerprint that matches its contents.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BundleWire")]
pub struct PublicBundle {
    format: String,
    agency: String,
    country: CountryCode,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    minisign_public_key: String,
    age_recipient: String,
    fingerprint: Fingerprint,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[doc(hidden)]
pub struct BundleWire {
    format: String,
    agency: String,
    country: CountryCode,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    minisign_public_key: String,
    age_recipient: String,
    fingerprint: Option<String>,
}

impl fmt::Debug for PublicBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicBundle")
            .field("agency", &self.agency)
            .field("country", &self.country)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl PublicBundle {
    fn build(
        agency: String,
        country: CountryCode,
        created: OffsetDateTime,
        minisign_public_key: String,
        age_recipient: String,
    ) -> Result<Self, KeyError> {
        check_agency(&agency)?;
        minisign::PublicKey::from_base64(&minisign_public_key)
            .map_err(|e| parse_err("minisign public key", e))?;
        age::x25519::Recipient::from_str(&age_recipient)
            .map_err(|e| parse_err("age X25519 recipient", e))?;
        let created = canonical_time(created);
        let canonical = format!(
            "{BUNDLE_FORMAT}\n{agency}\n{country}\n{}\n{minisign_public_key}\n{age_recipient}\n",
            rfc3339(created)
        );
        let fingerprint = Fingerprint::from_digest(&Sha256::digest(canonical.as_bytes()));
        Ok(Self {
            format: BUNDLE_FORMAT.into(),
            agency,
            country,
            created,
            minisign_public_key,
            age_recipient,
            fingerprint,
        })
    }

    /// Parses and checks a bundle. A stated fingerprint must match the
    /// recomputed one; a bundle without one is accepted and gets it computed
    /// (the officer must then compare it by phone).
    pub fn from_json(json: &str) -> Result<Self, KeyError> {
        let w: BundleWire =
            serde_json::from_str(json).map_err(|e| parse_err("public key bundle", e))?;
        Self::try_from(w)
    }

    /// Pretty JSON with the fingerprint included.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl TryFrom<BundleWire> for PublicBundle {
    type Error = KeyError;

    /// The same checks as [`PublicBundle::from_json`], so a bundle embedded
    /// in the store's own serde types is validated on the way in too.
    fn try_from(w: BundleWire) -> Result<Self, KeyError> {
        if w.format != BUNDLE_FORMAT {
            return Err(KeyError::Format(w.format));
        }
        let b = Self::build(
            w.agency,
            w.country,
            w.created,
            w.minisign_public_key.trim().to_string(),
            w.age_recipient.trim().to_string(),
        )?;
        if let Some(stated) = w.fingerprint {
            let ok = Fingerprint::parse(&stated).is_ok_and(|f| f == b.fingerprint);
            if !ok {
                return Err(KeyError::FingerprintMismatch {
                    stated,
                    computed: b.fingerprint.to_string(),
                });
            }
        }
        Ok(b)
    }
}

impl PublicBundle {
    pub fn agency(&self) -> &str {
        &self.agency
    }
    pub fn country(&self) -> CountryCode {
        self.country
    }
    pub fn created(&self) -> OffsetDateTime {
        self.created
    }
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }
    /// The minisign public key, base64 (`RW...`), as `minisign -P` takes it.
    pub fn minisign_public_key_base64(&self) -> &str {
        &self.minisign_public_key
    }
    /// A standard minisign public key file (`minisign -p FILE`).
    pub fn minisign_public_key_file(&self) -> String {
        self.minisign_public_key()
            .ok()
            .and_then(|pk| pk.to_box().ok())
            .map(|b| b.into_string())
            .unwrap_or_default()
    }
    /// The age recipient (`age1...`).
    pub fn age_recipient_str(&self) -> &str {
        &self.age_recipient
    }

    pub(crate) fn minisign_public_key(&self) -> Result<minisign::PublicKey, KeyError> {
        minisign::PublicKey::from_base64(&self.minisign_public_key)
            .map_err(|e| parse_err("minisign public key", e))
    }

    /// Checks a detached minisign signature of `data` made by this bundle's
    /// signing key and returns its (signed) trusted comment.
    pub fn verify_detached(&self, data: &[u8], signature: &str) -> Result<String, KeyError> {
        let pk = self.minisign_public_key()?;
        let sig_box = minisign::SignatureBox::from_string(signature)
            .map_err(|e| KeyError::Signature(format!("unreadable signature: {e}")))?;
        minisign::verify(
            &pk,
            &sig_box,
            std::io::Cursor::new(data),
            true,
            false,
            false,
        )
        .map_err(|e| KeyError::Signature(e.to_string()))?;
        sig_box
            .trusted_comment()
            .map_err(|e| KeyError::Signature(format!("no trusted comment: {e}")))
    }

    pub(crate) fn age_recipient(&self) -> Result<age::x25519::Recipient, KeyError> {
        age::x25519::Recipient::from_str(&self.age_recipient)
            .map_err(|e| parse_err("age X25519 recipient", e))
    }
}

// ---------------------------------------------------------------- secret keys

/// An agency's own secret keys. `Debug` shows only public facts.
pub struct AgencyKeys {
    signing: minisign::SecretKey,
    encryption: age::x25519::Identity,
    public: PublicBundle,
}

impl fmt::Debug for AgencyKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgencyKeys")
            .field("public", &self.public)
            .field("secrets", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretWire {
    format: String,
    agency: String,
    country: CountryCode,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    minisign_secret_key: String,
    age_identity: String,
}

impl AgencyKeys {
    /// New key pairs for `agency`, created now.
    pub fn generate(agency: &str, country: CountryCode) -> Result<Self, KeyError> {
        Self::generate_at(agency, country, OffsetDateTime::now_utc())
    }

    /// New key pairs with an explicit creation time (tests, imports).
    pub fn generate_at(
        agency: &str,
        country: CountryCode,
        created: OffsetDateTime,
    ) -> Result<Self, KeyError> {
        check_agency(agency)?;
        let kp = minisign::KeyPair::generate_unencrypted_keypair()
            .map_err(|e| KeyError::Generate(format!("minisign: {e}")))?;
        let encryption = age::x25519::Identity::generate();
        let public = PublicBundle::build(
            agency.to_string(),
            country,
            created,
            kp.pk.to_base64(),
            encryption.to_public().to_string(),
        )?;
        Ok(Self {
            signing: kp.sk,
            encryption,
            public,
        })
    }

    pub fn public_bundle(&self) -> &PublicBundle {
        &self.public
    }

    /// The age identity, to pass to [`crate::package::open`].
    pub fn identity(&self) -> &age::x25519::Identity {
        &self.encryption
    }

    pub(crate) fn signing_key(&self) -> &minisign::SecretKey {
        &self.signing
    }

    /// Everything needed to restore these keys, as JSON, for the integrator
    /// to store (encrypted at rest by the store, not here).
    pub fn to_secret_json(&self) -> Result<SecretString, KeyError> {
        let sk_box = self
            .signing
            .to_box(Some("vigil agency signing key"))
            .map_err(|e| KeyError::Generate(format!("minisign key box: {e}")))?;
        let wire = SecretWire {
            format: SECRET_FORMAT.into(),
            agency: self.public.agency.clone(),
            country: self.public.country,
            created: self.public.created,
            minisign_secret_key: sk_box.into_string(),
            age_identity: self.encryption.to_string().expose_secret().to_string(),
        };
        serde_json::to_string(&wire)
            .map(SecretString::from)
            .map_err(|e| KeyError::Generate(format!("serialise: {e}")))
    }

    /// Restores keys stored with [`to_secret_json`](Self::to_secret_json).
    /// Errors never echo the input.
    pub fn from_secret_json(json: &str) -> Result<Self, KeyError> {
        let w: SecretWire = serde_json::from_str(json).map_err(|e| {
            // serde_json messages can quote input; keep only the position.
            parse_err(
                "stored agency secret keys",
                format!("JSON error at line {} column {}", e.line(), e.column()),
            )
        })?;
        if w.format != SECRET_FORMAT {
            return Err(KeyError::Format(w.format));
        }
        let sk_box = minisign::SecretKeyBox::from_string(&w.minisign_secret_key)
            .map_err(|_| parse_err("minisign secret key", "unreadable key box"))?;
        let signing = minisign::SecretKey::from_unencrypted_box(sk_box)
            .map_err(|_| parse_err("minisign secret key", "unreadable or corrupted key"))?;
        let pk = minisign::PublicKey::from_secret_key(&signing)
            .map_err(|_| parse_err("minisign secret key", "cannot derive public key"))?;
        let encryption = age::x25519::Identity::from_str(w.age_identity.trim())
            .map_err(|_| parse_err("age identity", "not an AGE-SECRET-KEY-1 string"))?;
        let public = PublicBundle::build(
            w.agency,
            w.country,
            w.created,
            pk.to_base64(),
            encryption.to_public().to_string(),
        )?;
        Ok(Self {
            signing,
            encryption,
            public,
        })
    }

    /// The age identity in the standard identity-file format (as written by
    /// `age-keygen`), for escrow or for `age -d -i FILE`.
    pub fn age_identity_file(&self) -> SecretString {
        SecretString::from(format!(
            "# created: {}\n# agency: {} ({})\n# public key: {}\n{}\n",
            rfc3339(self.public.created),
            self.public.agency,
            self.public.country,
            self.public.age_recipient,
            self.encryption.to_string().expose_secret()
        ))
    }

    /// Signs `data` with the agency's signing key and returns a detached
    /// minisign signature file (`.minisig`), so anyone holding the public
    /// bundle can check it with `minisign -V` — used for audit checkpoints,
    /// which must be verifiable without Vigil.
    pub fn sign_detached(&self, data: &[u8], trusted_comment: &str) -> Result<String, KeyError> {
        let pk = self.public.minisign_public_key()?;
        let untrusted = format!(
            "vigil signature from {}",
            self.public.fingerprint().as_str()
        );
        minisign::sign(
            Some(&pk),
            &self.signing,
            std::io::Cursor::new(data),
            Some(trusted_comment),
            Some(&untrusted),
        )
        .map(|b| b.into_string())
        .map_err(|e| KeyError::Signature(e.to_string()))
    }

    /// The signing key as a standard (unencrypted) minisign secret key file.
    pub fn minisign_secret_key_file(&self) -> Result<SecretString, KeyError> {
        self.signing
            .to_box(Some("vigil agency signing key"))
            .map(|b| SecretString::from(b.into_string()))
            .map_err(|e| KeyError::Generate(format!("minisign key box: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AgencyKeys {
        AgencyKeys::generate_at(
            "Example National Police (test)",
            CountryCode::parse("GB").unwrap(),
            time::macros::datetime!(2026-11-29 10:00:00.123 UTC),
        )
        .unwrap()
    }

    #[test]
    fn bundle_round_trips_and_fingerprint_is_stable() {
        let k = keys();
        let b = k.public_bundle();
        let fp = b.fingerprint().to_string();
        assert_eq!(fp.len(), 29);
        assert_eq!(fp.matches('-').count(), 5);
        let json = b.to_json();
        let back = PublicBundle::from_json(&json).unwrap();
        assert_eq!(&back, b);
        assert_eq!(
            back.created(),
            time::macros::datetime!(2026-11-29 10:00:00 UTC)
        );
        assert!(
            Fingerprint::parse(&fp.to_lowercase().replace('-', "")).unwrap() == *b.fingerprint()
        );
    }

    #[test]
    fn serde_deserialize_validates_like_from_json() {
        let k = keys();
        let json = k.public_bundle().to_json();
        let b: PublicBundle = serde_json::from_str(&json).unwrap();
        assert_eq!(&b, k.public_bundle());
        let tampered = json.replace(
            "Example National Police (test)",
            "Example National Police (TEST)",
        );
        let err = serde_json::from_str::<PublicBundle>(&tampered).unwrap_err();
        assert!(err.to_string().contains("fingerprint mismatch"), "{err}");
    }

    #[test]
    fn altered_bundle_is_refused() {
        let k = keys();
        let mut v: serde_json::Value = serde_json::from_str(&k.public_bundle().to_json()).unwrap();
        v["agency"] = "Someone Else".into();
        let err = PublicBundle::from_json(&v.to_string()).unwrap_err();
        assert!(matches!(err, KeyError::FingerprintMismatch { .. }), "{err}");
        // Swapping in another agency's encryption key is also caught.
        let other = keys();
        let mut v: serde_json::Value = serde_json::from_str(&k.public_bundle().to_json()).unwrap();
        v["age_recipient"] = other.public_bundle().age_recipient_str().into();
        assert!(matches!(
            PublicBundle::from_json(&v.to_string()),
            Err(KeyError::FingerprintMismatch { .. })
        ));
        // Garbage keys are refused even without a fingerprint.
        v["age_recipient"] = "age1notakey".into();
        v.as_object_mut().unwrap().remove("fingerprint");
        assert!(matches!(
            PublicBundle::from_json(&v.to_string()),
            Err(KeyError::Parse { .. })
        ));
    }

    #[test]
    fn secrets_round_trip_and_never_show_in_debug() {
        let k = keys();
        let stored = k.to_secret_json().unwrap();
        let back = AgencyKeys::from_secret_json(stored.expose_secret()).unwrap();
        assert_eq!(back.public_bundle(), k.public_bundle());
        let age_secret = k.identity().to_string().expose_secret().to_string();
        assert!(stored.expose_secret().contains(&age_secret));
        for dbg in [
            format!("{k:?}"),
            format!("{stored:?}"),
            format!("{:?}", k.age_identity_file()),
        ] {
            assert!(!dbg.contains(&age_secret), "{dbg}");
            assert!(!dbg.contains("AGE-SECRET-KEY"), "{dbg}");
        }
        let id_file = k.age_identity_file();
        assert!(id_file.expose_secret().contains("# public key: age1"));
        assert!(id_file.expose_secret().lines().any(|l| l == age_secret));
        let err = AgencyKeys::from_secret_json("{\"format\": \"AGE-SECRET-KEY-1XYZ\"").unwrap_err();
        assert!(!err.to_string().contains("AGE-SECRET"), "{err}");
    }

    #[test]
    fn agency_names_are_checked() {
        let gb = CountryCode::parse("GB").unwrap();
        assert!(AgencyKeys::generate("", gb).is_err());
        assert!(AgencyKeys::generate("Line\nBreak", gb).is_err());
        assert!(AgencyKeys::generate(" padded", gb).is_err());
    }

    #[test]
    fn stored_keys_without_a_passphrase_are_clear_and_consistent() {
        let ca = CountryCode::parse("CA").unwrap();
        let k = generate_stored_keys("Example Police", ca, None).unwrap();
        assert!(!k.protected);
        assert!(!is_protected(k.stored_secret.expose_secret()));
        let bundle = PublicBundle::from_json(&k.public_bundle).unwrap();
        assert_eq!(bundle.fingerprint(), &k.fingerprint);
        assert_eq!(bundle.agency(), "Example Police");
        let back = AgencyKeys::from_secret_json(k.stored_secret.expose_secret()).unwrap();
        assert_eq!(back.public_bundle().fingerprint(), &k.fingerprint);
        assert!(!format!("{k:?}").contains("AGE-SECRET-KEY"));
        assert!(generate_stored_keys("", ca, None).is_err());
    }

    #[test]
    fn secrets_protected_with_a_passphrase_round_trip() {
        let k = AgencyKeys::generate("Example Police", CountryCode::parse("CA").unwrap()).unwrap();
        let clear = k.to_secret_json().unwrap();
        let pass = SecretString::from("correct horse battery staple".to_string());
        let stored = protect_secret(&clear, &pass, Some(10)).unwrap();
        assert!(is_protected(&stored));
        assert!(!stored.contains("AGE-SECRET-KEY") && !stored.contains("vigil agency"));
        let back = unprotect_secret(&stored, Some(&pass)).unwrap();
        assert_eq!(back.expose_secret(), clear.expose_secret());
        let wrong = SecretString::from("wrong".to_string());
        let err = unprotect_secret(&stored, Some(&wrong)).unwrap_err();
        assert!(
            err.to_string().contains("wrong key-encryption passphrase"),
            "{err}"
        );
        assert!(unprotect_secret(&stored, None).is_err());
        // Clear JSON (keys stored before protection) still opens.
        let plain = unprotect_secret(clear.expose_secret(), None).unwrap();
        assert_eq!(plain.expose_secret(), clear.expose_secret());
    }
}
