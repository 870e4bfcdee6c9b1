//! Who may do what: roles, capabilities, release markings, and the one
//! function that decides every read and write.
//!
//! The store asks [`decide`] before it returns or changes any case record, and
//! records the answer in the audit log, so the rules live here exactly once
//! and are tested as a table (see the tests at the bottom and the
//! authorisation matrix test of the CLI).

use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::records::string_enum;

string_enum! {
    /// A job in the unit. A user may hold several.
    Role {
        Investigator = "investigator",
        ForensicExaminer = "forensic-examiner",
        Analyst = "analyst",
        Supervisor = "supervisor",
        LiaisonOfficer = "liaison-officer",
        AgencyAdmin = "agency-admin",
    }
}

string_enum! {
    /// What a role allows. Capabilities, not roles, appear in the rules, so a
    /// new role is a new row in [`Role::capabilities`] and nothing else.
    Capability {
        ReadCase = "read-case",
        WriteCase = "write-case",
        RunScans = "run-scans",
        ManageHashSets = "manage-hash-sets",
        Packages = "packages",
        ManageUsers = "manage-users",
        ReadAudit = "read-audit",
    }
}

impl Role {
    pub fn capabilities(self) -> &'static [Capability] {
        use Capability::*;
        match self {
            Role::Investigator => &[ReadCase, WriteCase],
            Role::ForensicExaminer => &[ReadCase, WriteCase, RunScans, ManageHashSets],
            Role::Analyst => &[ReadCase, WriteCase],
            Role::Supervisor => &[ReadCase, WriteCase, ReadAudit],
            Role::LiaisonOfficer => &[ReadCase, Packages],
            // Administrators manage people and keys; they see case data only
            // if they also hold a case role (least privilege).
            Role::AgencyAdmin => &[ManageUsers, ReadAudit],
        }
    }

    /// Parses a comma-separated role list (`investigator,analyst`).
    pub fn parse_list(s: &str) -> Result<Vec<Role>, ValidationError> {
        let mut roles = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let r = Role::parse("role", part)?;
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        if roles.is_empty() {
            return Err(ValidationError::new(
                "roles",
                s,
                "at least one role is required",
            ));
        }
        roles.sort();
        Ok(roles)
    }

    pub fn format_list(roles: &[Role]) -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The acting user, resolved by the store from a session, token or `--as`.
/// Every store operation on case data takes one; there is no anonymous path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub user_name: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub agency_country: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn can(&self, cap: Capability) -> bool {
        self.roles.iter().any(|r| r.capabilities().contains(&cap))
    }

    /// Supervisors see every case of their agency; others only the cases they
    /// are members of (need to know).
    pub fn sees_all_agency_cases(&self) -> bool {
        self.roles.contains(&Role::Supervisor)
    }
}

/// A release marking: who outside the owning agency may see a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "scope", rename_all = "kebab-case")]
pub enum Release {
    /// Only the owning agency (the default).
    #[default]
    Agency,
    /// Every agency with a case in the same operation.
    Operation,
    /// Listed agencies (by id) and countries (alpha-2).
    To {
        agencies: Vec<i64>,
        countries: Vec<String>,
    },
}

impl Release {
    /// Text form stored in the database and accepted on the command line:
    /// `agency`, `operation`, or `to:agency=3,country=GB`.
    pub fn to_text(&self) -> String {
        match self {
            Release::Agency => "agency".into(),
            Release::Operation => "operation".into(),
            Release::To {
                agencies,
                countries,
            } => {
                let mut parts: Vec<String> =
                    agencies.iter().map(|a| format!("agency={a}")).collect();
                parts.extend(countries.iter().map(|c| format!("country={c}")));
                format!("to:{}", parts.join(","))
            }
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        match t {
            "agency" => return Ok(Release::Agency),
            "operation" => return Ok(Release::Operation),
            _ => {}
        }
        let Some(list) = t.strip_prefix("to:") else {
            return Err(ValidationError::new(
                "release",
                s,
                "expected agency, operation, or to:agency=ID,country=CC",
            ));
        };
        let mut agencies = Vec::new();
        let mut countries = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(id) = item.strip_prefix("agency=") {
                let id = id.parse::<i64>().map_err(|_| {
                    ValidationError::new("release", item, "agency id must be a number")
                })?;
                agencies.push(id);
            } else if let Some(cc) = item.strip_prefix("country=") {
                countries.push(crate::country::parse_country("release", cc)?);
            } else {
                return Err(ValidationError::new(
                    "release",
                    item,
                    "expected agency=ID or country=CC",
                ));
            }
        }
        if agencies.is_empty() && countries.is_empty() {
            return Err(ValidationError::new("release", s, "empty release list"));
        }
        Ok(Release::To {
            agencies,
            countries,
        })
    }
}

/// What the store knows about a record when it asks whether a principal may
/// touch it.
#[derive(Debug, Clone)]
pub struct RecordScope<'a> {
    pub owner_agency_id: i64,
    /// The record's effective marking (its own, or its case's if unrefined).
    pub release: &'a Release,
    /// The principal is a member of the record's case.
    pub case_member: bool,
    /// The principal's agency has a case in the record's operation.
    pub same_operation: bool,
}

