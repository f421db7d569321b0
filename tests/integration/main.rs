//! The integration suite: the real server in-process on 127.0.0.1, a real
//! gRPC client, the reference evaluator registry, and a real database.

mod support;

mod deletion;
mod encryption;
mod lifecycle;
mod listing;
mod operability;
mod process;
mod validation;
