//! Identity resolution and de-confliction: exact links recorded the moment an
//! identifier is stored, scored candidate links between persons (computed by
//! `vigil-link`, stored with their evidence so decisions refer to stable
//! ids), merge and exact un-merge of persons, and alerts to both sides when
//! a second case or agency touches a known identifier.
//!
//! Why the alert keeps record ids rather than a copy of the other side's
//! record: whether the recipient may see the other record is decided when
//! the alert is *read*, by the same access rules as everything else, so a
//! later release upgrades a blind hit to a full one and nothing leaks before.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;
use vigil_domain::access;
use vigil_domain::{Capability, Decision, IdentifierKind, Principal, Release};
use vigil_link::{Evidence, LinkConfig, OtherItem, Profile};

use crate::records::{CaseAccess, Tx};
use crate::{Store, StoreError, now_text};

/// Another record holding the same normalised identifier, as the viewer may
/// see it: in full when readable, else only who holds it and whom to call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "visibility", rename_all = "kebab-case")]
pub enum Holder {
    Visible {
        record: String,
        raw: Option<String>,
        person_id: Option<i64>,
        person_label: Option<String>,
        case_id: i64,
        case_title: String,
        agency: String,
    },
    /// A blind hit: the agency, its country and contact line — never the
    /// record's content or ids.
    Blind {
        agency: String,
        country: String,
        contact: Option<String>,
    },
}

/// An exact link of one of a person's identifiers.
#[derive(Debug, Clone, Serialize)]
pub struct ExactLink {
    pub identifier_id: i64,
    pub kind: String,
    pub normalized: String,
    pub other: Holder,
}

/// A stored candidate link with its evidence and decision.
#[derive(Debug, Clone, Serialize)]
pub struct StoredCandidate {
    pub id: i64,
    pub person_a: CandidatePerson,
    pub person_b: CandidatePerson,
    pub score: f64,
    pub certain: bool,
    /// The two persons belong to different agencies: a de-confliction
    /// matter, never a merge.
    pub cross_agency: bool,
    pub status: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidatePerson {
    pub id: i64,
    pub label: String,
    pub case_id: i64,
    pub agency: String,
}

/// The outcome of accepting a candidate: who was merged into whom and how
/// many rows were re-pointed.
#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    pub candidate: Option<i64>,
    pub kept: i64,
    pub merged: i64,
    pub merge_id: i64,
    pub moved: BTreeMap<String, Vec<i64>>,
}

/// A de-confliction alert as its recipient sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub id: i64,
    pub created_at: String,
    pub read: bool,
    pub kind: String,
    pub value: String,
    /// The recipient's case the alert is about (none for a lookup).
    pub case_id: Option<i64>,
    /// The recipient's own record: `identifier:ID`, `person:ID` or `lookup`.
    pub own: String,
    /// What the other side did: `holds` a matching record or `looked-up`
    /// the value.
    pub other_action: String,
    pub other: Holder,
}

const MERGE_TABLES: [&str; 4] = ["identifiers", "events", "notes", "devices"];

fn key_part(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| x.to_string())
}

/// An identifier a lookup matched, with what de-confliction needs of it
/// (the lookup query already read it, so no second fetch).
pub(crate) struct LookupMatch {
    pub identifier_id: i64,
    pub case_id: i64,
    /// The agency holding the identifier's case.
    pub agency_id: i64,
    pub kind: String,
    pub normalized: String,
}

/// One side of a prospective alert.
struct Side {
    agency_id: i64,
    case_id: Option<i64>,
    record_type: &'static str,
    record_id: Option<i64>,
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

impl Store {
    // ----- hooks called from records.rs ------------------------------------

