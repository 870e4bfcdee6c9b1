//! Dissemination records: agency keys, partner keys, lead and outcome
//! packages, and the outcome counts.
//!
//! This module knows no cryptography: it keeps key material as the JSON
//! text `vigil-share` produces and hands package bytes to a caller-supplied
//! `seal` closure; `sealing.rs` joins it to `vigil-share` (recipient, keys,
//! seal, open) once for the CLI and the API. What
//! the store owns is *which records leave* (decided by
//! [`vigil_domain::access::can_read`] for a principal standing for the
//! recipient agency — the release rules live in one place) and *what an
//! import changes* (everything in one transaction, or nothing).
//!
//! A `leads` package carries, per released person, the identifiers and
//! events, and in its `sections` the chat excerpts that concern the person
//! ([`ChatExcerpt`]: the messages they said and the lines their released
//! identifiers were extracted from) and the hash matches on their seized
//! devices ([`HashMatchLead`]: hashes, set and category; never media or file
//! paths). Imported records keep "received from agency X, package P" in the
//! `received_from_agency` / `received_package` columns (migration 0009).
//!
//! Package states of a sent package move forward only: `built` (recorded
//! when sealed) → `sent` (written out, [`Store::mark_package_sent`]) →
//! `acknowledged` (the recipient's signed `ack` package imported,
//! [`Store::import_ack`]) → `outcomes-received`; each step's time is kept.
//!
//! **Secret keys at rest**: `agency_keys.secret` is opaque text to the
//! store. The CLI stores it encrypted with the key-encryption passphrase in
//! `VIGIL_KEY_PASSPHRASE` (age scrypt recipient, ASCII armor — see
//! `vigil_share::protect_secret`); without the variable it stores clear JSON
//! and warns, and then the database and its backups must be protected like
//! the keys themselves.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use vigil_domain::access::{self, RecordScope};
use vigil_domain::records::parse_date;
use vigil_domain::{
    Capability, Decision, EventKind, IdentifierKind, NewIdentifier, PersonRole, Principal, Release,
    Role, ValidationError, country::parse_country,
};

use crate::records::Tx;
use crate::{Event, Identifier, Person, Store, StoreError, now_text};

/// Version of the package content schema ([`LeadsPayload`],
/// [`OutcomesPayload`]); receivers refuse any other.
pub const CONTENT_VERSION: u32 = 1;

/// Section of a `leads` package holding [`ChatExcerpt`]s.
pub const SECTION_CHAT: &str = "chat_excerpts";
/// Section of a `leads` package holding [`HashMatchLead`]s.
pub const SECTION_HASHES: &str = "hash_matches";

/// Names of the `sections` a receiver understands. A later record family
/// adds its section name here and its handling in [`Store::import_leads`];
/// a package carrying a section this build does not know is refused rather
/// than silently half-imported.
pub const KNOWN_SECTIONS: &[&str] = &[SECTION_CHAT, SECTION_HASHES];

// ----- content schema ------------------------------------------------------

/// Where a record came from at the sending agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub agency: String,
    pub officer: String,
    pub created_at: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadIdentifier {
    pub uid: String,
    pub kind: String,
    pub raw: String,
    pub network: Option<String>,
    pub port: Option<u16>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadEvent {
    pub uid: String,
    pub kind: String,
    pub date: String,
    /// Jurisdiction.
    pub country: String,
    pub details: Option<String>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadPerson {
    /// The sender's uid, kept by the receiver so outcomes can find it again.
    pub uid: String,
    pub role: String,
    pub label: String,
    /// Country the sender entered for the person, if any.
    pub country: Option<String>,
    /// Country the sender attributed the person to, and why.
    pub attributed_country: Option<String>,
    pub attribution: Option<String>,
    pub provenance: Provenance,
    pub identifiers: Vec<LeadIdentifier>,
    pub events: Vec<LeadEvent>,
}

/// A chat message that concerns a released person: said by one of their
/// handles (`reason = "said"`), or the line one of their released
/// identifiers was extracted from (`reason = "identifier"`). Minimised to
/// room, time, line number, handle and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatExcerpt {
    /// The sender's stable key of the message (the chat parser's event key):
    /// the same message in a later package is recognised as already held.
    pub key: String,
    pub person_uid: String,
    pub reason: String,
    /// For `reason = "identifier"`: the identifier (also in the package).
    pub identifier_uid: Option<String>,
    pub room: String,
    pub network: Option<String>,
    pub time: Option<String>,
    /// Line number in the original log.
    pub line: Option<u64>,
    pub handle: String,
    /// Message kind as the parser named it (`message`, `action`, …).
    pub kind: String,
    pub text: String,
    pub provenance: Provenance,
}

/// A hash-set match on a file of a released person's device: the file's
/// hashes, the set and the category. Never media, never the file's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashMatchLead {
    /// The sender's stable key of the match (scan, file, set entry).
    pub key: String,
    pub person_uid: String,
    /// Label of the seized device.
    pub device: String,
    /// `md5`, `sha1`, `sha256` (exact) or `pdq` (near-duplicate).
    pub kind: String,
    pub distance: u32,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub pdq: Option<String>,
    /// Name of the hash set the file matched.
    pub hash_set: String,
    /// Normalised category (`csam-a`, `uncategorized`, …).
    pub category: String,
    pub series: Option<String>,
    pub matched_at: String,
    pub provenance: Provenance,
}

/// The decrypted content of an `ack` package: the recipient of a package
/// confirms it verified and imported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckPayload {
    pub version: u32,
    pub kind: String,
    pub sender_agency: String,
    pub recipient_agency: String,
    pub created: String,
    /// The package acknowledged (one the ack's recipient sent).
    pub acknowledges: String,
    /// When the acknowledged package was imported.
    pub imported_at: String,
    /// What the import stored (counts), for the sender's records.
    pub summary: serde_json::Value,
}

/// The decrypted content of a `leads` package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadsPayload {
    pub version: u32,
    pub kind: String,
    pub operation: String,
    pub sender_agency: String,
    pub sender_country: String,
    pub recipient_agency: String,
    pub recipient_country: String,
    pub created: String,
    pub persons: Vec<LeadPerson>,
    /// Extension point for other record families (see [`KNOWN_SECTIONS`]).
    pub sections: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRecord {
    /// The uid of the person at the agency the outcome goes back to.
    pub person_uid: String,
    pub event: LeadEvent,
}

/// The decrypted content of an `outcomes` package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomesPayload {
    pub version: u32,
    pub kind: String,
    pub sender_agency: String,
    pub recipient_agency: String,
    pub created: String,
    /// The lead packages whose persons these outcomes are about.
    pub in_reply_to: Vec<String>,
    pub outcomes: Vec<OutcomeRecord>,
    pub sections: BTreeMap<String, serde_json::Value>,
}

// ----- records returned ----------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct LocalKey {
    pub fingerprint: String,
    pub active: bool,
    pub created_at: String,
    pub public_bundle: String,
}

/// The local agency's secret key material, as `vigil-share` JSON.
pub struct LocalSecret {
    pub fingerprint: String,
    pub secret_json: String,
}

impl std::fmt::Debug for LocalSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSecret")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PartnerKey {
    pub agency_id: i64,
    pub agency: String,
    pub country: String,
    pub fingerprint: String,
    pub imported_at: String,
    pub public_bundle: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyList {
    pub local: Vec<LocalKey>,
    pub partners: Vec<PartnerKey>,
}

/// Why a key is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Sign and encrypt a package (liaison officers).
    Seal,
    /// Verify and decrypt a package (liaison officers).
    Open,
    /// Export the age identity for escrow (administrators only).
    ExportIdentity,
}

/// A person with what attribution needs to see.
#[derive(Debug, Clone, Serialize)]
pub struct PersonFacts {
    pub person: Person,
    pub case_title: String,
    pub identifiers: Vec<Identifier>,
}

/// What the caller's attribution says about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionNote {
    pub country: Option<String>,
    pub why: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageRecord {
    pub id: i64,
    pub package_uid: String,
    pub kind: String,
    /// `sent` or `received`.
    pub direction: String,
    pub peer_agency_id: i64,
    pub peer_agency: String,
    pub peer_country: String,
    pub operation: Option<String>,
    pub in_reply_to: Option<String>,
    pub case_id: Option<i64>,
    /// Sent packages: `built` → `sent` → `acknowledged` →
    /// `outcomes-received` (never backwards). Received ones: `imported`.
    pub state: String,
    pub summary: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    /// When the package was written out for the recipient.
    pub sent_at: Option<String>,
    /// When the recipient's acknowledgement was imported.
    pub acknowledged_at: Option<String>,
    /// When the first outcomes answering it were imported.
    pub outcomes_received_at: Option<String>,
}

impl PackageRecord {
    const SELECT: &'static str = "SELECT k.id, k.package_uid, k.kind, k.direction, \
        k.peer_agency_id, a.name AS peer_agency, a.country AS peer_country, k.operation, \
        k.in_reply_to, k.case_id, k.state, k.summary, k.created_at, k.updated_at, \
        k.sent_at, k.acknowledged_at, k.outcomes_received_at \
        FROM packages k JOIN agencies a ON a.id = k.peer_agency_id";

    fn from_row(r: &sqlx::any::AnyRow) -> Result<Self, StoreError> {
        let summary: String = r.try_get("summary")?;
        Ok(PackageRecord {
            id: r.try_get("id")?,
            package_uid: r.try_get("package_uid")?,
            kind: r.try_get("kind")?,
            direction: r.try_get("direction")?,
            peer_agency_id: r.try_get("peer_agency_id")?,
            peer_agency: r.try_get("peer_agency")?,
            peer_country: r.try_get("peer_country")?,
            operation: r.try_get("operation")?,
            in_reply_to: r.try_get("in_reply_to")?,
            case_id: r.try_get("case_id")?,
            state: r.try_get("state")?,
            summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            sent_at: r.try_get("sent_at")?,
            acknowledged_at: r.try_get("acknowledged_at")?,
            outcomes_received_at: r.try_get("outcomes_received_at")?,
        })
    }
}

/// The result of building a package: what went in and the sealed bytes.
#[derive(Debug, Clone)]
pub struct BuiltPackage {
    pub record: PackageRecord,
    pub bytes: Vec<u8>,
}

