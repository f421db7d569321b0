//! The evaluator registry: which evaluator instances use which secret.
//!
//! [`RegistryClient`] asks a registry over gRPC before every delete;
//! [`DeletePolicy`] says what happens when none is configured. The reference
//! registry in [`dev_server`] serves attachments from a JSON file, for the
//! quickstart and the tests.

mod client;
pub mod dev_server;

use std::fmt;

pub use client::{RegistryClient, RegistryError};

/// An evaluator instance attached to a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The instance's resource name, such as `evaluators/nightly-relevance`.
    pub name: String,
    /// Its human-readable name.
    pub display_name: String,
}

/// How deletes are checked against evaluator attachments.
#[derive(Clone)]
pub enum DeletePolicy {
    /// Ask this registry; refuse when it cannot answer.
    Registry(Box<RegistryClient>),
    /// No registry: refuse every delete (the default, failing closed).
    Refuse,
    /// No registry, and the operator chose to delete without checking.
    Unchecked,
}

impl fmt::Debug for DeletePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeletePolicy::Registry(client) => write!(f, "Registry({})", client.endpoint()),
            DeletePolicy::Refuse => f.write_str("Refuse"),
            DeletePolicy::Unchecked => f.write_str("Unchecked"),
        }
    }
}
