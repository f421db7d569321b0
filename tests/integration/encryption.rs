//! What is stored: no plaintext, and any meddling with a stored envelope is
//! DATA_LOSS rather than a wrong value.

use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
use sea_orm::{ConnectionTrait as _, QueryResult, Statement};
use strongroom::pb::strongroom::v1::{ListSecretsRequest, Provider};
use tonic::Code;
use uuid::Uuid;

use crate::support::{TestApp, details, on_both_backends};

const VALUE: &str = "sk-proj-PLAINTEXT-MARKER-0123456789abcdef";
const ENVELOPE: [&str; 3] = ["ciphertext", "nonce", "wrapped_key"];

async fn row(app: &TestApp, id: &str) -> QueryResult {
    let sql = format!(
        "SELECT uid, tenant, name, name_key, provider, preview, ciphertext, nonce, \
         wrapped_key, kek_id FROM secrets WHERE name = '{id}'"
    );
    let backend = app.db.get_database_backend();
    app.db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .expect("row exists")
}

fn bytes(row: &QueryResult, column: &str) -> Vec<u8> {
    row.try_get::<Vec<u8>>("", column).unwrap()
}

async fn set_bytes(app: &TestApp, uid: Uuid, column: &str, value: Vec<u8>) {
    let update = Query::update()
        .table(Alias::new("secrets"))
        .value(Alias::new(column), value)
        .and_where(Expr::col(Alias::new("uid")).eq(uid))
        .to_owned();
    let result = app.db.execute(&update).await.unwrap();
    assert_eq!(result.rows_affected(), 1);
}

on_both_backends! {
    async fn the_stored_row_holds_no_plaintext(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "marker", Provider::Openai, VALUE).await.unwrap();
        let row = row(&app, "marker").await;

        let mut stored = Vec::new();
        for column in ["tenant", "name", "name_key", "provider", "kek_id"] {
            stored.extend(row.try_get::<String>("", column).unwrap().into_bytes());
        }
        for column in ["preview", "ciphertext", "nonce", "wrapped_key"] {
            stored.extend(bytes(&row, column));
        }
        // No eight consecutive bytes of the value appear anywhere but in the
        // preview's four characters.
        for window in VALUE.as_bytes().windows(8) {
            assert!(!stored.windows(8).any(|w| w == window), "{:?}", String::from_utf8_lossy(window));
        }
        assert_eq!(bytes(&row, "preview"), "…cdef".as_bytes());
        assert_eq!(bytes(&row, "nonce").len(), 12);
        assert_eq!(bytes(&row, "ciphertext").len(), VALUE.len() + 16);
    }

    async fn one_flipped_byte_of_ciphertext_nonce_or_wrapped_key_is_data_loss(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "marker", Provider::Openai, VALUE).await.unwrap();
        let name = "tenants/acme/secrets/marker";
        let row = row(&app, "marker").await;
        let uid: Uuid = row.try_get("", "uid").unwrap();

        for column in ENVELOPE {
            let original = bytes(&row, column);
            let mut flipped = original.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x01;
            set_bytes(&app, uid, column, flipped).await;

            let status = app.access(name).await.unwrap_err();
            assert_eq!(status.code(), Code::DataLoss, "{column}");
            assert!(!status.message().contains(VALUE));
            let details = details(&status);
            let info = details.error_info().expect("ErrorInfo");
            assert_eq!(info.reason, "CIPHERTEXT_UNAUTHENTIC");
            assert_eq!(details.resource_info().expect("ResourceInfo").resource_name, name);

            // Get and List never open the envelope, so they still answer.
            assert_eq!(app.get(name).await.unwrap().preview, "…cdef", "{column}");
            let request = ListSecretsRequest {
                parent: "tenants/acme".into(),
                ..Default::default()
            };
            assert_eq!(app.list(request).await.unwrap().secrets.len(), 1, "{column}");

            set_bytes(&app, uid, column, original).await;
            assert_eq!(app.access(name).await.unwrap().value, VALUE, "{column} restored");
        }
    }

    async fn an_envelope_copied_from_another_secret_is_data_loss(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "victim", Provider::Openai, VALUE).await.unwrap();
        app.create("acme", "donor", Provider::Openai, "sk-donor-value-0000").await.unwrap();
        let victim: Uuid = row(&app, "victim").await.try_get("", "uid").unwrap();
        let donor = row(&app, "donor").await;

        for column in ENVELOPE {
            set_bytes(&app, victim, column, bytes(&donor, column)).await;
        }
        let status = app.access("tenants/acme/secrets/victim").await.unwrap_err();
        assert_eq!(status.code(), Code::DataLoss);
        // The donor itself is untouched.
        assert_eq!(
            app.access("tenants/acme/secrets/donor").await.unwrap().value,
            "sk-donor-value-0000"
        );
    }

    async fn a_row_rolled_to_another_version_is_data_loss(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "marker", Provider::Openai, VALUE).await.unwrap();
        let uid: Uuid = row(&app, "marker").await.try_get("", "uid").unwrap();
        let update = Query::update()
            .table(Alias::new("secrets"))
            .value(Alias::new("version"), 2i64)
            .and_where(Expr::col(Alias::new("uid")).eq(uid))
            .to_owned();
        app.db.execute(&update).await.unwrap();
        let status = app.access("tenants/acme/secrets/marker").await.unwrap_err();
        assert_eq!(status.code(), Code::DataLoss);
    }
}
