//! Opening the database and applying migrations.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait as _;

use super::migration::Migrator;

/// How long a SQLite writer waits for another writer's lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the database at `url` (a SeaORM URL: `sqlite://path?mode=rwc` or
/// `postgres://...`).
///
/// SQLite runs in WAL mode, so readers never wait for the writer, with a
/// busy timeout, so concurrent writers queue instead of failing with
/// "database is locked", and with full fsync on commit, so an acknowledged
/// write survives a power cut.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    if url.starts_with("sqlite:") {
        options.max_connections(8).min_connections(1);
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait as _, Statement};

    use super::*;

    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_with_a_busy_timeout_and_full_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let db = connect(&url).await.unwrap();
        // Each pragma read as text (SQLite converts the numbers).
        let pragma = |name: &str, column: &str| {
            let sql = format!("SELECT CAST({column} AS TEXT) FROM pragma_{name}");
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<String>(0).unwrap()
            }
        };
        assert_eq!(pragma("journal_mode", "journal_mode").await, "wal");
        let busy_ms = SQLITE_BUSY_TIMEOUT.as_millis().to_string();
        assert_eq!(pragma("busy_timeout", "timeout").await, busy_ms);
        // 2 = FULL: an acknowledged write survives a power cut.
        assert_eq!(pragma("synchronous", "synchronous").await, "2");
    }
}
