//! Etags: derived from a secret's uid and version, which together change on
//! every write (a re-created name has a new uid), so nothing extra is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use uuid::Uuid;

use crate::domain::FieldViolation;

/// The length of every etag: 12 digest bytes in unpadded base64.
const ETAG_LEN: usize = 16;

/// The etag of the secret `uid` at `version`.
pub fn etag(uid: Uuid, version: i64) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"strongroom etag v1\0");
    ctx.update(uid.as_bytes());
    ctx.update(&version.to_be_bytes());
    URL_SAFE_NO_PAD.encode(&ctx.finish().as_ref()[..12])
}

/// Parses the optional etag field `field` of a request: `None` when empty
/// (unconditional), an error when it cannot be an etag this service made.
pub fn parse_etag<'a>(
    raw: &'a str,
    field: &'static str,
) -> Result<Option<&'a str>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let decodes = URL_SAFE_NO_PAD
        .decode(raw)
        .is_ok_and(|bytes| bytes.len() == 12);
    if raw.len() != ETAG_LEN || !decodes {
        return Err(FieldViolation::new(
            field,
            "etag is malformed: pass the etag of a Secret, or nothing",
        ));
    }
    Ok(Some(raw))
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

    #[test]
    fn only_etags_of_the_right_shape_parse() {
        let made = etag(Uuid::from_u128(7), 3);
        assert_eq!(parse_etag(&made, "etag").unwrap(), Some(made.as_str()));
        assert_eq!(parse_etag("", "etag").unwrap(), None);
        for bad in [
            "garbage",
            "yw28_s2c17ep01H!",
            "yw28_s2c17ep01Ho=",
            "\"quoted-etag\"",
        ] {
            assert_eq!(parse_etag(bad, "etag").unwrap_err().field, "etag", "{bad}");
        }
    }
}
