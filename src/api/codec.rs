//! SecretsService's protobuf codec: prost's, except that a request that
//! fails to decode (a string field that is not UTF-8, a truncated message)
//! is the caller's error, INVALID_ARGUMENT naming the field, rather than
//! prost's INTERNAL.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, FieldViolation, StatusExt as _};

/// Encodes `T` as prost does; decodes `U`, reporting failures as bad input.
#[derive(Debug, Clone)]
pub struct RequestCodec<T, U> {
    types: PhantomData<(T, U)>,
}

impl<T, U> Default for RequestCodec<T, U> {
    fn default() -> Self {
        Self { types: PhantomData }
    }
}

impl<T, U> Codec for RequestCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder { types: PhantomData }
    }
}

/// Decodes `U`; a failure is INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct RequestDecoder<U> {
    types: PhantomData<U>,
}

impl<U: Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|e| invalid_request(&e))
    }
}

/// The status of a request that prost could not decode. prost's message
/// names where it failed (`Message.field: why`) and never quotes the bytes.
fn invalid_request(error: &prost::DecodeError) -> Status {
    let text = error.to_string();
    let detail = text
        .strip_prefix("failed to decode Protobuf message: ")
        .unwrap_or(&text);
    // The first `Message.field` step is the request's own field.
    let field = detail
        .split(": ")
        .find_map(|step| step.split_once('.').map(|(_, field)| field))
        .filter(|field| field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or("request");
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid request: check {field}: the request is not valid protobuf: {detail}"),
        ErrorDetails::with_bad_request(vec![FieldViolation::new(field, detail)]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::strongroom::v1::CreateSecretRequest;

    /// Field 4 (`value`) as a length-delimited string of `bytes`.
    fn value_field(bytes: &[u8]) -> Vec<u8> {
        let mut encoded = vec![(4 << 3) | 2, bytes.len() as u8];
        encoded.extend_from_slice(bytes);
        encoded
    }

    #[test]
    fn garbage_that_names_no_field_is_invalid_argument_on_the_request() {
        let error = CreateSecretRequest::decode([0xffu8, 0xff].as_slice()).unwrap_err();
        let status = invalid_request(&error);
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert_eq!(violations[0].field, "request");
    }

    #[test]
    fn a_string_that_is_not_utf8_is_invalid_argument_on_its_field() {
        let bytes = value_field(&[b's', b'k', 0xff, 0xfe]);
        let error = CreateSecretRequest::decode(bytes.as_slice()).unwrap_err();
        let status = invalid_request(&error);
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert_eq!(violations[0].field, "value");
        assert!(!status.message().contains("sk"), "{}", status.message());
    }

    #[test]
    fn a_truncated_field_is_invalid_argument_on_that_field() {
        let mut bytes = value_field(b"sk-value");
        bytes.truncate(5);
        let error = CreateSecretRequest::decode(bytes.as_slice()).unwrap_err();
        let status = invalid_request(&error);
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let field = &details.bad_request().expect("BadRequest").field_violations[0].field;
        assert_eq!(field, "value");
        assert!(
            status.message().ends_with("buffer underflow"),
            "{}",
            status.message()
        );
    }
}
