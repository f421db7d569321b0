//! Reads on SQLite that run on the calling task, without sqlx's round trip.
//!
//! sqlx gives every SQLite connection a worker thread and hands it each
//! statement through a channel: a pool checkout and two thread wake-ups per
//! query, which cost ~40 µs of CPU even for `SELECT 1` and were most of
//! AccessSecretValue's time (BENCHMARKS.md). A lookup by name is one seek in
//! a unique index that SQLite answers in a few microseconds. So the reads of
//! the request path (lookups by name and listings) run here, on a few
//! read-only rusqlite connections to the same file, inline on the task that
//! asks. The statements are the ones SeaORM builds for the same queries;
//! writes, migrations and PostgreSQL stay with SeaORM and sqlx.
//!
//! Running inline is bounded: the connections are read-only and the
//! database is in WAL mode, so a read never waits for a writer; their busy
//! timeout is zero, so a rare lock conflict returns at once and the caller
//! takes the SeaORM path instead. What remains is disk reads on a page-cache
//! miss, one per B-tree level, as for any embedded database.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use rusqlite::types::Value as SqliteValue;
use rusqlite::{Connection, ErrorCode, OpenFlags, Params, ParamsFromIter, Row};
use sea_orm::{DbBackend, Statement, Value};

// TODO(blocking): a page-cache miss is a disk read on a Tokio worker thread;
// on slow storage, move these reads to a small blocking pool of their own.

/// Prepared statements kept per connection: the lookups and listing shapes
/// of the request path, with room to spare.
const STATEMENT_CACHE: usize = 32;

/// Read-only connections to one SQLite database file.
pub(crate) struct SqliteReader {
    connections: Box<[Mutex<Connection>]>,
    next: AtomicUsize,
}

