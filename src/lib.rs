//! strongroom keeps the third-party credentials that LLM evaluators use.
//!
//! A request travels down these layers:
//!
//! - [`api`]: tonic handlers. Decode into domain types, call the service,
//!   encode the answer; the one mapping from errors to gRPC statuses; the
//!   per-RPC trace layer.
//! - [`domain`]: validated types: tenant, secret id and name, provider,
//!   value, preview.
//! - [`service`]: the secret lifecycle: create, get, list, update, delete,
//!   access.
//! - [`crypto`]: envelope encryption and the key providers.
//! - [`store`]: SeaORM entity, migrations and queries.
//! - [`registry`]: the evaluator-registry client that guards deletes, and
//!   the reference registry.
//!
//! Around them: [`pb`] (generated code), [`server`] (serves a bound
//! listener), [`startup`] (assembles everything from [`cli`] options) and
//! [`telemetry`] (logs).

pub mod api;
pub mod cli;
pub mod crypto;
pub mod domain;
pub mod pb;
pub mod registry;
pub mod server;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
