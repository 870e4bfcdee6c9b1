//! Packages end to end: choosing the recipient, unlocking the agency's
//! keys, sealing what [`Store::build_leads`] and friends selected, keeping
//! the sealed bytes, and opening what arrives before it is imported.
//!
//! This used to live in the CLI; the REST API needs exactly the same steps,
//! so both now call these methods and the sequence (and its refusals) exist
//! once. The cryptography itself stays in `vigil-share`; `share.rs` still
//! decides which records leave and what an import changes.
//!
//! The sealed bytes of every package built here are kept
//! (`package_files`, hex text so the backup dump stays text): the API hands
//! them out after the build (`GET /api/packages/{id}/file`), and a lost file
//! can be fetched again. They are ciphertext of hashes and records — never
//! media.

use sqlx::Row;
use vigil_domain::{Capability, Decision, Principal, ValidationError};
use vigil_share::secrecy::{ExposeSecret, SecretString};
use vigil_share::{AgencyKeys, GeoSet, IdentifierInput, ManifestFields, PackageKind, PublicBundle};

use crate::records::Tx;
use crate::{
    AckPayload, Agency, AttributionNote, BuiltPackage, ImportSummary, KeyUse, LeadsPayload,
    OutcomesPayload, PackageRecord, PersonFacts, ReceivedPackage, Store, StoreError, now_text,
};

// The passphrase's environment variable is vigil-share's, where the keys
// are; re-exported so the CLI and the server name one constant.
pub use vigil_share::{KEY_PASSPHRASE_ENV, key_passphrase_from_env};

/// How to unlock the agency's stored secret keys.
#[derive(Clone, Copy)]
pub struct KeyUnlock<'a> {
    pub passphrase: Option<&'a SecretString>,
    /// Called when the stored keys are not passphrase-protected (the CLI
    /// warns once per process).
    pub on_clear: &'a (dyn Fn() + Sync),
}

impl std::fmt::Debug for KeyUnlock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyUnlock")
            .field("passphrase", &self.passphrase.map(|_| "[redacted]"))
            .finish()
    }
}

fn invalid(field: &'static str, value: &str, msg: impl Into<String>) -> StoreError {
    ValidationError::new(field, value, msg.into()).into()
}

/// Opens stored secret keys: passphrase-protected ones with the passphrase,
/// clear ones as they are (calling `on_clear`).
pub fn open_agency_keys(stored: &str, unlock: KeyUnlock<'_>) -> Result<AgencyKeys, StoreError> {
    if !vigil_share::is_protected(stored) {
        (unlock.on_clear)();
    }
    let json = vigil_share::unprotect_secret(stored, unlock.passphrase).map_err(|e| {
        invalid(
            "key passphrase",
            KEY_PASSPHRASE_ENV,
            format!("{e} ({KEY_PASSPHRASE_ENV} holds the key-encryption passphrase)"),
        )
    })?;
    AgencyKeys::from_secret_json(json.expose_secret())
        .map_err(|e| StoreError::Config(format!("stored agency keys are unreadable: {e}")))
}

/// A person's record as `vigil-share` attributes it.
pub fn person_input(facts: &PersonFacts) -> vigil_share::PersonInput<'_> {
    vigil_share::PersonInput {
        person_id: facts.person.id,
        country: facts.person.country.as_deref(),
        identifiers: facts
            .identifiers
            .iter()
            .map(|i| IdentifierInput {
                kind: i.kind.as_str(),
                raw: &i.raw,
                normalized: &i.normalized,
                first_seen: i.first_seen.as_deref(),
            })
            .collect(),
    }
}

/// The country a person is attributed to, and why (what a leads package
/// records about each person it carries).
pub fn attribution_note(geo: &GeoSet, facts: &PersonFacts) -> AttributionNote {
    let a = vigil_share::attribute(vigil_share::person_signals(geo, &person_input(facts)));
    AttributionNote {
        country: a.top.map(|c| c.as_str().to_string()),
        why: a.why,
    }
}

/// Whom a package goes to.
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    /// An agency by name or id.
    Agency(&'a str),
    /// The one partner agency registered for this country.
    Country(&'a str),
}

/// What opening and importing a package did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum OpenedPackage {
    /// A leads or outcomes package: what it added.
    Imported(ImportSummary),
    /// An acknowledgement: our package it acknowledged.
    Acknowledged(PackageRecord),
}

/// The sealed bytes of a package built here.
#[derive(Debug, Clone)]
pub struct PackageFile {
    pub record: PackageRecord,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Store {
    /// An agency by name or id, among those the caller may list.
    pub async fn find_agency(&self, p: &Principal, name_or_id: &str) -> Result<Agency, StoreError> {
        let agencies = self.list_agencies(p).await?;
        let want = name_or_id.trim();
        let id = want.parse::<i64>().ok();
        agencies
            .into_iter()
            .find(|a| Some(a.id) == id || a.name == want)
            .ok_or_else(|| StoreError::not_found("agency", want))
    }

