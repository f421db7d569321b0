//! The gRPC edge: decodes requests into domain types, calls the service,
//! encodes answers, and maps every service error to a status in one place.

pub(crate) mod codec;
mod convert;
mod secrets;
mod status;
mod trace;

pub use secrets::SecretsApi;
pub use trace::RpcTraceLayer;
