//! DeleteSecret, guarded by the evaluator registry.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use strongroom::pb::registry::v1::evaluator_registry_service_server::{
    EvaluatorRegistryService, EvaluatorRegistryServiceServer,
};
use strongroom::pb::registry::v1::{ListSecretAttachmentsRequest, ListSecretAttachmentsResponse};
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use strongroom::pb::strongroom::v1::{self as pb, Provider};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

use crate::support::{Options, Registry, TestApp, details, on_both_backends};

const NAME: &str = "tenants/acme/secrets/openai-key";

/// A registry that answers "nothing attached" only after `delay`.
#[derive(Debug, Clone, Copy)]
struct SlowRegistry {
    delay: Duration,
}

#[tonic::async_trait]
impl EvaluatorRegistryService for SlowRegistry {
    async fn list_secret_attachments(
        &self,
        _request: Request<ListSecretAttachmentsRequest>,
    ) -> Result<Response<ListSecretAttachmentsResponse>, Status> {
        tokio::time::sleep(self.delay).await;
        Ok(Response::new(ListSecretAttachmentsResponse {
            instances: vec![],
        }))
    }
}

async fn start_slow_registry(delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(EvaluatorRegistryServiceServer::new(SlowRegistry { delay }))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    addr
}

/// A registry that, the first time it is asked, has the secret deleted and
/// created again under the same name (through strongroom itself) before it
/// answers "nothing attached": the race of a re-create during a delete.
#[derive(Clone, Default)]
struct RecreatingRegistry {
    app: Arc<OnceLock<SecretsServiceClient<Channel>>>,
    calls: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl EvaluatorRegistryService for RecreatingRegistry {
    async fn list_secret_attachments(
        &self,
        _request: Request<ListSecretAttachmentsRequest>,
    ) -> Result<Response<ListSecretAttachmentsResponse>, Status> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut app = self.app.get().expect("app set").clone();
            let delete = pb::DeleteSecretRequest {
                name: NAME.into(),
                etag: String::new(),
            };
            app.delete_secret(delete).await?;
            let create = pb::CreateSecretRequest {
                parent: "tenants/acme".into(),
                secret_id: "openai-key".into(),
                provider: Provider::Openai.into(),
                value: "sk-new-incarnation".into(),
            };
            app.create_secret(create).await?;
        }
        Ok(Response::new(ListSecretAttachmentsResponse {
            instances: vec![],
        }))
    }
}

/// A registry address that accepts connections and never says a word.
async fn start_silent_listener() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    addr
}

async fn assert_still_there(app: &TestApp) {
    let access = app.access(NAME).await.expect("secret still stored");
    assert_eq!(access.value, "sk-value-1234");
}

