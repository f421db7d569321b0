//! AES-256-GCM with random nonces, as both the envelope and the local key
//! provider use it. A thin layer over `ring::aead`.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// A nonce's length in bytes (96 bits).
pub(crate) const NONCE_BYTES: usize = NONCE_LEN;

/// The authentication tag's length in bytes.
pub(crate) const TAG_BYTES: usize = 16;

/// Authentication failed: the ciphertext, nonce, key or associated data is
/// not what was sealed.
#[derive(Debug)]
pub(crate) struct Unauthentic;

/// The system's random number generator failed.
#[derive(Debug)]
pub(crate) struct RandomFailed;

/// Fills `out` from the system's secure random number generator.
pub(crate) fn fill_random(rng: &SystemRandom, out: &mut [u8]) -> Result<(), RandomFailed> {
    rng.fill(out).map_err(|_| RandomFailed)
}

fn key(key_bytes: &[u8; 32]) -> LessSafeKey {
    // TODO(ring): ring's expanded AES key schedule is not zeroized on drop;
    // only our copy of the raw key bytes is.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key_bytes).expect("a 32-byte AES-256 key"))
}

/// Encrypts `plaintext` under `key_bytes` with a fresh random nonce.
/// Returns the nonce and the ciphertext with its tag appended.
pub(crate) fn seal(
    rng: &SystemRandom,
    key_bytes: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<([u8; NONCE_BYTES], Vec<u8>), RandomFailed> {
    let mut nonce = [0u8; NONCE_BYTES];
    fill_random(rng, &mut nonce)?;

    let mut in_out = Vec::with_capacity(plaintext.len() + TAG_BYTES);
    in_out.extend_from_slice(plaintext);
    key(key_bytes)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .expect("sealing fails only for inputs over 64 GiB");
    Ok((nonce, in_out))
}

/// Decrypts `ciphertext` (tag appended) into a new buffer holding only the
/// plaintext. The caller owns, and must protect, the returned bytes.
pub(crate) fn open(
    key_bytes: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, Unauthentic> {
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unauthentic)?;
    let mut in_out = ciphertext.to_vec();
    let plaintext_len = key(key_bytes)
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .map_err(|_| Unauthentic)?
        .len();
    in_out.truncate(plaintext_len);
    Ok(in_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let rng = SystemRandom::new();
        let key_bytes = [7u8; 32];
        let (nonce, sealed) = seal(&rng, &key_bytes, b"aad", b"plaintext").unwrap();
        assert_eq!(
            open(&key_bytes, &nonce, b"aad", &sealed).unwrap(),
            b"plaintext"
        );

        assert!(open(&key_bytes, &nonce, b"other aad", &sealed).is_err());
        assert!(open(&[8u8; 32], &nonce, b"aad", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[0] ^= 1;
        assert!(open(&key_bytes, &nonce, b"aad", &flipped).is_err());
        assert!(open(&key_bytes, &nonce[..11], b"aad", &sealed).is_err());
    }

    #[test]
    fn every_seal_draws_a_new_nonce() {
        let rng = SystemRandom::new();
        let (first, _) = seal(&rng, &[1u8; 32], b"", b"x").unwrap();
        let (second, _) = seal(&rng, &[1u8; 32], b"", b"x").unwrap();
        assert_ne!(first, second);
    }
}
