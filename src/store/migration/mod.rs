//! Schema migrations, applied at start-up and by `strongroom migrate`.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261203_000001_create_secrets;

/// Every migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261203_000001_create_secrets::Migration)]
    }
}
