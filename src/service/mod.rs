//! The secret lifecycle: create, read, list, rotate, delete and access,
//! over the store, the envelope and the delete policy. Takes and returns
//! domain types; knows nothing of gRPC.

mod error;
mod etag;
mod page_token;
mod secrets;

pub use error::ServiceError;
pub use etag::{etag, parse_etag};
pub use page_token::PageToken;
pub use secrets::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, SecretService};
