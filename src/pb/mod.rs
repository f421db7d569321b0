//! Code generated from `proto/` by build.rs, and the encoded descriptor set
//! that server reflection serves.

mod redacted;

/// The strongroom API.
pub mod strongroom {
    /// Version 1 of the strongroom API.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("strongroom.v1");
    }
}

/// The evaluator registry's contract, as strongroom consumes it.
pub mod registry {
    /// Version 1 of the evaluator registry API.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("evaluators.registry.v1");
    }
}

/// The encoded `FileDescriptorSet` of the served API and its imports.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));