/// The answer, with the reason that goes into the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(&'static str),
    Deny(&'static str),
}

impl Decision {
    pub fn allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    pub fn reason(self) -> &'static str {
        match self {
            Decision::Allow(r) | Decision::Deny(r) => r,
        }
    }
}

/// Reading is allowed to the owning agency's case members (and its
/// supervisors), and to other agencies only through the release marking.
pub fn can_read(p: &Principal, scope: &RecordScope<'_>) -> Decision {
    if !p.can(Capability::ReadCase) {
        return Decision::Deny("role lacks read-case");
    }
    if scope.owner_agency_id == p.agency_id {
        if scope.case_member {
            return Decision::Allow("case member");
        }
        if p.sees_all_agency_cases() {
            return Decision::Allow("supervisor of owning agency");
        }
        return Decision::Deny("not a member of the case");
    }
    match scope.release {
        Release::Agency => Decision::Deny("not released outside the owning agency"),
        Release::Operation if scope.same_operation => Decision::Allow("released to the operation"),
        Release::Operation => Decision::Deny("released to an operation the agency is not in"),
        Release::To {
            agencies,
            countries,
        } => {
            if agencies.contains(&p.agency_id) {
                Decision::Allow("released to the agency")
            } else if countries.contains(&p.agency_country) {
                Decision::Allow("released to the agency's country")
            } else {
                Decision::Deny("not released to this agency")
            }
        }
    }
}

/// Writing is allowed only inside the owning agency: a release lets others
/// read, never change, a record.
pub fn can_write(p: &Principal, scope: &RecordScope<'_>) -> Decision {
    if !p.can(Capability::WriteCase) {
        return Decision::Deny("role lacks write-case");
    }
    if scope.owner_agency_id != p.agency_id {
        return Decision::Deny("record belongs to another agency");
    }
    if scope.case_member || p.sees_all_agency_cases() {
        Decision::Allow("member of the owning agency's case")
    } else {
        Decision::Deny("not a member of the case")
    }
}

/// A capability not tied to one record (manage users, read audit, ...).
pub fn require(p: &Principal, cap: Capability) -> Decision {
    if p.can(cap) {
        Decision::Allow("role grants capability")
    } else {
        Decision::Deny("role lacks capability")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(agency: i64, country: &str, roles: &[Role]) -> Principal {
        Principal {
            user_id: 1,
            user_name: "u".into(),
            agency_id: agency,
            agency_name: "A".into(),
            agency_country: country.into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn read_matrix() {
        let inv = principal(1, "CA", &[Role::Investigator]);
        let sup = principal(1, "CA", &[Role::Supervisor]);
        let admin = principal(1, "CA", &[Role::AgencyAdmin]);
        let foreign = principal(2, "GB", &[Role::Investigator]);
        let agency = Release::Agency;
        let op = Release::Operation;
        let to_gb = Release::To {
            agencies: vec![],
            countries: vec!["GB".into()],
        };
        let to_3 = Release::To {
            agencies: vec![3],
            countries: vec![],
        };
        let scope = |release, member, same_op| RecordScope {
            owner_agency_id: 1,
            release,
            case_member: member,
            same_operation: same_op,
        };
        assert!(can_read(&inv, &scope(&agency, true, false)).allowed());
        assert!(!can_read(&inv, &scope(&agency, false, false)).allowed());
        assert!(can_read(&sup, &scope(&agency, false, false)).allowed());
        assert!(!can_read(&admin, &scope(&agency, true, false)).allowed());
        assert!(!can_read(&foreign, &scope(&agency, false, true)).allowed());
        assert!(can_read(&foreign, &scope(&op, false, true)).allowed());
        assert!(!can_read(&foreign, &scope(&op, false, false)).allowed());
        assert!(can_read(&foreign, &scope(&to_gb, false, false)).allowed());
        assert!(!can_read(&foreign, &scope(&to_3, false, false)).allowed());
        // a release never grants writing
        assert!(!can_write(&foreign, &scope(&to_gb, false, false)).allowed());
        assert!(can_write(&inv, &scope(&agency, true, false)).allowed());
        assert!(!can_write(&inv, &scope(&agency, false, false)).allowed());
    }

    #[test]
    fn release_text_round_trips() {
        for text in ["agency", "operation", "to:agency=3,country=GB"] {
            assert_eq!(Release::parse(text).unwrap().to_text(), text);
        }
        assert!(Release::parse("to:country=UK").is_err());
        assert!(Release::parse("everyone").is_err());
    }

    #[test]
    fn role_lists() {
        let roles = Role::parse_list("analyst, investigator,analyst").unwrap();
        assert_eq!(roles, vec![Role::Investigator, Role::Analyst]);
        assert!(Role::parse_list("").is_err());
        assert!(Role::parse_list("chief").is_err());
    }
}
