//! The queries behind the secret lifecycle. Every write is a single
//! statement, conditional where a concurrent writer could interfere, so a
//! write either happens whole or not at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, DbBackend, EntityTrait as _,
    FromQueryResult, QueryFilter as _, QueryOrder as _, QuerySelect as _, Select,
};
use uuid::Uuid;

use super::StoreError;
use super::batched_lookup::BatchedLookups;
use super::entity::{self, Column, Entity};
use super::rows::{
    ENVELOPE, METADATA, MetadataRow, NewSecret, SealedRow, SecretRecord, StoredSecret, ValueUpdate,
};
use super::sqlite_reader::{self, SqliteReader};
use crate::domain::Provider;

/// Queries over the `secrets` table.
///
/// Writes always go through SeaORM. Reads on the request path take the
/// fastest route the database allows (see [`Reads`]).
#[derive(Debug, Clone)]
pub struct SecretStore {
    db: DatabaseConnection,
    reads: Reads,
}

/// How the request path's reads reach the database.
#[derive(Debug, Clone)]
enum Reads {
    /// SQLite on a file: on the [`SqliteReader`], through SeaORM only when
    /// it has no free connection.
    Sqlite(Arc<SqliteReads>),
    /// PostgreSQL: lookups by name coalesced by [`BatchedLookups`];
    /// listings through SeaORM.
    Batched(Arc<BatchedLookups>),
    /// Everything through SeaORM, one query per read.
    Direct,
}

/// The SQLite reader, and the statements of the lookups by name, built once
/// by SeaORM; the reader binds the tenant and name key per call.
#[derive(Debug)]
struct SqliteReads {
    reader: SqliteReader,
    find: String,
    find_sealed: String,
}

impl SecretStore {
    /// A store over an open, migrated connection. On a SQLite file this
    /// opens the read-only connections of the [`SqliteReader`]; on
    /// PostgreSQL it starts the [`BatchedLookups`] workers, so it must be
    /// called on a Tokio runtime.
    pub fn open(db: DatabaseConnection) -> Result<Self, StoreError> {
        let reads = match db.get_database_backend() {
            DbBackend::Sqlite => match sqlite_file(&db) {
                Some(path) => Reads::Sqlite(Arc::new(SqliteReads::open(&path)?)),
                None => Reads::Direct,
            },
            DbBackend::Postgres => Reads::Batched(Arc::new(BatchedLookups::start(db.clone()))),
            _ => Reads::Direct,
        };
        Ok(Self { db, reads })
    }

    /// The same store with every read through SeaORM, one query each.
    #[cfg(test)]
    fn direct(&self) -> Self {
        Self {
            db: self.db.clone(),
            reads: Reads::Direct,
        }
    }

    /// Up to `limit` ids of key-encryption keys other than `current` that
    /// wrapped stored data keys. Scans the table: for start-up, not requests.
    pub async fn other_key_ids(
        &self,
        current: &str,
        limit: u64,
    ) -> Result<Vec<String>, StoreError> {
        let ids = Entity::find()
            .select_only()
            .column(Column::KekId)
            .distinct()
            .filter(Column::KekId.ne(current))
            .limit(limit)
            .into_tuple::<String>()
            .all(&self.db)
            .await?;
        Ok(ids)
    }

    /// Inserts a new secret; [`StoreError::Duplicate`] if its name is taken
    /// in the tenant, ignoring case.
    pub async fn insert(&self, secret: NewSecret) -> Result<(), StoreError> {
        let StoredSecret { record, sealed } = secret;
        let row = entity::ActiveModel {
            uid: Set(record.uid),
            name_key: Set(record.name.to_ascii_lowercase()),
            tenant: Set(record.tenant),
            name: Set(record.name),
            provider: Set(record.provider.code().to_owned()),
            preview: Set(record.preview.into_string().into_bytes()),
            version: Set(record.version),
            create_time: Set(record.create_time),
            update_time: Set(record.update_time),
            ciphertext: Set(sealed.ciphertext),
            nonce: Set(sealed.nonce),
            wrapped_key: Set(sealed.wrapped_key.bytes),
            kek_id: Set(sealed.wrapped_key.key_id),
        };
        Entity::insert(row).exec_without_returning(&self.db).await?;
        Ok(())
    }

    /// The metadata of the secret `name_key` in `tenant`, if it exists.
    ///
    /// Lookups by name never add a LIMIT (the unique index allows one row
    /// at most): a bound LIMIT makes SQLite re-prepare the statement on
    /// every call instead of reusing the cached one (BENCHMARKS.md).
    pub async fn find(
        &self,
        tenant: &str,
        name_key: &str,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let row = match &self.reads {
            Reads::Batched(lookups) => lookups
                .find(tenant, name_key)
                .await?
                .map(SealedRow::into_metadata),
            Reads::Sqlite(_) | Reads::Direct => {
                let sql: fn(&SqliteReads) -> &str = |sqlite| &sqlite.find;
                self.row_by_name(
                    tenant,
                    name_key,
                    sql,
                    MetadataRow::from_sqlite,
                    metadata_by_name,
                )
                .await?
            }
        };
        row.map(TryInto::try_into).transpose()
    }

