//! Persistence: the SeaORM entity, its migrations, and the queries the
//! secret lifecycle needs. SQLite is the embedded default; PostgreSQL is
//! chosen by URL.

mod connect;
mod entity;
mod error;
pub mod migration;
mod secrets;

pub use connect::{connect, migrate};
pub use error::StoreError;
pub use secrets::{NewSecret, SecretRecord, SecretStore, StoredSecret, ValueUpdate};
