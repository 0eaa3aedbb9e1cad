//! The store's error type: domain facts, with driver errors translated at the boundary.

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A row with that key exists already.
    #[error("already exists")]
    AlreadyExists,
    /// An If-Match / If-None-Match condition did not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// Another calendar object in the collection has the same UID (RFC 4791 §5.3.2.1).
    #[error("UID already used by {0}")]
    UidConflict(String),
    /// A client write of something only a pulled source writes: a pulled object, or a
    /// new member of a pull-only calendar (see the `read_only` module). The text is the
    /// id of the source that holds it.
    #[error("read-only: written by source {0}")]
    ReadOnly(String),
    /// The operation is not allowed on this kind of row.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A write would leave a resource with more dead properties, or more bytes of
    /// them, than the caller's limits allow.
    #[error("too many dead properties: {0}")]
    TooManyProperties(String),
    /// The database was written by a newer Tributary.
    #[error("database schema version {found} is newer than this binary supports ({supported}); upgrade Tributary")]
    TooNew {
        /// user_version found.
        found: i64,
        /// Newest version this binary knows.
        supported: i64,
    },
    /// The write would take its owner past their storage quota (RFC 4331 §6); the
    /// text says which limit.
    #[error("over quota: {0}")]
    QuotaExceeded(String),
    /// The disk or database is full.
    #[error("storage full")]
    Full,
    /// The database stayed locked by another process past the busy timeout.
    #[error("database busy")]
    Busy,
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Password(String),
    /// The database file is open in another process (the server is running).
    #[error("the database {0} is in use by another process")]
    InUse(String),
    /// A file is not a usable Tributary backup.
    #[error("not a usable backup: {0}")]
    InvalidBackup(String),
    /// A file beside the database (a backup) could not be read or written.
    #[error("{}: {error}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Any other SQLite error.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// No connection could be had from the pool.
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &e {
            rusqlite::Error::QueryReturnedNoRows => Error::NotFound,
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::ConstraintViolation => Error::AlreadyExists,
                ErrorCode::DiskFull => Error::Full,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::Busy,
                _ => Error::Sqlite(e),
            },
            _ => Error::Sqlite(e),
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;