on_both_backends! {
    async fn an_attached_secret_is_not_deleted_and_every_instance_is_named(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "openai-key", Provider::Openai, "sk-value-1234").await.unwrap();
        app.attach(NAME, &[
            ("evaluators/nightly-relevance", "Nightly relevance"),
            ("evaluators/toxicity", "Toxicity check"),
        ]);

        let status = app.delete(NAME, "").await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        let failure = details(&status).precondition_failure().cloned().expect("details");
        let subjects: Vec<&str> = failure.violations.iter().map(|v| v.subject.as_str()).collect();
        assert_eq!(subjects, ["evaluators/nightly-relevance", "evaluators/toxicity"]);
        assert!(failure.violations[1].description.contains("Toxicity check"));
        assert_still_there(&app).await;

        // Detaching (editing the registry's file) lets the delete through.
        app.detach_all();
        app.delete(NAME, "").await.unwrap();
        assert_eq!(app.get(NAME).await.unwrap_err().code(), Code::NotFound);
    }

    async fn the_registry_is_asked_about_the_stored_name_whatever_case_the_caller_used(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "OpenAI-Key", Provider::Openai, "sk-value-1234").await.unwrap();
        app.attach("tenants/acme/secrets/OpenAI-Key", &[("evaluators/nightly", "Nightly")]);

        for spelling in ["openai-key", "OPENAI-KEY", "OpenAI-Key"] {
            let status = app.delete(&format!("tenants/acme/secrets/{spelling}"), "").await.unwrap_err();
            assert_eq!(status.code(), Code::FailedPrecondition, "{spelling}");
        }
        assert!(app.get("tenants/acme/secrets/OpenAI-Key").await.is_ok());

        // An evaluator that wrote the name in another case still counts:
        // the reference registry matches names ignoring case, as the
        // contract asks.
        app.detach_all();
        app.attach("tenants/acme/secrets/openai-KEY", &[("evaluators/nightly", "Nightly")]);
        let status = app.delete("tenants/acme/secrets/OpenAI-Key", "").await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(app.get("tenants/acme/secrets/OpenAI-Key").await.is_ok());
    }

    async fn a_secret_created_again_after_a_delete_gets_a_new_uid(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.create("acme", "openai-key", Provider::Openai, "sk-a").await.unwrap();
        app.delete(NAME, &first.etag).await.unwrap();
        let second = app.create("acme", "openai-key", Provider::Openai, "sk-b").await.unwrap();
        assert_ne!(first.uid, second.uid);
        assert_eq!(second.version, 1);
        assert_ne!(first.etag, second.etag);
    }

    async fn a_delete_with_a_stale_etag_is_aborted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let v1 = app.create("acme", "openai-key", Provider::Openai, "sk-value-0000").await.unwrap();
        app.update(NAME, "sk-value-1234", "").await.unwrap();
        assert_eq!(app.delete(NAME, &v1.etag).await.unwrap_err().code(), Code::Aborted);
        assert_still_there(&app).await;
    }

    async fn an_unreachable_registry_makes_deletes_unavailable(backend: Backend) {
        let options = Options { registry: Registry::Unreachable, ..Options::default() };
        let app = TestApp::spawn_with(backend, options).await;
        app.create("acme", "openai-key", Provider::Openai, "sk-value-1234").await.unwrap();
        let status = app.delete(NAME, "").await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        let details = details(&status);
        assert_eq!(details.error_info().expect("ErrorInfo").reason, "REGISTRY_UNAVAILABLE");
        assert!(details.retry_info().is_some());
        assert_still_there(&app).await;
    }

    async fn a_failing_registry_makes_deletes_unavailable(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "openai-key", Provider::Openai, "sk-value-1234").await.unwrap();
        std::fs::write(&app.attachments, "{ not json").unwrap();
        let status = app.delete(NAME, "").await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        assert_still_there(&app).await;
    }

    async fn a_registry_slower_than_the_deadline_makes_deletes_unavailable(backend: Backend) {
        let slow = start_slow_registry(Duration::from_secs(5)).await;
        let silent = start_silent_listener().await;
        for registry in [slow, silent] {
            let options = Options {
                registry: Registry::At(registry),
                registry_deadline: Duration::from_millis(200),
            };
            let app = TestApp::spawn_with(backend.clone(), options).await;
            app.create("acme", "openai-key", Provider::Openai, "sk-value-1234").await.unwrap();

            let started = std::time::Instant::now();
            let status = app.delete(NAME, "").await.unwrap_err();
            assert_eq!(status.code(), Code::Unavailable);
            // Answering slowly and never finishing the handshake both read
            // as the deadline, never as "unreachable".
            assert!(status.message().contains("within 200ms"), "{}", status.message());
            let details = details(&status);
            let reason = &details.error_info().expect("ErrorInfo").reason;
            assert_eq!(reason, "REGISTRY_DEADLINE_EXCEEDED");
            assert!(details.retry_info().is_some(), "UNAVAILABLE says when to retry");
            assert!(started.elapsed() < Duration::from_secs(4), "the deadline was not applied");
            assert_still_there(&app).await;
        }
    }

    async fn a_delete_never_removes_a_secret_created_again_while_it_ran(backend: Backend) {
        let registry = RecreatingRegistry::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(EvaluatorRegistryServiceServer::new(registry.clone()))
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        let options = Options { registry: Registry::At(addr), ..Options::default() };
        let app = TestApp::spawn_with(backend, options).await;
        let _ = registry.app.set(app.client.clone());
        let old = app.create("acme", "openai-key", Provider::Openai, "sk-old").await.unwrap();

        // The delete's check raced a delete and re-create of the name: the
        // secret it was asked about is gone, and the new one stays.
        let status = app.delete(NAME, "").await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
        let new = app.get(NAME).await.unwrap();
        assert_ne!(new.uid, old.uid);
        assert_eq!(app.access(NAME).await.unwrap().value, "sk-new-incarnation");
    }

    async fn without_a_registry_deletes_are_refused_unless_unchecked(backend: Backend) {
        let refusing = TestApp::spawn_with(
            backend.clone(),
            Options { registry: Registry::None, ..Options::default() },
        )
        .await;
        refusing.create("acme", "openai-key", Provider::Openai, "sk-value-1234").await.unwrap();
        let status = refusing.delete(NAME, "").await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        let failure = details(&status).precondition_failure().cloned().expect("details");
        assert_eq!(failure.violations[0].r#type, "REGISTRY_NOT_CONFIGURED");
        assert_still_there(&refusing).await;
        drop(refusing);

        let unchecked = TestApp::spawn_with(
            backend,
            Options { registry: Registry::Unchecked, ..Options::default() },
        )
        .await;
        unchecked.create("acme", "openai-key", Provider::Openai, "v").await.unwrap();
        unchecked.delete(NAME, "").await.unwrap();
        assert_eq!(unchecked.get(NAME).await.unwrap_err().code(), Code::NotFound);
    }

    async fn a_delete_in_flight_at_shutdown_finishes_before_the_server_stops(backend: Backend) {
        let slow = start_slow_registry(Duration::from_millis(500)).await;
        let options = Options { registry: Registry::At(slow), ..Options::default() };
        let mut app = TestApp::spawn_with(backend, options).await;
        app.create("acme", "openai-key", Provider::Openai, "sk-value-1234").await.unwrap();

        let mut client = app.client.clone();
        let in_flight = tokio::spawn(async move {
            client
                .delete_secret(strongroom::pb::strongroom::v1::DeleteSecretRequest {
                    name: NAME.into(),
                    etag: String::new(),
                })
                .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let server = app.begin_shutdown();

        in_flight.await.unwrap().expect("the in-flight delete completes");
        tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
    }
}
