//! The reference evaluator registry: answers from a JSON file that maps a
//! secret's resource name to the instances attached to it, e.g.
//!
//! ```json
//! {"tenants/acme/secrets/openai-key": [
//!     {"name": "evaluators/nightly-relevance", "display_name": "Nightly relevance"}]}
//! ```
//!
//! The file is read again on every call, so editing it attaches and
//! detaches. Secret names match ignoring case. A missing or malformed file is an error, never "no
//! attachments": strongroom then refuses the delete.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;

use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use crate::pb::registry::v1::evaluator_registry_service_server::{
    EvaluatorRegistryService, EvaluatorRegistryServiceServer,
};
use crate::pb::registry::v1::{
    EvaluatorInstance, ListSecretAttachmentsRequest, ListSecretAttachmentsResponse,
};

/// One instance as the attachments file writes it.
#[derive(Debug, Deserialize)]
struct FileInstance {
    name: String,
    display_name: String,
}

/// A registry that answers from an attachments file.
#[derive(Debug, Clone)]
pub struct FileRegistry {
    attachments: PathBuf,
}

impl FileRegistry {
    /// A registry answering from the file at `attachments`.
    pub fn new(attachments: PathBuf) -> Self {
        Self { attachments }
    }

    async fn read(&self) -> Result<BTreeMap<String, Vec<FileInstance>>, Status> {
        let text = tokio::fs::read_to_string(&self.attachments)
            .await
            .map_err(|e| {
                tracing::error!(
                    file = %self.attachments.display(),
                    error = %e,
                    "cannot read attachments file"
                );
                Status::unavailable("attachments file cannot be read")
            })?;
        serde_json::from_str(&text).map_err(|e| {
            tracing::error!(
                file = %self.attachments.display(),
                error = %e,
                "malformed attachments file"
            );
            Status::internal("attachments file is malformed")
        })
    }
}

#[tonic::async_trait]
impl EvaluatorRegistryService for FileRegistry {
    async fn list_secret_attachments(
        &self,
        request: Request<ListSecretAttachmentsRequest>,
    ) -> Result<Response<ListSecretAttachmentsResponse>, Status> {
        let request = request.into_inner();
        let attachments = self.read().await?;
        // Names match ignoring case, as the contract asks; a file may list
        // one secret under several spellings.
        let instances = attachments
            .into_iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(&request.secret_name))
            .flat_map(|(_, instances)| instances)
            .map(|i| EvaluatorInstance {
                name: i.name,
                display_name: i.display_name,
            })
            .collect();
        Ok(Response::new(ListSecretAttachmentsResponse { instances }))
    }
}

/// Serves the file registry on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    attachments: PathBuf,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(EvaluatorRegistryServiceServer::new(FileRegistry::new(
            attachments,
        )))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}
