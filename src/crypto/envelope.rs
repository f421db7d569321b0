//! Envelope encryption of secret values.

use std::fmt;
use std::sync::Arc;

use ring::rand::SystemRandom;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::aes_gcm::{self, NONCE_BYTES};
use super::{DataKey, KeyProvider, KeyProviderError, WrappedKey};
use crate::domain::SecretValue;

/// What a ciphertext is bound to: a sealed value opens only for the same
/// tenant, secret uid and version, so a ciphertext copied to another row
/// fails to authenticate instead of decrypting as the wrong secret.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The owning tenant's id.
    pub tenant: &'a str,
    /// The secret's uid.
    pub uid: Uuid,
    /// The value's version.
    pub version: i64,
}

impl Binding<'_> {
    /// The associated data: a label, then each part with its length, so no
    /// two bindings encode alike.
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64 + self.tenant.len());
        aad.extend_from_slice(b"strongroom.v1.secret-value\0");
        aad.extend_from_slice(&(self.tenant.len() as u32).to_be_bytes());
        aad.extend_from_slice(self.tenant.as_bytes());
        aad.extend_from_slice(self.uid.as_bytes());
        aad.extend_from_slice(&self.version.to_be_bytes());
        aad
    }
}

/// A sealed value as it is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// AES-256-GCM ciphertext with its tag appended.
    pub ciphertext: Vec<u8>,
    /// The 96-bit nonce the value was sealed with.
    pub nonce: Vec<u8>,
    /// The data key, wrapped by the key provider.
    pub wrapped_key: WrappedKey,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field(
                "ciphertext",
                &format_args!("<{} bytes>", self.ciphertext.len()),
            )
            .field("wrapped_key", &self.wrapped_key)
            .finish_non_exhaustive()
    }
}

/// Why a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The stored envelope failed to authenticate: altered, truncated, or
    /// copied from another secret or version.
    #[error("stored ciphertext failed authentication")]
    Unauthentic,
    /// The key provider failed for a reason other than authentication.
    #[error("key provider failed")]
    KeyProvider(#[source] KeyProviderError),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl From<KeyProviderError> for EnvelopeError {
    fn from(error: KeyProviderError) -> Self {
        match error {
            KeyProviderError::Unauthentic => EnvelopeError::Unauthentic,
            KeyProviderError::Random => EnvelopeError::Random,
            other => EnvelopeError::KeyProvider(other),
        }
    }
}

/// Seals and opens values under fresh data keys wrapped by a key provider.
#[derive(Debug, Clone)]
pub struct Envelope {
    provider: Arc<dyn KeyProvider>,
    rng: SystemRandom,
}

impl Envelope {
    /// An envelope whose data keys `provider` wraps.
    pub fn new(provider: Arc<dyn KeyProvider>) -> Self {
        Self {
            provider,
            rng: SystemRandom::new(),
        }
    }

    /// Seals `value` under a fresh random data key bound to `binding`.
    pub async fn seal(
        &self,
        binding: Binding<'_>,
        value: &SecretValue,
    ) -> Result<Sealed, EnvelopeError> {
        let mut data_key: DataKey = SecretBox::new(Box::new([0u8; 32]));
        aes_gcm::fill_random(
            &self.rng,
            secrecy::ExposeSecretMut::expose_secret_mut(&mut data_key),
        )
        .map_err(|_| EnvelopeError::Random)?;

        let aad = binding.associated_data();
        let (nonce, ciphertext) = aes_gcm::seal(
            &self.rng,
            data_key.expose_secret(),
            &aad,
            value.expose().as_bytes(),
        )
        .map_err(|_| EnvelopeError::Random)?;
        let wrapped_key = self.provider.wrap(&data_key, &aad).await?;

        Ok(Sealed {
            ciphertext,
            nonce: nonce.to_vec(),
            wrapped_key,
        })
    }

