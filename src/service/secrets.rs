//! [`SecretService`]: the secret lifecycle.

use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use super::{PageToken, ServiceError, etag, page_token};
use crate::crypto::{Binding, Envelope};
use crate::domain::{Provider, SecretId, SecretName, SecretValue, TenantId};
use crate::registry::DeletePolicy;
use crate::store::{NewSecret, SecretRecord, SecretStore, ValueUpdate};

/// The page size when a request leaves it unset.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The largest page returned; larger requests get this many.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// How often an unconditional update or delete re-reads and retries after a
/// concurrent writer changed the secret under it.
const MAX_ATTEMPTS: usize = 5;

/// One page of a listing.
#[derive(Debug)]
pub struct Page {
    /// The secrets on this page, in name order ignoring case.
    pub secrets: Vec<SecretRecord>,
    /// The token of the next page; `None` on the last.
    pub next_page_token: Option<String>,
}

/// Creates, reads, lists, updates, deletes and accesses secrets.
#[derive(Debug, Clone)]
pub struct SecretService {
    store: SecretStore,
    envelope: Envelope,
    delete_policy: DeletePolicy,
}

impl SecretService {
    /// A service over `store`, sealing with `envelope`, and checking deletes
    /// as `delete_policy` says.
    pub fn new(store: SecretStore, envelope: Envelope, delete_policy: DeletePolicy) -> Self {
        Self {
            store,
            envelope,
            delete_policy,
        }
    }

    /// Creates the secret `id` in `tenant` with its first value.
    pub async fn create(
        &self,
        tenant: TenantId,
        id: SecretId,
        provider: Provider,
        value: SecretValue,
    ) -> Result<SecretRecord, ServiceError> {
        let name = SecretName { tenant, id };
        let uid = Uuid::new_v4();
        let now = now_micros();
        let binding = Binding {
            tenant: name.tenant.as_str(),
            uid,
            version: 1,
        };
        let sealed = self
            .envelope
            .seal(binding, &value)
            .await
            .map_err(|e| ServiceError::from_envelope(&name, e))?;

        let record = SecretRecord {
            uid,
            tenant: name.tenant.as_str().to_owned(),
            name: name.id.as_str().to_owned(),
            provider,
            preview: value.preview(),
            version: 1,
            create_time: now,
            update_time: now,
        };
        // The unique index on (tenant, lower-case name) decides races: of
        // concurrent creates of one name, exactly one insert succeeds.
        let new = NewSecret {
            record: record.clone(),
            sealed,
        };
        match self.store.insert(new).await {
            Ok(()) => Ok(record),
            Err(crate::store::StoreError::Duplicate) => {
                // Name the secret that exists as it is spelled, which may
                // differ in case from the request.
                let existing = self
                    .store
                    .find(name.tenant.as_str(), &name.id.key())
                    .await?;
                let name = match existing {
                    Some(existing) => format!("tenants/{}/secrets/{}", name.tenant, existing.name),
                    None => name.to_string(),
                };
                Err(ServiceError::AlreadyExists { name })
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The metadata of `name`.
    pub async fn get(&self, name: &SecretName) -> Result<SecretRecord, ServiceError> {
        self.find(name).await
    }

    /// One page of `tenant`'s secrets, optionally only `provider`'s,
    /// starting after `token` (parsed for this same listing).
    /// `page_size` 0 means the default; sizes above the maximum are capped.
    pub async fn list(
        &self,
        tenant: &TenantId,
        provider: Option<Provider>,
        page_size: u32,
        token: Option<&PageToken>,
    ) -> Result<Page, ServiceError> {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };

        // One row more than the page tells whether another page follows.
        let mut secrets = self
            .store
            .list(
                tenant.as_str(),
                provider,
                token.map(PageToken::after),
                u64::from(size) + 1,
            )
            .await?;
        let next_page_token = if secrets.len() > size as usize {
            secrets.truncate(size as usize);
            secrets
                .last()
                .map(|last| page_token::encode(tenant, provider, &last.name.to_ascii_lowercase()))
        } else {
            None
        };
        Ok(Page {
            secrets,
            next_page_token,
        })
    }

    /// Replaces the value of `name`, if `expected_etag` (when given) is
    /// still its etag.
    pub async fn update_value(
        &self,
        name: &SecretName,
        value: SecretValue,
        expected_etag: Option<&str>,
    ) -> Result<SecretRecord, ServiceError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.find(name).await?;
            check_etag(name, &current, expected_etag)?;

            let version = current.version + 1;
            let binding = Binding {
                tenant: name.tenant.as_str(),
                uid: current.uid,
                version,
            };
            let sealed = self
                .envelope
                .seal(binding, &value)
                .await
                .map_err(|e| ServiceError::from_envelope(name, e))?;
            let update = ValueUpdate {
                uid: current.uid,
                expected_version: current.version,
                preview: value.preview(),
                sealed,
                update_time: now_micros(),
            };
            let preview = update.preview.clone();
            let update_time = update.update_time;
            if self.store.update_value(update).await? {
                return Ok(SecretRecord {
                    version,
                    preview,
                    update_time,
                    ..current
                });
            }

            // Another writer got in first. With an etag the caller asked for
            // exactly the version they saw, which is gone; without one, the
            // last writer wins, so read again and retry.
            if expected_etag.is_some() {
                return Err(ServiceError::EtagMismatch {
                    name: name.to_string(),
                });
            }
        }
        Err(ServiceError::Contended {
            name: name.to_string(),
        })
    }