impl fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteReader")
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl SqliteReader {
    /// Opens `count` read-only connections to the database file at `path`,
    /// which must exist and be in WAL mode.
    pub(crate) fn open(path: &Path, count: usize) -> rusqlite::Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connections = (0..count.max(1))
            .map(|_| {
                let connection = Connection::open_with_flags(path, flags)?;
                connection.busy_timeout(Duration::ZERO)?;
                connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                Ok(Mutex::new(connection))
            })
            .collect::<rusqlite::Result<_>>()?;
        Ok(Self {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `sql` (built by SeaORM for SQLite) with `params`, and maps up
    /// to `max_rows` of its rows with `map`.
    ///
    /// `None` means "not here": every connection is in use, or the database
    /// is locked for the moment; the caller should run the query through
    /// SeaORM instead. Never waits.
    pub(crate) fn query<P: Params, T>(
        &self,
        sql: &str,
        params: P,
        max_rows: usize,
        map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<rusqlite::Result<Vec<T>>> {
        let connection = self.free_connection()?;
        match run(&connection, sql, params, max_rows, map) {
            Err(error) if is_locked(&error) => None,
            result => Some(result),
        }
    }

    /// Takes every connection, so that queries answer "not here" until the
    /// guards are dropped.
    #[cfg(test)]
    pub(crate) fn hold_every_connection(&self) -> Vec<std::sync::MutexGuard<'_, Connection>> {
        self.connections.iter().map(|c| c.lock().unwrap()).collect()
    }

    /// The first connection not in use, starting from a rotating index so
    /// concurrent callers spread over them.
    fn free_connection(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).find_map(|offset| {
            match self.connections[(start + offset) % count].try_lock() {
                Ok(guard) => Some(guard),
                // A panic while holding a connection leaves it usable: a
                // statement is reset when its rows are dropped.
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        })
    }
}

fn run<P: Params, T>(
    connection: &Connection,
    sql: &str,
    params: P,
    max_rows: usize,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut prepared = connection.prepare_cached(sql)?;
    let mut rows = prepared.query(params)?;
    let mut out = Vec::new();
    while out.len() < max_rows {
        match rows.next()? {
            Some(row) => out.push(map(row)?),
            None => break,
        }
    }
    Ok(out)
}

/// The values SeaORM bound into `statement`, for [`SqliteReader::query`].
pub(crate) fn params(statement: &Statement) -> rusqlite::Result<ParamsFromIter<Vec<SqliteValue>>> {
    debug_assert_eq!(statement.db_backend, DbBackend::Sqlite);
    let values: Vec<SqliteValue> = match &statement.values {
        Some(values) => values
            .0
            .iter()
            .map(to_sqlite)
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    Ok(rusqlite::params_from_iter(values))
}

/// The SQLite value of a bound SeaORM value. Only the types the store's
/// queries bind are needed.
fn to_sqlite(value: &Value) -> rusqlite::Result<SqliteValue> {
    let unsupported = || {
        rusqlite::Error::ToSqlConversionFailure("the SQLite reader cannot bind this type".into())
    };
    Ok(match value {
        Value::String(Some(text)) => SqliteValue::Text(text.clone()),
        Value::BigInt(Some(n)) => SqliteValue::Integer(*n),
        Value::Int(Some(n)) => SqliteValue::Integer(i64::from(*n)),
        Value::Bytes(Some(bytes)) => SqliteValue::Blob(bytes.clone()),
        Value::Uuid(Some(uuid)) => SqliteValue::Blob(uuid.as_bytes().to_vec()),
        _ => return Err(unsupported()),
    })
}

fn is_locked(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use sea_orm::Values;

    use super::*;

    fn statement(sql: &str, values: Vec<Value>) -> Statement {
        Statement {
            sql: sql.to_owned(),
            values: Some(Values(values)),
            db_backend: DbBackend::Sqlite,
        }
    }

    /// Runs a SeaORM-style statement on `reader`, reading one integer column.
    fn ints(reader: &SqliteReader, statement: &Statement, max: usize) -> Option<Vec<i64>> {
        let params = params(statement).unwrap();
        reader
            .query(&statement.sql, params, max, |row| row.get::<_, i64>(0))
            .map(|result| result.unwrap())
    }

    fn database() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reader.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL;
                 CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER);
                 INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3);",
            )
            .unwrap();
        (dir, path)
    }

    #[test]
    fn reads_bound_rows_and_stops_at_max_rows() {
        let (_dir, path) = database();
        let reader = SqliteReader::open(&path, 2).unwrap();
        let select = statement(
            "SELECT n FROM t WHERE k > ? ORDER BY k",
            vec![Value::String(Some("a".into()))],
        );
        assert_eq!(ints(&reader, &select, 10), Some(vec![2, 3]));
        assert_eq!(ints(&reader, &select, 1), Some(vec![2]));
    }

    #[test]
    fn the_connections_cannot_write() {
        let (_dir, path) = database();
        let reader = SqliteReader::open(&path, 1).unwrap();
        let result = reader.query("INSERT INTO t VALUES ('d', 4) RETURNING n", [], 1, |row| {
            row.get::<_, i64>(0)
        });
        assert!(matches!(result, Some(Err(_))), "{result:?}");
    }

    #[test]
    fn every_connection_in_use_means_not_here() {
        let (_dir, path) = database();
        let reader = SqliteReader::open(&path, 2).unwrap();
        let _held = reader.hold_every_connection();
        assert_eq!(
            ints(&reader, &statement("SELECT n FROM t", vec![]), 1),
            None
        );
    }

    #[test]
    fn a_locked_database_means_not_here() {
        let (_dir, path) = database();
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA locking_mode=EXCLUSIVE; UPDATE t SET n = n + 1;")
            .unwrap();
        let reader = SqliteReader::open(&path, 1).unwrap();
        assert_eq!(
            ints(&reader, &statement("SELECT n FROM t", vec![]), 1),
            None
        );
    }

    #[test]
    fn an_unsupported_bound_value_is_an_error_that_does_not_quote_it() {
        let select = statement(
            "SELECT n FROM t WHERE n = ?",
            vec![Value::Double(Some(1.5))],
        );
        let error = params(&select).unwrap_err();
        assert!(!error.to_string().contains("1.5"), "{error}");
    }
}
