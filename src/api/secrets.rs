//! The SecretsService handlers.

use tonic::{Request, Response, Status};
use tracing::Span;

use super::convert::{provider_from_proto, resource_name, secret_to_proto};
use crate::domain::{FieldViolation, SecretId, SecretName, SecretValue, TenantName, Violations};
use crate::pb::strongroom::v1 as pb;
use crate::pb::strongroom::v1::secrets_service_server::SecretsService;
use crate::service::{PageToken, SecretService, ServiceError, parse_etag};

/// The gRPC face of [`SecretService`].
#[derive(Debug, Clone)]
pub struct SecretsApi {
    service: SecretService,
}

impl SecretsApi {
    /// Serves `service` over gRPC.
    pub fn new(service: SecretService) -> Self {
        Self { service }
    }
}

/// Parses a secret's resource name from field `name`, noting it on the span.
fn parse_name(raw: &str) -> Result<SecretName, ServiceError> {
    let name =
        SecretName::parse(raw, "name").map_err(|v| ServiceError::InvalidArgument(vec![v]))?;
    record_name(&name);
    Ok(name)
}

fn record_name(name: &SecretName) {
    let span = Span::current();
    span.record("tenant", name.tenant.as_str());
    span.record("secret.name", name.id.as_str());
}

#[tonic::async_trait]
impl SecretsService for SecretsApi {
    async fn create_secret(
        &self,
        request: Request<pb::CreateSecretRequest>,
    ) -> Result<Response<pb::Secret>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let parent = violations.check(TenantName::parse(&request.parent, "parent"));
        let id = violations.check(SecretId::parse(&request.secret_id, "secret_id"));
        let provider = violations.check(provider_from_proto(request.provider, "provider"));
        if let Some(None) = provider {
            violations.push(FieldViolation::new("provider", "provider must be set"));
        }
        let value = violations.check(SecretValue::parse(request.value, "value"));
        if let Some(TenantName(tenant)) = &parent {
            Span::current().record("tenant", tenant.as_str());
        }
        if let Some(id) = &id {
            Span::current().record("secret.name", id.as_str());
        }

        let (Some(TenantName(tenant)), Some(id), Some(Some(provider)), Some(value)) =
            (parent, id, provider, value)
        else {
            return Err(ServiceError::InvalidArgument(violations.into_vec()).into());
        };
        let secret = self.service.create(tenant, id, provider, value).await?;
        Ok(Response::new(secret_to_proto(secret)))
    }

    async fn get_secret(
        &self,
        request: Request<pb::GetSecretRequest>,
    ) -> Result<Response<pb::Secret>, Status> {
        let name = parse_name(&request.get_ref().name)?;
        let secret = self.service.get(&name).await?;
        Ok(Response::new(secret_to_proto(secret)))
    }

    async fn list_secrets(
        &self,
        request: Request<pb::ListSecretsRequest>,
    ) -> Result<Response<pb::ListSecretsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let parent = violations.check(TenantName::parse(&request.parent, "parent"));
        let provider = violations.check(provider_from_proto(request.provider, "provider"));
        let page_size = violations.check(
            u32::try_from(request.page_size)
                .map_err(|_| FieldViolation::new("page_size", "page_size must not be negative")),
        );
        if let Some(TenantName(tenant)) = &parent {
            Span::current().record("tenant", tenant.as_str());
        }
        // A token can be checked against its listing once the parent and
        // the filter it belongs to are known.
        let token = match (&parent, provider) {
            (Some(TenantName(tenant)), Some(provider)) => {
                violations.check(PageToken::parse(&request.page_token, tenant, provider))
            }
            _ => None,
        };

        let (Some(TenantName(tenant)), Some(provider), Some(page_size), Some(token)) =
            (parent, provider, page_size, token)
        else {
            return Err(ServiceError::InvalidArgument(violations.into_vec()).into());
        };
        let page = self
            .service
            .list(&tenant, provider, page_size, token.as_ref())
            .await?;
        Ok(Response::new(pb::ListSecretsResponse {
            secrets: page.secrets.into_iter().map(secret_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_secret_value(
        &self,
        request: Request<pb::UpdateSecretValueRequest>,
    ) -> Result<Response<pb::Secret>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let name = violations.check(SecretName::parse(&request.name, "name"));
        let value = violations.check(SecretValue::parse(request.value, "value"));
        let etag = violations.check(parse_etag(&request.etag, "etag"));
        if let Some(name) = &name {
            record_name(name);
        }

        let (Some(name), Some(value), Some(etag)) = (name, value, etag) else {
            return Err(ServiceError::InvalidArgument(violations.into_vec()).into());
        };
        let secret = self.service.update_value(&name, value, etag).await?;
        Ok(Response::new(secret_to_proto(secret)))
    }

    async fn delete_secret(
        &self,
        request: Request<pb::DeleteSecretRequest>,
    ) -> Result<Response<()>, Status> {
        let request = request.get_ref();
        let mut violations = Violations::default();
        let name = violations.check(SecretName::parse(&request.name, "name"));
        let etag = violations.check(parse_etag(&request.etag, "etag"));
        if let Some(name) = &name {
            record_name(name);
        }

        let (Some(name), Some(etag)) = (name, etag) else {
            return Err(ServiceError::InvalidArgument(violations.into_vec()).into());
        };
        self.service.delete(&name, etag).await?;
        Ok(Response::new(()))
    }

    async fn access_secret_value(
        &self,
        request: Request<pb::AccessSecretValueRequest>,
    ) -> Result<Response<pb::AccessSecretValueResponse>, Status> {
        let name = parse_name(&request.get_ref().name)?;
        let (record, value) = self.service.access(&name).await?;
        Ok(Response::new(pb::AccessSecretValueResponse {
            name: resource_name(&record),
            uid: record.uid.to_string(),
            version: record.version,
            value: value.into_response_string(),
        }))
    }
}
