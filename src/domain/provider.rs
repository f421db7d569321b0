//! The provider a credential belongs to.

use std::fmt;

/// The third-party service a secret's credential is for. Fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI API key.
    OpenAi,
    /// Azure OpenAI key.
    Azure,
    /// Google API key or service-account JSON.
    Google,
    /// Amazon access key.
    Amazon,
    /// Groq API key.
    Groq,
    /// Replicate API token.
    Replicate,
    /// Any other credential.
    Other,
}

impl Provider {
    /// Every provider, in the order of the proto enum.
    pub const ALL: [Provider; 7] = [
        Provider::OpenAi,
        Provider::Azure,
        Provider::Google,
        Provider::Amazon,
        Provider::Groq,
        Provider::Replicate,
        Provider::Other,
    ];

    /// The stable lower-case code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Azure => "azure",
            Provider::Google => "google",
            Provider::Amazon => "amazon",
            Provider::Groq => "groq",
            Provider::Replicate => "replicate",
            Provider::Other => "other",
        }
    }

    /// The provider whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.code() == code)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_provider() {
        for provider in Provider::ALL {
            assert_eq!(Provider::from_code(provider.code()), Some(provider));
        }
        assert_eq!(Provider::from_code("OpenAI"), None);
    }
}