    /// Called by `add_identifier` in its transaction: records exact links to
    /// every other identifier with the same (kind, normalised value), in any
    /// case of any agency, and alerts both sides for each other case.
    pub(crate) async fn link_new_identifier(
        &self,
        tx: &mut Tx,
        p: &Principal,
        identifier_id: i64,
    ) -> Result<(), StoreError> {
        let me = sqlx::query(
            "SELECT i.case_id, i.kind, i.normalized, c.agency_id FROM identifiers i \
             JOIN cases c ON c.id = i.case_id WHERE i.id = $1",
        )
        .bind(identifier_id)
        .fetch_one(&mut **tx)
        .await?;
        let case_id: i64 = me.try_get("case_id")?;
        let kind: String = me.try_get("kind")?;
        let normalized: String = me.try_get("normalized")?;
        let agency_id: i64 = me.try_get("agency_id")?;
        let others = sqlx::query(
            "SELECT i.id, i.case_id, c.agency_id FROM identifiers i \
             JOIN cases c ON c.id = i.case_id \
             WHERE i.normalized = $1 AND i.kind = $2 AND i.id <> $3 ORDER BY i.id",
        )
        .bind(normalized.clone())
        .bind(kind.clone())
        .bind(identifier_id)
        .fetch_all(&mut **tx)
        .await?;
        let now = now_text();
        for row in &others {
            let other_id: i64 = row.try_get("id")?;
            let other_case: i64 = row.try_get("case_id")?;
            let other_agency: i64 = row.try_get("agency_id")?;
            sqlx::query(
                "INSERT INTO exact_links (identifier_id, other_identifier_id, kind, normalized, \
                 created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(identifier_id)
            .bind(other_id)
            .bind(kind.clone())
            .bind(normalized.clone())
            .bind(now.clone())
            .execute(&mut **tx)
            .await?;
            if other_case != case_id {
                let mine = Side {
                    agency_id,
                    case_id: Some(case_id),
                    record_type: "identifier",
                    record_id: Some(identifier_id),
                };
                let theirs = Side {
                    agency_id: other_agency,
                    case_id: Some(other_case),
                    record_type: "identifier",
                    record_id: Some(other_id),
                };
                self.raise_both(tx, p, &kind, &normalized, &mine, &theirs)
                    .await?;
            }
        }
        Ok(())
    }

    /// Called by `add_person`: a person's label is a handle, so a new person
    /// whose label another case already holds as a handle raises alerts.
    pub(crate) async fn link_new_person(
        &self,
        tx: &mut Tx,
        p: &Principal,
        person_id: i64,
    ) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT p.label, p.case_id, c.agency_id FROM persons p \
             JOIN cases c ON c.id = p.case_id WHERE p.id = $1",
        )
        .bind(person_id)
        .fetch_one(&mut **tx)
        .await?;
        let label: String = row.try_get("label")?;
        let case_id: i64 = row.try_get("case_id")?;
        let agency_id: i64 = row.try_get("agency_id")?;
        let kind = IdentifierKind::Handle;
        let Ok(normalized) = vigil_domain::normalize::normalize(kind, &label) else {
            return Ok(());
        };
        let others = sqlx::query(
            "SELECT i.id, i.case_id, c.agency_id FROM identifiers i \
             JOIN cases c ON c.id = i.case_id \
             WHERE i.normalized = $1 AND i.kind = $2 AND i.case_id <> $3 ORDER BY i.id",
        )
        .bind(normalized.clone())
        .bind(kind.as_str())
        .bind(case_id)
        .fetch_all(&mut **tx)
        .await?;
        for r in &others {
            let mine = Side {
                agency_id,
                case_id: Some(case_id),
                record_type: "person",
                record_id: Some(person_id),
            };
            let theirs = Side {
                agency_id: r.try_get("agency_id")?,
                case_id: Some(r.try_get("case_id")?),
                record_type: "identifier",
                record_id: Some(r.try_get("id")?),
            };
            self.raise_both(tx, p, kind.as_str(), &normalized, &mine, &theirs)
                .await?;
        }
        Ok(())
    }

    /// Called by `lookup_identifier` with the identifiers it matched: every
    /// holder in another agency learns that this agency looked the value up,
    /// and the looker gets an alert naming the holder (blind if unreadable).
    pub(crate) async fn link_lookup(
        &self,
        tx: &mut Tx,
        p: &Principal,
        matched: &[LookupMatch],
    ) -> Result<(), StoreError> {
        for m in matched {
            if m.agency_id == p.agency_id {
                continue;
            }
            let mine = Side {
                agency_id: p.agency_id,
                case_id: None,
                record_type: "lookup",
                record_id: None,
            };
            let theirs = Side {
                agency_id: m.agency_id,
                case_id: Some(m.case_id),
                record_type: "identifier",
                record_id: Some(m.identifier_id),
            };
            self.raise_both(tx, p, &m.kind, &m.normalized, &mine, &theirs)
                .await?;
        }
        Ok(())
    }

    async fn raise_both(
        &self,
        tx: &mut Tx,
        p: &Principal,
        kind: &str,
        normalized: &str,
        a: &Side,
        b: &Side,
    ) -> Result<(), StoreError> {
        self.raise_alert(tx, p, kind, normalized, a, b).await?;
        self.raise_alert(tx, p, kind, normalized, b, a).await
    }