    /// Deletes `name` unless evaluator instances are attached to it, and if
    /// `expected_etag` (when given) is still its etag.
    pub async fn delete(
        &self,
        name: &SecretName,
        expected_etag: Option<&str>,
    ) -> Result<(), ServiceError> {
        let mut uid = None;
        for _ in 0..MAX_ATTEMPTS {
            let current = self.find(name).await?;
            check_etag(name, &current, expected_etag)?;
            // A retry deletes the secret the first attempt found, or
            // nothing: if it was deleted and the name created again
            // meanwhile, the new secret is not this request's to delete.
            if *uid.get_or_insert(current.uid) != current.uid {
                return Err(ServiceError::NotFound {
                    name: name.to_string(),
                });
            }
            // Ask about the secret as stored: the caller may have spelled
            // its name in another case, and the registry matches exactly.
            let stored_name = SecretName {
                tenant: name.tenant.clone(),
                id: SecretId::from_stored(current.name.clone()),
            };
            self.check_not_attached(&stored_name, current.uid).await?;

            // The window between check and delete. The registry answered for
            // this uid, so a secret deleted and re-created under the same
            // name meanwhile is not deleted on the old answer. The delete is
            // conditional on the version that was checked, so a concurrent
            // write makes us check again. The check runs last, right before
            // the single-statement delete, and is bounded by the registry
            // deadline. What remains: an evaluator attached in the registry
            // between its answer and our delete (at most the deadline plus
            // one statement) is left pointing at a deleted secret. Closing
            // that needs the registry to take part, e.g. refusing new
            // attachments to a secret marked "deleting".
            // TODO(registry): two-phase delete once the registry supports it.
            if self.store.delete(current.uid, current.version).await? {
                if matches!(self.delete_policy, DeletePolicy::Unchecked) {
                    tracing::warn!(
                        secret.uid = %current.uid,
                        "secret deleted without asking the evaluator registry"
                    );
                } else {
                    tracing::info!(secret.uid = %current.uid, "secret deleted");
                }
                return Ok(());
            }
            if expected_etag.is_some() {
                return Err(ServiceError::EtagMismatch {
                    name: name.to_string(),
                });
            }
        }
        Err(ServiceError::Contended {
            name: name.to_string(),
        })
    }

    /// The decrypted value of `name`, with its metadata.
    pub async fn access(
        &self,
        name: &SecretName,
    ) -> Result<(SecretRecord, SecretValue), ServiceError> {
        let stored = self
            .store
            .find_sealed(name.tenant.as_str(), &name.id.key())
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                name: name.to_string(),
            })?;
        let binding = Binding {
            tenant: name.tenant.as_str(),
            uid: stored.record.uid,
            version: stored.record.version,
        };
        let value = self
            .envelope
            .open(binding, &stored.sealed)
            .await
            .map_err(|e| ServiceError::from_envelope(name, e))?;
        Ok((stored.record, value))
    }

    async fn find(&self, name: &SecretName) -> Result<SecretRecord, ServiceError> {
        self.store
            .find(name.tenant.as_str(), &name.id.key())
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                name: name.to_string(),
            })
    }

    async fn check_not_attached(&self, name: &SecretName, uid: Uuid) -> Result<(), ServiceError> {
        let client = match &self.delete_policy {
            DeletePolicy::Registry(client) => client,
            DeletePolicy::Unchecked => return Ok(()),
            DeletePolicy::Refuse => {
                return Err(ServiceError::DeletesRefused {
                    name: name.to_string(),
                });
            }
        };
        let instances = client
            .attachments(name, uid)
            .await
            .map_err(ServiceError::RegistryUnavailable)?;
        if instances.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Attached {
                name: name.to_string(),
                instances,
            })
        }
    }
}

fn check_etag(
    name: &SecretName,
    current: &SecretRecord,
    expected: Option<&str>,
) -> Result<(), ServiceError> {
    match expected {
        Some(expected) if expected != etag(current.uid, current.version) => {
            Err(ServiceError::EtagMismatch {
                name: name.to_string(),
            })
        }
        _ => Ok(()),
    }
}

fn now_micros() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX)
}
