//! Create, get, update and access: the secret's life apart from deletion.

use futures::future::join_all;
use strongroom::pb::strongroom::v1::Provider;
use tonic::Code;

use crate::support::{TestApp, details, on_both_backends};

on_both_backends! {
    async fn a_created_secret_reads_back_with_a_preview_but_never_its_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let value = "sk-proj-Abc123Def456Ghi789";
        let created = app.create("acme", "openai-key", Provider::Openai, value).await.unwrap();

        assert_eq!(created.name, "tenants/acme/secrets/openai-key");
        assert_eq!(created.provider, Provider::Openai as i32);
        assert_eq!(created.preview, "…i789");
        assert_eq!(created.version, 1);
        assert!(uuid::Uuid::parse_str(&created.uid).is_ok());
        assert!(!created.etag.is_empty());
        assert_eq!(created.create_time, created.update_time);

        let got = app.get("tenants/acme/secrets/openai-key").await.unwrap();
        assert_eq!(got, created);
        assert!(!format!("{got:?}").contains(value));
    }

    async fn names_are_unique_ignoring_case_and_keep_the_case_they_were_written_in(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create("acme", "OpenAI-Key", Provider::Openai, "sk-1").await.unwrap();

        let clash = app.create("acme", "openai-key", Provider::Groq, "gsk-2").await.unwrap_err();
        assert_eq!(clash.code(), Code::AlreadyExists);
        // The clash names the existing secret as it is spelled.
        let info = details(&clash).resource_info().cloned().expect("resource info");
        assert_eq!(info.resource_name, "tenants/acme/secrets/OpenAI-Key");
        assert!(clash.message().contains("OpenAI-Key"), "{}", clash.message());

        // Another tenant may use the same name.
        app.create("globex", "openai-key", Provider::Openai, "sk-3").await.unwrap();
        // Lookups ignore case too, and answer with the name as written.
        let got = app.get("tenants/acme/secrets/OPENAI-KEY").await.unwrap();
        assert_eq!(got.name, "tenants/acme/secrets/OpenAI-Key");
    }

    async fn of_twenty_concurrent_creates_of_one_name_exactly_one_succeeds(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let attempts = (0..20).map(|i| {
            let app = &app;
            async move {
                let id = if i % 2 == 0 { "race-key" } else { "RACE-KEY" };
                app.create("acme", id, Provider::Other, &format!("value-{i}")).await
            }
        });
        let results = join_all(attempts).await;

        let created: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(created.len(), 1, "{results:?}");
        for result in &results {
            if let Err(status) = result {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
            }
        }
        // The winner's value is the one stored.
        let access = app.access("tenants/acme/secrets/race-key").await.unwrap();
        assert_eq!(access.uid, created[0].uid);
    }

    async fn concurrent_reads_of_many_secrets_each_get_their_own_answer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for i in 0..12 {
            app.create("acme", &format!("Key-{i}"), Provider::Other, &format!("value-{i}"))
                .await
                .unwrap();
        }
        app.create("globex", "Key-0", Provider::Other, "globex-value").await.unwrap();

        // 300 reads at once, in mixed case, with misses among them: under
        // load, lookups share queries (PostgreSQL) and must not mix up.
        let reads = (0..300).map(|n| {
            let app = &app;
            async move {
                let i = n % 14;
                let (tenant, id) = match i {
                    12 => ("globex", "KEY-0".to_owned()),
                    13 => ("acme", format!("missing-{n}")),
                    _ => ("acme", if n % 2 == 0 { format!("key-{i}") } else { format!("KEY-{i}") }),
                };
                let name = format!("tenants/{tenant}/secrets/{id}");
                let access = app.access(&name).await;
                let get = app.get(&name).await;
                (i, access, get)
            }
        });
        for (i, access, get) in join_all(reads).await {
            match i {
                12 => assert_eq!(access.unwrap().value, "globex-value"),
                13 => {
                    assert_eq!(access.unwrap_err().code(), Code::NotFound);
                    assert_eq!(get.unwrap_err().code(), Code::NotFound);
                }
                _ => {
                    let access = access.unwrap();
                    assert_eq!(access.value, format!("value-{i}"));
                    assert_eq!(access.name, format!("tenants/acme/secrets/Key-{i}"));
                    assert_eq!(get.unwrap().uid, access.uid);
                }
            }
        }
    }

    async fn fifty_concurrent_creates_of_different_names_all_succeed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let creates = (0..50).map(|i| {
            let app = &app;
            async move { app.create("acme", &format!("key-{i}"), Provider::Other, "value").await }
        });
        for result in join_all(creates).await {
            result.expect("no write is lost to lock contention");
        }
        let list = strongroom::pb::strongroom::v1::ListSecretsRequest {
            parent: "tenants/acme".into(),
            page_size: 100,
            ..Default::default()
        };
        assert_eq!(app.list(list).await.unwrap().secrets.len(), 50);
    }

    async fn a_missing_secret_is_not_found_on_every_rpc(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let name = "tenants/acme/secrets/nothing-here";
        assert_eq!(app.get(name).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(app.access(name).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(app.update(name, "v", "").await.unwrap_err().code(), Code::NotFound);
        assert_eq!(app.delete(name, "").await.unwrap_err().code(), Code::NotFound);
    }

    async fn updating_a_value_bumps_version_and_etag_and_access_returns_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let name = "tenants/acme/secrets/groq";
        let v1 = app.create("acme", "groq", Provider::Groq, "gsk_first_value_0001").await.unwrap();

        let v2 = app.update(name, "gsk_second_value_0002", &v1.etag).await.unwrap();
        assert_eq!(v2.version, 2);
        assert_ne!(v2.etag, v1.etag);
        assert_eq!(v2.preview, "…0002");
        assert_eq!(v2.uid, v1.uid);
        assert_eq!(v2.provider, Provider::Groq as i32);
        assert_eq!(v2.create_time, v1.create_time);
        assert_eq!(app.get(name).await.unwrap(), v2);

        let access = app.access(name).await.unwrap();
        assert_eq!((access.value.as_str(), access.version), ("gsk_second_value_0002", 2));
        assert_eq!((access.name.as_str(), access.uid.as_str()), (name, v1.uid.as_str()));

        // Without an etag the update is unconditional.
        let v3 = app.update(name, "gsk_third_value_0003", "").await.unwrap();
        assert_eq!(v3.version, 3);
    }

    async fn an_update_with_a_stale_etag_is_aborted_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let name = "tenants/acme/secrets/azure";
        let v1 = app.create("acme", "azure", Provider::Azure, "first-azure-key").await.unwrap();
        app.update(name, "second-azure-key", "").await.unwrap();

        let stale = app.update(name, "lost-update", &v1.etag).await.unwrap_err();
        assert_eq!(stale.code(), Code::Aborted);
        let access = app.access(name).await.unwrap();
        assert_eq!((access.value.as_str(), access.version), ("second-azure-key", 2));
    }

    async fn concurrent_unconditional_updates_all_land_without_losing_a_version(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let name = "tenants/acme/secrets/busy";
        app.create("acme", "busy", Provider::Other, "v0").await.unwrap();
        let updates = (1..=8).map(|i| {
            let app = &app;
            async move { app.update(name, &format!("v{i}"), "").await }
        });
        let results = join_all(updates).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let contended = results
            .iter()
            .filter(|r| matches!(r, Err(s) if s.code() == Code::Aborted))
            .count();
        assert_eq!(ok + contended, 8, "{results:?}");
        assert_eq!(app.get(name).await.unwrap().version, 1 + ok as i64);
    }
}
