//! The gRPC server: SecretsService, health, and reflection behind the
//! per-RPC trace layer. [`run`] takes a bound listener and a shutdown future,
//! so tests can bind port 0 and stop the server when they are done.

use std::future::Future;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

use crate::api::{RpcTraceLayer, SecretsApi};
use crate::pb;
use crate::pb::strongroom::v1::secrets_service_server::SecretsServiceServer;
use crate::service::SecretService;

/// Requests larger than this are refused before they are decoded: a value
/// is at most 64 KiB, and the rest of a request is small.
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not load a descriptor set.
    #[error("reflection service could not be built")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("gRPC transport failed")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `service` on `listener` until `shutdown` completes; in-flight
/// calls then finish before this returns.
pub async fn run(
    listener: TcpListener,
    service: SecretService,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<SecretsServiceServer<SecretsApi>>()
        .await;

    // grpcurl 1.8 asks v1alpha, newer clients ask v1: serve both, with the
    // google.rpc descriptors so clients can print error details.
    let descriptors = [
        pb::FILE_DESCRIPTOR_SET,
        tonic_types::pb::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
    ];
    // Each builder describes its own reflection version; add the other's so
    // both list every service served.
    let mut v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET);
    let mut v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET);
    for set in descriptors {
        v1 = v1.register_encoded_file_descriptor_set(set);
        v1alpha = v1alpha.register_encoded_file_descriptor_set(set);
    }

    // Once shutdown begins, health checks say NOT_SERVING, for the server
    // ("") and for SecretsService, so load balancers stop routing here
    // while in-flight calls finish.
    let shutdown = async move {
        shutdown.await;
        health
            .set_not_serving::<SecretsServiceServer<SecretsApi>>()
            .await;
        health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
    };

    let secrets = SecretsServiceServer::new(SecretsApi::new(service))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    Server::builder()
        .layer(RpcTraceLayer)
        .add_service(health_service)
        .add_service(v1.build_v1()?)
        .add_service(v1alpha.build_v1alpha()?)
        .add_service(secrets)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
