//! The API's JSON shapes for the store's records.
//!
//! Each is built from the store type by destructuring it completely, so a
//! field added to a store record fails to compile here until the API (and so
//! the OpenAPI document) decides what to do with it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who the caller is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PrincipalOut {
    pub user_id: i64,
    pub user_name: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub agency_country: String,
    /// Role names (investigator, analyst, supervisor, liaison, agency-admin…).
    pub roles: Vec<String>,
}

impl From<vigil_store::Principal> for PrincipalOut {
    fn from(p: vigil_store::Principal) -> Self {
        let vigil_store::Principal {
            user_id,
            user_name,
            agency_id,
            agency_name,
            agency_country,
            roles,
        } = p;
        PrincipalOut {
            user_id,
            user_name,
            agency_id,
            agency_name,
            agency_country,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgencyOut {
    pub id: i64,
    pub uid: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Whom to call about this agency's records (shown in blind hits).
    pub contact: Option<String>,
    /// The agency hosting this instance.
    pub is_local: bool,
    pub created_at: String,
}

impl From<vigil_store::Agency> for AgencyOut {
    fn from(a: vigil_store::Agency) -> Self {
        let vigil_store::Agency {
            id,
            uid,
            name,
            country,
            contact,
            is_local,
            created_at,
        } = a;
        AgencyOut {
            id,
            uid,
            name,
            country,
            contact,
            is_local,
            created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub name: String,
    pub agency_id: i64,
    pub agency: String,
    pub roles: Vec<String>,
    pub disabled: bool,
    pub created_at: String,
}

impl From<vigil_store::User> for UserOut {
    fn from(u: vigil_store::User) -> Self {
        let vigil_store::User {
            id,
            name,
            agency_id,
            agency,
            roles,
            disabled,
            created_at,
        } = u;
        UserOut {
            id,
            name,
            agency_id,
            agency,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            disabled,
            created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseOut {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub operation_id: Option<i64>,
    pub operation: Option<String>,
    pub agency_id: i64,
    pub agency: String,
    /// Release marking: `agency`, `operation`, or `to:agency=ID,country=CC,…`.
    pub release: String,
    pub retention_until: Option<String>,
    /// Legal basis for keeping the data until `retention_until`.
    pub retention_basis: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl From<vigil_store::Case> for CaseOut {
    fn from(c: vigil_store::Case) -> Self {
        let vigil_store::Case {
            id,
            uid,
            title,
            operation_id,
            operation,
            agency_id,
            agency,
            release,
            retention_until,
            retention_basis,
            created_by,
            created_at,
            source,
        } = c;
        CaseOut {
            id,
            uid,
            title,
            operation_id,
            operation,
            agency_id,
            agency,
            release: release.to_text(),
            retention_until,
            retention_basis,
            created_by,
            created_at,
            source,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonOut {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    /// `suspect`, `victim` or `other`.
    pub role: String,
    pub label: String,
    pub country: Option<String>,
    /// The person's own marking; absent when the case's applies.
    pub release: Option<String>,
    pub merged_into: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl From<vigil_store::Person> for PersonOut {
    fn from(p: vigil_store::Person) -> Self {
        let vigil_store::Person {
            id,
            uid,
            case_id,
            role,
            label,
            country,
            release,
            merged_into,
            created_by,
            created_at,
            source,
        } = p;
        PersonOut {
            id,
            uid,
            case_id,
            role: role.to_string(),
            label,
            country,
            release: release.map(|r| r.to_text()),
            merged_into,
            created_by,
            created_at,
            source,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdentifierOut {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub person_id: Option<i64>,
    /// handle, email, ip, phone, payment-account, device-serial, chat-room,
    /// url, messenger-id, media-hash.
    pub kind: String,
    pub raw: String,
    pub normalized: String,
    pub network: Option<String>,
    pub port: Option<i64>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub release: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl From<vigil_store::Identifier> for IdentifierOut {
    fn from(i: vigil_store::Identifier) -> Self {
        let vigil_store::Identifier {
            id,
            uid,
            case_id,
            person_id,
            kind,
            raw,
            normalized,
            network,
            port,
            first_seen,
            last_seen,
            release,
            created_by,
            created_at,
            source,
        } = i;
        IdentifierOut {
            id,
            uid,
            case_id,
            person_id,
            kind: kind.as_str().to_string(),
            raw,
            normalized,
            network,
            port,
            first_seen,
            last_seen,
            release: release.map(|r| r.to_text()),
            created_by,
            created_at,
            source,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub person_id: i64,
    /// tip-received, arrest, charge, plea, conviction, acquittal, sentence,
    /// death, child-safeguarded.
    pub kind: String,
    /// YYYY-MM-DD.
    pub date: String,
    pub country: String,
    pub agency_id: i64,
    pub agency: String,
    pub details: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl From<vigil_store::Event> for EventOut {
    fn from(e: vigil_store::Event) -> Self {
        let vigil_store::Event {
            id,
            uid,
            case_id,
            person_id,
            kind,
            date,
            country,
            agency_id,
            agency,
            details,
            created_by,
            created_at,
            source,
        } = e;
        EventOut {
            id,
            uid,
            case_id,
            person_id,
            kind: kind.to_string(),
            date,
            country,
            agency_id,
            agency,
            details,
            created_by,
            created_at,
            source,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoteOut {
    pub id: i64,
    pub case_id: i64,
    pub person_id: Option<i64>,
    pub body: String,
    pub created_by: String,
    pub created_at: String,
    pub source: String,
}

impl From<vigil_store::Note> for NoteOut {
    fn from(n: vigil_store::Note) -> Self {
        let vigil_store::Note {
            id,
            case_id,
            person_id,
            body,
            created_by,
            created_at,
            source,
        } = n;
        NoteOut {
            id,
            case_id,
            person_id,
            body,
            created_by,
            created_at,
            source,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceOut {
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

impl From<vigil_store::Device> for DeviceOut {
    fn from(d: vigil_store::Device) -> Self {
        let vigil_store::Device {
            id,
            uid,
            case_id,
            person_id,
            label,
            description,
            created_by,
            created_at,
            source,
        } = d;
        DeviceOut {
            id,
            uid,
            case_id,
            person_id,
            label,
            description,
            created_by,
            created_at,
            source,
        }
    }
}
