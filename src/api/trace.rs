//! One span and one log line per RPC, from a tower layer.
//!
//! The span carries identifiers only: the RPC path, and the tenant and
//! secret name that handlers record once they have parsed them. Payloads
//! are never logged. The line's level follows the status: INFO for OK, WARN
//! for errors the caller caused, ERROR for faults on our side.
//!
//! The line is written when the response starts. For unary calls, which
//! are all of SecretsService, that is the end of the call; for a streaming
//! call (a health watch, reflection) the stream may still be open.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use tonic::Code;
use tower::{Layer, Service};
use tracing::Instrument as _;
use tracing::field::Empty;

/// Adds [`RpcTrace`] to a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcTraceLayer;

impl<S> Layer<S> for RpcTraceLayer {
    type Service = RpcTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcTrace { inner }
    }
}

/// Wraps each call in an `rpc` span and logs its outcome.
#[derive(Debug, Clone)]
pub struct RpcTrace<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RpcTrace<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let span = tracing::info_span!(
            "rpc",
            rpc.method = %request.uri().path(),
            tenant = Empty,
            secret.name = Empty,
            grpc.code = Empty,
        );
        let started = Instant::now();
        let response = {
            let _entered = span.enter();
            self.inner.call(request)
        };

        let outcome = async move {
            let result = response.await;
            let elapsed_us = started.elapsed().as_micros() as u64;
            match &result {
                Ok(response) => log_outcome(status_of(response), elapsed_us),
                Err(error) => tracing::error!(elapsed_us, %error, "rpc failed in transport"),
            }
            result
        };
        Box::pin(outcome.instrument(span))
    }
}

/// The status of a unary response: in the headers when the handler failed
/// (a trailers-only response), otherwise OK.
fn status_of<B>(response: &Response<B>) -> Code {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from_i32)
}

fn log_outcome(code: Code, elapsed_us: u64) {
    tracing::Span::current().record("grpc.code", format!("{code:?}"));
    match code {
        Code::Ok => tracing::info!(elapsed_us, "rpc finished"),
        Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::OutOfRange
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::ResourceExhausted
        | Code::Unimplemented => tracing::warn!(elapsed_us, "rpc finished"),
        Code::Unknown | Code::Internal | Code::Unavailable | Code::DataLoss => {
            tracing::error!(elapsed_us, "rpc finished")
        }
    }
}
