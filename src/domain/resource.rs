//! Tenants, secret ids and the resource names built from them.
//!
//! A tenant is `tenants/{tenant}`; a secret is
//! `tenants/{tenant}/secrets/{secret}`, where `{secret}` is the secret id the
//! user chose. Ids are validated here once; everything past the API edge
//! holds these types rather than strings.

use std::fmt;

use super::FieldViolation;

const TENANT_MAX: usize = 63;
const SECRET_ID_MAX: usize = 128;

/// A tenant id: 1–63 characters of `a-z`, `0-9` and `-`, starting with a
/// letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Validates `raw` as a tenant id; `field` names the request field.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldViolation> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let starts_well = raw.starts_with(|c: char| c != '-');
        if raw.is_empty() || raw.len() > TENANT_MAX || !starts_well || !raw.chars().all(allowed) {
            return Err(FieldViolation::new(
                field,
                "tenant must be 1-63 characters of a-z, 0-9 and '-', \
                 starting with a letter or digit",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret id: 1–128 letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit. Case is kept as written, but uniqueness ignores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretId(String);

impl SecretId {
    /// Validates `raw` as a secret id; `field` names the request field.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldViolation> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let starts_well = raw.starts_with(|c: char| c.is_ascii_alphanumeric());
        if raw.is_empty() || raw.len() > SECRET_ID_MAX || !starts_well || !raw.chars().all(allowed)
        {
            return Err(FieldViolation::new(
                field,
                "secret id must be 1-128 letters, digits, '-', '_' or '.', \
                 starting with a letter or digit",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// An id read back from storage, where only parsed ids are written.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The id as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that uniqueness and ordering use: the id in lower case. Ids
    /// are ASCII, so this folding is exact.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The resource name of a tenant: `tenants/{tenant}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantName(pub TenantId);

impl TenantName {
    /// Parses `tenants/{tenant}`; `field` names the request field.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldViolation> {
        let tenant = raw
            .strip_prefix("tenants/")
            .ok_or_else(|| FieldViolation::new(field, "must have the form tenants/{tenant}"))?;
        Ok(Self(TenantId::parse(tenant, field)?))
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenants/{}", self.0)
    }
}

/// The resource name of a secret: `tenants/{tenant}/secrets/{secret}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretName {
    /// The tenant that owns the secret.
    pub tenant: TenantId,
    /// The secret's id within the tenant.
    pub id: SecretId,
}

impl SecretName {
    /// Parses `tenants/{tenant}/secrets/{secret}`; `field` names the field.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldViolation> {
        let shape = || {
            FieldViolation::new(
                field,
                "must have the form tenants/{tenant}/secrets/{secret}",
            )
        };
        let rest = raw.strip_prefix("tenants/").ok_or_else(shape)?;
        let (tenant, id) = rest.split_once("/secrets/").ok_or_else(shape)?;
        Ok(Self {
            tenant: TenantId::parse(tenant, field)?,
            id: SecretId::parse(id, field)?,
        })
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenants/{}/secrets/{}", self.tenant, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_follow_the_documented_alphabet() {
        for good in ["acme", "a", "0team", "team-42", &"a".repeat(63)] {
            assert!(TenantId::parse(good, "parent").is_ok(), "{good}");
        }
        for bad in ["", "-acme", "Acme", "acme_1", "acmé", &"a".repeat(64)] {
            assert!(TenantId::parse(bad, "parent").is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_ids_follow_the_documented_alphabet() {
        for good in [
            "OPENAI_API_KEY",
            "openai-embeddings-api-key",
            "k.v1",
            "9",
            &"x".repeat(128),
        ] {
            assert!(SecretId::parse(good, "secret_id").is_ok(), "{good}");
        }
        for bad in [
            "",
            "_key",
            ".key",
            "key/other",
            "key name",
            "ключ",
            &"x".repeat(129),
        ] {
            assert!(SecretId::parse(bad, "secret_id").is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_id_keys_ignore_case_but_ids_keep_it() {
        let id = SecretId::parse("OpenAI-Key", "secret_id").unwrap();
        assert_eq!(id.as_str(), "OpenAI-Key");
        assert_eq!(id.key(), "openai-key");
    }

    #[test]
    fn secret_names_round_trip_through_display() {
        let name = SecretName::parse("tenants/acme/secrets/OpenAI-Key", "name").unwrap();
        assert_eq!(name.tenant.as_str(), "acme");
        assert_eq!(name.id.as_str(), "OpenAI-Key");
        assert_eq!(name.to_string(), "tenants/acme/secrets/OpenAI-Key");
    }

    #[test]
    fn malformed_names_name_the_field() {
        for bad in [
            "acme/secrets/k",
            "tenants/acme/k",
            "tenants/acme/secrets/",
            "tenants//secrets/k",
            "tenants/acme/secrets/k/extra",
        ] {
            let violation = SecretName::parse(bad, "name").unwrap_err();
            assert_eq!(violation.field, "name", "{bad}");
        }
        assert!(TenantName::parse("tenants/acme/", "parent").is_err());
        assert_eq!(
            TenantName::parse("tenants/acme", "parent")
                .unwrap()
                .to_string(),
            "tenants/acme"
        );
    }
}
