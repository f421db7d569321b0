//! Errors of the store layer.

use sea_orm::{DbErr, SqlErr};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A secret with the same tenant and name (ignoring case) exists.
    #[error("a secret with this name already exists")]
    Duplicate,
    /// A row holds something this version of strongroom cannot read.
    #[error("stored row is not readable: {0}")]
    Corrupt(String),
    /// The database failed. The message may quote SQL: log it, never send it.
    #[error("database error")]
    Database(#[source] DbErr),
    /// A read on the SQLite reader failed. As above: log it, never send it.
    #[error("SQLite read error")]
    SqliteRead(#[from] rusqlite::Error),
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Duplicate,
            _ => StoreError::Database(error),
        }
    }
}
