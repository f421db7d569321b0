//! Etags: derived from a secret's uid and version, which together change on
//! every write (a re-created name has a new uid), so nothing extra is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use uuid::Uuid;

/// The etag of the secret `uid` at `version`.
pub fn etag(uid: Uuid, version: i64) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"strongroom etag v1\0");
    ctx.update(uid.as_bytes());
    ctx.update(&version.to_be_bytes());
    URL_SAFE_NO_PAD.encode(&ctx.finish().as_ref()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_change_with_version_and_uid_and_are_stable() {
        let uid = Uuid::from_u128(1);
        assert_eq!(etag(uid, 1), etag(uid, 1));
        assert_ne!(etag(uid, 1), etag(uid, 2));
        assert_ne!(etag(uid, 1), etag(Uuid::from_u128(2), 1));
        assert_eq!(etag(uid, 1).len(), 16);
    }
}