/// Facts about a verified, decrypted package, supplied by the caller that
/// opened it.
#[derive(Debug, Clone)]
pub struct ReceivedPackage {
    pub package_uid: String,
    /// The fingerprint the package was signed with (a registered partner key).
    pub sender_fingerprint: String,
    pub in_reply_to: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub package: PackageRecord,
    pub persons_added: usize,
    pub persons_already_held: usize,
    pub identifiers_added: usize,
    pub identifiers_already_held: usize,
    pub events_added: usize,
    pub events_already_held: usize,
    pub chat_excerpts_added: usize,
    pub chat_excerpts_already_held: usize,
    pub hash_matches_added: usize,
    pub hash_matches_already_held: usize,
    /// De-confliction: imported identifiers already held in other cases.
    pub known_elsewhere: Vec<KnownElsewhere>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KnownElsewhere {
    pub kind: String,
    pub value: String,
    pub case_id: i64,
    pub agency: String,
}

/// Outcome counts of one country, or the total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub suspects_identified: u64,
    pub arrested: u64,
    pub charged: u64,
    pub convicted: u64,
    /// Charged, with no conviction or acquittal recorded yet.
    pub pending: u64,
    pub deceased: u64,
    pub children_safeguarded: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OperationOutcomes {
    pub operation: String,
    pub by_country: BTreeMap<String, OutcomeCounts>,
    pub total: OutcomeCounts,
}

// ----- helpers ---------------------------------------------------------------

fn invalid(field: &'static str, value: &str, msg: impl Into<String>) -> StoreError {
    ValidationError::new(field, value, msg.into()).into()
}

fn is_explicitly_released(release: &Release, agency_id: i64, country: &str) -> bool {
    match release {
        Release::To {
            agencies,
            countries,
        } => agencies.contains(&agency_id) || countries.iter().any(|c| c == country),
        _ => false,
    }
}

fn provenance(agency: &str, officer: &str, created_at: &str, source: &str) -> Provenance {
    Provenance {
        agency: agency.to_string(),
        officer: officer.to_string(),
        created_at: created_at.to_string(),
        source: source.to_string(),
    }
}

fn lead_event(e: &Event) -> LeadEvent {
    LeadEvent {
        uid: e.uid.clone(),
        kind: e.kind.as_str().to_string(),
        date: e.date.clone(),
        country: e.country.clone(),
        details: e.details.clone(),
        provenance: provenance(&e.agency, &e.created_by, &e.created_at, &e.source),
    }
}

fn to_section<T: Serialize>(items: &[T]) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(items)
        .map_err(|e| StoreError::Config(format!("cannot encode package section: {e}")))
}

/// A section of a received package in typed form (absent = empty), refused
/// with the section's name and serde's reason if it does not fit.
fn from_section<T: serde::de::DeserializeOwned>(
    sections: &BTreeMap<String, serde_json::Value>,
    name: &'static str,
) -> Result<Vec<T>, StoreError> {
    match sections.get(name) {
        None => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| invalid("sections", name, format!("malformed section: {e}"))),
    }
}

/// The line number of a `FILE:LINE` source, as the chat import writes it.
fn source_line(source: &str) -> Option<u64> {
    source.rsplit_once(':').and_then(|(_, n)| n.parse().ok())
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(invalid(field, value, "is empty"));
    }
    if value.len() > max {
        return Err(invalid(
            field,
            &value[..0],
            format!("is longer than {max} bytes"),
        ));
    }
    Ok(())
}

