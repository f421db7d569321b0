//! Lookups by name on PostgreSQL, coalesced into shared queries.
//!
//! Each query to PostgreSQL is a round trip through a pooled connection
//! and a server process: on a busy machine that costs far more than the
//! row it returns (BENCHMARKS.md). So concurrent lookups by name share
//! queries: a few worker tasks each take every lookup that is waiting (up
//! to [`MAX_BATCH`]), fetch them all with one query through SeaORM, and
//! hand each caller its row. A lookup that finds
//! a worker idle goes at once, alone; under load, the lookups that arrive
//! while queries are in flight go together in the next one.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{
    DatabaseConnection, DbErr, EntityTrait as _, IdenStatic as _, QueryFilter as _,
    QuerySelect as _, Value,
};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::StoreError;
use super::entity::{Column, Entity};
use super::rows::{ENVELOPE, METADATA, SealedRow};

/// The most lookups one query answers.
const MAX_BATCH: usize = 64;

/// Queries in flight at once: enough to keep PostgreSQL busy while the next
/// batches gather, few enough that batches form under load.
const WORKERS: usize = 8;

/// Lookups waiting for a worker before callers wait to queue.
const QUEUE: usize = 4096;

/// A tenant and a name key.
type Key = (String, String);

/// One caller's lookup and where its answer goes.
struct Lookup {
    key: Key,
    reply: oneshot::Sender<Result<Option<SealedRow>, StoreError>>,
}

/// The queue of lookups that the workers answer.
#[derive(Debug)]
pub(crate) struct BatchedLookups {
    queue: mpsc::Sender<Lookup>,
}

impl BatchedLookups {
    /// Starts the workers on the current Tokio runtime. They stop once the
    /// last handle is dropped.
    pub(crate) fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..WORKERS {
            tokio::spawn(work(db.clone(), Arc::clone(&waiting)));
        }
        Self { queue }
    }

    /// The row of the secret `name_key` in `tenant`, if it exists.
    pub(crate) async fn find(
        &self,
        tenant: &str,
        name_key: &str,
    ) -> Result<Option<SealedRow>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let lookup = Lookup {
            key: (tenant.to_owned(), name_key.to_owned()),
            reply,
        };
        let stopped = || StoreError::Database(DbErr::Custom("lookup workers stopped".into()));
        self.queue.send(lookup).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// One worker: takes what is waiting, answers it with one query, repeats.
async fn work(db: DatabaseConnection, waiting: Arc<Mutex<mpsc::Receiver<Lookup>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // The lock is held only while gathering: while this worker's query
        // runs, the next worker gathers.
        let received = waiting.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if received == 0 {
            return;
        }
        answer(&db, &mut batch).await;
    }
}

/// Fetches every row `batch` asks for in one query and replies to each.
async fn answer(db: &DatabaseConnection, batch: &mut Vec<Lookup>) {
    let (tenants, name_keys): (Vec<String>, Vec<String>) =
        batch.iter().map(|lookup| lookup.key.clone()).unzip();
    // The keys travel as two arrays, so every batch size is one statement
    // that PostgreSQL prepares and plans once: a join of the unnested keys
    // with the unique index.
    let keys = Expr::cust_with_values(
        format!(
            r#"("{}", "{}") IN (SELECT * FROM UNNEST($1::text[], $2::text[]))"#,
            Column::Tenant.as_str(),
            Column::NameKey.as_str()
        ),
        [Value::from(tenants), Value::from(name_keys)],
    );
    let rows = Entity::find()
        .select_only()
        .columns(METADATA)
        .columns(ENVELOPE)
        .filter(keys)
        .into_model::<SealedRow>()
        .all(db)
        .await;

    match rows {
        Ok(rows) => {
            let found: HashMap<Key, SealedRow> =
                rows.into_iter().map(|row| (row.key(), row)).collect();
            for lookup in batch.drain(..) {
                let row = found.get(&lookup.key).cloned();
                // A caller that gave up no longer waits for its answer.
                let _ = lookup.reply.send(Ok(row));
            }
        }
        Err(error) => {
            // Every caller gets the failure; the text may quote SQL, which
            // stays in the log (StoreError::Database is never sent out).
            let text = error.to_string();
            for lookup in batch.drain(..) {
                let error = StoreError::Database(DbErr::Custom(text.clone()));
                let _ = lookup.reply.send(Err(error));
            }
        }
    }
}
