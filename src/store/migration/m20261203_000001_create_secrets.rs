//! Creates the `secrets` table and its indexes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Secrets {
    Table,
    Uid,
    Tenant,
    Name,
    NameKey,
    Provider,
    Preview,
    Version,
    CreateTime,
    UpdateTime,
    Ciphertext,
    Nonce,
    WrappedKey,
    KekId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Name keys sort by byte on both back-ends (PostgreSQL would
        // otherwise sort by its locale), so listings page in the same order.
        let mut name_key = ColumnDef::new(Secrets::NameKey);
        name_key.string_len(128).not_null();
        if manager.get_database_backend() == DbBackend::Postgres {
            name_key.extra("COLLATE \"C\"");
        }

        manager
            .create_table(
                Table::create()
                    .table(Secrets::Table)
                    .col(ColumnDef::new(Secrets::Uid).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Secrets::Tenant).string_len(63).not_null())
                    .col(ColumnDef::new(Secrets::Name).string_len(128).not_null())
                    .col(name_key)
                    .col(ColumnDef::new(Secrets::Provider).string_len(16).not_null())
                    // Bytes: a value's last characters may include NUL, which
                    // PostgreSQL text cannot hold.
                    .col(ColumnDef::new(Secrets::Preview).blob().not_null())
                    .col(ColumnDef::new(Secrets::Version).big_integer().not_null())
                    .col(ColumnDef::new(Secrets::CreateTime).big_integer().not_null())
                    .col(ColumnDef::new(Secrets::UpdateTime).big_integer().not_null())
                    .col(ColumnDef::new(Secrets::Ciphertext).blob().not_null())
                    .col(ColumnDef::new(Secrets::Nonce).blob().not_null())
                    .col(ColumnDef::new(Secrets::WrappedKey).blob().not_null())
                    .col(ColumnDef::new(Secrets::KekId).string_len(128).not_null())
                    .to_owned(),
            )
            .await?;

        // Uniqueness ignoring case, lookups by name, and key-set paging.
        manager
            .create_index(
                Index::create()
                    .name("secrets_tenant_name_key")
                    .table(Secrets::Table)
                    .col(Secrets::Tenant)
                    .col(Secrets::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Paging through one provider's secrets.
        manager
            .create_index(
                Index::create()
                    .name("secrets_tenant_provider_name_key")
                    .table(Secrets::Table)
                    .col(Secrets::Tenant)
                    .col(Secrets::Provider)
                    .col(Secrets::NameKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Secrets::Table).to_owned())
            .await
    }
}