    /// The metadata and sealed value of the secret `name_key` in `tenant`.
    pub async fn find_sealed(
        &self,
        tenant: &str,
        name_key: &str,
    ) -> Result<Option<StoredSecret>, StoreError> {
        let row = match &self.reads {
            Reads::Batched(lookups) => lookups.find(tenant, name_key).await?,
            Reads::Sqlite(_) | Reads::Direct => {
                let sql: fn(&SqliteReads) -> &str = |sqlite| &sqlite.find_sealed;
                self.row_by_name(
                    tenant,
                    name_key,
                    sql,
                    SealedRow::from_sqlite,
                    sealed_by_name,
                )
                .await?
            }
        };
        row.map(TryInto::try_into).transpose()
    }

    /// The row of the secret `name_key` in `tenant`: on the SQLite reader
    /// with the statement `sql` picks, when there is a reader and it can
    /// take the query now; otherwise through SeaORM with `query`, which is
    /// only built then.
    async fn row_by_name<M>(
        &self,
        tenant: &str,
        name_key: &str,
        sql: fn(&SqliteReads) -> &str,
        from_sqlite: fn(&rusqlite::Row<'_>) -> rusqlite::Result<M>,
        query: fn(&str, &str) -> Select<Entity>,
    ) -> Result<Option<M>, StoreError>
    where
        M: FromQueryResult + Send + Sync,
    {
        if let Reads::Sqlite(sqlite) = &self.reads {
            let params = (tenant, name_key);
            if let Some(rows) = sqlite.reader.query(sql(sqlite), params, 1, from_sqlite) {
                return Ok(rows?.pop());
            }
        }
        let rows = query(tenant, name_key)
            .into_model::<M>()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Up to `limit` secrets of `tenant` whose name key sorts after `after`,
    /// in name-key order, optionally only `provider`'s. Seeks through the
    /// index, so a deep page costs what the first does.
    pub async fn list(
        &self,
        tenant: &str,
        provider: Option<Provider>,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<SecretRecord>, StoreError> {
        let mut query = Entity::find()
            .select_only()
            .columns(METADATA)
            .filter(Column::Tenant.eq(tenant));
        if let Some(provider) = provider {
            query = query.filter(Column::Provider.eq(provider.code()));
        }
        if let Some(after) = after {
            query = query.filter(Column::NameKey.gt(after));
        }
        let query = query.order_by_asc(Column::NameKey);

        // On the reader, no LIMIT in the statement (see `find`): the reader
        // stops after `limit` rows instead.
        let on_reader = match &self.reads {
            Reads::Sqlite(sqlite) => {
                let statement = query
                    .clone()
                    .into_model::<MetadataRow>()
                    .into_statement(DbBackend::Sqlite);
                let params = sqlite_reader::params(&statement)?;
                let max_rows = usize::try_from(limit).unwrap_or(usize::MAX);
                let sql = &statement.sql;
                sqlite
                    .reader
                    .query(sql, params, max_rows, MetadataRow::from_sqlite)
            }
            Reads::Batched(_) | Reads::Direct => None,
        };
        let rows = match on_reader {
            Some(rows) => rows?,
            None => {
                query
                    .limit(limit)
                    .into_model::<MetadataRow>()
                    .all(&self.db)
                    .await?
            }
        };
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Writes a new value if the secret is still at `expected_version`.
    /// Returns whether it was written.
    pub async fn update_value(&self, update: ValueUpdate) -> Result<bool, StoreError> {
        let ValueUpdate {
            uid,
            expected_version,
            preview,
            sealed,
            update_time,
        } = update;
        let result = Entity::update_many()
            .col_expr(Column::Version, Expr::value(expected_version + 1))
            .col_expr(
                Column::Preview,
                Expr::value(preview.into_string().into_bytes()),
            )
            .col_expr(Column::UpdateTime, Expr::value(update_time))
            .col_expr(Column::Ciphertext, Expr::value(sealed.ciphertext))
            .col_expr(Column::Nonce, Expr::value(sealed.nonce))
            .col_expr(Column::WrappedKey, Expr::value(sealed.wrapped_key.bytes))
            .col_expr(Column::KekId, Expr::value(sealed.wrapped_key.key_id))
            .filter(Column::Uid.eq(uid))
            .filter(Column::Version.eq(expected_version))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Deletes the secret `uid` if it is still at `expected_version`.
    /// Returns whether it was deleted.
    pub async fn delete(&self, uid: Uuid, expected_version: i64) -> Result<bool, StoreError> {
        let result = Entity::delete_many()
            .filter(Column::Uid.eq(uid))
            .filter(Column::Version.eq(expected_version))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

impl SqliteReads {
    fn open(path: &Path) -> Result<Self, StoreError> {
        // One connection per thread that may run a read at once, and a
        // spare.
        let count = std::thread::available_parallelism().map_or(2, |n| n.get() + 1);
        Ok(Self {
            reader: SqliteReader::open(path, count)?,
            find: metadata_by_name("", "")
                .into_model::<MetadataRow>()
                .into_statement(DbBackend::Sqlite)
                .sql,
            find_sealed: sealed_by_name("", "")
                .into_model::<SealedRow>()
                .into_statement(DbBackend::Sqlite)
                .sql,
        })
    }
}

/// The secret `name_key` in `tenant`.
fn by_name(tenant: &str, name_key: &str) -> Select<Entity> {
    Entity::find()
        .filter(Column::Tenant.eq(tenant))
        .filter(Column::NameKey.eq(name_key))
}

/// The [`METADATA`] of the secret `name_key` in `tenant`.
fn metadata_by_name(tenant: &str, name_key: &str) -> Select<Entity> {
    by_name(tenant, name_key).select_only().columns(METADATA)
}

/// The [`METADATA`] and [`ENVELOPE`] of the secret `name_key` in `tenant`.
fn sealed_by_name(tenant: &str, name_key: &str) -> Select<Entity> {
    metadata_by_name(tenant, name_key).columns(ENVELOPE)
}

/// The database file behind `db`, when it is SQLite on a file (not in
/// memory).
fn sqlite_file(db: &DatabaseConnection) -> Option<PathBuf> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    path.is_file().then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Sealed, WrappedKey};
    use crate::domain::Preview;

    async fn sqlite_store() -> (tempfile::TempDir, SecretStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
        let db = crate::store::connect(&url).await.unwrap();
        crate::store::migrate(&db).await.unwrap();
        let store = SecretStore::open(db).unwrap();
        assert!(
            matches!(store.reads, Reads::Sqlite(_)),
            "a SQLite file gets the reader"
        );
        (dir, store)
    }

    fn secret(name: &str, provider: Provider, n: u8) -> StoredSecret {
        StoredSecret {
            record: SecretRecord {
                uid: Uuid::from_u128(u128::from(n) + 1),
                tenant: "acme".to_owned(),
                name: name.to_owned(),
                provider,
                preview: Preview::of("sk-0123456789"),
                version: i64::from(n) + 1,
                create_time: 1_000 + i64::from(n),
                update_time: 2_000 + i64::from(n),
            },
            sealed: Sealed {
                ciphertext: vec![n; 20],
                nonce: vec![n.wrapping_add(1); 12],
                wrapped_key: WrappedKey {
                    key_id: format!("local:{n}"),
                    bytes: vec![n.wrapping_add(2); 60],
                },
            },
        }
    }

    #[tokio::test]
    async fn the_sqlite_reader_reads_what_seaorm_reads() {
        let (_dir, reader) = sqlite_store().await;
        let seaorm = reader.direct();
        let names = ["b-key", "A_key", "c.key"];
        for (n, name) in names.into_iter().enumerate() {
            let provider = if n == 1 {
                Provider::Groq
            } else {
                Provider::OpenAi
            };
            reader
                .insert(secret(name, provider, n as u8))
                .await
                .unwrap();
        }

        for store in [&reader, &seaorm] {
            let found = store.find_sealed("acme", "a_key").await.unwrap();
            assert_eq!(found, Some(secret("A_key", Provider::Groq, 1)));
            let record = store.find("acme", "c.key").await.unwrap().unwrap();
            assert_eq!(record, secret("c.key", Provider::OpenAi, 2).record);
            assert_eq!(store.find("acme", "missing").await.unwrap(), None);
            assert_eq!(store.find_sealed("other", "a_key").await.unwrap(), None);
        }

        type List = (Option<Provider>, Option<&'static str>, u64);
        let lists: [List; 4] = [
            (None, None, 10),
            (None, None, 2),
            (None, Some("a_key"), 10),
            (Some(Provider::OpenAi), None, 10),
        ];
        for (provider, after, limit) in lists {
            let on_reader = reader.list("acme", provider, after, limit).await.unwrap();
            let on_seaorm = seaorm.list("acme", provider, after, limit).await.unwrap();
            assert_eq!(on_reader, on_seaorm, "{provider:?} {after:?} {limit}");
        }
        let first_two = reader.list("acme", None, None, 2).await.unwrap();
        let names: Vec<&str> = first_two.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["A_key", "b-key"]);
    }

    #[tokio::test]
    async fn reads_go_through_seaorm_while_every_reader_connection_is_busy() {
        let (_dir, store) = sqlite_store().await;
        store.insert(secret("k", Provider::Other, 0)).await.unwrap();
        let Reads::Sqlite(sqlite) = &store.reads else {
            panic!("SQLite reads");
        };
        let _busy = sqlite.reader.hold_every_connection();
        let found = store.find_sealed("acme", "k").await.unwrap();
        assert_eq!(found, Some(secret("k", Provider::Other, 0)));
    }

    #[tokio::test]
    async fn a_database_in_memory_has_no_reader() {
        let db = crate::store::connect("sqlite::memory:").await.unwrap();
        let store = SecretStore::open(db).unwrap();
        assert!(matches!(store.reads, Reads::Direct));
    }
}