    /// The agency a package goes to: named, or the one partner registered
    /// for a country (several for one country: the caller must name one).
    pub async fn package_recipient(
        &self,
        p: &Principal,
        to: Recipient<'_>,
    ) -> Result<Agency, StoreError> {
        match to {
            Recipient::Agency(name) => self.find_agency(p, name).await,
            Recipient::Country(cc) => {
                let cc = cc.trim().to_ascii_uppercase();
                let mut ids: Vec<i64> = self
                    .partner_keys(p)
                    .await?
                    .into_iter()
                    .filter(|k| k.country == cc)
                    .map(|k| k.agency_id)
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                match ids.as_slice() {
                    [id] => self.find_agency(p, &id.to_string()).await,
                    [] => Err(StoreError::not_found("partner agency for country", cc)),
                    _ => Err(invalid(
                        "country",
                        &cc,
                        "several agencies are registered for this country: name the agency",
                    )),
                }
            }
        }
    }

    /// The most recent registered bundle of a partner agency.
    async fn partner_bundle(
        &self,
        p: &Principal,
        agency_id: i64,
    ) -> Result<PublicBundle, StoreError> {
        let key = self
            .partner_keys(p)
            .await?
            .into_iter()
            .rev()
            .find(|k| k.agency_id == agency_id)
            .ok_or_else(|| {
                invalid(
                    "to",
                    &agency_id.to_string(),
                    "no key registered for that agency: import its public bundle first",
                )
            })?;
        PublicBundle::from_json(&key.public_bundle)
            .map_err(|e| StoreError::Config(format!("stored partner key is unreadable: {e}")))
    }

    async fn own_keys(
        &self,
        p: &Principal,
        usage: KeyUse,
        unlock: KeyUnlock<'_>,
    ) -> Result<AgencyKeys, StoreError> {
        let secret = self.agency_secret(p, usage).await?;
        open_agency_keys(&secret.secret_json, unlock)
    }

    /// Builds, seals and keeps a `leads` package of `operation` for the
    /// recipient, attributing persons with `geo`. The package is `built`;
    /// it becomes `sent` when its bytes are handed out
    /// ([`Store::mark_package_sent`], [`Store::package_file`]).
    pub async fn seal_leads(
        &self,
        p: &Principal,
        operation: &str,
        to: Recipient<'_>,
        geo: &GeoSet,
        unlock: KeyUnlock<'_>,
    ) -> Result<BuiltPackage, StoreError> {
        self.require(p, Capability::Packages, "package.build")
            .await?;
        let agency = self.package_recipient(p, to).await?;
        let recipient = self.partner_bundle(p, agency.id).await?;
        let keys = self.own_keys(p, KeyUse::Seal, unlock).await?;
        let fields = ManifestFields::new(PackageKind::Leads);
        let uid = fields.package_id.to_string();
        let built = self
            .build_leads(
                p,
                operation,
                agency.id,
                &uid,
                |f| attribution_note(geo, f),
                |json| vigil_share::seal(json, &fields, &keys, &recipient),
            )
            .await?;
        self.keep_package_file(p, &built).await?;
        Ok(built)
    }

    /// Builds, seals and keeps an `outcomes` package for the agency `to`
    /// (name or id): the outcomes recorded on persons it sent us.
    pub async fn seal_outcomes(
        &self,
        p: &Principal,
        to: &str,
        unlock: KeyUnlock<'_>,
    ) -> Result<BuiltPackage, StoreError> {
        self.require(p, Capability::Packages, "package.build")
            .await?;
        let agency = self.find_agency(p, to).await?;
        let recipient = self.partner_bundle(p, agency.id).await?;
        let keys = self.own_keys(p, KeyUse::Seal, unlock).await?;
        let fields = ManifestFields::new(PackageKind::Outcomes);
        let uid = fields.package_id.to_string();
        let built = self
            .build_outcomes(p, agency.id, &uid, |json| {
                vigil_share::seal(json, &fields, &keys, &recipient)
            })
            .await?;
        self.keep_package_file(p, &built).await?;
        Ok(built)
    }

    /// Builds, seals and keeps an `ack` of the package `acked` (its UUID),
    /// which was imported here, for its sender.
    pub async fn seal_ack(
        &self,
        p: &Principal,
        acked: &str,
        unlock: KeyUnlock<'_>,
    ) -> Result<BuiltPackage, StoreError> {
        self.require(p, Capability::Packages, "package.build")
            .await?;
        let acked = acked.trim();
        let received = self
            .list_packages(p)
            .await?
            .into_iter()
            .find(|r| r.package_uid == acked && r.direction == "received")
            .ok_or_else(|| StoreError::not_found("received package", acked))?;
        let recipient = self.partner_bundle(p, received.peer_agency_id).await?;
        let keys = self.own_keys(p, KeyUse::Seal, unlock).await?;
        let mut fields = ManifestFields::new(PackageKind::Ack);
        fields.in_reply_to = Some(
            uuid::Uuid::parse_str(acked)
                .map_err(|e| invalid("package", acked, format!("not a package id: {e}")))?,
        );
        let uid = fields.package_id.to_string();
        let built = self
            .build_ack(p, acked, &uid, |json| {
                vigil_share::seal(json, &fields, &keys, &recipient)
            })
            .await?;
        self.keep_package_file(p, &built).await?;
        Ok(built)
    }

