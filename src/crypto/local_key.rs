//! A key-encryption key held by this process: 256 bits read from a key file
//! or from the `STRONGROOM_KEY` environment variable, both base64.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;
use ring::rand::SystemRandom;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::Zeroizing;

use super::aes_gcm::{self, NONCE_BYTES};
use super::{DataKey, KeyProvider, KeyProviderError, WrappedKey};

/// Why a local key-encryption key could not be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum LocalKeyError {
    /// The key file could not be read or written.
    #[error("key file {path}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The key file may be read by users other than its owner.
    #[error(
        "key file {path} has mode {mode:o}: it must not be readable by group or others \
         (chmod 600 it)"
    )]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key is not base64 of exactly 32 bytes.
    #[error("{origin} does not hold a key: expected base64 of exactly 32 bytes")]
    Malformed {
        /// Where the key came from.
        origin: String,
    },
    /// The random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// A key provider whose single key-encryption key lives in this process.
pub struct LocalKeyProvider {
    key: SecretBox<[u8; 32]>,
    key_id: String,
    rng: SystemRandom,
}

impl LocalKeyProvider {
    /// Reads the key from `path`, refusing a file that group or others can
    /// read.
    pub fn from_file(path: &Path) -> Result<Self, LocalKeyError> {
        let io = |source| LocalKeyError::Io {
            path: path.to_owned(),
            source,
        };
        // Check and read the same open file, so it cannot be swapped in
        // between.
        let mut file = File::open(path).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(LocalKeyError::TooOpen {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
        // Room for the whole file up front, so reading never reallocates
        // and leaves an unwiped copy behind.
        let capacity = usize::try_from(metadata.len())
            .unwrap_or(0)
            .saturating_add(1);
        let mut text = Zeroizing::new(String::with_capacity(capacity.min(4096)));
        file.read_to_string(&mut text).map_err(io)?;
        Self::from_base64(&text, &format!("key file {}", path.display()))
    }

    /// Decodes a key given as base64 text, such as `STRONGROOM_KEY`'s value.
    pub fn from_base64(text: &str, origin: &str) -> Result<Self, LocalKeyError> {
        let malformed = || LocalKeyError::Malformed {
            origin: origin.to_owned(),
        };
        let decoded = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| malformed())?);
        let key = secret_key(&decoded).ok_or_else(malformed)?;
        Ok(Self::from_bytes(key))
    }

    fn from_bytes(key: SecretBox<[u8; 32]>) -> Self {
        // The id is a digest of the key under a domain-separation label: it
        // tells keys apart in storage and reveals nothing about the key.
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"strongroom local kek id v1\0");
        ctx.update(key.expose_secret());
        let fingerprint = ctx.finish();
        let key_id = format!("local:{}", hex(&fingerprint.as_ref()[..8]));
        Self {
            key,
            key_id,
            rng: SystemRandom::new(),
        }
    }

    /// The id recorded beside every data key this provider wraps.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl fmt::Debug for LocalKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyProvider")
            .field("key_id", &self.key_id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

#[async_trait]
impl KeyProvider for LocalKeyProvider {
    async fn wrap(
        &self,
        data_key: &DataKey,
        context: &[u8],
    ) -> Result<WrappedKey, KeyProviderError> {
        // Random 96-bit nonces under one key stay safe for about 2^32 wraps,
        // one per write; rotate the key-encryption key well before that.
        let (nonce, sealed) = aes_gcm::seal(
            &self.rng,
            self.key.expose_secret(),
            context,
            data_key.expose_secret(),
        )
        .map_err(|_| KeyProviderError::Random)?;
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(WrappedKey {
            key_id: self.key_id.clone(),
            bytes,
        })
    }

    async fn unwrap(
        &self,
        wrapped: &WrappedKey,
        context: &[u8],
    ) -> Result<DataKey, KeyProviderError> {
        if wrapped.key_id != self.key_id {
            return Err(KeyProviderError::UnknownKey {
                key_id: wrapped.key_id.clone(),
            });
        }
        if wrapped.bytes.len() < NONCE_BYTES {
            return Err(KeyProviderError::Unauthentic);
        }
        let (nonce, sealed) = wrapped.bytes.split_at(NONCE_BYTES);
        let plain = Zeroizing::new(
            aes_gcm::open(self.key.expose_secret(), nonce, context, sealed)
                .map_err(|_| KeyProviderError::Unauthentic)?,
        );
        secret_key(&plain).ok_or(KeyProviderError::Unauthentic)
    }
}

/// Writes a new random key-encryption key to `path`, readable and writable
/// by its owner only. Refuses to overwrite an existing file.
pub fn write_new_key_file(path: &Path) -> Result<(), LocalKeyError> {
    let io = |source| LocalKeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut key = Zeroizing::new([0u8; 32]);
    aes_gcm::fill_random(&SystemRandom::new(), key.as_mut()).map_err(|_| LocalKeyError::Random)?;
    let text = SecretString::from(format!("{}\n", STANDARD.encode(key.as_ref())));

    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(text.expose_secret().as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)
}

/// A 256-bit key copied from `bytes` straight into its zeroizing box (no
/// copy on the stack); `None` unless `bytes` holds exactly 32 bytes.
fn secret_key(bytes: &[u8]) -> Option<SecretBox<[u8; 32]>> {
    (bytes.len() == 32)
        .then(|| SecretBox::init_with_mut(|key: &mut [u8; 32]| key.copy_from_slice(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[tokio::test]
    async fn a_written_key_file_loads_and_unwraps_what_it_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        write_new_key_file(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let provider = LocalKeyProvider::from_file(&path).unwrap();
        let data_key: DataKey = SecretBox::new(Box::new([9u8; 32]));
        let wrapped = provider.wrap(&data_key, b"ctx").await.unwrap();
        assert!(wrapped.key_id.starts_with("local:"));
        let unwrapped = provider.unwrap(&wrapped, b"ctx").await.unwrap();
        assert_eq!(unwrapped.expose_secret(), &[9u8; 32]);
        assert!(matches!(
            provider.unwrap(&wrapped, b"other").await,
            Err(KeyProviderError::Unauthentic)
        ));
    }

    #[test]
    fn key_files_readable_by_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        write_new_key_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = LocalKeyProvider::from_file(&path).unwrap_err();
        assert!(
            matches!(err, LocalKeyError::TooOpen { mode: 0o640, .. }),
            "{err}"
        );
    }

    #[test]
    fn existing_key_files_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        write_new_key_file(&path).unwrap();
        let before = fs::read(&path).unwrap();
        assert!(write_new_key_file(&path).is_err());
        assert_eq!(fs::read(&path).unwrap(), before);
    }

    #[test]
    fn keys_of_the_wrong_length_are_refused_and_not_echoed() {
        let short = STANDARD.encode([1u8; 16]);
        let err = LocalKeyProvider::from_base64(&short, "STRONGROOM_KEY").unwrap_err();
        assert!(!err.to_string().contains(&short));
        assert!(LocalKeyProvider::from_base64("not base64!", "STRONGROOM_KEY").is_err());
    }

    #[test]
    fn key_ids_differ_between_keys_and_debug_hides_the_key() {
        let a = LocalKeyProvider::from_base64(&STANDARD.encode([1u8; 32]), "a").unwrap();
        let b = LocalKeyProvider::from_base64(&STANDARD.encode([2u8; 32]), "b").unwrap();
        assert_ne!(a.key_id(), b.key_id());
        assert!(format!("{a:?}").contains("[REDACTED]"));
    }
}