    /// Opens a sealed value that was bound to `binding`.
    pub async fn open(
        &self,
        binding: Binding<'_>,
        sealed: &Sealed,
    ) -> Result<SecretValue, EnvelopeError> {
        if sealed.nonce.len() != NONCE_BYTES {
            return Err(EnvelopeError::Unauthentic);
        }
        let aad = binding.associated_data();
        let data_key = self.provider.unwrap(&sealed.wrapped_key, &aad).await?;
        let plaintext = aes_gcm::open(
            data_key.expose_secret(),
            &sealed.nonce,
            &aad,
            &sealed.ciphertext,
        )
        .map_err(|_| EnvelopeError::Unauthentic)?;

        // Values are sealed from valid UTF-8, so authentic bytes always are.
        // The secret takes an exact-size copy and this buffer is wiped: the
        // buffer is larger than the text (the tag was cut off), and handing
        // it over whole would reallocate it without wiping.
        let plaintext = Zeroizing::new(plaintext);
        let text = std::str::from_utf8(&plaintext).map_err(|_| EnvelopeError::Unauthentic)?;
        Ok(SecretValue::from_trusted(SecretString::from(text)))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::crypto::LocalKeyProvider;

    fn envelope() -> Envelope {
        let key = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        Envelope::new(Arc::new(
            LocalKeyProvider::from_base64(&key, "test").unwrap(),
        ))
    }

    fn value(text: &str) -> SecretValue {
        SecretValue::parse(text.to_owned(), "value").unwrap()
    }

    const UID: Uuid = Uuid::from_u128(0x1234);

    fn binding(version: i64) -> Binding<'static> {
        Binding {
            tenant: "acme",
            uid: UID,
            version,
        }
    }

    #[tokio::test]
    async fn a_sealed_value_opens_byte_for_byte_and_holds_no_plaintext() {
        let envelope = envelope();
        let text = "sk-proj-ключ-🔑\n";
        let sealed = envelope.seal(binding(1), &value(text)).await.unwrap();
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"sk-proj"));
        let opened = envelope.open(binding(1), &sealed).await.unwrap();
        assert_eq!(opened.expose(), text);
    }

    #[tokio::test]
    async fn each_seal_uses_a_fresh_data_key_and_nonce() {
        let envelope = envelope();
        let a = envelope.seal(binding(1), &value("same")).await.unwrap();
        let b = envelope.seal(binding(1), &value("same")).await.unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.wrapped_key.bytes, b.wrapped_key.bytes);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[tokio::test]
    async fn another_binding_or_any_flipped_byte_fails_to_open() {
        let envelope = envelope();
        let sealed = envelope.seal(binding(1), &value("value")).await.unwrap();

        let other_version = envelope.open(binding(2), &sealed).await;
        assert!(matches!(other_version, Err(EnvelopeError::Unauthentic)));
        let other_tenant = Binding {
            tenant: "acme2",
            ..binding(1)
        };
        assert!(matches!(
            envelope.open(other_tenant, &sealed).await,
            Err(EnvelopeError::Unauthentic)
        ));

        type Part = fn(&mut Sealed) -> &mut Vec<u8>;
        let parts: [Part; 3] = [
            |s| &mut s.ciphertext,
            |s| &mut s.nonce,
            |s| &mut s.wrapped_key.bytes,
        ];
        for part in parts {
            let mut tampered = sealed.clone();
            part(&mut tampered)[0] ^= 0x80;
            assert!(matches!(
                envelope.open(binding(1), &tampered).await,
                Err(EnvelopeError::Unauthentic)
            ));
        }
    }

    #[tokio::test]
    async fn a_key_from_another_provider_is_reported_as_unknown() {
        let sealed = envelope().seal(binding(1), &value("v")).await.unwrap();
        let key = base64::engine::general_purpose::STANDARD.encode([4u8; 32]);
        let other = Envelope::new(Arc::new(LocalKeyProvider::from_base64(&key, "t").unwrap()));
        assert!(matches!(
            other.open(binding(1), &sealed).await,
            Err(EnvelopeError::KeyProvider(
                KeyProviderError::UnknownKey { .. }
            ))
        ));
    }
}
