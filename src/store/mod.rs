//! Persistence: the SeaORM entity, its migrations, and the queries the
//! secret lifecycle needs. SQLite is the embedded default; PostgreSQL is
//! chosen by URL.

mod batched_lookup;
mod connect;
mod entity;
mod error;
pub mod migration;
mod rows;
mod secrets;
mod sqlite_reader;

pub use connect::{connect, migrate};
pub use error::StoreError;
pub use rows::{NewSecret, SecretRecord, StoredSecret, ValueUpdate};
pub use secrets::SecretStore;
