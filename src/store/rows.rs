//! What the store reads and writes: the records the service works with, and
//! the rows they are read from, through SeaORM or the SQLite reader.

use sea_orm::FromQueryResult;
use uuid::Uuid;

use super::StoreError;
use super::entity::Column;
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
#[derive(Debug, PartialEq, Eq)]
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

/// The metadata columns, in the order the rows below read them.
pub(super) const METADATA: [Column; 8] = [
    Column::Uid,
    Column::Tenant,
    Column::Name,
    Column::Provider,
    Column::Preview,
    Column::Version,
    Column::CreateTime,
    Column::UpdateTime,
];

/// The envelope columns, read after [`METADATA`].
pub(super) const ENVELOPE: [Column; 4] = [
    Column::Ciphertext,
    Column::Nonce,
    Column::WrappedKey,
    Column::KekId,
];

/// The [`METADATA`] columns of one row.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct MetadataRow {
    uid: Uuid,
    tenant: String,
    name: String,
    provider: String,
    preview: Vec<u8>,
    version: i64,
    create_time: i64,
    update_time: i64,
}

impl MetadataRow {
    /// Reads a row of the SQLite reader whose columns start with
    /// [`METADATA`], in order.
    pub(super) fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            uid: Uuid::from_bytes(row.get(0)?),
            tenant: row.get(1)?,
            name: row.get(2)?,
            provider: row.get(3)?,
            preview: row.get(4)?,
            version: row.get(5)?,
            create_time: row.get(6)?,
            update_time: row.get(7)?,
        })
    }
}

impl TryFrom<MetadataRow> for SecretRecord {
    type Error = StoreError;

    fn try_from(row: MetadataRow) -> Result<Self, StoreError> {
        let provider = Provider::from_code(&row.provider)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown provider {:?}", row.provider)))?;
        let preview = String::from_utf8(row.preview)
            .map_err(|_| StoreError::Corrupt("preview is not UTF-8".to_owned()))?;
        Ok(SecretRecord {
            uid: row.uid,
            tenant: row.tenant,
            name: row.name,
            provider,
            preview: Preview::from_stored(preview),
            version: row.version,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

/// The [`METADATA`] and then the [`ENVELOPE`] columns of one row.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct SealedRow {
    #[sea_orm(nested)]
    metadata: MetadataRow,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    wrapped_key: Vec<u8>,
    kek_id: String,
}

impl SealedRow {
    /// Reads a row of the SQLite reader whose columns are [`METADATA`] then
    /// [`ENVELOPE`], in order.
    pub(super) fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            metadata: MetadataRow::from_sqlite(row)?,
            ciphertext: row.get(8)?,
            nonce: row.get(9)?,
            wrapped_key: row.get(10)?,
            kek_id: row.get(11)?,
        })
    }
}

impl SealedRow {
    /// The row's tenant and name key.
    pub(super) fn key(&self) -> (String, String) {
        (
            self.metadata.tenant.clone(),
            self.metadata.name.to_ascii_lowercase(),
        )
    }

    /// The row without its envelope.
    pub(super) fn into_metadata(self) -> MetadataRow {
        self.metadata
    }
}

impl TryFrom<SealedRow> for StoredSecret {
    type Error = StoreError;

    fn try_from(row: SealedRow) -> Result<Self, StoreError> {
        Ok(StoredSecret {
            record: row.metadata.try_into()?,
            sealed: Sealed {
                ciphertext: row.ciphertext,
                nonce: row.nonce,
                wrapped_key: WrappedKey {
                    key_id: row.kek_id,
                    bytes: row.wrapped_key,
                },
            },
        })
    }
}