    /// Inserts one alert unless one for the same recipient side and pair
    /// exists (the pair key makes a re-import or a second lookup silent).
    async fn raise_alert(
        &self,
        tx: &mut Tx,
        p: &Principal,
        kind: &str,
        normalized: &str,
        to: &Side,
        other: &Side,
    ) -> Result<(), StoreError> {
        let pair_key = format!(
            "{}/{}/{}/{}/{kind}/{normalized}",
            to.agency_id,
            key_part(to.case_id),
            other.agency_id,
            key_part(other.case_id)
        );
        let row = sqlx::query(
            "INSERT INTO alerts (pair_key, agency_id, case_id, kind, normalized, own_type, own_id, \
             other_type, other_id, other_agency_id, other_case_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (pair_key) DO NOTHING RETURNING id",
        )
        .bind(pair_key)
        .bind(to.agency_id)
        .bind(to.case_id)
        .bind(kind.to_string())
        .bind(normalized.to_string())
        .bind(to.record_type)
        .bind(to.record_id)
        .bind(other.record_type)
        .bind(other.record_id)
        .bind(other.agency_id)
        .bind(other.case_id)
        .bind(now_text())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            let id: i64 = row.try_get("id")?;
            self.log(
                tx,
                p,
                "alert.raise",
                format!("alert:{id}"),
                to.case_id,
                Decision::Allow("de-confliction"),
                serde_json::json!({"agency": to.agency_id, "kind": kind,
                    "own": format!("{}:{}", to.record_type, key_part(to.record_id)),
                    "other": format!("{}:{}", other.record_type, key_part(other.record_id))}),
            )
            .await?;
        }
        Ok(())
    }

    // ----- visibility helpers ----------------------------------------------

    async fn cached_access<'c>(
        &self,
        tx: &mut Tx,
        p: &Principal,
        cache: &'c mut HashMap<i64, CaseAccess>,
        case_id: i64,
    ) -> Result<&'c CaseAccess, StoreError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(case_id) {
            slot.insert(self.case_access(tx, p, case_id).await?);
        }
        cache
            .get(&case_id)
            .ok_or_else(|| StoreError::not_found("case", case_id))
    }

    async fn blind(&self, tx: &mut Tx, agency_id: i64) -> Result<Holder, StoreError> {
        let a = sqlx::query("SELECT name, country, contact FROM agencies WHERE id = $1")
            .bind(agency_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(Holder::Blind {
            agency: a.try_get("name")?,
            country: a.try_get("country")?,
            contact: a.try_get("contact")?,
        })
    }

    /// The other side of a link or alert as `p` may see it.
    async fn holder(
        &self,
        tx: &mut Tx,
        p: &Principal,
        cache: &mut HashMap<i64, CaseAccess>,
        record_type: &str,
        record_id: Option<i64>,
        agency_id: i64,
    ) -> Result<Holder, StoreError> {
        let Some(id) = record_id else {
            return self.blind(tx, agency_id).await;
        };
        let (case_id, raw, person_id, own_release) = match record_type {
            "identifier" => {
                let r = sqlx::query(
                    "SELECT case_id, raw, person_id, release FROM identifiers WHERE id = $1",
                )
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
                let rel: Option<String> = r.try_get("release")?;
                (
                    r.try_get::<i64, _>("case_id")?,
                    Some(r.try_get::<String, _>("raw")?),
                    r.try_get::<Option<i64>, _>("person_id")?,
                    rel,
                )
            }
            "person" => {
                let r = sqlx::query("SELECT case_id, release FROM persons WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
                (
                    r.try_get::<i64, _>("case_id")?,
                    None,
                    Some(id),
                    r.try_get::<Option<String>, _>("release")?,
                )
            }
            _ => return self.blind(tx, agency_id).await,
        };
        let person = match person_id {
            Some(pid) => Some(self.fetch_person(tx, pid).await?),
            None => None,
        };
        let own = match own_release {
            Some(r) => Some(Release::parse(&r)?),
            None => person.as_ref().and_then(|x| x.release.clone()),
        };
        let ca = self.cached_access(tx, p, cache, case_id).await?;
        if !access::can_read(p, &ca.scope(own.as_ref(), &ca.release)).allowed() {
            return self.blind(tx, agency_id).await;
        }
        let case = self.fetch_case(tx, case_id).await?;
        Ok(Holder::Visible {
            record: format!("{record_type}:{id}"),
            raw,
            person_id,
            person_label: person.map(|x| x.label),
            case_id,
            case_title: case.title,
            agency: case.agency,
        })
    }

    // ----- exact links -----------------------------------------------------

    /// The exact links of a person's identifiers, each other holder shown in
    /// full or as a blind hit.
    pub async fn exact_links(
        &self,
        p: &Principal,
        person_id: i64,
    ) -> Result<Vec<ExactLink>, StoreError> {
        let mut tx = self.begin_write().await?;
        let (person, ca, d) = self.person_access(&mut tx, p, person_id, false).await?;
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "person.exact-links",
                    format!("person:{person_id}"),
                    Some(ca.case_id),
                    d,
                    other,
                )
                .await;
        }
        let rows = sqlx::query(
            "SELECT l.identifier_id AS mine, l.other_identifier_id AS other, l.kind, l.normalized \
             FROM exact_links l JOIN identifiers i ON i.id = l.identifier_id \
             WHERE i.person_id = $1 \
             UNION \
             SELECT l.other_identifier_id AS mine, l.identifier_id AS other, l.kind, l.normalized \
             FROM exact_links l JOIN identifiers i ON i.id = l.other_identifier_id \
             WHERE i.person_id = $1 ORDER BY 1, 2",
        )
        .bind(person_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut cache = HashMap::new();
        let mut out = Vec::new();
        for r in &rows {
            let other: i64 = r.try_get("other")?;
            let agency: i64 = sqlx::query(
                "SELECT c.agency_id FROM identifiers i JOIN cases c ON c.id = i.case_id \
                 WHERE i.id = $1",
            )
            .bind(other)
            .fetch_one(&mut *tx)
            .await?
            .try_get("agency_id")?;
            out.push(ExactLink {
                identifier_id: r.try_get("mine")?,
                kind: r.try_get("kind")?,
                normalized: r.try_get("normalized")?,
                other: self
                    .holder(&mut tx, p, &mut cache, "identifier", Some(other), agency)
                    .await?,
            });
        }
        self.log(
            &mut tx,
            p,
            "person.exact-links",
            format!("person:{person_id}"),
            Some(person.case_id),
            d,
            serde_json::json!({"links": out.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    // ----- candidates ------------------------------------------------------

    /// Computes candidate links over every person `p` may read, stores them
    /// (updating scores and evidence, keeping decisions) and returns the
    /// stored candidates among readable persons, best first.
    pub async fn link_candidates(
        &self,
        p: &Principal,
        case_id: Option<i64>,
        min_score: Option<f64>,
    ) -> Result<Vec<StoredCandidate>, StoreError> {
        self.require(p, Capability::ReadCase, "link.candidates")
            .await?;
        let mut tx = self.begin_write().await?;
        let persons = self.persons_where(&mut tx, "p.id > $1", 0).await?;
        let mut cache = HashMap::new();
        // person id -> (label, case id, agency name, merged)
        let mut readable: HashMap<i64, CandidatePerson> = HashMap::new();
        let mut profiles: BTreeMap<i64, Profile> = BTreeMap::new();
        let mut person_release: HashMap<i64, Option<Release>> = HashMap::new();
        let mut agency_names: HashMap<i64, String> = HashMap::new();
        for person in &persons {
            let ca = self
                .cached_access(&mut tx, p, &mut cache, person.case_id)
                .await?;
            if !access::can_read(p, &ca.scope(person.release.as_ref(), &ca.release)).allowed() {
                continue;
            }
            let agency_id = ca.agency_id;
            let agency = match agency_names.get(&agency_id) {
                Some(a) => a.clone(),
                None => {
                    let name: String = sqlx::query("SELECT name FROM agencies WHERE id = $1")
                        .bind(agency_id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("name")?;
                    agency_names.insert(agency_id, name.clone());
                    name
                }
            };
            readable.insert(
                person.id,
                CandidatePerson {
                    id: person.id,
                    label: person.label.clone(),
                    case_id: person.case_id,
                    agency: agency.clone(),
                },
            );
            person_release.insert(person.id, person.release.clone());
            if person.merged_into.is_none() {
                let mut prof = Profile::new(person.id).handle(
                    &person.label,
                    &format!("person:{} ({})", person.id, person.source),
                );
                prof.agency = agency;
                prof.case_ids = vec![person.case_id.to_string()];
                profiles.insert(person.id, prof);
            }
        }
        let idents = sqlx::query(
            "SELECT id, case_id, person_id, kind, raw, network, port, first_seen, last_seen, \
             release, source FROM identifiers WHERE person_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &idents {
            let pid: i64 = r.try_get("person_id")?;
            let Some(prof) = profiles.get_mut(&pid) else {
                continue;
            };
            let case: i64 = r.try_get("case_id")?;
            let rel: Option<String> = r.try_get("release")?;
            let own = match rel {
                Some(x) => Some(Release::parse(&x)?),
                None => person_release.get(&pid).cloned().flatten(),
            };
            let ca = self.cached_access(&mut tx, p, &mut cache, case).await?;
            if !access::can_read(p, &ca.scope(own.as_ref(), &ca.release)).allowed() {
                continue;
            }
            let id: i64 = r.try_get("id")?;
            let src: String = r.try_get("source")?;
            let source = format!("identifier:{id} ({src})");
            let kind: String = r.try_get("kind")?;
            let raw: String = r.try_get("raw")?;
            let Some(kind) = IdentifierKind::parse(&kind) else {
                continue;
            };
            match kind {
                IdentifierKind::Handle => {
                    let network: Option<String> = r.try_get("network")?;
                    prof.handles.push(vigil_link::HandleItem {
                        raw,
                        network,
                        source,
                    });
                }
                IdentifierKind::Email => prof.emails.push(vigil_link::EmailItem { raw, source }),
                IdentifierKind::Ip => {
                    let first: Option<String> = r.try_get("first_seen")?;
                    let last: Option<String> = r.try_get("last_seen")?;
                    let port: Option<i64> = r.try_get("port")?;
                    let first = first.as_deref().and_then(parse_time);
                    let last = last.as_deref().and_then(parse_time);
                    let window = match (first, last) {
                        (Some(a), Some(b)) => Some(vigil_domain::normalize::TimeWindow::new(a, b)),
                        (Some(a), None) | (None, Some(a)) => {
                            Some(vigil_domain::normalize::TimeWindow::new(a, a))
                        }
                        (None, None) => None,
                    };
                    match (raw.trim().parse::<std::net::IpAddr>(), window) {
                        (Ok(ip), Some(window)) => prof.ips.push(vigil_link::IpItem {
                            ip,
                            port: port.and_then(|x| u16::try_from(x).ok()),
                            window,
                            source,
                        }),
                        // an address without a time is not an IP sighting
                        // the linker can weigh; it still links exactly
                        _ => prof.others.push(OtherItem {
                            kind,
                            value: raw,
                            source,
                        }),
                    }
                }
                _ => prof.others.push(OtherItem {
                    kind,
                    value: raw,
                    source,
                }),
            }
        }
        self.chat_evidence(&mut tx, &mut profiles).await?;
        let profiles: Vec<Profile> = profiles.into_values().collect();
        let report = vigil_link::link(&profiles, LinkConfig::default());
        let now = now_text();
        for c in &report.candidates {
            let evidence = serde_json::to_string(&c.evidence)
                .map_err(|e| StoreError::Config(format!("evidence JSON: {e}")))?;
            let updated = sqlx::query(
                "UPDATE link_candidates SET score = $1, certain = $2, evidence = $3, \
                 updated_at = $4 WHERE person_a = $5 AND person_b = $6",
            )
            .bind(c.score)
            .bind(i64::from(c.certain))
            .bind(evidence.clone())
            .bind(now.clone())
            .bind(c.a)
            .bind(c.b)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                sqlx::query(
                    "INSERT INTO link_candidates (person_a, person_b, score, certain, evidence, \
                     status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)",
                )
                .bind(c.a)
                .bind(c.b)
                .bind(c.score)
                .bind(i64::from(c.certain))
                .bind(evidence)
                .bind(now.clone())
                .execute(&mut *tx)
                .await?;
            }
        }
        let rows = sqlx::query(
            "SELECT l.id, l.person_a, l.person_b, l.score, l.certain, l.evidence, l.status, \
             l.note, u.name AS decided_by, l.decided_at FROM link_candidates l \
             LEFT JOIN users u ON u.id = l.decided_by ORDER BY l.score DESC, l.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let a: i64 = r.try_get("person_a")?;
            let b: i64 = r.try_get("person_b")?;
            let (Some(pa), Some(pb)) = (readable.get(&a), readable.get(&b)) else {
                continue;
            };
            if let Some(c) = case_id
                && pa.case_id != c
                && pb.case_id != c
            {
                continue;
            }
            let score: f64 = r.try_get("score")?;
            if min_score.is_some_and(|m| score < m) {
                continue;
            }
            let evidence: String = r.try_get("evidence")?;
            out.push(StoredCandidate {
                id: r.try_get("id")?,
                cross_agency: pa.agency != pb.agency,
                person_a: pa.clone(),
                person_b: pb.clone(),
                score,
                certain: r.try_get::<i64, _>("certain")? != 0,
                status: r.try_get("status")?,
                note: r.try_get("note")?,
                decided_by: r.try_get("decided_by")?,
                decided_at: r.try_get("decided_at")?,
                evidence: serde_json::from_str(&evidence)
                    .map_err(|e| StoreError::Config(format!("stored evidence JSON: {e}")))?,
            });
        }
        self.log(
            &mut tx,
            p,
            "link.candidates",
            case_id.map_or("persons".into(), |c| format!("case:{c}")),
            case_id,
            Decision::Allow("read-case"),
            serde_json::json!({"profiles": profiles.len(),
                "returned": out.iter().map(|c| c.id).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Room presences and nick changes from imported chat logs, when the
    /// chat schema (migration 5) is present: a nick change seen in a room
    /// goes to every person holding the old or the new nick there.
    async fn chat_evidence(
        &self,
        tx: &mut Tx,
        profiles: &mut BTreeMap<i64, Profile>,
    ) -> Result<(), StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM vigil_schema WHERE version = 5")
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        if n == 0 {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT p.id, p.room_id, p.handle, p.person_id, p.first_seen, p.last_seen, p.source, \
             r.name, r.network FROM chat_participants p JOIN chat_rooms r ON r.id = p.room_id \
             WHERE p.person_id IS NOT NULL ORDER BY p.id",
        )
        .fetch_all(&mut **tx)
        .await?;
        let mut holders: HashMap<(i64, String), Vec<i64>> = HashMap::new();
        for r in &rows {
            let pid: i64 = r.try_get("person_id")?;
            let Some(prof) = profiles.get_mut(&pid) else {
                continue;
            };
            let room_id: i64 = r.try_get("room_id")?;
            let handle: String = r.try_get("handle")?;
            holders
                .entry((room_id, handle.to_lowercase()))
                .or_default()
                .push(pid);
            let first: Option<String> = r.try_get("first_seen")?;
            let last: Option<String> = r.try_get("last_seen")?;
            let (Some(a), Some(b)) = (
                first.as_deref().and_then(parse_time),
                last.as_deref().and_then(parse_time),
            ) else {
                continue;
            };
            let name: String = r.try_get("name")?;
            let network: String = r.try_get("network")?;
            let id: i64 = r.try_get("id")?;
            let src: String = r.try_get("source")?;
            prof.rooms.push(vigil_link::RoomItem {
                room: format!("{network}/{name}"),
                window: vigil_domain::normalize::TimeWindow::new(a, b),
                source: format!("chat_participant:{id} ({src})"),
            });
        }
        let facts = sqlx::query(
            "SELECT id, room_id, detail, source FROM chat_room_facts \
             WHERE kind = 'nick_change' ORDER BY id",
        )
        .fetch_all(&mut **tx)
        .await?;
        for f in &facts {
            let detail: String = f.try_get("detail")?;
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&detail) else {
                continue;
            };
            let (Some(old), Some(new)) = (v["old"].as_str(), v["new"].as_str()) else {
                continue;
            };
            let room_id: i64 = f.try_get("room_id")?;
            let id: i64 = f.try_get("id")?;
            let src: String = f.try_get("source")?;
            let source = format!("chat_room_fact:{id} ({src})");
            let mut persons: Vec<i64> = Vec::new();
            for h in [old, new] {
                if let Some(ps) = holders.get(&(room_id, h.to_lowercase())) {
                    persons.extend(ps);
                }
            }
            persons.sort_unstable();
            persons.dedup();
            // The holders of the two nicks in this room are who changed
            // nick: certain, whoever else elsewhere uses the same names.
            for &pid in &persons {
                if let Some(prof) = profiles.get_mut(&pid) {
                    prof.nick_changes.push(vigil_link::NickChange {
                        old: old.to_string(),
                        new: new.to_string(),
                        network: None,
                        source: source.clone(),
                        holders: persons.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    async fn open_candidate(
        &self,
        tx: &mut Tx,
        candidate_id: i64,
    ) -> Result<(i64, i64, serde_json::Value), StoreError> {
        let r = sqlx::query(
            "SELECT person_a, person_b, status, note, decided_by, decided_at, updated_at \
             FROM link_candidates WHERE id = $1",
        )
        .bind(candidate_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("candidate", candidate_id))?;
        let status: String = r.try_get("status")?;
        if status != "open" {
            return Err(StoreError::Conflict(format!(
                "candidate {candidate_id} is already {status}"
            )));
        }
        let prior = serde_json::json!({
            "status": status,
            "note": r.try_get::<Option<String>, _>("note")?,
            "decided_by": r.try_get::<Option<i64>, _>("decided_by")?,
            "decided_at": r.try_get::<Option<String>, _>("decided_at")?,
            "updated_at": r.try_get::<String, _>("updated_at")?,
        });
        Ok((r.try_get("person_a")?, r.try_get("person_b")?, prior))
    }

    /// Both persons of a decision, each checked for `write` (or read).
    async fn decision_access(
        &self,
        tx: Tx,
        p: &Principal,
        action: &str,
        ids: [i64; 2],
        write: bool,
    ) -> Result<(Tx, [CaseAccess; 2], [crate::Person; 2]), StoreError> {
        let mut tx = tx;
        let (pa, ca_a, da) = self.person_access(&mut tx, p, ids[0], write).await?;
        let (pb, ca_b, db) = self.person_access(&mut tx, p, ids[1], write).await?;
        for (d, ca, id) in [(da, &ca_a, ids[0]), (db, &ca_b, ids[1])] {
            if !d.allowed() {
                let other = ca.agency_id != p.agency_id;
                return self
                    .refuse(
                        tx,
                        p,
                        action,
                        format!("person:{id}"),
                        Some(ca.case_id),
                        d,
                        other,
                    )
                    .await;
            }
        }
        Ok((tx, [ca_a, ca_b], [pa, pb]))
    }

    /// Accepts a candidate: merges the newer person (`b`) into the older
    /// (`a`) with full history. Refused across agencies.
    pub async fn accept_candidate(
        &self,
        p: &Principal,
        candidate_id: i64,
        note: Option<&str>,
    ) -> Result<MergeOutcome, StoreError> {
        self.require(p, Capability::WriteCase, "link.accept")
            .await?;
        let mut tx = self.begin_write().await?;
        let (a, b, prior) = self.open_candidate(&mut tx, candidate_id).await?;
        let (mut tx, [ca_a, ca_b], [pa, pb]) = self
            .decision_access(tx, p, "link.accept", [a, b], true)
            .await?;
        if ca_a.agency_id != ca_b.agency_id {
            return Err(StoreError::Conflict(format!(
                "candidate {candidate_id} links persons of two agencies: that is a \
                 de-confliction matter between the agencies, not a merge"
            )));
        }
        if pa.merged_into.is_some() || pb.merged_into.is_some() {
            return Err(StoreError::Conflict(format!(
                "candidate {candidate_id}: one of the persons is already merged"
            )));
        }
        let now = now_text();
        let mut moved: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for t in MERGE_TABLES {
            let ids = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM {t} WHERE person_id = $1 ORDER BY id"
            )))
            .bind(b)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<Vec<_>, _>>()?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {t} SET person_id = $1 WHERE person_id = $2"
            )))
            .bind(a)
            .bind(b)
            .execute(&mut *tx)
            .await?;
            moved.insert(t.to_string(), ids);
        }
        sqlx::query("UPDATE persons SET merged_into = $1 WHERE id = $2")
            .bind(a)
            .bind(b)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE link_candidates SET status = 'accepted', note = $1, decided_by = $2, \
             decided_at = $3, updated_at = $3 WHERE id = $4",
        )
        .bind(note.map(str::to_string))
        .bind(p.user_id)
        .bind(now.clone())
        .bind(candidate_id)
        .execute(&mut *tx)
        .await?;
        let moved_json = serde_json::to_string(&moved)
            .map_err(|e| StoreError::Config(format!("merge JSON: {e}")))?;
        let merge_id: i64 = sqlx::query(
            "INSERT INTO person_merges (merged_person, into_person, candidate_id, moved, \
             prior_candidate, merged_by, merged_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id",
        )
        .bind(b)
        .bind(a)
        .bind(candidate_id)
        .bind(moved_json)
        .bind(prior.to_string())
        .bind(p.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(
            &mut tx,
            p,
            "link.accept",
            format!("candidate:{candidate_id}"),
            Some(pa.case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"note": note, "kept": a, "merged": b, "merge": merge_id,
                "moved": moved}),
        )
        .await?;
        tx.commit().await?;
        Ok(MergeOutcome {
            candidate: Some(candidate_id),
            kept: a,
            merged: b,
            merge_id,
            moved,
        })
    }

    /// Rejects a candidate; the decision is kept across re-runs.
    pub async fn reject_candidate(
        &self,
        p: &Principal,
        candidate_id: i64,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.require(p, Capability::WriteCase, "link.reject")
            .await?;
        let mut tx = self.begin_write().await?;
        let (a, b, _) = self.open_candidate(&mut tx, candidate_id).await?;
        let (mut tx, [ca_a, _], _) = self
            .decision_access(tx, p, "link.reject", [a, b], false)
            .await?;
        sqlx::query(
            "UPDATE link_candidates SET status = 'rejected', note = $1, decided_by = $2, \
             decided_at = $3, updated_at = $3 WHERE id = $4",
        )
        .bind(note.map(str::to_string))
        .bind(p.user_id)
        .bind(now_text())
        .bind(candidate_id)
        .execute(&mut *tx)
        .await?;
        self.log(
            &mut tx,
            p,
            "link.reject",
            format!("candidate:{candidate_id}"),
            Some(ca_a.case_id),
            Decision::Allow("read-case"),
            serde_json::json!({"note": note, "a": a, "b": b}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Undoes the latest merge of `person_id` into another person: every
    /// re-pointed row goes back, `merged_into` is cleared and the
    /// candidate's prior state is restored, so the records are exactly as
    /// before the merge (the merge history keeps both events).
    pub async fn unmerge_person(
        &self,
        p: &Principal,
        person_id: i64,
    ) -> Result<MergeOutcome, StoreError> {
        self.require(p, Capability::WriteCase, "person.unmerge")
            .await?;
        let mut tx = self.begin_write().await?;
        let m = sqlx::query(
            "SELECT id, into_person, candidate_id, moved, prior_candidate FROM person_merges \
             WHERE merged_person = $1 AND undone_at IS NULL ORDER BY id DESC",
        )
        .bind(person_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(m) = m else {
            // probe the person first so another agency's id reads "not found"
            let (_, ca, d) = self.person_access(&mut tx, p, person_id, false).await?;
            if !d.allowed() {
                let other = ca.agency_id != p.agency_id;
                return self
                    .refuse(
                        tx,
                        p,
                        "person.unmerge",
                        format!("person:{person_id}"),
                        Some(ca.case_id),
                        d,
                        other,
                    )
                    .await;
            }
            return Err(StoreError::Conflict(format!(
                "person {person_id} is not merged into anyone"
            )));
        };
        let merge_id: i64 = m.try_get("id")?;
        let into: i64 = m.try_get("into_person")?;
        let (mut tx, _, [pb, _]) = self
            .decision_access(tx, p, "person.unmerge", [person_id, into], true)
            .await?;
        let moved_text: String = m.try_get("moved")?;
        let moved: BTreeMap<String, Vec<i64>> = serde_json::from_str(&moved_text)
            .map_err(|e| StoreError::Config(format!("merge history JSON: {e}")))?;
        for (t, ids) in &moved {
            let Some(table) = MERGE_TABLES.iter().find(|x| **x == t.as_str()) else {
                return Err(StoreError::Config(format!(
                    "merge history names unknown table {t}"
                )));
            };
            for id in ids {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET person_id = $1 WHERE id = $2 AND person_id = $3"
                )))
                .bind(person_id)
                .bind(*id)
                .bind(into)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE persons SET merged_into = NULL WHERE id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        let candidate: Option<i64> = m.try_get("candidate_id")?;
        let prior: Option<String> = m.try_get("prior_candidate")?;
        if let (Some(cid), Some(prior)) = (candidate, prior) {
            let v: serde_json::Value = serde_json::from_str(&prior)
                .map_err(|e| StoreError::Config(format!("merge history JSON: {e}")))?;
            sqlx::query(
                "UPDATE link_candidates SET status = $1, note = $2, decided_by = $3, \
                 decided_at = $4, updated_at = $5 WHERE id = $6",
            )
            .bind(v["status"].as_str().unwrap_or("open").to_string())
            .bind(v["note"].as_str().map(str::to_string))
            .bind(v["decided_by"].as_i64())
            .bind(v["decided_at"].as_str().map(str::to_string))
            .bind(v["updated_at"].as_str().unwrap_or_default().to_string())
            .bind(cid)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE person_merges SET undone_by = $1, undone_at = $2 WHERE id = $3")
            .bind(p.user_id)
            .bind(now_text())
            .bind(merge_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "person.unmerge",
            format!("person:{person_id}"),
            Some(pb.case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"from": into, "merge": merge_id, "moved": moved}),
        )
        .await?;
        tx.commit().await?;
        Ok(MergeOutcome {
            candidate,
            kept: into,
            merged: person_id,
            merge_id,
            moved,
        })
    }

    // ----- alerts ----------------------------------------------------------

    /// The de-confliction alerts addressed to `p`'s agency (and, for
    /// case-bound alerts, to cases `p` may read).
    pub async fn alerts(&self, p: &Principal, unread_only: bool) -> Result<Vec<Alert>, StoreError> {
        self.require(p, Capability::ReadCase, "alert.list").await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, case_id, kind, normalized, own_type, own_id, other_type, other_id, \
             other_agency_id, created_at, read_at FROM alerts WHERE agency_id = $1 ORDER BY id",
        )
        .bind(p.agency_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut cache = HashMap::new();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for r in &rows {
            let read_at: Option<String> = r.try_get("read_at")?;
            if unread_only && read_at.is_some() {
                continue;
            }
            let case_id: Option<i64> = r.try_get("case_id")?;
            if let Some(c) = case_id {
                let ca = self.cached_access(&mut tx, p, &mut cache, c).await?;
                if !access::can_read(p, &ca.scope(None, &ca.release)).allowed() {
                    continue;
                }
            }
            let own_type: String = r.try_get("own_type")?;
            let own_id: Option<i64> = r.try_get("own_id")?;
            let other_type: String = r.try_get("other_type")?;
            let other_id: Option<i64> = r.try_get("other_id")?;
            let other_agency: i64 = r.try_get("other_agency_id")?;
            let other = self
                .holder(&mut tx, p, &mut cache, &other_type, other_id, other_agency)
                .await?;
            let id: i64 = r.try_get("id")?;
            seen.insert(id);
            out.push(Alert {
                id,
                created_at: r.try_get("created_at")?,
                read: read_at.is_some(),
                kind: r.try_get("kind")?,
                value: r.try_get("normalized")?,
                case_id,
                own: match own_id {
                    Some(i) => format!("{own_type}:{i}"),
                    None => own_type,
                },
                other_action: if other_type == "lookup" {
                    "looked-up".into()
                } else {
                    "holds".into()
                },
                other,
            });
        }
        self.log(
            &mut tx,
            p,
            "alert.list",
            "alerts".into(),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"returned": seen.into_iter().collect::<std::collections::BTreeSet<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Marks an alert of `p`'s agency read.
    pub async fn read_alert(&self, p: &Principal, alert_id: i64) -> Result<(), StoreError> {
        self.require(p, Capability::ReadCase, "alert.read").await?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT agency_id, case_id FROM alerts WHERE id = $1")
            .bind(alert_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found("alert", alert_id));
        };
        let agency: i64 = row.try_get("agency_id")?;
        let case_id: Option<i64> = row.try_get("case_id")?;
        if agency != p.agency_id {
            return self
                .refuse(
                    tx,
                    p,
                    "alert.read",
                    format!("alert:{alert_id}"),
                    None,
                    Decision::Deny("another agency's alert"),
                    true,
                )
                .await;
        }
        sqlx::query("UPDATE alerts SET read_at = $1, read_by = $2 WHERE id = $3")
            .bind(now_text())
            .bind(p.user_id)
            .bind(alert_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "alert.read",
            format!("alert:{alert_id}"),
            case_id,
            Decision::Allow("own agency"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
