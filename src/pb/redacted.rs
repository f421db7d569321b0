//! `Debug` for the generated messages that carry a secret value. build.rs
//! keeps prost from deriving it; these print every field but the value.

use std::fmt;

use super::strongroom::v1::{
    AccessSecretValueResponse, CreateSecretRequest, UpdateSecretValueRequest,
};

/// Stands in for a value in `Debug` output: its length only.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED; {} bytes]", self.0)
    }
}

impl fmt::Debug for CreateSecretRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateSecretRequest")
            .field("parent", &self.parent)
            .field("secret_id", &self.secret_id)
            .field("provider", &self.provider)
            .field("value", &Redacted(self.value.len()))
            .finish()
    }
}

impl fmt::Debug for UpdateSecretValueRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateSecretValueRequest")
            .field("name", &self.name)
            .field("value", &Redacted(self.value.len()))
            .field("etag", &self.etag)
            .finish()
    }
}

impl fmt::Debug for AccessSecretValueResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessSecretValueResponse")
            .field("name", &self.name)
            .field("uid", &self.uid)
            .field("version", &self.version)
            .field("value", &Redacted(self.value.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_value_carrying_messages_omits_the_value() {
        let create = CreateSecretRequest {
            parent: "tenants/acme".into(),
            secret_id: "k".into(),
            provider: 1,
            value: "sk-topsecret".into(),
        };
        let update = UpdateSecretValueRequest {
            name: "tenants/acme/secrets/k".into(),
            value: "sk-topsecret".into(),
            etag: String::new(),
        };
        let access = AccessSecretValueResponse {
            name: "tenants/acme/secrets/k".into(),
            uid: String::new(),
            version: 1,
            value: "sk-topsecret".into(),
        };
        for printed in [
            format!("{create:?}"),
            format!("{update:?}"),
            format!("{access:#?}"),
        ] {
            assert!(!printed.contains("topsecret"), "{printed}");
            assert!(printed.contains("[REDACTED; 12 bytes]"), "{printed}");
        }
    }
}
