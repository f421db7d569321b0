//! Page tokens for ListSecrets: where the previous page stopped, and which
//! listing it belongs to, so a token is refused for any other listing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;

use crate::domain::{FieldViolation, Provider, TenantId};

/// The decoded content of a page token.
#[derive(Clone, PartialEq, Message)]
struct PageTokenProto {
    #[prost(string, tag = "1")]
    tenant: String,
    #[prost(string, tag = "2")]
    provider: String,
    #[prost(string, tag = "3")]
    after: String,
}

/// Encodes a token for the page after `after` in this listing.
pub(crate) fn encode(tenant: &TenantId, provider: Option<Provider>, after: &str) -> String {
    let token = PageTokenProto {
        tenant: tenant.as_str().to_owned(),
        provider: provider.map(Provider::code).unwrap_or_default().to_owned(),
        after: after.to_owned(),
    };
    URL_SAFE_NO_PAD.encode(token.encode_to_vec())
}

/// Where a listing resumes: a page token checked against the listing it
/// is used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    after: String,
}

impl PageToken {
    /// Parses the `page_token` field of a listing of `tenant`'s secrets,
    /// optionally only `provider`'s: `None` for an empty token (the first
    /// page), an error for a malformed token or one issued for another
    /// listing.
    pub fn parse(
        raw: &str,
        tenant: &TenantId,
        provider: Option<Provider>,
    ) -> Result<Option<Self>, FieldViolation> {
        if raw.is_empty() {
            return Ok(None);
        }
        decode(raw, tenant, provider).map(|after| Some(Self { after }))
    }

    /// The name key the page starts after.
    pub(crate) fn after(&self) -> &str {
        &self.after
    }
}

/// Decodes `raw`, checking that it was issued for this listing. Returns the
/// name key the next page starts after.
fn decode(
    raw: &str,
    tenant: &TenantId,
    provider: Option<Provider>,
) -> Result<String, FieldViolation> {
    let invalid = |why: &str| FieldViolation::new("page_token", why);
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| invalid("page token is malformed"))?;
    let token =
        PageTokenProto::decode(bytes.as_slice()).map_err(|_| invalid("page token is malformed"))?;
    let same_filter = token.provider == provider.map(Provider::code).unwrap_or_default();
    if token.tenant != tenant.as_str() || !same_filter {
        return Err(invalid(
            "page token was issued for another parent or provider filter",
        ));
    }
    if token.after.is_empty() {
        return Err(invalid("page token is malformed"));
    }
    Ok(token.after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id, "parent").unwrap()
    }

    #[test]
    fn a_token_decodes_only_for_its_own_listing() {
        let token = encode(&tenant("acme"), Some(Provider::Groq), "groq-key");
        assert_eq!(
            decode(&token, &tenant("acme"), Some(Provider::Groq)).unwrap(),
            "groq-key"
        );
        assert!(decode(&token, &tenant("other"), Some(Provider::Groq)).is_err());
        assert!(decode(&token, &tenant("acme"), None).is_err());
        assert!(decode(&token, &tenant("acme"), Some(Provider::OpenAi)).is_err());
    }

    #[test]
    fn garbage_tokens_are_refused_on_the_page_token_field() {
        assert_eq!(PageToken::parse("", &tenant("acme"), None).unwrap(), None);
        for raw in ["!!!", "AAAA", ""] {
            assert_eq!(
                decode(raw, &tenant("acme"), None).unwrap_err().field,
                "page_token"
            );
        }
    }
}