/// A hash from a package: lower-case hex of the expected length.
fn check_hex(field: &'static str, value: &Option<String>, len: usize) -> Result<(), StoreError> {
    if let Some(v) = value
        && (v.len() != len
            || !v
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    {
        return Err(invalid(
            field,
            v,
            format!("is not {len} lower-case hex digits"),
        ));
    }
    Ok(())
}

fn check_chat(x: &ChatExcerpt) -> Result<(), StoreError> {
    check_text("chat_excerpts.key", &x.key, 512)?;
    check_uid("chat_excerpts.person_uid", &x.person_uid)?;
    match (x.reason.as_str(), &x.identifier_uid) {
        ("said", None) => {}
        ("identifier", Some(u)) => check_uid("chat_excerpts.identifier_uid", u)?,
        _ => {
            return Err(invalid(
                "chat_excerpts.reason",
                &x.reason,
                "must be `said`, or `identifier` with an identifier_uid",
            ));
        }
    }
    check_text("chat_excerpts.room", &x.room, 512)?;
    check_text("chat_excerpts.handle", &x.handle, 512)?;
    check_text("chat_excerpts.kind", &x.kind, 64)?;
    if x.text.len() > 64 * 1024 {
        return Err(invalid("chat_excerpts.text", "", "is longer than 64 KiB"));
    }
    check_time("chat_excerpts.time", &x.time)
}

fn check_hash_match(x: &HashMatchLead) -> Result<(), StoreError> {
    check_text("hash_matches.key", &x.key, 512)?;
    check_uid("hash_matches.person_uid", &x.person_uid)?;
    check_text("hash_matches.device", &x.device, 512)?;
    if !["md5", "sha1", "sha256", "pdq"].contains(&x.kind.as_str()) {
        return Err(invalid("hash_matches.kind", &x.kind, "unknown match kind"));
    }
    if x.distance > 256 {
        return Err(invalid(
            "hash_matches.distance",
            &x.distance.to_string(),
            "PDQ distances are 0..=256",
        ));
    }
    check_hex("hash_matches.md5", &x.md5, 32)?;
    check_hex("hash_matches.sha1", &x.sha1, 40)?;
    check_hex("hash_matches.sha256", &x.sha256, 64)?;
    check_hex("hash_matches.pdq", &x.pdq, 64)?;
    if x.md5.is_none() && x.sha1.is_none() && x.sha256.is_none() && x.pdq.is_none() {
        return Err(invalid("hash_matches.key", &x.key, "carries no hash"));
    }
    check_text("hash_matches.hash_set", &x.hash_set, 512)?;
    check_text("hash_matches.category", &x.category, 128)?;
    check_time("hash_matches.matched_at", &Some(x.matched_at.clone()))
}

fn check_sections(sections: &BTreeMap<String, serde_json::Value>) -> Result<(), StoreError> {
    for name in sections.keys() {
        if !KNOWN_SECTIONS.contains(&name.as_str()) {
            return Err(invalid(
                "sections",
                name,
                "unknown package section (this Vigil cannot import it)",
            ));
        }
    }
    Ok(())
}

/// Every package payload starts with the content version and its kind;
/// anything else is refused before a field of it is read.
fn check_header(version: u32, kind: &str, expected: &'static str) -> Result<(), StoreError> {
    if version != CONTENT_VERSION {
        return Err(invalid(
            "version",
            &version.to_string(),
            format!("unsupported package content version (expected {CONTENT_VERSION})"),
        ));
    }
    if kind != expected {
        return Err(invalid("kind", kind, format!("expected {expected}")));
    }
    Ok(())
}

fn check_uid(field: &'static str, uid: &str) -> Result<(), StoreError> {
    if uuid::Uuid::parse_str(uid).is_err() {
        return Err(invalid(field, uid, "is not a UUID"));
    }
    Ok(())
}

fn check_time(field: &'static str, t: &Option<String>) -> Result<(), StoreError> {
    if let Some(t) = t
        && time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_err()
    {
        return Err(invalid(field, t, "is not an RFC 3339 time"));
    }
    Ok(())
}

/// Validates an event from a package and returns it in domain form.
fn check_event(e: &LeadEvent) -> Result<(EventKind, String, String), StoreError> {
    check_uid("event.uid", &e.uid)?;
    let kind = EventKind::parse("event.kind", &e.kind)?;
    let date = vigil_domain::records::format_date(parse_date("event.date", &e.date)?);
    let country = parse_country("event.country", &e.country)?;
    Ok((kind, date, country))
}

impl Store {
    /// A capability any of several may grant (e.g. keys: liaison officers or
    /// administrators), with the refusal audited.
    async fn require_any(
        &self,
        p: &Principal,
        caps: &[Capability],
        action: &str,
    ) -> Result<(), StoreError> {
        if caps.iter().any(|c| p.can(*c)) {
            return Ok(());
        }
        let tx = self.begin_write().await?;
        self.refuse(
            tx,
            p,
            action,
            format!(
                "capability:{}",
                caps.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            ),
            None,
            Decision::Deny("role lacks capability"),
            false,
        )
        .await
    }

    async fn require_local(&self, tx: &mut Tx, p: &Principal) -> Result<(), StoreError> {
        if !self.is_local_agency(tx, p.agency_id).await? {
            return Err(StoreError::Denied(
                "only the agency this instance belongs to has keys and packages here".into(),
            ));
        }
        Ok(())
    }

    // ----- keys ----------------------------------------------------------------

    /// Stores a newly generated key pair set for the principal's (local)
    /// agency; earlier keys stay (to open old packages) but become inactive.
    pub async fn store_agency_keys(
        &self,
        p: &Principal,
        fingerprint: &str,
        public_bundle: &str,
        secret_json: &str,
    ) -> Result<LocalKey, StoreError> {
        self.require_any(
            p,
            &[Capability::Packages, Capability::ManageUsers],
            "keys.generate",
        )
        .await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        sqlx::query("UPDATE agency_keys SET active = 0 WHERE agency_id = $1")
            .bind(p.agency_id)
            .execute(&mut *tx)
            .await?;
        let now = now_text();
        sqlx::query(
            "INSERT INTO agency_keys (agency_id, fingerprint, public_bundle, secret, active, \
             created_by, created_at) VALUES ($1, $2, $3, $4, 1, $5, $6)",
        )
        .bind(p.agency_id)
        .bind(fingerprint.to_string())
        .bind(public_bundle.to_string())
        .bind(secret_json.to_string())
        .bind(p.user_id)
        .bind(now.clone())
        .execute(&mut *tx)
        .await?;
        self.log(
            &mut tx,
            p,
            "keys.generate",
            format!("agency:{}", p.agency_id),
            None,
            Decision::Allow("packages or manage-users"),
            serde_json::json!({"fingerprint": fingerprint}),
        )
        .await?;
        tx.commit().await?;
        Ok(LocalKey {
            fingerprint: fingerprint.to_string(),
            active: true,
            created_at: now,
            public_bundle: public_bundle.to_string(),
        })
    }

    /// The local agency's active secret keys. Sealing and opening need
    /// `packages`; exporting the identity for escrow needs `manage-users`.
    /// Every use is audited.
    pub async fn agency_secret(
        &self,
        p: &Principal,
        usage: KeyUse,
    ) -> Result<LocalSecret, StoreError> {
        let (cap, action) = match usage {
            KeyUse::Seal => (Capability::Packages, "keys.use-seal"),
            KeyUse::Open => (Capability::Packages, "keys.use-open"),
            KeyUse::ExportIdentity => (Capability::ManageUsers, "keys.export-identity"),
        };
        self.require(p, cap, action).await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        let row = sqlx::query(
            "SELECT fingerprint, secret FROM agency_keys WHERE agency_id = $1 AND active = 1",
        )
        .bind(p.agency_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict("this agency has no keys yet: run `vigil keys generate`".into())
        })?;
        let fingerprint: String = row.try_get("fingerprint")?;
        self.log(
            &mut tx,
            p,
            action,
            format!("agency:{}", p.agency_id),
            None,
            Decision::Allow("role grants capability"),
            serde_json::json!({"fingerprint": fingerprint}),
        )
        .await?;
        tx.commit().await?;
        Ok(LocalSecret {
            fingerprint,
            secret_json: row.try_get("secret")?,
        })
    }

    /// Registers another agency's public bundle as received (the JSON text
    /// of `vigil keys export`): parses it and checks its fingerprint against
    /// its contents, then [`import_partner_key`](Self::import_partner_key).
    ///
    /// Why here: `vigil keys import` and `POST /api/keys/partners` take the
    /// same file, and both must refuse an altered bundle the same way.
    pub async fn import_partner_bundle(
        &self,
        p: &Principal,
        bundle_json: &str,
    ) -> Result<PartnerKey, StoreError> {
        let bundle = vigil_share::PublicBundle::from_json(bundle_json).map_err(|e| {
            ValidationError::new(
                "bundle",
                bundle_json.lines().next().unwrap_or_default(),
                format!("not a valid public bundle: {e}"),
            )
        })?;
        self.import_partner_key(
            p,
            bundle.agency(),
            bundle.country().as_str(),
            bundle.fingerprint().as_str(),
            &bundle.to_json(),
        )
        .await
    }

    /// Registers another agency's public bundle, creating the agency (with
    /// its country) if it is unknown. Importing the same key again is a no-op.
    pub async fn import_partner_key(
        &self,
        p: &Principal,
        agency_name: &str,
        country: &str,
        fingerprint: &str,
        public_bundle: &str,
    ) -> Result<PartnerKey, StoreError> {
        let name = vigil_domain::records::parse_name("agency", agency_name)?;
        let country = parse_country("country", country)?;
        self.require_any(
            p,
            &[Capability::Packages, Capability::ManageUsers],
            "keys.import",
        )
        .await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        let existing = sqlx::query("SELECT id, country, is_local FROM agencies WHERE name = $1")
            .bind(name.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let agency_id = match existing {
            Some(r) => {
                let c: String = r.try_get("country")?;
                if c != country {
                    return Err(StoreError::Conflict(format!(
                        "agency {name:?} is registered in {c}, the key says {country}"
                    )));
                }
                if r.try_get::<i64, _>("is_local")? != 0 {
                    return Err(StoreError::Conflict(
                        "this is our own agency's key; import partners' keys only".into(),
                    ));
                }
                r.try_get::<i64, _>("id")?
            }
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO agencies (uid, name, country, is_local, created_at) \
                     VALUES ($1, $2, $3, 0, $4) RETURNING id",
                )
                .bind(crate::new_uid())
                .bind(name.clone())
                .bind(country.clone())
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                self.log(
                    &mut tx,
                    p,
                    "agency.add",
                    format!("agency:{id}"),
                    None,
                    Decision::Allow("registered with a partner key"),
                    serde_json::json!({"name": name, "country": country}),
                )
                .await?;
                id
            }
        };
        let held = sqlx::query("SELECT agency_id FROM partner_keys WHERE fingerprint = $1")
            .bind(fingerprint.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = held {
            if r.try_get::<i64, _>("agency_id")? != agency_id {
                return Err(StoreError::Conflict(format!(
                    "key {fingerprint} is already registered to another agency"
                )));
            }
        } else {
            sqlx::query(
                "INSERT INTO partner_keys (agency_id, fingerprint, public_bundle, imported_by, \
                 imported_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(agency_id)
            .bind(fingerprint.to_string())
            .bind(public_bundle.to_string())
            .bind(p.user_id)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        }
        self.log(
            &mut tx,
            p,
            "keys.import",
            format!("agency:{agency_id}"),
            None,
            Decision::Allow("packages or manage-users"),
            serde_json::json!({"fingerprint": fingerprint, "agency": name, "country": country}),
        )
        .await?;
        let key = Self::partner_keys_in(&mut tx, Some(fingerprint))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::not_found("key", fingerprint))?;
        tx.commit().await?;
        Ok(key)
    }

    async fn partner_keys_in(
        tx: &mut Tx,
        fingerprint: Option<&str>,
    ) -> Result<Vec<PartnerKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.agency_id, a.name, a.country, k.fingerprint, k.imported_at, k.public_bundle \
             FROM partner_keys k JOIN agencies a ON a.id = k.agency_id \
             WHERE ($1 = '' OR k.fingerprint = $1) ORDER BY k.id",
        )
        .bind(fingerprint.unwrap_or("").to_string())
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PartnerKey {
                    agency_id: r.try_get("agency_id")?,
                    agency: r.try_get("name")?,
                    country: r.try_get("country")?,
                    fingerprint: r.try_get("fingerprint")?,
                    imported_at: r.try_get("imported_at")?,
                    public_bundle: r.try_get("public_bundle")?,
                })
            })
            .collect()
    }

    /// The local keys (public parts only) and every registered partner key.
    pub async fn list_keys(&self, p: &Principal) -> Result<KeyList, StoreError> {
        self.require_any(
            p,
            &[Capability::Packages, Capability::ManageUsers],
            "keys.list",
        )
        .await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT fingerprint, active, created_at, public_bundle FROM agency_keys \
             WHERE agency_id = $1 ORDER BY id",
        )
        .bind(p.agency_id)
        .fetch_all(&mut *tx)
        .await?;
        let local = rows
            .iter()
            .map(|r| {
                Ok(LocalKey {
                    fingerprint: r.try_get("fingerprint")?,
                    active: r.try_get::<i64, _>("active")? != 0,
                    created_at: r.try_get("created_at")?,
                    public_bundle: r.try_get("public_bundle")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let partners = Self::partner_keys_in(&mut tx, None).await?;
        self.log(
            &mut tx,
            p,
            "keys.list",
            "keys".into(),
            None,
            Decision::Allow("packages or manage-users"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(KeyList { local, partners })
    }

    // ----- attribution -----------------------------------------------------------

    async fn operation_id(
        &self,
        tx: &mut Tx,
        operation: &str,
    ) -> Result<(i64, String), StoreError> {
        let by_id = operation.trim().parse::<i64>().ok();
        let row = sqlx::query("SELECT id, name FROM operations WHERE name = $1 OR id = $2")
            .bind(operation.trim().to_string())
            .bind(by_id.unwrap_or(-1))
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found("operation", operation))?;
        Ok((row.try_get("id")?, row.try_get("name")?))
    }

    async fn facts_of(&self, tx: &mut Tx, person: Person) -> Result<PersonFacts, StoreError> {
        let case = self.fetch_case(tx, person.case_id).await?;
        let identifiers = self.identifiers_of(tx, person.id).await?;
        Ok(PersonFacts {
            person,
            case_title: case.title,
            identifiers,
        })
    }

    async fn identifiers_of(
        &self,
        tx: &mut Tx,
        person_id: i64,
    ) -> Result<Vec<Identifier>, StoreError> {
        let ids = sqlx::query("SELECT id FROM identifiers WHERE person_id = $1 ORDER BY id")
            .bind(person_id)
            .fetch_all(&mut **tx)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for r in &ids {
            out.push(self.fetch_identifier(tx, r.try_get("id")?).await?);
        }
        Ok(out)
    }

    async fn events_where(
        &self,
        tx: &mut Tx,
        cond: &str,
        arg: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.id, e.uid, e.case_id, e.person_id, e.kind, e.date, e.country, e.agency_id, \
             a.name AS agency, e.details, u.name AS created_by, e.created_at, e.source \
             FROM events e JOIN users u ON u.id = e.created_by \
             JOIN agencies a ON a.id = e.agency_id WHERE {cond} ORDER BY e.date, e.id"
        )))
        .bind(arg)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(Event {
                    id: r.try_get("id")?,
                    uid: r.try_get("uid")?,
                    case_id: r.try_get("case_id")?,
                    person_id: r.try_get("person_id")?,
                    kind: EventKind::parse("kind", &kind)?,
                    date: r.try_get("date")?,
                    country: r.try_get("country")?,
                    agency_id: r.try_get("agency_id")?,
                    agency: r.try_get("agency")?,
                    details: r.try_get("details")?,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                    source: r.try_get("source")?,
                })
            })
            .collect()
    }

    async fn events_of(&self, tx: &mut Tx, person_id: i64) -> Result<Vec<Event>, StoreError> {
        self.events_where(tx, "e.person_id = $1", person_id).await
    }

    /// Chat messages that concern `person`, with their local ids: the ones
    /// said by a handle the person took part under, and the lines the
    /// `released` identifiers were extracted from (chat imports record
    /// `FILE:LINE` as the source of both). Each message once per person.
    async fn chat_excerpts_of(
        &self,
        tx: &mut Tx,
        agency: &str,
        person: &Person,
        released: &[&Identifier],
    ) -> Result<Vec<(ChatExcerpt, i64)>, StoreError> {
        const SELECT: &str = "SELECT m.id, m.event_key, m.sent_at, m.handle, m.kind, m.text, \
            m.source, m.created_at, u.name AS officer, r.name AS room, r.network \
            FROM chat_messages m JOIN chat_rooms r ON r.id = m.room_id \
            JOIN users u ON u.id = m.created_by";
        let excerpt = |r: &sqlx::any::AnyRow,
                       reason: &str,
                       ident: Option<&str>|
         -> Result<(ChatExcerpt, i64), StoreError> {
            let source: String = r.try_get("source")?;
            let network: String = r.try_get("network")?;
            Ok((
                ChatExcerpt {
                    key: r.try_get("event_key")?,
                    person_uid: person.uid.clone(),
                    reason: reason.to_string(),
                    identifier_uid: ident.map(str::to_string),
                    room: r.try_get("room")?,
                    network: (!network.is_empty()).then_some(network),
                    time: r.try_get("sent_at")?,
                    line: source_line(&source),
                    handle: r.try_get("handle")?,
                    kind: r.try_get("kind")?,
                    text: r.try_get("text")?,
                    provenance: provenance(
                        agency,
                        &r.try_get::<String, _>("officer")?,
                        &r.try_get::<String, _>("created_at")?,
                        &source,
                    ),
                },
                r.try_get("id")?,
            ))
        };
        let mut out: Vec<(ChatExcerpt, i64)> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let handles = sqlx::query(
            "SELECT room_id, handle FROM chat_participants WHERE person_id = $1 ORDER BY id",
        )
        .bind(person.id)
        .fetch_all(&mut **tx)
        .await?;
        for h in &handles {
            let room_id: i64 = h.try_get("room_id")?;
            let handle: String = h.try_get("handle")?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE m.room_id = $1 ORDER BY m.id"
            )))
            .bind(room_id)
            .fetch_all(&mut **tx)
            .await?;
            for r in &rows {
                let said_by: String = r.try_get("handle")?;
                if vigil_chat::fold(&said_by) != handle {
                    continue;
                }
                let x = excerpt(r, "said", None)?;
                if seen.insert(x.1) {
                    out.push(x);
                }
            }
        }
        for i in released {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE m.case_id = $1 AND m.source = $2 ORDER BY m.id"
            )))
            .bind(i.case_id)
            .bind(i.source.clone())
            .fetch_all(&mut **tx)
            .await?;
            for r in &rows {
                let x = excerpt(r, "identifier", Some(&i.uid))?;
                if seen.insert(x.1) {
                    out.push(x);
                }
            }
        }
        out.sort_by_key(|x| x.1);
        Ok(out)
    }

    /// Hash-set matches on files of the devices seized from `person`, with
    /// the local match ids: hashes, set and category only.
    async fn hash_matches_of(
        &self,
        tx: &mut Tx,
        agency: &str,
        person: &Person,
    ) -> Result<Vec<(HashMatchLead, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT sm.id, sm.kind, sm.distance, sm.matched_at, ev.id AS evidence_id, ev.md5, \
             ev.sha1, ev.sha256, ev.pdq, s.uid AS scan_uid, d.label AS device, hs.uid AS set_uid, \
             hs.name AS set_name, he.id AS entry_id, he.category, he.series, u.name AS officer \
             FROM scan_matches sm JOIN evidence_items ev ON ev.id = sm.evidence_id \
             JOIN scans s ON s.id = sm.scan_id JOIN devices d ON d.id = s.device_id \
             JOIN hash_sets hs ON hs.id = sm.set_id JOIN hash_entries he ON he.id = sm.entry_id \
             JOIN users u ON u.id = s.created_by \
             WHERE d.person_id = $1 ORDER BY sm.id",
        )
        .bind(person.id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                let scan_uid: String = r.try_get("scan_uid")?;
                let device: String = r.try_get("device")?;
                let matched_at: String = r.try_get("matched_at")?;
                let distance: i64 = r.try_get("distance")?;
                let key = format!(
                    "{scan_uid}/{}/{}/{}",
                    r.try_get::<i64, _>("evidence_id")?,
                    r.try_get::<String, _>("set_uid")?,
                    r.try_get::<i64, _>("entry_id")?
                );
                let lower = |c: &str| -> Result<Option<String>, StoreError> {
                    Ok(r.try_get::<Option<String>, _>(c)?
                        .map(|h| h.to_ascii_lowercase()))
                };
                Ok((
                    HashMatchLead {
                        key,
                        person_uid: person.uid.clone(),
                        device: device.clone(),
                        kind: r.try_get("kind")?,
                        distance: u32::try_from(distance).unwrap_or(u32::MAX),
                        md5: lower("md5")?,
                        sha1: lower("sha1")?,
                        sha256: lower("sha256")?,
                        pdq: lower("pdq")?,
                        hash_set: r.try_get("set_name")?,
                        category: r
                            .try_get::<Option<String>, _>("category")?
                            .unwrap_or_else(|| "uncategorized".into()),
                        series: r.try_get("series")?,
                        matched_at: matched_at.clone(),
                        provenance: provenance(
                            agency,
                            &r.try_get::<String, _>("officer")?,
                            &matched_at,
                            &format!("scan {scan_uid} of device {device}"),
                        ),
                    },
                    r.try_get("id")?,
                ))
            })
            .collect()
    }

    /// Suspects of an operation that `p` may read, with their identifiers,
    /// for country attribution (`vigil attribute`).
    pub async fn attribution_facts(
        &self,
        p: &Principal,
        operation: &str,
    ) -> Result<Vec<PersonFacts>, StoreError> {
        self.require(p, Capability::ReadCase, "attribute.read")
            .await?;
        let mut tx = self.begin_write().await?;
        let (op_id, op_name) = self.operation_id(&mut tx, operation).await?;
        let persons = self
            .persons_where(
                &mut tx,
                "p.merged_into IS NULL AND p.role = 'suspect' AND p.case_id IN \
                 (SELECT id FROM cases WHERE operation_id = $1)",
                op_id,
            )
            .await?;
        let mut out = Vec::new();
        let mut cache: HashMap<i64, crate::records::CaseAccess> = HashMap::new();
        for person in persons {
            if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(person.case_id) {
                e.insert(self.case_access(&mut tx, p, person.case_id).await?);
            }
            let Some(ca) = cache.get(&person.case_id) else {
                continue;
            };
            if access::can_read(p, &ca.scope(person.release.as_ref(), &ca.release)).allowed() {
                out.push(self.facts_of(&mut tx, person).await?);
            }
        }
        self.log(
            &mut tx,
            p,
            "attribute.read",
            format!("operation:{op_id}"),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"operation": op_name,
                "persons": out.iter().map(|f| f.person.id).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    // ----- building packages -------------------------------------------------------

    /// A principal standing for another agency, so that
    /// [`access::can_read`] decides what may be released to it exactly as it
    /// would decide for one of its officers (who are never case members here).
    fn recipient_principal(agency: &crate::Agency) -> Principal {
        Principal {
            user_id: -1,
            user_name: format!("agency:{}", agency.name),
            agency_id: agency.id,
            agency_name: agency.name.clone(),
            agency_country: agency.country.clone(),
            roles: vec![Role::Investigator],
        }
    }

    async fn agency_by_id(&self, tx: &mut Tx, id: i64) -> Result<crate::Agency, StoreError> {
        let r = sqlx::query(
            "SELECT id, uid, name, country, contact, is_local, created_at FROM agencies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("agency", id))?;
        Ok(crate::Agency {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            name: r.try_get("name")?,
            country: r.try_get("country")?,
            contact: r.try_get("contact")?,
            is_local: r.try_get::<i64, _>("is_local")? != 0,
            created_at: r.try_get("created_at")?,
        })
    }

    /// Builds a `leads` package for `recipient_agency_id`: the local
    /// agency's suspects in the operation that the recipient may read under
    /// their release markings and that are either attributed to its country
    /// (by `attribute`) or explicitly released to it; with their identifiers
    /// and events that are themselves releasable. Records of other agencies
    /// held here are never forwarded. `seal` turns the JSON content into the
    /// package bytes; the package is tracked in the same transaction.
    pub async fn build_leads<A, S, E>(
        &self,
        p: &Principal,
        operation: &str,
        recipient_agency_id: i64,
        package_uid: &str,
        attribute: A,
        seal: S,
    ) -> Result<BuiltPackage, StoreError>
    where
        A: Fn(&PersonFacts) -> AttributionNote,
        S: FnOnce(&[u8]) -> Result<Vec<u8>, E>,
        E: std::fmt::Display,
    {
        self.require(p, Capability::Packages, "package.build")
            .await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        let recipient = self.agency_by_id(&mut tx, recipient_agency_id).await?;
        if recipient.is_local {
            return Err(invalid(
                "to",
                &recipient.name,
                "is this agency; packages go to partners",
            ));
        }
        let rp = Self::recipient_principal(&recipient);
        let (op_id, op_name) = self.operation_id(&mut tx, operation).await?;
        let persons = self
            .persons_where(
                &mut tx,
                "p.merged_into IS NULL AND p.role = 'suspect' AND p.case_id IN \
                 (SELECT id FROM cases WHERE operation_id = $1)",
                op_id,
            )
            .await?;
        let mut lead_persons = Vec::new();
        let mut records: Vec<(&'static str, String, i64)> = Vec::new();
        let mut withheld = 0usize;
        let mut chat: Vec<ChatExcerpt> = Vec::new();
        let mut hashes: Vec<HashMatchLead> = Vec::new();
        for person in persons {
            let ca = self.case_access(&mut tx, &rp, person.case_id).await?;
            if ca.agency_id != p.agency_id {
                continue;
            }
            let facts = self.facts_of(&mut tx, person).await?;
            let note = attribute(&facts);
            let person = &facts.person;
            let scope = ca.scope(person.release.as_ref(), &ca.release);
            let released = access::can_read(&rp, &scope).allowed();
            let explicit = is_explicitly_released(scope.release, recipient.id, &recipient.country);
            let attributed = note.country.as_deref() == Some(recipient.country.as_str());
            if !released || !(explicit || attributed) {
                if attributed {
                    withheld += 1;
                }
                continue;
            }
            let mut idents = Vec::new();
            let mut released_idents = Vec::new();
            for i in &facts.identifiers {
                let own = i.release.as_ref().or(person.release.as_ref());
                if !access::can_read(&rp, &ca.scope(own, &ca.release)).allowed() {
                    continue;
                }
                released_idents.push(i);
                records.push(("identifier", i.uid.clone(), i.id));
                idents.push(LeadIdentifier {
                    uid: i.uid.clone(),
                    kind: i.kind.as_str().to_string(),
                    raw: i.raw.clone(),
                    network: i.network.clone(),
                    port: i.port.and_then(|x| u16::try_from(x).ok()),
                    first_seen: i.first_seen.clone(),
                    last_seen: i.last_seen.clone(),
                    provenance: provenance(&p.agency_name, &i.created_by, &i.created_at, &i.source),
                });
            }
            let events = self.events_of(&mut tx, person.id).await?;
            for e in &events {
                records.push(("event", e.uid.clone(), e.id));
            }
            records.push(("person", person.uid.clone(), person.id));
            for (x, id) in self
                .chat_excerpts_of(&mut tx, &p.agency_name, person, &released_idents)
                .await?
            {
                records.push(("chat_message", x.key.clone(), id));
                chat.push(x);
            }
            for (x, id) in self
                .hash_matches_of(&mut tx, &p.agency_name, person)
                .await?
            {
                records.push(("hash_match", x.key.clone(), id));
                hashes.push(x);
            }
            lead_persons.push(LeadPerson {
                uid: person.uid.clone(),
                role: person.role.as_str().to_string(),
                label: person.label.clone(),
                country: person.country.clone(),
                attributed_country: note.country.clone(),
                attribution: Some(note.why.clone()),
                provenance: provenance(
                    &p.agency_name,
                    &person.created_by,
                    &person.created_at,
                    &person.source,
                ),
                identifiers: idents,
                events: events.iter().map(lead_event).collect(),
            });
        }
        let now = now_text();
        let payload = LeadsPayload {
            version: CONTENT_VERSION,
            kind: "leads".into(),
            operation: op_name.clone(),
            sender_agency: p.agency_name.clone(),
            sender_country: p.agency_country.clone(),
            recipient_agency: recipient.name.clone(),
            recipient_country: recipient.country.clone(),
            created: now.clone(),
            persons: lead_persons,
            sections: BTreeMap::from([
                (SECTION_CHAT.to_string(), to_section(&chat)?),
                (SECTION_HASHES.to_string(), to_section(&hashes)?),
            ]),
        };
        let json = serde_json::to_vec(&payload)
            .map_err(|e| StoreError::Config(format!("cannot encode package content: {e}")))?;
        let bytes =
            seal(&json).map_err(|e| StoreError::Config(format!("cannot seal package: {e}")))?;
        let summary = serde_json::json!({
            "persons": payload.persons.len(),
            "identifiers": payload.persons.iter().map(|x| x.identifiers.len()).sum::<usize>(),
            "events": payload.persons.iter().map(|x| x.events.len()).sum::<usize>(),
            "chat_excerpts": chat.len(),
            "hash_matches": hashes.len(),
            "attributed_but_not_released": withheld,
        });
        let record = self
            .insert_package(
                &mut tx,
                p,
                NewPackageRow {
                    package_uid,
                    kind: "leads",
                    direction: "sent",
                    peer: recipient.id,
                    operation: Some(&op_name),
                    in_reply_to: None,
                    case_id: None,
                    state: "built",
                    summary: &summary,
                },
                &records,
            )
            .await?;
        self.log(
            &mut tx,
            p,
            "package.build",
            format!("package:{}", record.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": package_uid, "to": recipient.name, "operation": op_name,
                "persons": records.iter().filter(|r| r.0 == "person").map(|r| r.2).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(BuiltPackage { record, bytes })
    }

    async fn insert_package(
        &self,
        tx: &mut Tx,
        p: &Principal,
        row: NewPackageRow<'_>,
        records: &[(&'static str, String, i64)],
    ) -> Result<PackageRecord, StoreError> {
        let now = now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO packages (package_uid, kind, direction, peer_agency_id, operation, \
             in_reply_to, case_id, state, summary, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(row.package_uid.to_string())
        .bind(row.kind.to_string())
        .bind(row.direction.to_string())
        .bind(row.peer)
        .bind(row.operation.map(str::to_string))
        .bind(row.in_reply_to.map(str::to_string))
        .bind(row.case_id)
        .bind(row.state.to_string())
        .bind(row.summary.to_string())
        .bind(p.user_id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?;
        for (kind, uid, local) in records {
            sqlx::query(
                "INSERT INTO package_records (package_id, record_kind, record_uid, local_id, \
                 provenance) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(kind.to_string())
            .bind(uid.clone())
            .bind(*local)
            .bind("{}".to_string())
            .execute(&mut **tx)
            .await?;
        }
        self.fetch_package(tx, id).await
    }

    async fn fetch_package(&self, tx: &mut Tx, id: i64) -> Result<PackageRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE k.id = $1",
            PackageRecord::SELECT
        )))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
        PackageRecord::from_row(&row)
    }

    /// Packages built and received, newest first.
    pub async fn list_packages(&self, p: &Principal) -> Result<Vec<PackageRecord>, StoreError> {
        self.require(p, Capability::Packages, "package.list")
            .await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} ORDER BY k.id DESC",
            PackageRecord::SELECT
        )))
        .fetch_all(&mut *tx)
        .await?;
        let out = rows
            .iter()
            .map(PackageRecord::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.log(
            &mut tx,
            p,
            "package.list",
            "packages".into(),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"returned": out.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Marks a package this agency built as written out for its recipient:
    /// `built` becomes `sent` (a later state stays), `sent_at` is set once.
    pub async fn mark_package_sent(
        &self,
        p: &Principal,
        package_uid: &str,
    ) -> Result<PackageRecord, StoreError> {
        self.require(p, Capability::Packages, "package.sent")
            .await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        let id: i64 =
            sqlx::query("SELECT id FROM packages WHERE package_uid = $1 AND direction = 'sent'")
                .bind(package_uid.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("sent package", package_uid))?
                .try_get("id")?;
        let now = now_text();
        sqlx::query(
            "UPDATE packages SET sent_at = COALESCE(sent_at, $1), updated_at = $1, \
             state = CASE WHEN state = 'built' THEN 'sent' ELSE state END WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.log(
            &mut tx,
            p,
            "package.sent",
            format!("package:{id}"),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": package_uid}),
        )
        .await?;
        let record = self.fetch_package(&mut tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Builds an `ack` package confirming to its sender that the package
    /// `acknowledged_uid` (leads or outcomes), received and imported here,
    /// arrived intact. Acknowledging the same package again is allowed (a
    /// lost ack can be re-sent); each ack is its own package.
    pub async fn build_ack<S, E>(
        &self,
        p: &Principal,
        acknowledged_uid: &str,
        package_uid: &str,
        seal: S,
    ) -> Result<BuiltPackage, StoreError>
    where
        S: FnOnce(&[u8]) -> Result<Vec<u8>, E>,
        E: std::fmt::Display,
    {
        self.require(p, Capability::Packages, "package.ack").await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        let row = sqlx::query(
            "SELECT id FROM packages WHERE package_uid = $1 AND direction = 'received' \
             AND kind IN ('leads', 'outcomes')",
        )
        .bind(acknowledged_uid.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            invalid(
                "package",
                acknowledged_uid,
                "is not a leads or outcomes package imported here",
            )
        })?;
        let acked = self.fetch_package(&mut tx, row.try_get("id")?).await?;
        let payload = AckPayload {
            version: CONTENT_VERSION,
            kind: "ack".into(),
            sender_agency: p.agency_name.clone(),
            recipient_agency: acked.peer_agency.clone(),
            created: now_text(),
            acknowledges: acked.package_uid.clone(),
            imported_at: acked.created_at.clone(),
            summary: acked.summary.clone(),
        };
        let json = serde_json::to_vec(&payload)
            .map_err(|e| StoreError::Config(format!("cannot encode package content: {e}")))?;
        let bytes =
            seal(&json).map_err(|e| StoreError::Config(format!("cannot seal package: {e}")))?;
        let summary = serde_json::json!({"acknowledges": acked.package_uid});
        let record = self
            .insert_package(
                &mut tx,
                p,
                NewPackageRow {
                    package_uid,
                    kind: "ack",
                    direction: "sent",
                    peer: acked.peer_agency_id,
                    operation: acked.operation.as_deref(),
                    in_reply_to: Some(&acked.package_uid),
                    case_id: None,
                    state: "built",
                    summary: &summary,
                },
                &[],
            )
            .await?;
        self.log(
            &mut tx,
            p,
            "package.ack",
            format!("package:{}", record.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": package_uid, "acknowledges": acked.package_uid,
                "to": acked.peer_agency}),
        )
        .await?;
        tx.commit().await?;
        Ok(BuiltPackage { record, bytes })
    }

    /// Imports a verified `ack` package: the package it acknowledges must
    /// be one we sent to the ack's signer; it becomes `acknowledged` (unless
    /// outcomes already came back) with the time. A replayed ack is refused
    /// like any package. Returns the acknowledged package's record.
    pub async fn import_ack(
        &self,
        p: &Principal,
        pkg: &ReceivedPackage,
        content: &AckPayload,
    ) -> Result<PackageRecord, StoreError> {
        self.require(p, Capability::Packages, "package.import")
            .await?;
        check_header(content.version, &content.kind, "ack")?;
        check_uid("acknowledges", &content.acknowledges)?;
        if let Some(r) = &pkg.in_reply_to
            && r != &content.acknowledges
        {
            return Err(invalid(
                "acknowledges",
                &content.acknowledges,
                format!("differs from the envelope's in_reply_to {r}"),
            ));
        }
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        self.refuse_replay(&mut tx, &pkg.package_uid).await?;
        let sender = self.sender_of(&mut tx, &pkg.sender_fingerprint).await?;
        if content.sender_agency != sender.agency || content.recipient_agency != p.agency_name {
            return Err(invalid(
                "recipient_agency",
                &content.recipient_agency,
                "content names another sender or recipient than the envelope",
            ));
        }
        let id: i64 = sqlx::query(
            "SELECT id FROM packages WHERE package_uid = $1 AND direction = 'sent' \
             AND peer_agency_id = $2 AND kind IN ('leads', 'outcomes')",
        )
        .bind(content.acknowledges.clone())
        .bind(sender.agency_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            invalid(
                "acknowledges",
                &content.acknowledges,
                format!("is not a package we sent to {}", sender.agency),
            )
        })?
        .try_get("id")?;
        let now = now_text();
        sqlx::query(
            "UPDATE packages SET acknowledged_at = COALESCE(acknowledged_at, $1), updated_at = $1, \
             sent_at = COALESCE(sent_at, $1), \
             state = CASE WHEN state IN ('built', 'sent') THEN 'acknowledged' ELSE state END \
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let summary = serde_json::json!({"acknowledges": content.acknowledges,
            "imported_at": content.imported_at, "their_summary": content.summary});
        let ack = self
            .insert_package(
                &mut tx,
                p,
                NewPackageRow {
                    package_uid: &pkg.package_uid,
                    kind: "ack",
                    direction: "received",
                    peer: sender.agency_id,
                    operation: None,
                    in_reply_to: Some(&content.acknowledges),
                    case_id: None,
                    state: "imported",
                    summary: &summary,
                },
                &[],
            )
            .await?;
        self.log(
            &mut tx,
            p,
            "package.import",
            format!("package:{}", ack.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": pkg.package_uid, "from": sender.agency,
                "acknowledges": content.acknowledges}),
        )
        .await?;
        let record = self.fetch_package(&mut tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Every registered partner key (public bundles: directory information
    /// for sealing to and verifying partners).
    pub async fn partner_keys(&self, p: &Principal) -> Result<Vec<PartnerKey>, StoreError> {
        Ok(self.list_keys(p).await?.partners)
    }

    // ----- importing ---------------------------------------------------------------

    async fn sender_of(&self, tx: &mut Tx, fingerprint: &str) -> Result<PartnerKey, StoreError> {
        Self::partner_keys_in(tx, Some(fingerprint))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| invalid("sender", fingerprint, "is not a registered partner key"))
    }

    async fn refuse_replay(&self, tx: &mut Tx, package_uid: &str) -> Result<(), StoreError> {
        let held = sqlx::query("SELECT direction, created_at FROM packages WHERE package_uid = $1")
            .bind(package_uid.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(r) = held {
            let at: String = r.try_get("created_at")?;
            return Err(StoreError::Conflict(format!(
                "package {package_uid} was already imported (or built) here on {at}: replay refused"
            )));
        }
        Ok(())
    }

    async fn uid_held(
        &self,
        tx: &mut Tx,
        table: &str,
        uid: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE uid = $1"
        )))
        .bind(uid.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    /// Imports a verified, decrypted `leads` package: validates the whole
    /// content first, then stores it in the case "Received from <agency> —
    /// <operation>" (created if needed, owned by the local agency, the
    /// importing officer a member) with provenance `package:<id> from
    /// <agency>`, skipping records already held (same original uid). All in
    /// one transaction: any refusal changes nothing.
    pub async fn import_leads(
        &self,
        p: &Principal,
        pkg: &ReceivedPackage,
        content: &LeadsPayload,
    ) -> Result<ImportSummary, StoreError> {
        self.require(p, Capability::Packages, "package.import")
            .await?;
        // Validate everything before touching the database.
        check_header(content.version, &content.kind, "leads")?;
        check_sections(&content.sections)?;
        let operation = vigil_domain::records::parse_name("operation", &content.operation)?;
        let mut checked = Vec::new();
        for lp in &content.persons {
            check_uid("person.uid", &lp.uid)?;
            let role = PersonRole::parse("person.role", &lp.role)?;
            let label = vigil_domain::NewPerson::parse(role.as_str(), &lp.label)?.label;
            let country = lp
                .country
                .as_deref()
                .or(lp.attributed_country.as_deref())
                .map(|c| parse_country("person.country", c))
                .transpose()?;
            let mut idents = Vec::new();
            for i in &lp.identifiers {
                check_uid("identifier.uid", &i.uid)?;
                let kind = IdentifierKind::parse(&i.kind).ok_or_else(|| {
                    invalid("identifier.kind", &i.kind, "unknown identifier kind")
                })?;
                let mut ni = NewIdentifier::of_kind(kind, &i.raw)?;
                check_time("identifier.first_seen", &i.first_seen)?;
                check_time("identifier.last_seen", &i.last_seen)?;
                ni.network = i.network.clone();
                ni.port = i.port;
                ni.first_seen = i.first_seen.clone();
                ni.last_seen = i.last_seen.clone();
                idents.push((i, ni));
            }
            let mut events = Vec::new();
            for e in &lp.events {
                events.push((e, check_event(e)?));
            }
            checked.push((lp, role, label, country, idents, events));
        }
        let chat: Vec<ChatExcerpt> = from_section(&content.sections, SECTION_CHAT)?;
        let hashes: Vec<HashMatchLead> = from_section(&content.sections, SECTION_HASHES)?;
        let person_uids: HashSet<&str> = content.persons.iter().map(|x| x.uid.as_str()).collect();
        for x in &chat {
            check_chat(x)?;
            if !person_uids.contains(x.person_uid.as_str()) {
                return Err(invalid(
                    "chat_excerpts.person_uid",
                    &x.person_uid,
                    "is not a person in this package",
                ));
            }
        }
        for x in &hashes {
            check_hash_match(x)?;
            if !person_uids.contains(x.person_uid.as_str()) {
                return Err(invalid(
                    "hash_matches.person_uid",
                    &x.person_uid,
                    "is not a person in this package",
                ));
            }
        }

        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        self.refuse_replay(&mut tx, &pkg.package_uid).await?;
        let sender = self.sender_of(&mut tx, &pkg.sender_fingerprint).await?;
        if content.sender_agency != sender.agency {
            return Err(invalid(
                "sender_agency",
                &content.sender_agency,
                format!(
                    "content names another sender than the signer {}",
                    sender.agency
                ),
            ));
        }
        if content.recipient_agency != p.agency_name {
            return Err(invalid(
                "recipient_agency",
                &content.recipient_agency,
                "content is addressed to another agency",
            ));
        }
        let source = format!("package:{} from {}", pkg.package_uid, sender.agency);
        let title = format!("Received from {} — {}", sender.agency, operation);
        let case_id = self
            .received_case(&mut tx, p, &title, &operation, &source)
            .await?;
        let now = now_text();
        let mut s = ImportSummary::default();
        let mut records: Vec<(&'static str, String, i64)> = Vec::new();
        let mut seen_uids: HashSet<String> = HashSet::new();
        let mut local_person: HashMap<&str, (i64, i64)> = HashMap::new();
        for (lp, role, label, country, idents, events) in checked {
            if !seen_uids.insert(lp.uid.clone()) {
                return Err(invalid(
                    "person.uid",
                    &lp.uid,
                    "appears twice in the package",
                ));
            }
            let person_id = match self.uid_held(&mut tx, "persons", &lp.uid).await? {
                Some(id) => {
                    s.persons_already_held += 1;
                    id
                }
                None => {
                    let id: i64 = sqlx::query(
                        "INSERT INTO persons (uid, case_id, role, label, country, created_by, \
                         created_at, source, received_from_agency, received_package) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    )
                    .bind(lp.uid.clone())
                    .bind(case_id)
                    .bind(role.as_str())
                    .bind(label)
                    .bind(country)
                    .bind(p.user_id)
                    .bind(now.clone())
                    .bind(source.clone())
                    .bind(sender.agency_id)
                    .bind(pkg.package_uid.clone())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?;
                    s.persons_added += 1;
                    id
                }
            };
            records.push(("person", lp.uid.clone(), person_id));
            let person_case: i64 = sqlx::query("SELECT case_id FROM persons WHERE id = $1")
                .bind(person_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("case_id")?;
            local_person.insert(lp.uid.as_str(), (person_id, person_case));
            for (i, ni) in idents {
                if let Some(id) = self.uid_held(&mut tx, "identifiers", &i.uid).await? {
                    s.identifiers_already_held += 1;
                    records.push(("identifier", i.uid.clone(), id));
                    continue;
                }
                // De-confliction: who else holds this value already.
                let others = sqlx::query(
                    "SELECT i.case_id, a.name FROM identifiers i JOIN cases c ON c.id = i.case_id \
                     JOIN agencies a ON a.id = c.agency_id \
                     WHERE i.normalized = $1 AND i.kind = $2 AND i.case_id <> $3",
                )
                .bind(ni.normalized.clone())
                .bind(ni.kind.as_str())
                .bind(person_case)
                .fetch_all(&mut *tx)
                .await?;
                for o in &others {
                    s.known_elsewhere.push(KnownElsewhere {
                        kind: ni.kind.as_str().to_string(),
                        value: ni.raw.clone(),
                        case_id: o.try_get("case_id")?,
                        agency: o.try_get("name")?,
                    });
                }
                let id: i64 = sqlx::query(
                    "INSERT INTO identifiers (uid, case_id, person_id, kind, raw, normalized, \
                     network, port, first_seen, last_seen, created_by, created_at, source, \
                     received_from_agency, received_package) VALUES ($1, $2, $3, $4, $5, $6, \
                     $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
                )
                .bind(i.uid.clone())
                .bind(person_case)
                .bind(person_id)
                .bind(ni.kind.as_str())
                .bind(ni.raw.clone())
                .bind(ni.normalized.clone())
                .bind(ni.network.clone())
                .bind(ni.port.map(i64::from))
                .bind(ni.first_seen.clone())
                .bind(ni.last_seen.clone())
                .bind(p.user_id)
                .bind(now.clone())
                .bind(source.clone())
                .bind(sender.agency_id)
                .bind(pkg.package_uid.clone())
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                s.identifiers_added += 1;
                records.push(("identifier", i.uid.clone(), id));
            }
            for (e, (kind, date, ecountry)) in events {
                if let Some(id) = self.uid_held(&mut tx, "events", &e.uid).await? {
                    s.events_already_held += 1;
                    records.push(("event", e.uid.clone(), id));
                    continue;
                }
                let id = self
                    .insert_received_event(
                        &mut tx,
                        p,
                        e,
                        kind,
                        &date,
                        &ecountry,
                        person_id,
                        person_case,
                        sender.agency_id,
                        &pkg.package_uid,
                        &source,
                    )
                    .await?;
                s.events_added += 1;
                records.push(("event", e.uid.clone(), id));
            }
        }
        for x in &chat {
            let Some(&(person_id, person_case)) = local_person.get(x.person_uid.as_str()) else {
                continue;
            };
            match self
                .insert_received_chat(&mut tx, p, x, person_id, person_case, &sender, pkg, &source)
                .await?
            {
                Some(id) => {
                    s.chat_excerpts_added += 1;
                    records.push(("chat_message", x.key.clone(), id));
                }
                None => s.chat_excerpts_already_held += 1,
            }
        }
        for x in &hashes {
            let Some(&(person_id, person_case)) = local_person.get(x.person_uid.as_str()) else {
                continue;
            };
            if let Some(id) = self
                .uid_held(&mut tx, "received_hash_matches", &x.key)
                .await?
            {
                s.hash_matches_already_held += 1;
                records.push(("hash_match", x.key.clone(), id));
                continue;
            }
            let id: i64 = sqlx::query(
                "INSERT INTO received_hash_matches (uid, case_id, person_id, device, kind, \
                 distance, md5, sha1, sha256, pdq, hash_set, category, series, matched_at, \
                 received_from_agency, received_package, created_by, created_at) VALUES ($1, $2, \
                 $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
                 RETURNING id",
            )
            .bind(x.key.clone())
            .bind(person_case)
            .bind(person_id)
            .bind(x.device.clone())
            .bind(x.kind.clone())
            .bind(i64::from(x.distance))
            .bind(x.md5.clone())
            .bind(x.sha1.clone())
            .bind(x.sha256.clone())
            .bind(x.pdq.clone())
            .bind(x.hash_set.clone())
            .bind(x.category.clone())
            .bind(x.series.clone())
            .bind(x.matched_at.clone())
            .bind(sender.agency_id)
            .bind(pkg.package_uid.clone())
            .bind(p.user_id)
            .bind(now.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            s.hash_matches_added += 1;
            records.push(("hash_match", x.key.clone(), id));
        }
        let summary = serde_json::json!({
            "chat_excerpts_added": s.chat_excerpts_added,
            "chat_excerpts_already_held": s.chat_excerpts_already_held,
            "hash_matches_added": s.hash_matches_added,
            "hash_matches_already_held": s.hash_matches_already_held,
            "persons_added": s.persons_added, "persons_already_held": s.persons_already_held,
            "identifiers_added": s.identifiers_added,
            "identifiers_already_held": s.identifiers_already_held,
            "events_added": s.events_added, "events_already_held": s.events_already_held,
            "known_elsewhere": s.known_elsewhere.len(),
        });
        s.package = self
            .insert_package(
                &mut tx,
                p,
                NewPackageRow {
                    package_uid: &pkg.package_uid,
                    kind: "leads",
                    direction: "received",
                    peer: sender.agency_id,
                    operation: Some(&operation),
                    in_reply_to: pkg.in_reply_to.as_deref(),
                    case_id: Some(case_id),
                    state: "imported",
                    summary: &summary,
                },
                &records,
            )
            .await?;
        self.log(
            &mut tx,
            p,
            "package.import",
            format!("package:{}", s.package.id),
            Some(case_id),
            Decision::Allow("packages"),
            serde_json::json!({"package": pkg.package_uid, "from": sender.agency,
                "summary": summary}),
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_received_event(
        &self,
        tx: &mut Tx,
        p: &Principal,
        e: &LeadEvent,
        kind: EventKind,
        date: &str,
        country: &str,
        person_id: i64,
        case_id: i64,
        agency_id: i64,
        package_uid: &str,
        source: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO events (uid, case_id, person_id, kind, date, country, agency_id, details, \
             created_by, created_at, source, received_from_agency, received_package) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $7, $12) RETURNING id",
        )
        .bind(e.uid.clone())
        .bind(case_id)
        .bind(person_id)
        .bind(kind.as_str())
        .bind(date.to_string())
        .bind(country.to_string())
        .bind(agency_id)
        .bind(e.details.clone())
        .bind(p.user_id)
        .bind(now_text())
        .bind(source.to_string())
        .bind(package_uid.to_string())
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?)
    }

    /// Stores one received chat excerpt in the person's case: its room
    /// (created if needed), the message keyed by the sender's event key (so
    /// a message carried twice is stored once), and for a message the person
    /// said, their handle as a participant. Returns the new message id, or
    /// `None` if the message was already held.
    #[allow(clippy::too_many_arguments)]
    async fn insert_received_chat(
        &self,
        tx: &mut Tx,
        p: &Principal,
        x: &ChatExcerpt,
        person_id: i64,
        case_id: i64,
        sender: &PartnerKey,
        pkg: &ReceivedPackage,
        source: &str,
    ) -> Result<Option<i64>, StoreError> {
        let network = x.network.clone().unwrap_or_default();
        let now = now_text();
        let room = sqlx::query(
            "SELECT id FROM chat_rooms WHERE case_id = $1 AND name = $2 AND network = $3",
        )
        .bind(case_id)
        .bind(x.room.clone())
        .bind(network.clone())
        .fetch_optional(&mut **tx)
        .await?;
        let room_id: i64 = match room {
            Some(r) => r.try_get("id")?,
            None => sqlx::query(
                "INSERT INTO chat_rooms (case_id, name, network, created_by, created_at, source) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(case_id)
            .bind(x.room.clone())
            .bind(network)
            .bind(p.user_id)
            .bind(now.clone())
            .bind(source.to_string())
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?,
        };
        if x.reason == "said" {
            sqlx::query(
                "INSERT INTO chat_participants (case_id, room_id, handle, person_id, source) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, handle) DO NOTHING",
            )
            .bind(case_id)
            .bind(room_id)
            .bind(vigil_chat::fold(&x.handle))
            .bind(person_id)
            .bind(source.to_string())
            .execute(&mut **tx)
            .await?;
        }
        let line = x.line.map(|l| format!(" line {l}")).unwrap_or_default();
        let row = sqlx::query(
            "INSERT INTO chat_messages (case_id, room_id, event_key, sent_at, handle, kind, text, \
             created_by, created_at, source, received_from_agency, received_package) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (case_id, event_key) DO NOTHING RETURNING id",
        )
        .bind(case_id)
        .bind(room_id)
        .bind(x.key.clone())
        .bind(x.time.clone())
        .bind(x.handle.clone())
        .bind(x.kind.clone())
        .bind(x.text.clone())
        .bind(p.user_id)
        .bind(now)
        .bind(format!("{source}{line}"))
        .bind(sender.agency_id)
        .bind(pkg.package_uid.clone())
        .fetch_optional(&mut **tx)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    async fn received_case(
        &self,
        tx: &mut Tx,
        p: &Principal,
        title: &str,
        operation: &str,
        source: &str,
    ) -> Result<i64, StoreError> {
        let existing = sqlx::query("SELECT id FROM cases WHERE title = $1 AND agency_id = $2")
            .bind(title.to_string())
            .bind(p.agency_id)
            .fetch_optional(&mut **tx)
            .await?;
        let now = now_text();
        let case_id = match existing {
            Some(r) => r.try_get("id")?,
            None => {
                let op = sqlx::query("SELECT id FROM operations WHERE name = $1")
                    .bind(operation.to_string())
                    .fetch_optional(&mut **tx)
                    .await?;
                let op_id: i64 = match op {
                    Some(r) => r.try_get("id")?,
                    None => sqlx::query(
                        "INSERT INTO operations (name, created_by, created_at) VALUES ($1, $2, $3) \
                         RETURNING id",
                    )
                    .bind(operation.to_string())
                    .bind(p.user_id)
                    .bind(now.clone())
                    .fetch_one(&mut **tx)
                    .await?
                    .try_get("id")?,
                };
                let id: i64 = sqlx::query(
                    "INSERT INTO cases (uid, title, operation_id, agency_id, release, created_by, \
                     created_at, source) VALUES ($1, $2, $3, $4, 'agency', $5, $6, $7) RETURNING id",
                )
                .bind(crate::new_uid())
                .bind(title.to_string())
                .bind(op_id)
                .bind(p.agency_id)
                .bind(p.user_id)
                .bind(now.clone())
                .bind(source.to_string())
                .fetch_one(&mut **tx)
                .await?
                .try_get("id")?;
                self.log(
                    tx,
                    p,
                    "case.create",
                    format!("case:{id}"),
                    Some(id),
                    Decision::Allow("package import"),
                    serde_json::json!({"title": title, "operation": operation}),
                )
                .await?;
                id
            }
        };
        sqlx::query(
            "INSERT INTO case_members (case_id, user_id, added_by, added_at) \
             SELECT $1, $2, $2, $3 WHERE NOT EXISTS \
             (SELECT 1 FROM case_members WHERE case_id = $1 AND user_id = $2)",
        )
        .bind(case_id)
        .bind(p.user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(case_id)
    }

    // ----- outcomes -------------------------------------------------------------------

    /// Builds an `outcomes` package for `agency_id`: the events this agency
    /// recorded on persons received from it that no earlier outcomes package
    /// carried.
    pub async fn build_outcomes<S, E>(
        &self,
        p: &Principal,
        agency_id: i64,
        package_uid: &str,
        seal: S,
    ) -> Result<BuiltPackage, StoreError>
    where
        S: FnOnce(&[u8]) -> Result<Vec<u8>, E>,
        E: std::fmt::Display,
    {
        self.require(p, Capability::Packages, "package.outcomes")
            .await?;
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        let peer = self.agency_by_id(&mut tx, agency_id).await?;
        let rows = sqlx::query(
            "SELECT DISTINCT e.id, pr.record_uid AS person_uid, k.package_uid \
             FROM events e JOIN persons ps ON ps.id = e.person_id \
             JOIN package_records pr ON pr.record_kind = 'person' AND pr.local_id = ps.id \
             JOIN packages k ON k.id = pr.package_id AND k.direction = 'received' \
                AND k.kind = 'leads' AND k.peer_agency_id = $1 \
             WHERE e.agency_id = $2 AND NOT EXISTS (SELECT 1 FROM package_records sr \
                JOIN packages sk ON sk.id = sr.package_id AND sk.direction = 'sent' \
                AND sk.kind = 'outcomes' WHERE sr.record_kind = 'event' AND sr.record_uid = e.uid) \
             ORDER BY e.id",
        )
        .bind(agency_id)
        .bind(p.agency_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut outcomes = Vec::new();
        let mut replies: Vec<String> = Vec::new();
        let mut records = Vec::new();
        let mut done: HashSet<i64> = HashSet::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            if !done.insert(id) {
                continue;
            }
            let e = self
                .events_where(&mut tx, "e.id = $1", id)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::not_found("event", id))?;
            let reply: String = r.try_get("package_uid")?;
            if !replies.contains(&reply) {
                replies.push(reply);
            }
            records.push(("event", e.uid.clone(), e.id));
            outcomes.push(OutcomeRecord {
                person_uid: r.try_get("person_uid")?,
                event: lead_event(&e),
            });
        }
        if outcomes.is_empty() {
            return Err(StoreError::Conflict(format!(
                "no new outcomes recorded on persons received from {}",
                peer.name
            )));
        }
        let payload = OutcomesPayload {
            version: CONTENT_VERSION,
            kind: "outcomes".into(),
            sender_agency: p.agency_name.clone(),
            recipient_agency: peer.name.clone(),
            created: now_text(),
            in_reply_to: replies.clone(),
            outcomes,
            sections: BTreeMap::new(),
        };
        let json = serde_json::to_vec(&payload)
            .map_err(|e| StoreError::Config(format!("cannot encode package content: {e}")))?;
        let bytes =
            seal(&json).map_err(|e| StoreError::Config(format!("cannot seal package: {e}")))?;
        let summary =
            serde_json::json!({"outcomes": payload.outcomes.len(), "in_reply_to": replies});
        let record = self
            .insert_package(
                &mut tx,
                p,
                NewPackageRow {
                    package_uid,
                    kind: "outcomes",
                    direction: "sent",
                    peer: peer.id,
                    operation: None,
                    in_reply_to: replies.first().map(String::as_str),
                    case_id: None,
                    state: "built",
                    summary: &summary,
                },
                &records,
            )
            .await?;
        self.log(
            &mut tx,
            p,
            "package.outcomes",
            format!("package:{}", record.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": package_uid, "to": peer.name,
                "events": records.iter().map(|r| r.2).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(BuiltPackage { record, bytes })
    }

    /// Imports a verified `outcomes` package: each event is attached to our
    /// original person (matched by uid), who must have been sent to the
    /// package's sender; the lead packages answered become
    /// `outcomes-received`. All or nothing.
    pub async fn import_outcomes(
        &self,
        p: &Principal,
        pkg: &ReceivedPackage,
        content: &OutcomesPayload,
    ) -> Result<ImportSummary, StoreError> {
        self.require(p, Capability::Packages, "package.import")
            .await?;
        check_header(content.version, &content.kind, "outcomes")?;
        check_sections(&content.sections)?;
        let mut checked = Vec::new();
        for o in &content.outcomes {
            check_uid("person_uid", &o.person_uid)?;
            checked.push((o, check_event(&o.event)?));
        }
        let mut tx = self.begin_write().await?;
        self.require_local(&mut tx, p).await?;
        self.refuse_replay(&mut tx, &pkg.package_uid).await?;
        let sender = self.sender_of(&mut tx, &pkg.sender_fingerprint).await?;
        if content.sender_agency != sender.agency || content.recipient_agency != p.agency_name {
            return Err(invalid(
                "recipient_agency",
                &content.recipient_agency,
                "content names another sender or recipient than the envelope",
            ));
        }
        let source = format!("package:{} from {}", pkg.package_uid, sender.agency);
        let mut added = 0;
        let mut held = 0;
        let mut records = Vec::new();
        let mut answered: Vec<i64> = Vec::new();
        for (o, (kind, date, country)) in checked {
            let row = sqlx::query(
                "SELECT ps.id, ps.case_id, pr.package_id FROM persons ps \
                 JOIN cases c ON c.id = ps.case_id AND c.agency_id = $2 \
                 JOIN package_records pr ON pr.record_kind = 'person' AND pr.local_id = ps.id \
                 JOIN packages k ON k.id = pr.package_id AND k.direction = 'sent' \
                    AND k.kind = 'leads' AND k.peer_agency_id = $3 \
                 WHERE ps.uid = $1 ORDER BY pr.package_id",
            )
            .bind(o.person_uid.clone())
            .bind(p.agency_id)
            .bind(sender.agency_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                invalid(
                    "person_uid",
                    &o.person_uid,
                    format!("is not a person of ours that was sent to {}", sender.agency),
                )
            })?;
            let (person_id, case_id, package_id): (i64, i64, i64) = (
                row.try_get("id")?,
                row.try_get("case_id")?,
                row.try_get("package_id")?,
            );
            if !answered.contains(&package_id) {
                answered.push(package_id);
            }
            if let Some(id) = self.uid_held(&mut tx, "events", &o.event.uid).await? {
                held += 1;
                records.push(("event", o.event.uid.clone(), id));
                continue;
            }
            let id = self
                .insert_received_event(
                    &mut tx,
                    p,
                    &o.event,
                    kind,
                    &date,
                    &country,
                    person_id,
                    case_id,
                    sender.agency_id,
                    &pkg.package_uid,
                    &source,
                )
                .await?;
            added += 1;
            records.push(("event", o.event.uid.clone(), id));
        }
        let now = now_text();
        for id in &answered {
            sqlx::query(
                "UPDATE packages SET state = 'outcomes-received', updated_at = $1, \
                 outcomes_received_at = COALESCE(outcomes_received_at, $1) WHERE id = $2",
            )
            .bind(now.clone())
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        let summary = serde_json::json!({"events_added": added, "events_already_held": held});
        let package = self
            .insert_package(
                &mut tx,
                p,
                NewPackageRow {
                    package_uid: &pkg.package_uid,
                    kind: "outcomes",
                    direction: "received",
                    peer: sender.agency_id,
                    operation: None,
                    in_reply_to: pkg.in_reply_to.as_deref(),
                    case_id: None,
                    state: "imported",
                    summary: &summary,
                },
                &records,
            )
            .await?;
        self.log(
            &mut tx,
            p,
            "package.import",
            format!("package:{}", package.id),
            None,
            Decision::Allow("packages"),
            serde_json::json!({"package": pkg.package_uid, "from": sender.agency, "summary": summary}),
        )
        .await?;
        tx.commit().await?;
        Ok(ImportSummary {
            package,
            events_added: added,
            events_already_held: held,
            ..Default::default()
        })
    }

    /// Outcome counts of an operation, per country and in total, over the
    /// persons of the operation's cases that `p` may read.
    ///
    /// Country rules: `suspects_identified` counts each suspect under the
    /// country entered for the person (`persons.country`), or `unknown`;
    /// every event-based count (arrested, charged, convicted, pending,
    /// deceased, children safeguarded) uses the **event's jurisdiction**
    /// (`events.country`), i.e. where the arrest or rescue happened. A person
    /// counts at most once per category and country; the total counts each
    /// person once per category (children safeguarded: once per event).
    pub async fn outcome_counts(
        &self,
        p: &Principal,
        operation: &str,
    ) -> Result<OperationOutcomes, StoreError> {
        self.require(p, Capability::ReadCase, "outcomes.read")
            .await?;
        let mut tx = self.begin_write().await?;
        let (op_id, op_name) = self.operation_id(&mut tx, operation).await?;
        let persons = self
            .persons_where(
                &mut tx,
                "p.merged_into IS NULL AND p.case_id IN \
                 (SELECT id FROM cases WHERE operation_id = $1)",
                op_id,
            )
            .await?;
        let mut by_country: BTreeMap<String, OutcomeCounts> = BTreeMap::new();
        let mut total = OutcomeCounts::default();
        let mut cache: HashMap<i64, crate::records::CaseAccess> = HashMap::new();
        for person in persons {
            if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(person.case_id) {
                e.insert(self.case_access(&mut tx, p, person.case_id).await?);
            }
            let Some(ca) = cache.get(&person.case_id) else {
                continue;
            };
            let scope: RecordScope<'_> = ca.scope(person.release.as_ref(), &ca.release);
            if !access::can_read(p, &scope).allowed() {
                continue;
            }
            let events = self.events_of(&mut tx, person.id).await?;
            let suspect = person.role == PersonRole::Suspect;
            if suspect {
                let c = person.country.clone().unwrap_or_else(|| "unknown".into());
                by_country.entry(c).or_default().suspects_identified += 1;
                total.suspects_identified += 1;
            }
            let mut per_cat: HashMap<&'static str, HashSet<String>> = HashMap::new();
            for e in &events {
                let cat = match e.kind {
                    EventKind::Arrest => "arrested",
                    EventKind::Charge => "charged",
                    EventKind::Conviction => "convicted",
                    EventKind::Death => "deceased",
                    EventKind::ChildSafeguarded => {
                        by_country
                            .entry(e.country.clone())
                            .or_default()
                            .children_safeguarded += 1;
                        total.children_safeguarded += 1;
                        continue;
                    }
                    _ => continue,
                };
                per_cat.entry(cat).or_default().insert(e.country.clone());
            }
            let resolved = events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Conviction | EventKind::Acquittal));
            if !resolved
                && let Some(charge) = events.iter().rev().find(|e| e.kind == EventKind::Charge)
            {
                per_cat
                    .entry("pending")
                    .or_default()
                    .insert(charge.country.clone());
            }
            for (cat, countries) in per_cat {
                let bump = |c: &mut OutcomeCounts| match cat {
                    "arrested" => c.arrested += 1,
                    "charged" => c.charged += 1,
                    "convicted" => c.convicted += 1,
                    "deceased" => c.deceased += 1,
                    _ => c.pending += 1,
                };
                for country in countries {
                    bump(by_country.entry(country).or_default());
                }
                bump(&mut total);
            }
        }
        self.log(
            &mut tx,
            p,
            "outcomes.read",
            format!("operation:{op_id}"),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"operation": op_name}),
        )
        .await?;
        tx.commit().await?;
        Ok(OperationOutcomes {
            operation: op_name,
            by_country,
            total,
        })
    }

    /// The outcomes dashboard: the same counts as [`Store::outcome_counts`]
    /// (same rules, so outcomes received back from partner agencies count
    /// the moment they are imported), over every readable person of the
    /// filtered operations, broken down by operation, country, agency and
    /// month.
    ///
    /// Dimensions: *country* follows [`Store::outcome_counts`] (a suspect's
    /// entered country, an event's jurisdiction); *agency* is the agency
    /// owning the case for `suspects_identified` and the agency that
    /// recorded the event for the event-based counts (so an arrest reported
    /// back by a partner is that partner's); *month* is when the suspect
    /// was recorded, or the event's date. A person counts at most once per
    /// category in each row and in the total (children safeguarded: once
    /// per event). The country and agency filters keep only the
    /// contributions in that country or by that agency.
    pub async fn outcome_dashboard(
        &self,
        p: &Principal,
        filter: &OutcomeFilter,
    ) -> Result<OutcomeDashboard, StoreError> {
        self.require(p, Capability::ReadCase, "outcomes.read")
            .await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT c.id, a.name AS agency, o.name AS operation FROM cases c \
             JOIN agencies a ON a.id = c.agency_id \
             LEFT JOIN operations o ON o.id = c.operation_id ORDER BY c.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut case_info: HashMap<i64, (String, Option<String>)> = HashMap::new();
        for r in &rows {
            case_info.insert(
                r.try_get("id")?,
                (r.try_get("agency")?, r.try_get("operation")?),
            );
        }
        let persons = self
            .persons_where(&mut tx, "p.merged_into IS NULL AND p.id > $1", 0)
            .await?;
        let wanted_op = filter.operation.as_deref().map(str::trim);
        let wanted_country = filter
            .country
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase());
        let wanted_agency = filter.agency.as_deref().map(str::trim);
        let mut out = OutcomeDashboard::default();
        let mut operations = std::collections::BTreeSet::new();
        let mut countries = std::collections::BTreeSet::new();
        let mut agencies = std::collections::BTreeSet::new();
        let mut cache: HashMap<i64, crate::records::CaseAccess> = HashMap::new();
        let mut counted: Vec<i64> = Vec::new();
        // Every event in one query rather than one per person: the dashboard
        // is the page officers open most.
        let mut events_by_person: HashMap<i64, Vec<Event>> = HashMap::new();
        for e in self.events_where(&mut tx, "e.id > $1", 0).await? {
            events_by_person.entry(e.person_id).or_default().push(e);
        }
        for person in persons {
            let Some((case_agency, op)) = case_info.get(&person.case_id) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(person.case_id) {
                e.insert(self.case_access(&mut tx, p, person.case_id).await?);
            }
            let Some(ca) = cache.get(&person.case_id) else {
                continue;
            };
            if !access::can_read(p, &ca.scope(person.release.as_ref(), &ca.release)).allowed() {
                continue;
            }
            let op = op.clone().unwrap_or_else(|| NO_OPERATION.to_string());
            operations.insert(op.clone());
            if wanted_op.is_some_and(|w| w != op) {
                continue;
            }
            let events = events_by_person.remove(&person.id).unwrap_or_default();
            let mark = |country: &str, agency: &str, date: &str| OutcomeMark {
                country: country.to_string(),
                agency: agency.to_string(),
                month: date.chars().take(7).collect(),
            };
            let mut units: Vec<(OutcomeCategory, Vec<OutcomeMark>)> = Vec::new();
            if person.role == PersonRole::Suspect {
                units.push((
                    OutcomeCategory::Suspect,
                    vec![mark(
                        person.country.as_deref().unwrap_or("unknown"),
                        case_agency,
                        &person.created_at,
                    )],
                ));
            }
            let mut per_cat: BTreeMap<OutcomeCategory, Vec<OutcomeMark>> = BTreeMap::new();
            for e in &events {
                let cat = match e.kind {
                    EventKind::Arrest => OutcomeCategory::Arrested,
                    EventKind::Charge => OutcomeCategory::Charged,
                    EventKind::Conviction => OutcomeCategory::Convicted,
                    EventKind::Death => OutcomeCategory::Deceased,
                    EventKind::ChildSafeguarded => {
                        units.push((
                            OutcomeCategory::Safeguarded,
                            vec![mark(&e.country, &e.agency, &e.date)],
                        ));
                        continue;
                    }
                    _ => continue,
                };
                per_cat
                    .entry(cat)
                    .or_default()
                    .push(mark(&e.country, &e.agency, &e.date));
            }
            let resolved = events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Conviction | EventKind::Acquittal));
            if !resolved
                && let Some(charge) = events.iter().rev().find(|e| e.kind == EventKind::Charge)
            {
                per_cat.insert(
                    OutcomeCategory::Pending,
                    vec![mark(&charge.country, &charge.agency, &charge.date)],
                );
            }
            units.extend(per_cat);
            let mut any = false;
            for (cat, marks) in units {
                for m in &marks {
                    countries.insert(m.country.clone());
                    agencies.insert(m.agency.clone());
                }
                let marks: Vec<OutcomeMark> = marks
                    .into_iter()
                    .filter(|m| wanted_country.as_deref().is_none_or(|w| m.country == w))
                    .filter(|m| wanted_agency.is_none_or(|w| m.agency == w))
                    .collect();
                if marks.is_empty() {
                    continue;
                }
                any = true;
                cat.bump(&mut out.total);
                cat.bump(out.by_operation.entry(op.clone()).or_default());
                let distinct = |f: fn(&OutcomeMark) -> &String| {
                    marks
                        .iter()
                        .map(f)
                        .cloned()
                        .collect::<std::collections::BTreeSet<String>>()
                };
                for c in distinct(|m| &m.country) {
                    cat.bump(out.by_country.entry(c).or_default());
                }
                for a in distinct(|m| &m.agency) {
                    cat.bump(out.by_agency.entry(a).or_default());
                }
                for m in distinct(|m| &m.month) {
                    cat.bump(out.by_month.entry(m).or_default());
                }
            }
            if any {
                counted.push(person.id);
            }
        }
        out.operations = operations.into_iter().collect();
        out.countries = countries.into_iter().collect();
        out.agencies = agencies.into_iter().collect();
        self.log(
            &mut tx,
            p,
            "outcomes.read",
            filter
                .operation
                .as_deref()
                .map_or("dashboard".into(), |o| format!("operation:{o}")),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"operation": filter.operation, "country": filter.country,
                "agency": filter.agency, "persons": counted}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }
}

struct NewPackageRow<'a> {
    package_uid: &'a str,
    kind: &'a str,
    direction: &'a str,
    peer: i64,
    operation: Option<&'a str>,
    in_reply_to: Option<&'a str>,
    case_id: Option<i64>,
    state: &'a str,
    summary: &'a serde_json::Value,
}

/// The dashboard's name for cases that belong to no operation.
pub const NO_OPERATION: &str = "(no operation)";

/// What the outcomes dashboard counts; `None` means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeFilter {
    /// An operation name ([`NO_OPERATION`] for cases outside any).
    pub operation: Option<String>,
    /// ISO 3166-1 alpha-2 (or `unknown`).
    pub country: Option<String>,
    /// An agency name.
    pub agency: Option<String>,
}

/// The outcomes dashboard's numbers; see [`Store::outcome_dashboard`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeDashboard {
    pub total: OutcomeCounts,
    pub by_operation: BTreeMap<String, OutcomeCounts>,
    pub by_country: BTreeMap<String, OutcomeCounts>,
    pub by_agency: BTreeMap<String, OutcomeCounts>,
    /// `YYYY-MM`.
    pub by_month: BTreeMap<String, OutcomeCounts>,
    /// Every operation, country and agency seen before filtering, for the
    /// filter choices.
    pub operations: Vec<String>,
    pub countries: Vec<String>,
    pub agencies: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum OutcomeCategory {
    Suspect,
    Arrested,
    Charged,
    Convicted,
    Pending,
    Deceased,
    Safeguarded,
}

impl OutcomeCategory {
    fn bump(self, c: &mut OutcomeCounts) {
        match self {
            Self::Suspect => c.suspects_identified += 1,
            Self::Arrested => c.arrested += 1,
            Self::Charged => c.charged += 1,
            Self::Convicted => c.convicted += 1,
            Self::Pending => c.pending += 1,
            Self::Deceased => c.deceased += 1,
            Self::Safeguarded => c.children_safeguarded += 1,
        }
    }
}

/// Where and by whom one contribution to a count happened.
struct OutcomeMark {
    country: String,
    agency: String,
    month: String,
}
