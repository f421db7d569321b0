//! Encryption at rest.
//!
//! Every stored value is sealed by the [`Envelope`]: a fresh data key per
//! write encrypts the value with AES-256-GCM, and a [`KeyProvider`] wraps that
//! data key under a key-encryption key (KEK) that never leaves the provider.
//! Only the ciphertext, the nonce, the wrapped data key and the KEK's id are
//! stored.

mod aes_gcm;
mod envelope;
mod key_provider;
mod local_key;

pub use envelope::{Binding, Envelope, EnvelopeError, Sealed};
pub use key_provider::{DataKey, KeyProvider, KeyProviderError, WrappedKey};
pub use local_key::{LocalKeyError, LocalKeyProvider, write_new_key_file};
