//! Compiles the protos in `proto/` without a system `protoc`: protox parses
//! them in Rust, tonic-prost-build generates the code, and the encoded
//! descriptor set is written to OUT_DIR for server reflection.

use std::{env, fs, path::PathBuf};

use protox::prost::Message as _;

/// The API strongroom serves, and so describes through reflection.
const SERVED: &str = "proto/strongroom/v1/secrets.proto";

/// The evaluator registry's contract, which strongroom calls but does not
/// serve.
const REGISTRY: &str = "proto/evaluators/registry/v1/registry.proto";

/// The served API's codec: it reports undecodable requests as
/// INVALID_ARGUMENT (src/api/codec.rs).
const SERVED_CODEC: &str = "crate::api::codec::RequestCodec";

/// Messages that carry a secret value: their derived `Debug` would print it,
/// so the crate implements `Debug` for them by hand.
const VALUE_CARRIERS: &[&str] = &[
    ".strongroom.v1.CreateSecretRequest",
    ".strongroom.v1.UpdateSecretValueRequest",
    ".strongroom.v1.AccessSecretValueResponse",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in [SERVED, REGISTRY] {
        println!("cargo:rerun-if-changed={proto}");
    }

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let served = protox::compile([SERVED], ["proto"])?;
    fs::write(out_dir.join("descriptor.bin"), served.encode_to_vec())?;

    tonic_prost_build::configure()
        .skip_debug(VALUE_CARRIERS.iter().copied())
        .codec_path(SERVED_CODEC)
        .compile_fds(served)?;
    tonic_prost_build::configure().compile_fds(protox::compile([REGISTRY], ["proto"])?)?;
    Ok(())
}
