//! Errors of the secret lifecycle. `api::status` maps each to a gRPC status.

use crate::crypto::{EnvelopeError, KeyProviderError};
use crate::domain::FieldViolation;
use crate::registry::{Attachment, RegistryError};
use crate::store::StoreError;

/// Why a lifecycle operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// One or more request fields are invalid.
    #[error("invalid request: {} field(s)", .0.len())]
    InvalidArgument(Vec<FieldViolation>),
    /// A secret with this name (ignoring case) exists in the tenant.
    #[error("secret {name} already exists")]
    AlreadyExists {
        /// The existing secret's resource name, as it is spelled.
        name: String,
    },
    /// No secret has this name.
    #[error("secret {name} not found")]
    NotFound {
        /// The requested resource name.
        name: String,
    },
    /// The caller's etag is not the secret's current etag.
    #[error("secret {name} changed since the given etag")]
    EtagMismatch {
        /// The resource name.
        name: String,
    },
    /// Concurrent writers kept changing the secret; nothing was written.
    #[error("secret {name} kept changing; nothing was written")]
    Contended {
        /// The resource name.
        name: String,
    },
    /// Evaluator instances use the secret, so it is not deleted.
    #[error("secret {name} is attached to {} evaluator instance(s)", instances.len())]
    Attached {
        /// The resource name.
        name: String,
        /// Every attached instance.
        instances: Vec<Attachment>,
    },
    /// No registry is configured and unchecked deletes are not enabled.
    #[error("deletes are refused: no evaluator registry is configured")]
    DeletesRefused {
        /// The resource name.
        name: String,
    },
    /// The registry could not say whether the secret is attached.
    #[error("evaluator registry unavailable")]
    RegistryUnavailable(#[source] RegistryError),
    /// The stored ciphertext failed to authenticate.
    #[error("stored value of {name} failed authentication")]
    DataLoss {
        /// The resource name.
        name: String,
    },
    /// The key provider failed.
    #[error("key provider failed")]
    KeyProvider(#[source] KeyProviderError),
    /// The system random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// The store failed.
    #[error("store failed")]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// Maps an envelope failure for the secret `name`.
    pub(crate) fn from_envelope(name: &impl ToString, error: EnvelopeError) -> Self {
        match error {
            EnvelopeError::Unauthentic => ServiceError::DataLoss {
                name: name.to_string(),
            },
            EnvelopeError::KeyProvider(e) => ServiceError::KeyProvider(e),
            EnvelopeError::Random => ServiceError::Random,
        }
    }
}
