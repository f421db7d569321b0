//! What operators rely on: health, reflection, and opaque internal errors.

use sea_orm::ConnectionTrait as _;
use strongroom::pb::strongroom::v1::Provider;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::{v1, v1alpha};

use crate::support::{Backend, TestApp};

#[tokio::test]
async fn health_reports_the_secrets_service_and_the_server_as_serving() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in ["", "strongroom.v1.SecretsService"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
}

#[tokio::test]
async fn reflection_v1alpha_lists_the_services_and_describes_error_details() {
    use v1alpha::ServerReflectionRequest;
    use v1alpha::server_reflection_client::ServerReflectionClient;
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;

    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let ask = |request| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let requests = vec![
        ask(MessageRequest::ListServices(String::new())),
        ask(MessageRequest::FileContainingSymbol(
            "google.rpc.BadRequest".into(),
        )),
        ask(MessageRequest::FileContainingSymbol(
            "strongroom.v1.SecretsService".into(),
        )),
    ];
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();

    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "strongroom.v1.SecretsService",
        ]
    );
    for _ in 0..2 {
        let response = responses.message().await.unwrap().unwrap().message_response;
        assert!(
            matches!(response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty()),
            "{response:?}"
        );
    }
}

#[tokio::test]
async fn reflection_v1_is_served_too() {
    use v1::ServerReflectionRequest;
    use v1::server_reflection_client::ServerReflectionClient;
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;

    let app = TestApp::spawn(Backend::Sqlite).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "google.rpc.PreconditionFailure".into(),
        )),
    };
    let mut responses = ServerReflectionClient::new(app.channel.clone())
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap().message_response;
    assert!(
        matches!(response, Some(MessageResponse::FileDescriptorResponse(_))),
        "{response:?}"
    );
}

#[tokio::test]
async fn database_failures_are_internal_and_never_show_sql() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.create("acme", "k", Provider::Openai, "sk-value")
        .await
        .unwrap();
    app.db
        .execute_unprepared("DROP TABLE secrets")
        .await
        .unwrap();

    for status in [
        app.get("tenants/acme/secrets/k").await.unwrap_err(),
        app.access("tenants/acme/secrets/k").await.unwrap_err(),
        app.create("acme", "other", Provider::Openai, "sk-value")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
        // The only detail is a fixed ErrorInfo: no SQL, no driver text.
        let details = crate::support::details(&status);
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            ("INTERNAL", "strongroom")
        );
        assert!(info.metadata.is_empty());
        assert!(details.bad_request().is_none() && details.resource_info().is_none());
    }
}

/// CreateSecretRequest as a client that does not check UTF-8 could send it:
/// `value` (field 4) as raw bytes.
#[derive(Clone, PartialEq, prost::Message)]
struct RawCreateSecretRequest {
    #[prost(string, tag = "1")]
    parent: String,
    #[prost(string, tag = "2")]
    secret_id: String,
    #[prost(int32, tag = "3")]
    provider: i32,
    #[prost(bytes = "vec", tag = "4")]
    value: Vec<u8>,
}

#[tokio::test]
async fn a_request_that_is_not_valid_protobuf_is_invalid_argument_naming_the_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.unwrap();
    let request = RawCreateSecretRequest {
        parent: "tenants/acme".into(),
        secret_id: "k".into(),
        provider: Provider::Openai.into(),
        value: b"sk-\xff\xfe-tail".to_vec(),
    };
    let path = http::uri::PathAndQuery::from_static("/strongroom.v1.SecretsService/CreateSecret");
    let codec = tonic_prost::ProstCodec::<RawCreateSecretRequest, ()>::default();
    let status = grpc
        .unary(tonic::Request::new(request), path, codec)
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    assert_eq!(crate::support::violated_fields(&status), ["value"]);
    assert!(!status.message().contains("tail"), "{}", status.message());
    let missing = app.get("tenants/acme/secrets/k").await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}
