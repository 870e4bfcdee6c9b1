/// Input that breaks a rule of the domain. The message always names the field
/// and the offending value, because an officer fixing a command line or an
/// import file needs both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} {value:?}: {reason}")]
pub struct ValidationError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &'static str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            field,
            value: value.chars().take(200).collect(),
            reason: reason.into(),
        }
    }
}

impl From<crate::normalize::NormalizeError> for ValidationError {
    fn from(e: crate::normalize::NormalizeError) -> Self {
        Self {
            field: "identifier",
            value: e.value,
            reason: format!("not a valid {}: {}", e.kind, e.reason),
        }
    }
}