    /// Verifies, decrypts and imports a package (`label` names it in
    /// errors: a file name). Refusals — bad signature, unknown sender, not
    /// addressed to us, malformed content — change nothing. With
    /// `will_ack` (the caller will acknowledge it), an acknowledgement is
    /// refused before anything changes: acks are not acknowledged.
    pub async fn open_package(
        &self,
        p: &Principal,
        label: &str,
        bytes: &[u8],
        will_ack: bool,
        unlock: KeyUnlock<'_>,
    ) -> Result<OpenedPackage, StoreError> {
        self.require(p, Capability::Packages, "package.import")
            .await?;
        let keys = self.own_keys(p, KeyUse::Open, unlock).await?;
        let partners: Vec<PublicBundle> = self
            .partner_keys(p)
            .await?
            .iter()
            .filter_map(|k| PublicBundle::from_json(&k.public_bundle).ok())
            .collect();
        let opened = vigil_share::open(bytes, keys.identity(), keys.public_bundle(), |fp| {
            partners.iter().find(|b| b.fingerprint() == fp).cloned()
        })
        .map_err(|e| invalid("package", label, format!("refused: {e}")))?;
        let pkg = ReceivedPackage {
            package_uid: opened.manifest.package_id.to_string(),
            sender_fingerprint: opened.sender.fingerprint().as_str().to_string(),
            in_reply_to: opened.manifest.in_reply_to.map(|u| u.to_string()),
        };
        if will_ack && opened.manifest.kind == PackageKind::Ack {
            return Err(invalid(
                "ack",
                label,
                "an acknowledgement is not itself acknowledged",
            ));
        }
        let malformed = |e: serde_json::Error| {
            invalid("package", label, format!("refused: malformed content: {e}"))
        };
        Ok(match opened.manifest.kind {
            PackageKind::Leads => {
                let content: LeadsPayload =
                    serde_json::from_slice(&opened.payload).map_err(malformed)?;
                OpenedPackage::Imported(self.import_leads(p, &pkg, &content).await?)
            }
            PackageKind::Outcomes => {
                let content: OutcomesPayload =
                    serde_json::from_slice(&opened.payload).map_err(malformed)?;
                OpenedPackage::Imported(self.import_outcomes(p, &pkg, &content).await?)
            }
            PackageKind::Ack => {
                let content: AckPayload =
                    serde_json::from_slice(&opened.payload).map_err(malformed)?;
                OpenedPackage::Acknowledged(self.import_ack(p, &pkg, &content).await?)
            }
        })
    }

    /// Keeps the sealed bytes of a package built here (audited).
    async fn keep_package_file(
        &self,
        p: &Principal,
        built: &BuiltPackage,
    ) -> Result<(), StoreError> {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(&built.bytes));
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO package_files (package_id, sha256, size, bytes_hex, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(built.record.id)
        .bind(sha.clone())
        .bind(i64::try_from(built.bytes.len()).unwrap_or(i64::MAX))
        .bind(hex::encode(&built.bytes))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        self.log(
            &mut tx,
            p,
            "package.file.keep",
            format!("package:{}", built.record.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": built.record.package_uid, "sha256": sha,
                "size": built.bytes.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sealed bytes of a package built here, by id or UUID; handing them
    /// out is what sends the package, so it is marked `sent` (a later state
    /// stays). Packages received here have no file (404).
    pub async fn package_file(
        &self,
        p: &Principal,
        package: &str,
    ) -> Result<PackageFile, StoreError> {
        self.require(p, Capability::Packages, "package.file")
            .await?;
        let want = package.trim();
        let id = want.parse::<i64>().ok();
        // Packages are the local agency's: to a partner agency's user on
        // this instance they do not exist.
        {
            let mut tx: Tx = self.begin_write().await?;
            let local = self.is_local_agency(&mut tx, p.agency_id).await?;
            tx.commit().await?;
            if !local {
                return Err(StoreError::not_found("sent package", want));
            }
        }
        let record = self
            .list_packages(p)
            .await?
            .into_iter()
            .find(|r| (Some(r.id) == id || r.package_uid == want) && r.direction == "sent")
            .ok_or_else(|| StoreError::not_found("sent package", want))?;
        let mut tx: Tx = self.begin_write().await?;
        let row = sqlx::query("SELECT sha256, bytes_hex FROM package_files WHERE package_id = $1")
            .bind(record.id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("package file", want))?;
        let sha: String = row.try_get("sha256")?;
        let text: String = row.try_get("bytes_hex")?;
        let bytes = hex::decode(text.as_bytes())
            .map_err(|e| StoreError::Config(format!("stored package file is corrupt: {e}")))?;
        self.log(
            &mut tx,
            p,
            "package.file.read",
            format!("package:{}", record.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": record.package_uid, "sha256": sha}),
        )
        .await?;
        tx.commit().await?;
        let record = self.mark_package_sent(p, &record.package_uid).await?;
        Ok(PackageFile {
            record,
            bytes,
            sha256: sha,
        })
    }
}
