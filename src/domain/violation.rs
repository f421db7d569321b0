//! Field violations: what was wrong with which request field.

/// One field of a request that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The request field, as named in the proto (`secret_id`, `value`...).
    pub field: &'static str,
    /// What is wrong with it. Never quotes a secret value.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field` described by `description`.
    pub fn new(field: &'static str, description: impl Into<String>) -> Self {
        Self {
            field,
            description: description.into(),
        }
    }
}

/// Collects the violations of every field of one request, so that a caller
/// learns about all bad fields at once rather than one per round trip.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Keeps the value of `result`, or records its violation and gives `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    /// Records a violation directly.
    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    /// Every violation recorded, in the order of the checks.
    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }
}
