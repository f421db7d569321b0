//! The gRPC client of the evaluator registry.

use std::time::{Duration, Instant};

use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

use super::Attachment;
use crate::domain::SecretName;
use crate::pb::registry::v1::ListSecretAttachmentsRequest;
use crate::pb::registry::v1::evaluator_registry_service_client::EvaluatorRegistryServiceClient;

/// Why the registry gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry URL is not a valid endpoint.
    #[error("registry URL {url:?} is not valid")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// Why it is not valid.
        source: tonic::transport::Error,
    },
    /// The registry URL is not `http://host:port`.
    #[error("registry URL {url:?} must start with http:// (TLS is not supported yet)")]
    UnsupportedScheme {
        /// The URL as configured.
        url: String,
    },
    /// The registry URL has a path; gRPC needs `http://host:port`.
    #[error("registry URL {url:?} must be http://host:port, without a path")]
    HasPath {
        /// The URL as configured.
        url: String,
    },
    /// No answer within the deadline.
    #[error("registry did not answer within {0:?}")]
    DeadlineExceeded(Duration),
    /// The registry was unreachable or answered with an error status.
    #[error("registry call failed with {:?}: {}", .0.code(), .0.message())]
    Failed(tonic::Status),
}

/// Asks the evaluator registry which instances use a secret.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    client: EvaluatorRegistryServiceClient<Channel>,
    endpoint: String,
    deadline: Duration,
}

impl RegistryClient {
    /// A client of the registry at `url` whose calls give up after
    /// `deadline`. Connects lazily, so strongroom starts even while the
    /// registry is down; deletes fail until it is back.
    pub fn new(url: &str, deadline: Duration) -> Result<Self, RegistryError> {
        let bad_url = |source| RegistryError::BadUrl {
            url: url.to_owned(),
            source,
        };
        // No connect timeout of tonic's own: the one deadline below covers
        // connecting too, so a slow registry always reads as a deadline.
        let endpoint = Endpoint::from_shared(url.to_owned()).map_err(bad_url)?;
        // Without a scheme the URL parses, but every call would fail.
        // TODO(tls): accept https:// once tonic's TLS feature is enabled.
        if endpoint.uri().scheme_str() != Some("http") {
            return Err(RegistryError::UnsupportedScheme {
                url: url.to_owned(),
            });
        }
        // gRPC routes by service and method; a path would be dropped.
        if !matches!(endpoint.uri().path(), "" | "/") {
            return Err(RegistryError::HasPath {
                url: url.to_owned(),
            });
        }
        Ok(Self {
            client: EvaluatorRegistryServiceClient::new(endpoint.connect_lazy()),
            endpoint: url.to_owned(),
            deadline,
        })
    }

    /// The registry's URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The evaluator instances attached to the secret `name` with `uid`.
    pub async fn attachments(
        &self,
        name: &SecretName,
        uid: Uuid,
    ) -> Result<Vec<Attachment>, RegistryError> {
        let mut request = tonic::Request::new(ListSecretAttachmentsRequest {
            secret_name: name.to_string(),
            secret_uid: uid.to_string(),
        });
        // The deadline travels to the registry as grpc-timeout, and is also
        // enforced here in case the registry ignores it.
        request.set_timeout(self.deadline);
        let mut client = self.client.clone();
        let call = client.list_secret_attachments(request);
        let started = Instant::now();
        let response = match tokio::time::timeout(self.deadline, call).await {
            Ok(Ok(response)) => response,
            // A registry that honours grpc-timeout gives up at the same
            // moment (tonic says CANCELLED): past the deadline, any failure
            // is the deadline's.
            Ok(Err(_)) | Err(_) if started.elapsed() >= self.deadline => {
                return Err(RegistryError::DeadlineExceeded(self.deadline));
            }
            Ok(Err(status)) => return Err(RegistryError::Failed(status)),
            Err(_elapsed) => return Err(RegistryError::DeadlineExceeded(self.deadline)),
        };

        Ok(response
            .into_inner()
            .instances
            .into_iter()
            .map(|instance| Attachment {
                name: instance.name,
                display_name: instance.display_name,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_plain_http_urls_are_accepted() {
        let deadline = Duration::from_secs(1);
        assert!(RegistryClient::new("http://127.0.0.1:50052", deadline).is_ok());
        assert!(RegistryClient::new("http://127.0.0.1:50052/", deadline).is_ok());
        for url in [
            "127.0.0.1:50052",
            "https://registry:443",
            "htp://x y",
            "http://127.0.0.1:50052/registry",
        ] {
            assert!(RegistryClient::new(url, deadline).is_err(), "{url}");
        }
    }
}
