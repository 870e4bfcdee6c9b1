use vigil_domain::ValidationError;

/// Why a store operation failed. The CLI maps `Invalid`, `NotFound` and
/// `Conflict` to exit code 2 (the caller's input was wrong) and everything
/// else to 1.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Also returned for records that exist but are not visible to the
    /// principal, so that probing ids reveals nothing.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("permission denied: {0}")]
    Denied(String),
    #[error("{0}")]
    Config(String),
    #[error(
        "database schema is at version {found}, newer than this program supports ({supported}); upgrade Vigil"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("backup file: {0}")]
    Backup(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// True when the caller's input, not the system, is at fault.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::Invalid(_) | StoreError::NotFound { .. } | StoreError::Conflict(_)
        )
    }
}
