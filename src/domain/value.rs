//! A secret's value while it is in memory.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize as _;

use super::{FieldViolation, Preview};

/// The largest value accepted, in bytes of UTF-8.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A validated secret value: 1 byte to 64 KiB of UTF-8, kept byte for byte.
/// The text lives in a [`SecretString`], zeroized on drop, and neither
/// `Debug` nor any error ever shows it.
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Validates `raw` and takes ownership of it; `field` names the field.
    pub fn parse(raw: String, field: &'static str) -> Result<Self, FieldViolation> {
        let len = raw.len();
        // Wrap first so that even a rejected value is zeroized on drop.
        let value = Self(SecretString::from(exact_size(raw)));
        if len == 0 {
            return Err(FieldViolation::new(field, "value must not be empty"));
        }
        if len > MAX_VALUE_BYTES {
            return Err(FieldViolation::new(
                field,
                format!("value is {len} bytes; the limit is {MAX_VALUE_BYTES} bytes"),
            ));
        }
        Ok(value)
    }

    /// Wraps an already-validated value, such as one just decrypted.
    pub fn from_trusted(value: SecretString) -> Self {
        Self(value)
    }

    /// The value's bytes, for sealing. Callers must not log or copy them.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The preview stored beside the ciphertext.
    pub fn preview(&self) -> Preview {
        Preview::of(self.expose())
    }

    /// Gives the value up as a plain `String`, for the one response that
    /// carries it.
    // TODO(zeroize): the copies outside our types (the request's protobuf
    // bytes and decoded `String`, and this response `String` once encoded)
    // are freed by hyper/prost without being wiped.
    pub fn into_response_string(self) -> String {
        self.0.expose_secret().to_owned()
    }
}

/// `text` in an allocation of exactly its length. A `SecretString` shrinks
/// a larger one by reallocating, which would leave an unwiped copy; so a
/// larger one is copied and wiped here instead.
fn exact_size(mut text: String) -> String {
    if text.capacity() == text.len() {
        return text;
    }
    let exact = String::from(text.as_str());
    text.zeroize();
    exact
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_one_byte_to_64_kib_are_accepted_byte_for_byte() {
        let json = "{\n  \"key\": \"-----BEGIN\\nX\\n\"\n}\n".to_owned();
        assert_eq!(
            SecretValue::parse(json.clone(), "value").unwrap().expose(),
            json
        );
        assert!(SecretValue::parse("x".into(), "value").is_ok());
        assert!(SecretValue::parse("x".repeat(MAX_VALUE_BYTES), "value").is_ok());
    }

    #[test]
    fn empty_and_oversized_values_are_rejected_without_quoting_them() {
        assert_eq!(
            SecretValue::parse(String::new(), "value")
                .unwrap_err()
                .field,
            "value"
        );
        let big = "y".repeat(MAX_VALUE_BYTES + 1);
        let violation = SecretValue::parse(big, "value").unwrap_err();
        assert!(violation.description.contains("65537 bytes"));
        assert!(!violation.description.contains("yyyy"));
    }

    #[test]
    fn debug_never_shows_the_value() {
        let value = SecretValue::parse("sk-very-secret".into(), "value").unwrap();
        assert_eq!(format!("{value:?}"), "SecretValue([REDACTED])");
    }
}
