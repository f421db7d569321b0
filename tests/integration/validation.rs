//! Bad input gets INVALID_ARGUMENT naming each bad field; realistic values
//! round-trip byte for byte.

use ring::digest::{SHA256, digest};
use strongroom::pb::strongroom::v1::{self as pb, Provider};
use tonic::Code;

use crate::support::{TestApp, on_both_backends, testdata, violated_fields};

on_both_backends! {
    async fn a_create_with_every_field_wrong_names_every_field(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let request = pb::CreateSecretRequest {
            parent: "tenants/ACME".into(),
            secret_id: "-bad".into(),
            provider: Provider::Unspecified.into(),
            value: String::new(),
        };
        let status = app.client.clone().create_secret(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["parent", "secret_id", "provider", "value"]);
    }

    async fn each_malformed_field_is_named_on_its_own(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let valid = pb::CreateSecretRequest {
            parent: "tenants/acme".into(),
            secret_id: "ok-id".into(),
            provider: Provider::Openai.into(),
            value: "v".into(),
        };
        let cases = [
            ("parent", pb::CreateSecretRequest { parent: "acme".into(), ..valid.clone() }),
            ("parent", pb::CreateSecretRequest { parent: "tenants/-acme".into(), ..valid.clone() }),
            ("secret_id", pb::CreateSecretRequest { secret_id: "has space".into(), ..valid.clone() }),
            ("secret_id", pb::CreateSecretRequest { secret_id: "x".repeat(129), ..valid.clone() }),
            ("provider", pb::CreateSecretRequest { provider: 99, ..valid.clone() }),
            ("provider", pb::CreateSecretRequest { provider: 0, ..valid.clone() }),
        ];
        for (field, request) in cases {
            let status = app.client.clone().create_secret(request).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{field}");
            assert_eq!(violated_fields(&status), [field]);
        }
        app.client.clone().create_secret(valid).await.unwrap();

        // An etag that this service cannot have made is malformed, not stale.
        for etag in ["garbage", "\"W/abc\"", "yw28_s2c17ep01Ho="] {
            let update = app.update("tenants/acme/secrets/ok-id", "v2", etag).await.unwrap_err();
            assert_eq!(violated_fields(&update), ["etag"], "{etag}");
            let delete = app.delete("tenants/acme/secrets/ok-id", etag).await.unwrap_err();
            assert_eq!(violated_fields(&delete), ["etag"], "{etag}");
        }
        assert_eq!(app.get("tenants/acme/secrets/ok-id").await.unwrap().version, 1);
    }

    async fn malformed_names_are_invalid_on_every_rpc_that_takes_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for name in ["", "tenants/acme", "tenants/acme/secrets/", "tenants/acme/keys/k", "x/y"] {
            for status in [
                app.get(name).await.unwrap_err(),
                app.access(name).await.unwrap_err(),
                app.update(name, "value", "").await.unwrap_err(),
                app.delete(name, "").await.unwrap_err(),
            ] {
                assert_eq!(status.code(), Code::InvalidArgument, "{name:?}");
                assert_eq!(violated_fields(&status), ["name"], "{name:?}");
            }
        }
        // An update that is wrong in both fields names both.
        let both = app.update("nope", "", "").await.unwrap_err();
        assert_eq!(violated_fields(&both), ["name", "value"]);
    }

    async fn shared_test_credentials_round_trip_byte_for_byte(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let files = [
            ("openai-api-key.txt", Provider::Openai),
            ("azure-openai-key.txt", Provider::Azure),
            ("google-service-account.json", Provider::Google),
            ("amazon-access-key.json", Provider::Amazon),
            ("groq-api-key.txt", Provider::Groq),
            ("replicate-api-token.txt", Provider::Replicate),
            ("other-bearer-token.txt", Provider::Other),
        ];
        for (file, provider) in files {
            let path = testdata().join(file);
            let value = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let id = file.replace('.', "-");
            app.create("acme", &id, provider, &value).await.unwrap();

            let access = app.access(&format!("tenants/acme/secrets/{id}")).await.unwrap();
            assert_eq!(
                digest(&SHA256, access.value.as_bytes()).as_ref(),
                digest(&SHA256, value.as_bytes()).as_ref(),
                "{file}"
            );
        }
        // The service account keeps its multi-line PEM and final newline.
        let google = app.access("tenants/acme/secrets/google-service-account-json").await.unwrap();
        assert!(google.value.contains("-----BEGIN PRIVATE KEY-----\\n"));
        assert!(google.value.ends_with('\n'));
    }

    async fn multi_byte_and_64_kib_values_round_trip_and_one_byte_more_is_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let unicode = "  ключ 🔑 鍵 with spaces and a tab\t ";
        app.create("acme", "unicode", Provider::Other, unicode).await.unwrap();
        let got = app.access("tenants/acme/secrets/unicode").await.unwrap();
        assert_eq!(got.value, unicode);
        assert_eq!(app.get("tenants/acme/secrets/unicode").await.unwrap().preview, "…ab\t ");

        let largest = "k".repeat(64 * 1024 - 4) + "🔑";
        assert_eq!(largest.len(), 64 * 1024);
        app.create("acme", "largest", Provider::Other, &largest).await.unwrap();
        assert_eq!(app.access("tenants/acme/secrets/largest").await.unwrap().value, largest);

        // The limit counts bytes, not characters: 16,385 four-byte
        // characters are 65,540 bytes.
        let too_many_bytes = "🔑".repeat(16 * 1024 + 1);
        let status = app.create("acme", "keys", Provider::Other, &too_many_bytes).await.unwrap_err();
        assert_eq!(violated_fields(&status), ["value"]);

        let too_big = "k".repeat(64 * 1024 + 1);
        let status = app.create("acme", "too-big", Provider::Other, &too_big).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["value"]);
        assert!(!status.message().contains("kkkk"));
        let status = app.update("tenants/acme/secrets/largest", &too_big, "").await.unwrap_err();
        assert_eq!(violated_fields(&status), ["value"]);
        assert_eq!(app.get("tenants/acme/secrets/largest").await.unwrap().version, 1);
        assert_eq!(app.get("tenants/acme/secrets/too-big").await.unwrap_err().code(), Code::NotFound);
    }

    async fn nul_and_control_characters_round_trip_and_may_show_in_the_preview(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let value = "tok\u{1b}[31m-abc\0\r\n\0";
        app.create("acme", "control", Provider::Other, value).await.unwrap();
        assert_eq!(app.access("tenants/acme/secrets/control").await.unwrap().value, value);
        let preview = app.get("tenants/acme/secrets/control").await.unwrap().preview;
        assert_eq!(preview, "…\0\r\n\0");

        let updated = app.update("tenants/acme/secrets/control", "\0\0\0\0", "").await.unwrap();
        assert_eq!(updated.preview, "…\0");
        let request = pb::ListSecretsRequest {
            parent: "tenants/acme".into(),
            ..Default::default()
        };
        let listed = app.list(request).await.unwrap();
        assert_eq!(listed.secrets[0].preview, "…\0");
    }
}
