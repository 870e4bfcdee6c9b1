//! Agencies, users, operations, cases, persons, identifiers, events, notes
//! and devices: create, read, update, list — each call authorised and
//! audited.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use vigil_domain::access::{self, RecordScope};
use vigil_domain::records::{format_date, parse_name, parse_text, parse_user_name};
use vigil_domain::{
    Capability, Decision, IdentifierKind, NewEvent, NewIdentifier, NewPerson, PersonRole,
    Principal, Release, Role, ValidationError, country::parse_country,
};

use crate::audit::{self, AuditRecord};
use crate::links::LookupMatch;
use crate::{Store, StoreError, new_uid, now_text};

pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

fn flag(row: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Agency {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub country: String,
    pub contact: Option<String>,
    /// The agency this instance belongs to (as opposed to a registered partner).
    pub is_local: bool,
    pub created_at: String,
}

impl Agency {
    const COLUMNS: &'static str = "id, uid, name, country, contact, is_local, created_at";

    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Agency {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            name: r.try_get("name")?,
            country: r.try_get("country")?,
            contact: r.try_get("contact")?,
            is_local: flag(r, "is_local")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub agency_id: i64,
    pub agency: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub created_at: String,
}

impl User {
    const SELECT: &'static str = "SELECT u.id, u.name, u.agency_id, a.name AS agency, u.roles, \
        u.disabled, u.created_at FROM users u JOIN agencies a ON a.id = u.agency_id";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        let roles: String = r.try_get("roles")?;
        Ok(User {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            agency_id: r.try_get("agency_id")?,
            agency: r.try_get("agency")?,
            roles: Role::parse_list(&roles)?,
            disabled: flag(r, "disabled")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Case {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub operation_id: Option<i64>,
    pub operation: Option<String>,
    pub agency_id: i64,
    pub agency: String,
    pub release: Release,
    pub retention_until: Option<String>,
    /// The legal basis for keeping the case's data until `retention_until`.
    pub retention_basis: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl Case {
    const SELECT: &'static str = "SELECT c.id, c.uid, c.title, c.operation_id, o.name AS operation, \
        c.agency_id, a.name AS agency, c.release, c.retention_until, c.retention_basis, u.name AS created_by, \
        c.created_at, c.source FROM cases c JOIN agencies a ON a.id = c.agency_id \
        JOIN users u ON u.id = c.created_by LEFT JOIN operations o ON o.id = c.operation_id";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        let release: String = r.try_get("release")?;
        Ok(Case {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            title: r.try_get("title")?,
            operation_id: r.try_get("operation_id")?,
            operation: r.try_get("operation")?,
            agency_id: r.try_get("agency_id")?,
            agency: r.try_get("agency")?,
            release: Release::parse(&release)?,
            retention_until: r.try_get("retention_until")?,
            retention_basis: r.try_get("retention_basis")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            source: r.try_get("source")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub role: PersonRole,
    pub label: String,
    pub country: Option<String>,
    /// The person's own marking; `None` means the case's marking applies.
    pub release: Option<Release>,
    pub merged_into: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl Person {
    const SELECT: &'static str = "SELECT p.id, p.uid, p.case_id, p.role, p.label, p.country, \
        p.release, p.merged_into, u.name AS created_by, p.created_at, p.source \
        FROM persons p JOIN users u ON u.id = p.created_by";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        let role: String = r.try_get("role")?;
        let release: Option<String> = r.try_get("release")?;
        Ok(Person {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            case_id: r.try_get("case_id")?,
            role: PersonRole::parse("role", &role)?,
            label: r.try_get("label")?,
            country: r.try_get("country")?,
            release: release.as_deref().map(Release::parse).transpose()?,
            merged_into: r.try_get("merged_into")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            source: r.try_get("source")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Identifier {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub person_id: Option<i64>,
    pub kind: IdentifierKind,
    pub raw: String,
    pub normalized: String,
    pub network: Option<String>,
    pub port: Option<i64>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub release: Option<Release>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl Identifier {
    const SELECT: &'static str = "SELECT i.id, i.uid, i.case_id, i.person_id, i.kind, i.raw, \
        i.normalized, i.network, i.port, i.first_seen, i.last_seen, i.release, \
        u.name AS created_by, i.created_at, i.source FROM identifiers i \
        JOIN users u ON u.id = i.created_by";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        let kind: String = r.try_get("kind")?;
        let release: Option<String> = r.try_get("release")?;
        Ok(Identifier {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            case_id: r.try_get("case_id")?,
            person_id: r.try_get("person_id")?,
            kind: IdentifierKind::parse(&kind)
                .ok_or_else(|| ValidationError::new("kind", &kind, "unknown identifier kind"))?,
            raw: r.try_get("raw")?,
            normalized: r.try_get("normalized")?,
            network: r.try_get("network")?,
            port: r.try_get("port")?,
            first_seen: r.try_get("first_seen")?,
            last_seen: r.try_get("last_seen")?,
            release: release.as_deref().map(Release::parse).transpose()?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            source: r.try_get("source")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub person_id: i64,
    pub kind: vigil_domain::EventKind,
    pub date: String,
    pub country: String,
    pub agency_id: i64,
    pub agency: String,
    pub details: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl Event {
    const SELECT: &'static str = "SELECT e.id, e.uid, e.case_id, e.person_id, e.kind, e.date, \
        e.country, e.agency_id, a.name AS agency, e.details, u.name AS created_by, e.created_at, \
        e.source FROM events e JOIN users u ON u.id = e.created_by \
        JOIN agencies a ON a.id = e.agency_id";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        let kind: String = r.try_get("kind")?;
        Ok(Event {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            case_id: r.try_get("case_id")?,
            person_id: r.try_get("person_id")?,
            kind: vigil_domain::EventKind::parse("kind", &kind)?,
            date: r.try_get("date")?,
            country: r.try_get("country")?,
            agency_id: r.try_get("agency_id")?,
            agency: r.try_get("agency")?,
            details: r.try_get("details")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            source: r.try_get("source")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub case_id: i64,
    pub person_id: Option<i64>,
    pub body: String,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl Note {
    const SELECT: &'static str = "SELECT n.id, n.case_id, n.person_id, n.body, \
        u.name AS created_by, n.created_at, n.source FROM notes n \
        JOIN users u ON u.id = n.created_by";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        Ok(Note {
            id: r.try_get("id")?,
            case_id: r.try_get("case_id")?,
            person_id: r.try_get("person_id")?,
            body: r.try_get("body")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            source: r.try_get("source")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub person_id: Option<i64>,
    pub label: String,
    pub description: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl Device {
    const SELECT: &'static str = "SELECT d.id, d.uid, d.case_id, d.person_id, d.label, \
        d.description, u.name AS created_by, d.created_at, d.source FROM devices d \
        JOIN users u ON u.id = d.created_by";

    fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        Ok(Device {
            id: r.try_get("id")?,
            uid: r.try_get("uid")?,
            case_id: r.try_get("case_id")?,
            person_id: r.try_get("person_id")?,
            label: r.try_get("label")?,
            description: r.try_get("description")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            source: r.try_get("source")?,
        })
    }
}

/// A case with what it holds.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub case: Case,
    pub members: Vec<String>,
    pub persons: Vec<Person>,
    pub devices: Vec<Device>,
    pub notes: Vec<Note>,
}

/// A person with everything recorded about them.
#[derive(Debug, Clone, Serialize)]
pub struct PersonDetail {
    pub person: Person,
    pub case_title: String,
    pub agency: String,
    pub identifiers: Vec<Identifier>,
    pub events: Vec<Event>,
    pub notes: Vec<Note>,
}

/// One visible holder of a looked-up identifier.
#[derive(Debug, Clone, Serialize)]
pub struct LookupHit {
    pub identifier: Identifier,
    pub person: Option<PersonRef>,
    pub case: CaseRef,
    pub agency: AgencyRef,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PersonRef {
    pub id: i64,
    pub label: String,
    pub role: PersonRole,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseRef {
    pub id: i64,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AgencyRef {
    pub id: i64,
    pub name: String,
    pub country: String,
}

/// A holder the principal may not see: only who holds it and whom to call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlindHit {
    pub agency: String,
    pub country: String,
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupResult {
    pub query: String,
    /// The (kind, normalised value) forms the query was searched under.
    pub forms: Vec<(IdentifierKind, String)>,
    pub hits: Vec<LookupHit>,
    pub blind_hits: Vec<BlindHit>,
}

/// The access facts of a case, for one principal.
pub(crate) struct CaseAccess {
    pub case_id: i64,
    pub agency_id: i64,
    pub release: Release,
    pub member: bool,
    pub same_operation: bool,
}

impl CaseAccess {
    pub(crate) fn scope<'a>(
        &self,
        own_release: Option<&'a Release>,
        fallback: &'a Release,
    ) -> RecordScope<'a> {
        RecordScope {
            owner_agency_id: self.agency_id,
            release: own_release.unwrap_or(fallback),
            case_member: self.member,
            same_operation: self.same_operation,
        }
    }
}

const CASE_ACCESS_SQL: &str = "SELECT c.id, c.agency_id, c.release, \
    (SELECT COUNT(*) FROM case_members m WHERE m.case_id = c.id AND m.user_id = $2) AS member, \
    (SELECT COUNT(*) FROM cases c2 WHERE c.operation_id IS NOT NULL \
        AND c2.operation_id = c.operation_id AND c2.agency_id = $3) AS same_op \
    FROM cases c";

fn case_access_from_row(r: &AnyRow) -> Result<CaseAccess, StoreError> {
    let release: String = r.try_get("release")?;
    Ok(CaseAccess {
        case_id: r.try_get("id")?,
        agency_id: r.try_get("agency_id")?,
        release: Release::parse(&release)?,
        member: r.try_get::<i64, _>("member")? > 0,
        same_operation: r.try_get::<i64, _>("same_op")? > 0,
    })
}

/// The lookup query for `forms` (kind, normalised value) pairs: every
/// matching identifier with all a lookup shows and decides on — its creator,
/// its case's access facts and title, the holding agency, its person — in
/// one statement. Fetching those per hit cost four more round trips each,
/// most of a lookup's latency on PostgreSQL. Parameters: `$1, $2` the first
/// form's value and kind, and so on; then the user id and the agency id.
fn lookup_sql(forms: usize) -> String {
    let user = 2 * forms + 1;
    let agency = user + 1;
    let cond = (0..forms)
        .map(|i| {
            format!(
                "(i.normalized = ${} AND i.kind = ${})",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "SELECT i.id, i.uid, i.case_id, i.person_id, i.kind, i.raw, i.normalized, i.network, \
         i.port, i.first_seen, i.last_seen, i.release, u.name AS created_by, i.created_at, \
         i.source, c.agency_id AS case_agency_id, c.release AS case_release, \
         c.title AS case_title, \
         (SELECT COUNT(*) FROM case_members m WHERE m.case_id = c.id AND m.user_id = ${user}) \
         AS member, \
         (SELECT COUNT(*) FROM cases c2 WHERE c.operation_id IS NOT NULL \
         AND c2.operation_id = c.operation_id AND c2.agency_id = ${agency}) AS same_op, \
         a.name AS agency_name, a.country AS agency_country, a.contact AS agency_contact, \
         p.label AS person_label, p.role AS person_role, p.release AS person_release \
         FROM identifiers i JOIN users u ON u.id = i.created_by \
         JOIN cases c ON c.id = i.case_id JOIN agencies a ON a.id = c.agency_id \
         LEFT JOIN persons p ON p.id = i.person_id \
         WHERE {cond} ORDER BY i.id"
    )
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    use argon2::password_hash::PasswordHasher;
    if password.chars().count() < 8 {
        return Err(
            ValidationError::new("password", "(hidden)", "must be at least 8 characters").into(),
        );
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Config(format!("password hashing failed: {e}")))
}

impl Store {
    // ----- internal helpers -------------------------------------------------

    pub(crate) async fn case_access(
        &self,
        tx: &mut Tx,
        p: &Principal,
        case_id: i64,
    ) -> Result<CaseAccess, StoreError> {
        let sql = format!("{CASE_ACCESS_SQL} WHERE c.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(case_id)
            .bind(p.user_id)
            .bind(p.agency_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found("case", case_id))?;
        case_access_from_row(&row)
    }

    /// Records a refusal in its own transaction (the refused change is never
    /// made, but the attempt is kept), then returns the error the caller
    /// sees: "not found" for another agency's record, so ids cannot be probed.
    // The audit fields are passed flat: bundling them would add a struct
    // literal to each of the ~40 call sites without making any clearer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refuse<T>(
        &self,
        tx: Tx,
        p: &Principal,
        action: &str,
        target: String,
        case_id: Option<i64>,
        decision: Decision,
        other_agency: bool,
    ) -> Result<T, StoreError> {
        tx.rollback().await?;
        let mut tx = self.begin_write().await?;
        audit::append(
            self,
            &mut tx,
            Some(p),
            AuditRecord {
                action,
                target: target.clone(),
                case_id,
                decision,
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        if other_agency {
            let (what, id) = target
                .split_once(':')
                .unwrap_or(("record", target.as_str()));
            let what: &'static str = match what {
                "case" => "case",
                "person" => "person",
                "identifier" => "identifier",
                "device" => "device",
                _ => "record",
            };
            Err(StoreError::not_found(what, id))
        } else {
            Err(StoreError::Denied(decision.reason().to_string()))
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log(
        &self,
        tx: &mut Tx,
        p: &Principal,
        action: &str,
        target: String,
        case_id: Option<i64>,
        decision: Decision,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        audit::append(
            self,
            tx,
            Some(p),
            AuditRecord {
                action,
                target,
                case_id,
                decision,
                detail,
            },
        )
        .await
    }

    /// Checks a capability that is not tied to a record, auditing a refusal.
    pub(crate) async fn require(
        &self,
        p: &Principal,
        cap: Capability,
        action: &str,
    ) -> Result<(), StoreError> {
        let d = access::require(p, cap);
        if d.allowed() {
            return Ok(());
        }
        let tx = self.begin_write().await?;
        self.refuse(tx, p, action, format!("capability:{cap}"), None, d, false)
            .await
    }

    /// Checks a capability up front, auditing a refusal — for an interface
    /// that must refuse before doing costly work for the request (the API
    /// refuses a hash-set upload before spooling hundreds of MB). The
    /// operation itself checks again.
    pub async fn require_capability(
        &self,
        p: &Principal,
        cap: Capability,
        action: &str,
    ) -> Result<(), StoreError> {
        self.require(p, cap, action).await
    }

    pub(crate) async fn authorize_case_write(
        &self,
        tx: Tx,
        p: &Principal,
        case_id: i64,
        action: &str,
        target: String,
    ) -> Result<(Tx, CaseAccess), StoreError> {
        let mut tx = tx;
        let ca = self.case_access(&mut tx, p, case_id).await?;
        let d = access::can_write(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(tx, p, action, target, Some(case_id), d, other)
                .await;
        }
        Ok((tx, ca))
    }

    // ----- bootstrap and principals -----------------------------------------

    /// Creates this instance's agency and its first administrator. Refused
    /// once an instance has been initialised.
    pub async fn init(
        &self,
        agency_name: &str,
        country: &str,
        contact: Option<&str>,
        admin: &str,
        password: &str,
    ) -> Result<Principal, StoreError> {
        let name = parse_name("agency", agency_name)?;
        let country = parse_country("country", country)?;
        let admin = parse_user_name(admin)?;
        let hash = hash_password(password)?;
        let mut tx = self.begin_write().await?;
        let existing: i64 = sqlx::query("SELECT COUNT(*) AS n FROM agencies WHERE is_local = 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if existing > 0 {
            return Err(StoreError::Conflict(
                "this database is already initialised".into(),
            ));
        }
        let now = now_text();
        let agency_id: i64 = sqlx::query(
            "INSERT INTO agencies (uid, name, country, contact, is_local, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(new_uid())
        .bind(name.clone())
        .bind(country.clone())
        .bind(contact.map(str::to_string))
        .bind(now.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let roles = vec![Role::Supervisor, Role::AgencyAdmin];
        let user_id: i64 = sqlx::query(
            "INSERT INTO users (agency_id, name, roles, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(agency_id)
        .bind(admin.clone())
        .bind(Role::format_list(&roles))
        .bind(hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let p = Principal {
            user_id,
            user_name: admin,
            agency_id,
            agency_name: name,
            agency_country: country,
            roles,
        };
        self.log(
            &mut tx,
            &p,
            "instance.init",
            format!("agency:{agency_id}"),
            None,
            Decision::Allow("first initialisation"),
            serde_json::json!({"admin": p.user_name}),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Resolves a user name to the principal that acts for it. The local CLI
    /// (which can open the database file anyway) names its user; network
    /// interfaces go through [`Store::authenticate`].
    pub async fn principal(&self, user_name: &str) -> Result<Principal, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.roles, u.disabled, a.id AS agency_id, a.name AS agency, \
             a.country FROM users u JOIN agencies a ON a.id = u.agency_id WHERE u.name = $1",
        )
        .bind(user_name.trim().to_string())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("user", user_name))?;
        if flag(&row, "disabled")? {
            return Err(StoreError::Denied(format!("user {user_name} is disabled")));
        }
        let roles: String = row.try_get("roles")?;
        Ok(Principal {
            user_id: row.try_get("id")?,
            user_name: row.try_get("name")?,
            agency_id: row.try_get("agency_id")?,
            agency_name: row.try_get("agency")?,
            agency_country: row.try_get("country")?,
            roles: Role::parse_list(&roles)?,
        })
    }

    /// Checks a password and returns the principal; failures are audited
    /// without the password.
    pub async fn authenticate(
        &self,
        user_name: &str,
        password: &str,
    ) -> Result<Principal, StoreError> {
        use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
        let row = sqlx::query("SELECT password_hash FROM users WHERE name = $1")
            .bind(user_name.trim().to_string())
            .fetch_optional(self.pool())
            .await?;
        let stored: Option<String> = match &row {
            Some(r) => r.try_get("password_hash")?,
            None => None,
        };
        let ok = match stored.as_deref().map(PasswordHash::new) {
            Some(Ok(parsed)) => argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            _ => false,
        };
        let principal = if ok {
            self.principal(user_name).await.ok()
        } else {
            None
        };
        let mut tx = self.begin_write().await?;
        let decision = if principal.is_some() {
            Decision::Allow("password verified")
        } else {
            Decision::Deny("bad user name or password")
        };
        audit::append(
            self,
            &mut tx,
            principal.as_ref(),
            AuditRecord {
                action: "auth.login",
                target: format!("user:{}", user_name.chars().take(64).collect::<String>()),
                case_id: None,
                decision,
                detail: serde_json::json!({"user": user_name.chars().take(64).collect::<String>()}),
            },
        )
        .await?;
        tx.commit().await?;
        principal.ok_or_else(|| StoreError::Denied("bad user name or password".into()))
    }

    // ----- agencies and users -----------------------------------------------

    /// Registers another agency (a partner this instance exchanges packages
    /// with, or a tenant on a shared deployment).
    pub async fn add_agency(
        &self,
        p: &Principal,
        name: &str,
        country: &str,
        contact: Option<&str>,
    ) -> Result<Agency, StoreError> {
        let name = parse_name("agency", name)?;
        let country = parse_country("country", country)?;
        self.require(p, Capability::ManageUsers, "agency.add")
            .await?;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM agencies WHERE name = $1")
            .bind(name.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "agency {name:?} already exists"
            )));
        }
        let sql = format!(
            "INSERT INTO agencies (uid, name, country, contact, is_local, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5) RETURNING {}",
            Agency::COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new_uid())
            .bind(name)
            .bind(country)
            .bind(contact.map(str::to_string))
            .bind(now_text())
            .fetch_one(&mut *tx)
            .await?;
        let agency = Agency::from_row(&row)?;
        self.log(
            &mut tx,
            p,
            "agency.add",
            format!("agency:{}", agency.id),
            None,
            Decision::Allow("manage-users"),
            serde_json::json!({"name": agency.name, "country": agency.country}),
        )
        .await?;
        tx.commit().await?;
        Ok(agency)
    }

    /// Agencies are directory information (names, countries, contacts) that
    /// every user needs to read blind hits and address packages.
    pub async fn list_agencies(&self, _p: &Principal) -> Result<Vec<Agency>, StoreError> {
        let sql = format!("SELECT {} FROM agencies ORDER BY id", Agency::COLUMNS);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Agency::from_row(r).map_err(Into::into))
            .collect()
    }

    pub async fn agency_by_name(&self, name: &str) -> Result<Agency, StoreError> {
        let sql = format!("SELECT {} FROM agencies WHERE name = $1", Agency::COLUMNS);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name.trim().to_string())
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("agency", name))?;
        Ok(Agency::from_row(&row)?)
    }

    /// Updates an agency's contact line (shown in blind hits).
    pub async fn update_agency_contact(
        &self,
        p: &Principal,
        agency_id: i64,
        contact: &str,
    ) -> Result<Agency, StoreError> {
        let contact = parse_text("contact", contact)?;
        self.require(p, Capability::ManageUsers, "agency.update")
            .await?;
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE agencies SET contact = $1 WHERE id = $2 RETURNING {}",
            Agency::COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(contact)
            .bind(agency_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("agency", agency_id))?;
        let agency = Agency::from_row(&row)?;
        if agency.id != p.agency_id && !self.is_local_agency(&mut tx, p.agency_id).await? {
            return self
                .refuse(
                    tx,
                    p,
                    "agency.update",
                    format!("agency:{agency_id}"),
                    None,
                    Decision::Deny("only the hosting agency manages other agencies"),
                    false,
                )
                .await;
        }
        self.log(
            &mut tx,
            p,
            "agency.update",
            format!("agency:{agency_id}"),
            None,
            Decision::Allow("manage-users"),
            serde_json::json!({"contact": agency.contact}),
        )
        .await?;
        tx.commit().await?;
        Ok(agency)
    }

    pub(crate) async fn is_local_agency(
        &self,
        tx: &mut Tx,
        agency_id: i64,
    ) -> Result<bool, StoreError> {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM agencies WHERE id = $1 AND is_local = 1")
                .bind(agency_id)
                .fetch_one(&mut **tx)
                .await?
                .try_get("n")?;
        Ok(n > 0)
    }

    /// Adds a user. Administrators add users to their own agency; the hosting
    /// agency's administrators may also create users for tenant agencies.
    pub async fn add_user(
        &self,
        p: &Principal,
        name: &str,
        agency: Option<&str>,
        roles: &str,
        password: Option<&str>,
    ) -> Result<User, StoreError> {
        let name = parse_user_name(name)?;
        let roles = Role::parse_list(roles)?;
        let hash = password.map(hash_password).transpose()?;
        self.require(p, Capability::ManageUsers, "user.add").await?;
        let agency_id = match agency {
            Some(a) => self.agency_by_name(a).await?.id,
            None => p.agency_id,
        };
        let mut tx = self.begin_write().await?;
        if agency_id != p.agency_id && !self.is_local_agency(&mut tx, p.agency_id).await? {
            return self
                .refuse(
                    tx,
                    p,
                    "user.add",
                    format!("agency:{agency_id}"),
                    None,
                    Decision::Deny("only the hosting agency creates users for other agencies"),
                    false,
                )
                .await;
        }
        let exists = sqlx::query("SELECT id FROM users WHERE name = $1")
            .bind(name.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "user {name:?} already exists"
            )));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO users (agency_id, name, roles, password_hash, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(agency_id)
        .bind(name.clone())
        .bind(Role::format_list(&roles))
        .bind(hash)
        .bind(now_text())
        .bind(p.user_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(&mut tx, p, "user.add", format!("user:{id}"), None,
            Decision::Allow("manage-users"),
            serde_json::json!({"name": name, "roles": Role::format_list(&roles), "agency_id": agency_id}))
            .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE u.id = $1",
            User::SELECT
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let user = User::from_row(&row)?;
        tx.commit().await?;
        Ok(user)
    }

    /// Changes a user's roles and/or disables them.
    pub async fn update_user(
        &self,
        p: &Principal,
        name: &str,
        roles: Option<&str>,
        disabled: Option<bool>,
        password: Option<&str>,
    ) -> Result<User, StoreError> {
        let roles = roles.map(Role::parse_list).transpose()?;
        let hash = password.map(hash_password).transpose()?;
        self.require(p, Capability::ManageUsers, "user.update")
            .await?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE u.name = $1",
            User::SELECT
        )))
        .bind(name.trim().to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("user", name))?;
        let user = User::from_row(&row)?;
        if user.agency_id != p.agency_id && !self.is_local_agency(&mut tx, p.agency_id).await? {
            return self
                .refuse(
                    tx,
                    p,
                    "user.update",
                    format!("user:{}", user.id),
                    None,
                    Decision::Deny("user belongs to another agency"),
                    true,
                )
                .await;
        }
        if let Some(r) = &roles {
            sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
                .bind(Role::format_list(r))
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(d) = disabled {
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(i64::from(d))
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(h) = hash {
            sqlx::query("UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
                .bind(h)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
        }
        self.log(&mut tx, p, "user.update", format!("user:{}", user.id), None,
            Decision::Allow("manage-users"),
            serde_json::json!({"roles": roles.as_deref().map(Role::format_list), "disabled": disabled,
                "password_changed": password.is_some()}))
            .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE u.id = $1",
            User::SELECT
        )))
        .bind(user.id)
        .fetch_one(&mut *tx)
        .await?;
        let user = User::from_row(&row)?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn list_users(&self, p: &Principal) -> Result<Vec<User>, StoreError> {
        self.require(p, Capability::ManageUsers, "user.list")
            .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE u.agency_id = $1 ORDER BY u.id",
            User::SELECT
        )))
        .bind(p.agency_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(User::from_row).collect()
    }

    // ----- cases --------------------------------------------------------------

    /// Creates a case owned by the principal's agency; the creator becomes a
    /// member. `operation` names an operation, created if it does not exist.
    pub async fn create_case(
        &self,
        p: &Principal,
        title: &str,
        operation: Option<&str>,
        release: &Release,
        source: &str,
    ) -> Result<Case, StoreError> {
        let title = parse_name("title", title)?;
        let operation = operation.map(|o| parse_name("operation", o)).transpose()?;
        self.require(p, Capability::WriteCase, "case.create")
            .await?;
        let mut tx = self.begin_write().await?;
        let now = now_text();
        let operation_id = match &operation {
            None => None,
            Some(name) => {
                let found = sqlx::query("SELECT id FROM operations WHERE name = $1")
                    .bind(name.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                Some(match found {
                    Some(r) => r.try_get::<i64, _>("id")?,
                    None => sqlx::query(
                        "INSERT INTO operations (name, created_by, created_at) VALUES ($1, $2, $3) RETURNING id",
                    )
                    .bind(name.clone())
                    .bind(p.user_id)
                    .bind(now.clone())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?,
                })
            }
        };
        let id: i64 = sqlx::query(
            "INSERT INTO cases (uid, title, operation_id, agency_id, release, created_by, created_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new_uid())
        .bind(title.clone())
        .bind(operation_id)
        .bind(p.agency_id)
        .bind(release.to_text())
        .bind(p.user_id)
        .bind(now.clone())
        .bind(source.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query("INSERT INTO case_members (case_id, user_id, added_by, added_at) VALUES ($1, $2, $2, $3)")
            .bind(id)
            .bind(p.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        self.log(&mut tx, p, "case.create", format!("case:{id}"), Some(id),
            Decision::Allow("write-case"),
            serde_json::json!({"title": title, "operation": operation, "release": release.to_text()}))
            .await?;
        let case = self.fetch_case(&mut tx, id).await?;
        tx.commit().await?;
        Ok(case)
    }

    pub(crate) async fn fetch_case(&self, tx: &mut Tx, id: i64) -> Result<Case, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.id = $1",
            Case::SELECT
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("case", id))?;
        Case::from_row(&row)
    }

    /// Cases the principal may read.
    pub async fn list_cases(&self, p: &Principal) -> Result<Vec<Case>, StoreError> {
        self.require(p, Capability::ReadCase, "case.list").await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CASE_ACCESS_SQL} ORDER BY c.id"
        )))
        .bind(0i64)
        .bind(p.user_id)
        .bind(p.agency_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut visible = Vec::new();
        for r in &rows {
            let ca = case_access_from_row(r)?;
            if access::can_read(p, &ca.scope(None, &ca.release)).allowed() {
                visible.push(ca.case_id);
            }
        }
        // One query for every visible case rather than one per case: the
        // dashboard and the case list call this on every page view.
        let wanted: std::collections::HashSet<i64> = visible.iter().copied().collect();
        let cases = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} ORDER BY c.id",
            Case::SELECT
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Case::from_row)
        .filter(|c| c.as_ref().map_or(true, |c| wanted.contains(&c.id)))
        .collect::<Result<Vec<_>, _>>()?;
        self.log(
            &mut tx,
            p,
            "case.list",
            "cases".into(),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"returned": visible}),
        )
        .await?;
        tx.commit().await?;
        Ok(cases)
    }

    /// A case with its members, persons, devices and notes.
    pub async fn show_case(&self, p: &Principal, case_id: i64) -> Result<CaseDetail, StoreError> {
        let mut tx = self.begin_write().await?;
        let ca = self.case_access(&mut tx, p, case_id).await?;
        let d = access::can_read(p, &ca.scope(None, &ca.release));
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "case.read",
                    format!("case:{case_id}"),
                    Some(case_id),
                    d,
                    other,
                )
                .await;
        }
        let case = self.fetch_case(&mut tx, case_id).await?;
        let members = sqlx::query(
            "SELECT u.name FROM case_members m JOIN users u ON u.id = m.user_id WHERE m.case_id = $1 ORDER BY u.name",
        )
        .bind(case_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("name"))
        .collect::<Result<Vec<_>, _>>()?;
        let persons = self
            .persons_where(&mut tx, "p.case_id = $1", case_id)
            .await?;
        let devices = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE d.case_id = $1 ORDER BY d.id",
            Device::SELECT
        )))
        .bind(case_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Device::from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let notes = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE n.case_id = $1 AND n.person_id IS NULL ORDER BY n.id",
            Note::SELECT
        )))
        .bind(case_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Note::from_row)
        .collect::<Result<Vec<_>, _>>()?;
        self.log(
            &mut tx,
            p,
            "case.read",
            format!("case:{case_id}"),
            Some(case_id),
            d,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(CaseDetail {
            case,
            members,
            persons,
            devices,
            notes,
        })
    }

    /// Changes a case's title and/or release marking.
    pub async fn update_case(
        &self,
        p: &Principal,
        case_id: i64,
        title: Option<&str>,
        release: Option<&Release>,
    ) -> Result<Case, StoreError> {
        let title = title.map(|t| parse_name("title", t)).transpose()?;
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "case.update", format!("case:{case_id}"))
            .await?;
        if let Some(t) = &title {
            sqlx::query("UPDATE cases SET title = $1 WHERE id = $2")
                .bind(t.clone())
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(r) = release {
            sqlx::query("UPDATE cases SET release = $1 WHERE id = $2")
                .bind(r.to_text())
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        self.log(
            &mut tx,
            p,
            "case.update",
            format!("case:{case_id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"title": title, "release": release.map(Release::to_text)}),
        )
        .await?;
        let case = self.fetch_case(&mut tx, case_id).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Adds a user of the owning agency to a case's members.
    pub async fn add_case_member(
        &self,
        p: &Principal,
        case_id: i64,
        user: &str,
    ) -> Result<(), StoreError> {
        let tx = self.begin_write().await?;
        let (mut tx, ca) = self
            .authorize_case_write(tx, p, case_id, "case.member.add", format!("case:{case_id}"))
            .await?;
        let row = sqlx::query("SELECT id, agency_id FROM users WHERE name = $1")
            .bind(user.trim().to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user))?;
        let (uid, agency): (i64, i64) = (row.try_get("id")?, row.try_get("agency_id")?);
        if agency != ca.agency_id {
            return Err(ValidationError::new(
                "user",
                user,
                "belongs to another agency; release the case instead",
            )
            .into());
        }
        sqlx::query("INSERT INTO case_members (case_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING")
            .bind(case_id)
            .bind(uid)
            .bind(p.user_id)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "case.member.add",
            format!("case:{case_id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"user": user}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- persons --------------------------------------------------------------

    pub(crate) async fn persons_where(
        &self,
        tx: &mut Tx,
        cond: &str,
        arg: i64,
    ) -> Result<Vec<Person>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE {cond} ORDER BY p.id",
            Person::SELECT
        )))
        .bind(arg)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(Person::from_row)
        .collect()
    }

    pub(crate) async fn fetch_person(&self, tx: &mut Tx, id: i64) -> Result<Person, StoreError> {
        self.persons_where(tx, "p.id = $1", id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::not_found("person", id))
    }

    pub async fn add_person(
        &self,
        p: &Principal,
        case_id: i64,
        person: &NewPerson,
        source: &str,
    ) -> Result<Person, StoreError> {
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "person.add", format!("case:{case_id}"))
            .await?;
        let id: i64 = sqlx::query(
            "INSERT INTO persons (uid, case_id, role, label, created_by, created_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new_uid())
        .bind(case_id)
        .bind(person.role.as_str())
        .bind(person.label.clone())
        .bind(p.user_id)
        .bind(now_text())
        .bind(source.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(
            &mut tx,
            p,
            "person.add",
            format!("person:{id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"role": person.role, "label": person.label}),
        )
        .await?;
        self.link_new_person(&mut tx, p, id).await?; // de-confliction (links.rs)
        let person = self.fetch_person(&mut tx, id).await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Loads a person and decides whether `p` may read (or write) it, using
    /// the person's own marking or else its case's.
    pub(crate) async fn person_access(
        &self,
        tx: &mut Tx,
        p: &Principal,
        person_id: i64,
        write: bool,
    ) -> Result<(Person, CaseAccess, Decision), StoreError> {
        let person = self.fetch_person(tx, person_id).await?;
        let ca = self.case_access(tx, p, person.case_id).await?;
        let scope = ca.scope(person.release.as_ref(), &ca.release);
        let d = if write {
            access::can_write(p, &scope)
        } else {
            access::can_read(p, &scope)
        };
        Ok((person, ca, d))
    }

    pub async fn show_person(
        &self,
        p: &Principal,
        person_id: i64,
    ) -> Result<PersonDetail, StoreError> {
        let mut tx = self.begin_write().await?;
        let (person, ca, d) = self.person_access(&mut tx, p, person_id, false).await?;
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "person.read",
                    format!("person:{person_id}"),
                    Some(ca.case_id),
                    d,
                    other,
                )
                .await;
        }
        let case = self.fetch_case(&mut tx, person.case_id).await?;
        let identifiers = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE i.person_id = $1 ORDER BY i.id",
            Identifier::SELECT
        )))
        .bind(person_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Identifier::from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let events = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE e.person_id = $1 ORDER BY e.date, e.id",
            Event::SELECT
        )))
        .bind(person_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Event::from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let notes = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE n.person_id = $1 ORDER BY n.id",
            Note::SELECT
        )))
        .bind(person_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Note::from_row)
        .collect::<Result<Vec<_>, _>>()?;
        self.log(
            &mut tx,
            p,
            "person.read",
            format!("person:{person_id}"),
            Some(person.case_id),
            d,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(PersonDetail {
            person,
            case_title: case.title,
            agency: case.agency,
            identifiers,
            events,
            notes,
        })
    }

    /// Persons the principal may read, optionally of one case.
    pub async fn list_persons(
        &self,
        p: &Principal,
        case_id: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        self.require(p, Capability::ReadCase, "person.list").await?;
        let mut tx = self.begin_write().await?;
        let persons = match case_id {
            Some(c) => self.persons_where(&mut tx, "p.case_id = $1", c).await?,
            None => self.persons_where(&mut tx, "p.id > $1", 0).await?,
        };
        let mut access_cache: std::collections::HashMap<i64, CaseAccess> = Default::default();
        let mut out = Vec::new();
        for person in persons {
            if let std::collections::hash_map::Entry::Vacant(slot) =
                access_cache.entry(person.case_id)
            {
                slot.insert(self.case_access(&mut tx, p, person.case_id).await?);
            }
            let Some(ca) = access_cache.get(&person.case_id) else {
                continue;
            };
            if access::can_read(p, &ca.scope(person.release.as_ref(), &ca.release)).allowed() {
                out.push(person);
            }
        }
        self.log(
            &mut tx,
            p,
            "person.list",
            case_id.map_or("persons".into(), |c| format!("case:{c}")),
            case_id,
            Decision::Allow("read-case"),
            serde_json::json!({"returned": out.iter().map(|x| x.id).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Changes a person's label, role, declared country or release marking.
    pub async fn update_person(
        &self,
        p: &Principal,
        person_id: i64,
        update: &PersonUpdate,
    ) -> Result<Person, StoreError> {
        let label = update
            .label
            .as_deref()
            .map(|l| parse_name("label", l))
            .transpose()?;
        let role = update
            .role
            .as_deref()
            .map(|r| PersonRole::parse("role", r))
            .transpose()?;
        let country = update
            .country
            .as_deref()
            .map(|c| parse_country("country", c))
            .transpose()?;
        let mut tx = self.begin_write().await?;
        let (person, ca, d) = self.person_access(&mut tx, p, person_id, true).await?;
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "person.update",
                    format!("person:{person_id}"),
                    Some(person.case_id),
                    d,
                    other,
                )
                .await;
        }
        if let Some(l) = &label {
            sqlx::query("UPDATE persons SET label = $1 WHERE id = $2")
                .bind(l.clone())
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(r) = role {
            sqlx::query("UPDATE persons SET role = $1 WHERE id = $2")
                .bind(r.as_str())
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(c) = &country {
            sqlx::query("UPDATE persons SET country = $1 WHERE id = $2")
                .bind(c.clone())
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(r) = &update.release {
            sqlx::query("UPDATE persons SET release = $1 WHERE id = $2")
                .bind(r.to_text())
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
        }
        self.log(
            &mut tx,
            p,
            "person.update",
            format!("person:{person_id}"),
            Some(person.case_id),
            d,
            serde_json::json!({"label": label, "role": role, "country": country,
                "release": update.release.as_ref().map(Release::to_text)}),
        )
        .await?;
        let person = self.fetch_person(&mut tx, person_id).await?;
        tx.commit().await?;
        Ok(person)
    }

    // ----- identifiers ----------------------------------------------------------

    /// Attaches an identifier to a person (in the person's case).
    pub async fn add_identifier(
        &self,
        p: &Principal,
        person_id: i64,
        ident: &NewIdentifier,
        source: &str,
    ) -> Result<Identifier, StoreError> {
        let mut tx = self.begin_write().await?;
        let (person, ca, d) = self.person_access(&mut tx, p, person_id, true).await?;
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "identifier.add",
                    format!("person:{person_id}"),
                    Some(person.case_id),
                    d,
                    other,
                )
                .await;
        }
        let id = self
            .insert_identifier(&mut tx, p, person.case_id, Some(person_id), ident, source)
            .await?;
        self.log(
            &mut tx,
            p,
            "identifier.add",
            format!("identifier:{id}"),
            Some(person.case_id),
            d,
            serde_json::json!({"person": person_id, "kind": ident.kind, "value": ident.raw}),
        )
        .await?;
        self.link_new_identifier(&mut tx, p, id).await?; // exact links + de-confliction (links.rs)
        let ident = self.fetch_identifier(&mut tx, id).await?;
        tx.commit().await?;
        Ok(ident)
    }

    pub(crate) async fn insert_identifier(
        &self,
        tx: &mut Tx,
        p: &Principal,
        case_id: i64,
        person_id: Option<i64>,
        ident: &NewIdentifier,
        source: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO identifiers (uid, case_id, person_id, kind, raw, normalized, network, port, \
             first_seen, last_seen, created_by, created_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(new_uid())
        .bind(case_id)
        .bind(person_id)
        .bind(ident.kind.as_str())
        .bind(ident.raw.clone())
        .bind(ident.normalized.clone())
        .bind(ident.network.clone())
        .bind(ident.port.map(i64::from))
        .bind(ident.first_seen.clone())
        .bind(ident.last_seen.clone())
        .bind(p.user_id)
        .bind(now_text())
        .bind(source.to_string())
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?)
    }

    pub(crate) async fn fetch_identifier(
        &self,
        tx: &mut Tx,
        id: i64,
    ) -> Result<Identifier, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE i.id = $1",
            Identifier::SELECT
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("identifier", id))?;
        Identifier::from_row(&row)
    }

    /// Everything known about a value across all cases and agencies: full
    /// records where the principal may read them, blind hits (agency and
    /// contact only) where it may not.
    ///
    /// Without a kind, the value is tried as every kind it validates as, so
    /// `Son_of_G0d` is looked up as a handle and `192.0.2.7` as an IP.
    pub async fn lookup_identifier(
        &self,
        p: &Principal,
        value: &str,
        kind: Option<IdentifierKind>,
    ) -> Result<LookupResult, StoreError> {
        self.require(p, Capability::ReadCase, "identifier.lookup")
            .await?;
        let kinds: Vec<IdentifierKind> = match kind {
            Some(k) => vec![k],
            None => vigil_domain::identifier::plausible_kinds(value),
        };
        let mut forms: Vec<(IdentifierKind, String)> = Vec::new();
        for k in kinds {
            if let Ok(n) = vigil_domain::normalize::normalize(k, value) {
                forms.push((k, n));
            }
        }
        if forms.is_empty() {
            return Err(ValidationError::new(
                "value",
                value,
                "is not a valid identifier of any kind",
            )
            .into());
        }
        let mut tx = self.begin_write().await?;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(lookup_sql(forms.len())));
        for (k, n) in &forms {
            query = query.bind(n.clone()).bind(k.as_str());
        }
        let rows = query
            .bind(p.user_id)
            .bind(p.agency_id)
            .fetch_all(&mut *tx)
            .await?;
        // Hits are reported form by form (in the order of `forms`), each
        // form's by identifier id, as when every form was its own query.
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let ident = Identifier::from_row(row)?;
            let form = forms
                .iter()
                .position(|(k, n)| *k == ident.kind && *n == ident.normalized)
                .unwrap_or(forms.len());
            found.push((form, ident, row));
        }
        found.sort_by_key(|(form, ident, _)| (*form, ident.id));
        let mut hits = Vec::new();
        let mut blind: Vec<BlindHit> = Vec::new();
        let mut matched = Vec::new(); // de-confliction (links.rs)
        for (_, ident, row) in found {
            let case_release: String = row.try_get("case_release")?;
            let ca = CaseAccess {
                case_id: ident.case_id,
                agency_id: row.try_get("case_agency_id")?,
                release: Release::parse(&case_release)?,
                member: row.try_get::<i64, _>("member")? > 0,
                same_operation: row.try_get::<i64, _>("same_op")? > 0,
            };
            matched.push(LookupMatch {
                identifier_id: ident.id,
                case_id: ident.case_id,
                agency_id: ca.agency_id,
                kind: ident.kind.as_str().to_string(),
                normalized: ident.normalized.clone(),
            });
            let person = match ident.person_id {
                Some(id) => {
                    let role: String = row.try_get("person_role")?;
                    let release: Option<String> = row.try_get("person_release")?;
                    Some((
                        PersonRef {
                            id,
                            label: row.try_get("person_label")?,
                            role: PersonRole::parse("role", &role)?,
                        },
                        release.as_deref().map(Release::parse).transpose()?,
                    ))
                }
                None => None,
            };
            let own = ident
                .release
                .as_ref()
                .or(person.as_ref().and_then(|x| x.1.as_ref()));
            let readable = access::can_read(p, &ca.scope(own, &ca.release)).allowed();
            if readable {
                hits.push(LookupHit {
                    person: person.map(|x| x.0),
                    case: CaseRef {
                        id: ident.case_id,
                        title: row.try_get("case_title")?,
                    },
                    agency: AgencyRef {
                        id: ca.agency_id,
                        name: row.try_get("agency_name")?,
                        country: row.try_get("agency_country")?,
                    },
                    identifier: ident,
                });
            } else {
                let b = BlindHit {
                    agency: row.try_get("agency_name")?,
                    country: row.try_get("agency_country")?,
                    contact: row.try_get("agency_contact")?,
                };
                if !blind.contains(&b) {
                    blind.push(b);
                }
            }
        }
        self.link_lookup(&mut tx, p, &matched).await?; // de-confliction (links.rs)
        self.log(
            &mut tx,
            p,
            "identifier.lookup",
            format!("value:{}", value.chars().take(200).collect::<String>()),
            None,
            Decision::Allow("read-case"),
            serde_json::json!({"hits": hits.iter().map(|h| h.identifier.id).collect::<Vec<_>>(),
                "blind_hits": blind.iter().map(|b| b.agency.clone()).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(LookupResult {
            query: value.to_string(),
            forms,
            hits,
            blind_hits: blind,
        })
    }

    /// Moves an identifier to another person of the same case, or detaches it.
    pub async fn update_identifier_person(
        &self,
        p: &Principal,
        identifier_id: i64,
        person_id: Option<i64>,
    ) -> Result<Identifier, StoreError> {
        let mut tx = self.begin_write().await?;
        let ident = self.fetch_identifier(&mut tx, identifier_id).await?;
        let tx2 = tx;
        let (mut tx, _) = self
            .authorize_case_write(
                tx2,
                p,
                ident.case_id,
                "identifier.update",
                format!("identifier:{identifier_id}"),
            )
            .await?;
        if let Some(pid) = person_id {
            let person = self.fetch_person(&mut tx, pid).await?;
            if person.case_id != ident.case_id {
                return Err(
                    ValidationError::new("person", &pid.to_string(), "is in another case").into(),
                );
            }
        }
        sqlx::query("UPDATE identifiers SET person_id = $1 WHERE id = $2")
            .bind(person_id)
            .bind(identifier_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "identifier.update",
            format!("identifier:{identifier_id}"),
            Some(ident.case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"person": person_id}),
        )
        .await?;
        let ident = self.fetch_identifier(&mut tx, identifier_id).await?;
        tx.commit().await?;
        Ok(ident)
    }

    // ----- events and notes -------------------------------------------------------

    /// Records an event on a person; the recording agency is the principal's.
    pub async fn add_event(
        &self,
        p: &Principal,
        person_id: i64,
        event: &NewEvent,
        source: &str,
    ) -> Result<Event, StoreError> {
        let mut tx = self.begin_write().await?;
        let (person, ca, d) = self.person_access(&mut tx, p, person_id, true).await?;
        if !d.allowed() {
            let other = ca.agency_id != p.agency_id;
            return self
                .refuse(
                    tx,
                    p,
                    "event.add",
                    format!("person:{person_id}"),
                    Some(person.case_id),
                    d,
                    other,
                )
                .await;
        }
        let id: i64 = sqlx::query(
            "INSERT INTO events (uid, case_id, person_id, kind, date, country, agency_id, details, \
             created_by, created_at, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(new_uid())
        .bind(person.case_id)
        .bind(person_id)
        .bind(event.kind.as_str())
        .bind(format_date(event.date))
        .bind(event.country.clone())
        .bind(p.agency_id)
        .bind(event.details.clone())
        .bind(p.user_id)
        .bind(now_text())
        .bind(source.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(&mut tx, p, "event.add", format!("event:{id}"), Some(person.case_id), d,
            serde_json::json!({"person": person_id, "kind": event.kind, "date": format_date(event.date),
                "country": event.country}))
            .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE e.id = $1",
            Event::SELECT
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let event = Event::from_row(&row)?;
        tx.commit().await?;
        Ok(event)
    }

    /// Amends an event's free-text details (the kind and date are facts; a
    /// wrong one is corrected by a new event and a note).
    pub async fn update_event_details(
        &self,
        p: &Principal,
        event_id: i64,
        details: &str,
    ) -> Result<Event, StoreError> {
        let details = parse_text("details", details)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE e.id = $1",
            Event::SELECT
        )))
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("event", event_id))?;
        let event = Event::from_row(&row)?;
        let (mut tx, _) = self
            .authorize_case_write(
                tx,
                p,
                event.case_id,
                "event.update",
                format!("event:{event_id}"),
            )
            .await?;
        sqlx::query("UPDATE events SET details = $1 WHERE id = $2")
            .bind(details.clone())
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "event.update",
            format!("event:{event_id}"),
            Some(event.case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"details": details}),
        )
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE e.id = $1",
            Event::SELECT
        )))
        .bind(event_id)
        .fetch_one(&mut *tx)
        .await?;
        let event = Event::from_row(&row)?;
        tx.commit().await?;
        Ok(event)
    }

    /// Adds a note to a case, optionally about one of its persons.
    pub async fn add_note(
        &self,
        p: &Principal,
        case_id: i64,
        person_id: Option<i64>,
        body: &str,
        source: &str,
    ) -> Result<Note, StoreError> {
        let body = parse_text("note", body)?;
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "note.add", format!("case:{case_id}"))
            .await?;
        if let Some(pid) = person_id {
            let person = self.fetch_person(&mut tx, pid).await?;
            if person.case_id != case_id {
                return Err(
                    ValidationError::new("person", &pid.to_string(), "is in another case").into(),
                );
            }
        }
        let id: i64 = sqlx::query(
            "INSERT INTO notes (case_id, person_id, body, created_by, created_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(case_id)
        .bind(person_id)
        .bind(body)
        .bind(p.user_id)
        .bind(now_text())
        .bind(source.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.log(
            &mut tx,
            p,
            "note.add",
            format!("note:{id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"person": person_id}),
        )
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE n.id = $1",
            Note::SELECT
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let note = Note::from_row(&row)?;
        tx.commit().await?;
        Ok(note)
    }

    // ----- devices ---------------------------------------------------------------

    /// Returns the device with this label in the case, creating it if needed
    /// (a re-run scan of the same device lands on the same record).
    pub async fn ensure_device(
        &self,
        p: &Principal,
        case_id: i64,
        label: &str,
        source: &str,
    ) -> Result<Device, StoreError> {
        let label = parse_name("device", label)?;
        let tx = self.begin_write().await?;
        let (mut tx, _) = self
            .authorize_case_write(tx, p, case_id, "device.add", format!("case:{case_id}"))
            .await?;
        let existing = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE d.case_id = $1 AND d.label = $2",
            Device::SELECT
        )))
        .bind(case_id)
        .bind(label.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let device = match existing {
            Some(row) => Device::from_row(&row)?,
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO devices (uid, case_id, label, created_by, created_at, source) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(new_uid())
                .bind(case_id)
                .bind(label.clone())
                .bind(p.user_id)
                .bind(now_text())
                .bind(source.to_string())
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                self.log(
                    &mut tx,
                    p,
                    "device.add",
                    format!("device:{id}"),
                    Some(case_id),
                    Decision::Allow("write-case"),
                    serde_json::json!({"label": label}),
                )
                .await?;
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{} WHERE d.id = $1",
                    Device::SELECT
                )))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                Device::from_row(&row)?
            }
        };
        tx.commit().await?;
        Ok(device)
    }
}

