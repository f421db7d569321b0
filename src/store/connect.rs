//! Opening the database and applying migrations.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt as _;
use std::str::FromStr as _;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
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
    if url.starts_with("sqlite:") {
        create_private_sqlite_file(url)?;
    }
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

/// Creates the SQLite file of `url` readable by its owner only, when the URL
/// asks for it to be created (`mode=rwc`) and it does not exist yet. SQLite
/// would create it with the umask's mode (often 644); its `-wal` and `-shm`
/// files take the database file's mode. Values are encrypted, but names and
/// previews are not for other users to read.
fn create_private_sqlite_file(url: &str) -> Result<(), DbErr> {
    if !url.contains("mode=rwc") {
        return Ok(());
    }
    let options =
        SqliteConnectOptions::from_str(url).map_err(|e| DbErr::Custom(format!("{url}: {e}")))?;
    let path = options.get_filename();
    let in_memory = path
        .to_str()
        .is_some_and(|p| p.starts_with("file:") || p == ":memory:");
    if in_memory || path.exists() {
        return Ok(());
    }
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        // Someone else created it first: theirs stands.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(DbErr::Custom(format!("creating {}: {e}", path.display()))),
    }
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
    async fn a_new_sqlite_file_and_its_wal_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let db = connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        crate::store::migrate(&db).await.unwrap();
        for file in ["private.db", "private.db-wal", "private.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }

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
