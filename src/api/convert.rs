//! Conversions between domain and protobuf types.

use prost_types::Timestamp;

use crate::domain::{FieldViolation, Provider};
use crate::pb::strongroom::v1 as pb;
use crate::service::etag;
use crate::store::SecretRecord;

/// The domain provider of a proto enum value; unset and unknown values are
/// violations of `field`.
pub(super) fn provider_from_proto(
    raw: i32,
    field: &'static str,
) -> Result<Option<Provider>, FieldViolation> {
    let provider = match pb::Provider::try_from(raw) {
        Ok(pb::Provider::Unspecified) => None,
        Ok(pb::Provider::Openai) => Some(Provider::OpenAi),
        Ok(pb::Provider::Azure) => Some(Provider::Azure),
        Ok(pb::Provider::Google) => Some(Provider::Google),
        Ok(pb::Provider::Amazon) => Some(Provider::Amazon),
        Ok(pb::Provider::Groq) => Some(Provider::Groq),
        Ok(pb::Provider::Replicate) => Some(Provider::Replicate),
        Ok(pb::Provider::Other) => Some(Provider::Other),
        Err(_) => {
            return Err(FieldViolation::new(
                field,
                format!("unknown provider {raw}"),
            ));
        }
    };
    Ok(provider)
}

fn provider_to_proto(provider: Provider) -> pb::Provider {
    match provider {
        Provider::OpenAi => pb::Provider::Openai,
        Provider::Azure => pb::Provider::Azure,
        Provider::Google => pb::Provider::Google,
        Provider::Amazon => pb::Provider::Amazon,
        Provider::Groq => pb::Provider::Groq,
        Provider::Replicate => pb::Provider::Replicate,
        Provider::Other => pb::Provider::Other,
    }
}

fn timestamp(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

/// The resource name of a stored secret.
pub(super) fn resource_name(record: &SecretRecord) -> String {
    format!("tenants/{}/secrets/{}", record.tenant, record.name)
}

/// The API's view of a stored secret.
pub(super) fn secret_to_proto(record: SecretRecord) -> pb::Secret {
    pb::Secret {
        name: resource_name(&record),
        uid: record.uid.to_string(),
        provider: provider_to_proto(record.provider).into(),
        etag: etag(record.uid, record.version),
        version: record.version,
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
        preview: record.preview.into_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_survives_a_round_trip_through_the_proto_enum() {
        for provider in Provider::ALL {
            let raw = i32::from(provider_to_proto(provider));
            assert_eq!(
                provider_from_proto(raw, "provider").unwrap(),
                Some(provider)
            );
        }
        assert_eq!(provider_from_proto(0, "provider").unwrap(), None);
        assert_eq!(
            provider_from_proto(99, "provider").unwrap_err().field,
            "provider"
        );
    }

    #[test]
    fn timestamps_split_microseconds_into_seconds_and_nanos() {
        let ts = timestamp(1_700_000_000_123_456);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_456_000));
    }
}