impl Store {
    /// Records whose device this is (the person it was seized from), so the
    /// device's scans and hash matches concern that person — e.g. in a lead
    /// package. The person must be in the device's case.
    pub async fn set_device_person(
        &self,
        p: &Principal,
        device_id: i64,
        person_id: i64,
    ) -> Result<Device, StoreError> {
        let mut tx = self.begin_write().await?;
        let case_id: i64 = sqlx::query("SELECT case_id FROM devices WHERE id = $1")
            .bind(device_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("device", device_id))?
            .try_get("case_id")?;
        let (mut tx, _) = self
            .authorize_case_write(
                tx,
                p,
                case_id,
                "device.owner",
                format!("device:{device_id}"),
            )
            .await?;
        let person = self.fetch_person(&mut tx, person_id).await?;
        if person.case_id != case_id {
            return Err(ValidationError::new(
                "person",
                &person_id.to_string(),
                "is not in the device's case",
            )
            .into());
        }
        sqlx::query("UPDATE devices SET person_id = $1 WHERE id = $2")
            .bind(person_id)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            p,
            "device.owner",
            format!("device:{device_id}"),
            Some(case_id),
            Decision::Allow("write-case"),
            serde_json::json!({"person": person_id}),
        )
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE d.id = $1",
            Device::SELECT
        )))
        .bind(device_id)
        .fetch_one(&mut *tx)
        .await?;
        let device = Device::from_row(&row)?;
        tx.commit().await?;
        Ok(device)
    }
}

/// Fields of a person that may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonUpdate {
    pub label: Option<String>,
    pub role: Option<String>,
    pub country: Option<String>,
    pub release: Option<Release>,
}
