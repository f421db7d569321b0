//! The queries behind the secret lifecycle. Every write is a single
//! statement, conditional where a concurrent writer could interfere, so a
//! write either happens whole or not at all.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, FromQueryResult,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use super::StoreError;
use super::entity::{self, Column, Entity};
use crate::crypto::{Sealed, WrappedKey};
use crate::domain::{Preview, Provider};

/// A secret's metadata, as Get and List return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The secret's uid.
    pub uid: Uuid,
    /// The owning tenant's id.
    pub tenant: String,
    /// The secret id as written.
    pub name: String,
    /// The credential's provider.
    pub provider: Provider,
    /// The stored preview.
    pub preview: Preview,
    /// The current version.
    pub version: i64,
    /// Microseconds since the Unix epoch.
    pub create_time: i64,
    /// Microseconds since the Unix epoch.
    pub update_time: i64,
}

/// A secret's metadata and its sealed value.
#[derive(Debug)]
pub struct StoredSecret {
    /// The metadata.
    pub record: SecretRecord,
    /// The sealed value of `record.version`.
    pub sealed: Sealed,
}

/// A secret to insert.
pub type NewSecret = StoredSecret;

/// A new value for an existing secret.
#[derive(Debug)]
pub struct ValueUpdate {
    /// The secret's uid.
    pub uid: Uuid,
    /// The version the caller read; the update applies only if it is current.
    pub expected_version: i64,
    /// The preview of the new value.
    pub preview: Preview,
    /// The new value, sealed for `expected_version + 1`.
    pub sealed: Sealed,
    /// Microseconds since the Unix epoch.
    pub update_time: i64,
}

/// The metadata columns: everything but the envelope.
#[derive(Debug, FromQueryResult)]
struct MetadataRow {
    uid: Uuid,
    tenant: String,
    name: String,
    provider: String,
    preview: String,
    version: i64,
    create_time: i64,
    update_time: i64,
}

const METADATA: [Column; 8] = [
    Column::Uid,
    Column::Tenant,
    Column::Name,
    Column::Provider,
    Column::Preview,
    Column::Version,
    Column::CreateTime,
    Column::UpdateTime,
];

impl TryFrom<MetadataRow> for SecretRecord {
    type Error = StoreError;

    fn try_from(row: MetadataRow) -> Result<Self, StoreError> {
        let provider = Provider::from_code(&row.provider)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown provider {:?}", row.provider)))?;
        Ok(SecretRecord {
            uid: row.uid,
            tenant: row.tenant,
            name: row.name,
            provider,
            preview: Preview::from_stored(row.preview),
            version: row.version,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

/// Queries over the `secrets` table.
///
/// Lookups by name use `.all()`, not `.one()`: the unique index allows at
/// most one row, and `.one()` would add a bound `LIMIT ?`, which makes SQLite
/// re-prepare the statement on every call instead of reusing sqlx's cached
/// one (measured: a third of AccessSecretValue's server CPU; BENCHMARKS.md).
#[derive(Debug, Clone)]
pub struct SecretStore {
    db: DatabaseConnection,
}

impl SecretStore {
    /// A store over an open, migrated connection.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
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
            preview: Set(record.preview.into_string()),
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
    pub async fn find(
        &self,
        tenant: &str,
        name_key: &str,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let rows = Entity::find()
            .select_only()
            .columns(METADATA)
            .filter(Column::Tenant.eq(tenant))
            .filter(Column::NameKey.eq(name_key))
            .into_model::<MetadataRow>()
            .all(&self.db)
            .await?;
        rows.into_iter()
            .next()
            .map(SecretRecord::try_from)
            .transpose()
    }

    /// The metadata and sealed value of the secret `name_key` in `tenant`.
    pub async fn find_sealed(
        &self,
        tenant: &str,
        name_key: &str,
    ) -> Result<Option<StoredSecret>, StoreError> {
        let Some(row) = Entity::find()
            .filter(Column::Tenant.eq(tenant))
            .filter(Column::NameKey.eq(name_key))
            .all(&self.db)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let sealed = Sealed {
            ciphertext: row.ciphertext,
            nonce: row.nonce,
            wrapped_key: WrappedKey {
                key_id: row.kek_id,
                bytes: row.wrapped_key,
            },
        };
        let record = SecretRecord::try_from(MetadataRow {
            uid: row.uid,
            tenant: row.tenant,
            name: row.name,
            provider: row.provider,
            preview: row.preview,
            version: row.version,
            create_time: row.create_time,
            update_time: row.update_time,
        })?;
        Ok(Some(StoredSecret { record, sealed }))
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
        query
            .order_by_asc(Column::NameKey)
            .limit(limit)
            .into_model::<MetadataRow>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(SecretRecord::try_from)
            .collect()
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
            .col_expr(Column::Preview, Expr::value(preview.into_string()))
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
