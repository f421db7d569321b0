//! Validated domain types. Requests are parsed into these at the API edge,
//! so the layers below never see a raw string that could be malformed.

mod preview;
mod provider;
mod resource;
mod value;
mod violation;

pub use preview::Preview;
pub use provider::Provider;
pub use resource::{SecretId, SecretName, TenantId, TenantName};
pub use value::{MAX_VALUE_BYTES, SecretValue};
pub use violation::{FieldViolation, Violations};
