//! # vigil-share — attribution, agency keys and lead packages
//!
//! Separate agencies run separate Vigil instances and talk through
//! *packages*: every country receives a signed, encrypted package with the
//! leads on its residents, and reports outcomes back the same way. This crate
//! is the pure library underneath that exchange. It owns:
//!
//! * [`geo`] — offline IP → country: a [`geo::GeoLookup`] trait, the built-in
//!   [`geo::EmbeddedGeo`] table (Debian `tor-geoipdb` / IPFire Location data,
//!   CC BY-SA 4.0, compiled in from `data/tor-geoip.vgeo`; see `data/NOTICE`
//!   and `scripts/regen-geoip.sh`) and [`geo::MmdbGeo`] for an agency's own
//!   `.mmdb`. Every hit names its database and build date.
//! * [`signals`] — small pure functions that turn an IP, phone number, e-mail
//!   or URL into a [`signals::Signal`] (countries + strength + reason), and
//!   [`signals::attribute`], which ranks countries and lists conflicts
//!   instead of hiding them.
//! * [`keys`] — an agency's minisign signing key and age X25519 encryption key
//!   ([`keys::AgencyKeys`]), the exchanged [`keys::PublicBundle`] and its
//!   phone-comparable [`keys::Fingerprint`].
//! * [`package`] — [`package::seal`] and [`package::open`]: the envelope.
//!
//! ## Package format (`vigil-package/1`)
//!
//! A POSIX ustar archive holding, in this order, `manifest.json` (cleartext:
//! package id, kind `leads|outcomes|ack`, optional `in_reply_to`, sender and
//! recipient agency + country + key fingerprint, created, SHA-256 and size of
//! the ciphertext), `manifest.json.minisig` (the sender's minisign signature
//! of the manifest) and `payload.age` (age X25519 encryption, binary, to the
//! recipient). The age plaintext is itself a ustar archive of `payload` (the
//! opaque bytes) and `payload.minisig` (the sender's signature of them).
//! Both signatures' trusted comments bind package id, part, kind, sender and
//! recipient. So: tampering is caught before decryption (outer signature +
//! hash), and after decryption the content is still bound to its sender
//! (sign-then-encrypt). Standard tools open it: `tar -x`, `minisign -V`,
//! `age -d`. The full description is in the crate README.
//!
//! ## Example
//!
//! ```
//! use vigil_share::{AgencyKeys, CountryCode, ManifestFields, PackageKind, PublicBundle};
//!
//! let ca = AgencyKeys::generate("Example Police (CA)", CountryCode::parse("CA")?)?;
//! let gb = AgencyKeys::generate("Example Agency (GB)", CountryCode::parse("GB")?)?;
//! // Bundles travel as JSON; officers compare `fingerprint()` by phone.
//! let ca_for_gb = PublicBundle::from_json(&ca.public_bundle().to_json())?;
//!
//! let fields = ManifestFields::new(PackageKind::Leads);
//! let pkg = vigil_share::seal(br#"{"leads":[]}"#, &fields, &ca, gb.public_bundle())?;
//!
//! let opened = vigil_share::open(&pkg, gb.identity(), gb.public_bundle(), |fp| {
//!     (fp == ca_for_gb.fingerprint()).then(|| ca_for_gb.clone())
//! })?;
//! assert_eq!(opened.manifest.package_id, fields.package_id);
//! assert_eq!(opened.payload, br#"{"leads":[]}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Invariants
//!
//! * No network access, ever: geolocation is offline; keys and packages are
//!   bytes in, bytes out. No clock except where documented (`generate`,
//!   `ManifestFields::new`).
//! * Secrets never appear in `Debug` output, logs or error messages; secret
//!   material leaves this crate only as `age::secrecy::SecretString`.
//! * Nothing from outside (packages, bundles, databases) can cause a panic;
//!   every refusal is a typed error naming its cause.
//! * Payloads are opaque bytes; this crate never looks inside them and never
//!   handles media content. [`package::contains_window`] helps tests prove it.
//!
//! Country codes are [`country::CountryCode`] (format-checked two letters)
//! until `vigil_domain` provides ISO 3166-1 validation.

pub mod country;
pub mod geo;
pub mod keys;
pub mod package;
pub mod person;
pub mod signals;
mod ustar;

pub use age::secrecy;
pub use country::{CountryCode, CountryCodeError};
pub use geo::{EmbeddedGeo, GeoError, GeoHit, GeoLookup, GeoSource, MmdbGeo};
pub use keys::{
    AgencyKeys, Fingerprint, KEY_PASSPHRASE_ENV, KeyError, PublicBundle, StoredKeys,
    generate_stored_keys, is_protected, key_passphrase_from_env, protect_secret, unprotect_secret,
};
pub use package::{
    Manifest, ManifestFields, OpenError, Opened, PackageKind, Party, SealError, contains_window,
    open, open_with_any, peek_manifest, seal,
};
pub use person::{
    GeoDatabase, GeoSet, IdentifierInput, PersonInput, attribute_person, person_signals,
};
pub use signals::{
    Attribution, Signal, SignalKind, Strength, attribute, email_signal, ip_signal, ip_signal_at,
    phone_signal, url_signal,
};
