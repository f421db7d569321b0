//! The `secrets` table as a SeaORM entity.

use sea_orm::entity::prelude::*;

/// One secret: its metadata, and its value sealed in an envelope.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "secrets")]
pub struct Model {
    /// Assigned at creation; a re-created name gets a new one.
    #[sea_orm(primary_key, auto_increment = false)]
    pub uid: Uuid,
    /// The owning tenant's id.
    pub tenant: String,
    /// The secret id as the user wrote it.
    pub name: String,
    /// The secret id in lower case: unique per tenant, and the list order.
    pub name_key: String,
    /// The provider's code (`openai`, `google`...).
    pub provider: String,
    /// The preview computed when the value was written, as UTF-8 bytes.
    pub preview: Vec<u8>,
    /// 1 at creation, incremented by each value update.
    pub version: i64,
    /// Microseconds since the Unix epoch.
    pub create_time: i64,
    /// Microseconds since the Unix epoch.
    pub update_time: i64,
    /// AES-256-GCM ciphertext of the value, tag appended.
    pub ciphertext: Vec<u8>,
    /// The 96-bit nonce of the ciphertext.
    pub nonce: Vec<u8>,
    /// The data key, wrapped by the key provider.
    pub wrapped_key: Vec<u8>,
    /// The id of the key-encryption key that wrapped the data key.
    pub kek_id: String,
}

/// Secrets relate to nothing else in this database.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
