//! The seam for key-encryption-key back-ends (a local key today; a cloud KMS
//! or OpenBao's transit engine can implement the same trait).

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretBox;

/// A 256-bit data key. Zeroized on drop; `Debug` prints a placeholder.
pub type DataKey = SecretBox<[u8; 32]>;

/// A data key encrypted under a key-encryption key.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Which key-encryption key wrapped it.
    pub key_id: String,
    /// The provider's opaque encoding of the wrapped key.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("key_id", &self.key_id)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .finish()
    }
}

/// Why a key provider could not wrap or unwrap a data key.
#[derive(Debug, thiserror::Error)]
pub enum KeyProviderError {
    /// The stored key id names a key-encryption key this provider lacks.
    #[error("key-encryption key {key_id:?} is not available to this provider")]
    UnknownKey {
        /// The key id read from storage.
        key_id: String,
    },
    /// The wrapped key, or the context it was bound to, was altered.
    #[error("wrapped data key failed authentication")]
    Unauthentic,
    /// The provider could not be reached or failed; retrying may help.
    #[error("key provider failed")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The random number generator behind a wrap failed.
    #[error("the random number generator failed")]
    Random,
}

/// Wraps and unwraps data keys under key-encryption keys.
///
/// `context` is bound to the wrapped key as associated data (KMS APIs call
/// it encryption context): unwrapping with a different context fails.
#[async_trait]
pub trait KeyProvider: Send + Sync + fmt::Debug + 'static {
    /// Wraps `data_key` under the current key-encryption key.
    async fn wrap(
        &self,
        data_key: &DataKey,
        context: &[u8],
    ) -> Result<WrappedKey, KeyProviderError>;

    /// Unwraps a key that [`wrap`](Self::wrap) produced with `context`.
    async fn unwrap(
        &self,
        wrapped: &WrappedKey,
        context: &[u8],
    ) -> Result<DataKey, KeyProviderError>;
}
