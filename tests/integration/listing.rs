//! ListSecrets: key-set paging, the provider filter, and token checks.

use sea_orm::ConnectionTrait as _;
use sea_orm::sea_query::{Alias, Query};
use strongroom::pb::strongroom::v1::{ListSecretsRequest, Provider};
use tonic::Code;

use crate::support::{TestApp, on_both_backends, violated_fields};

fn request(
    parent: &str,
    page_size: i32,
    page_token: &str,
    provider: Provider,
) -> ListSecretsRequest {
    ListSecretsRequest {
        parent: parent.into(),
        page_size,
        page_token: page_token.into(),
        provider: provider.into(),
    }
}

/// Inserts `count` secrets named `k0000`... into `tenant` in one statement,
/// straight into the table: listings never open their envelopes, so any
/// bytes do.
async fn insert_rows(app: &TestApp, tenant: &str, count: usize) {
    let columns = [
        "uid",
        "tenant",
        "name",
        "name_key",
        "provider",
        "preview",
        "version",
        "create_time",
        "update_time",
        "ciphertext",
        "nonce",
        "wrapped_key",
        "kek_id",
    ];
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("secrets"))
        .columns(columns.map(Alias::new));
    for i in 0..count {
        let name = format!("k{i:04}");
        let row: [sea_orm::Value; 13] = [
            uuid::Uuid::new_v4().into(),
            tenant.into(),
            name.clone().into(),
            name.into(),
            "other".into(),
            "…".as_bytes().to_vec().into(),
            1i64.into(),
            0i64.into(),
            0i64.into(),
            vec![0u8; 17].into(),
            vec![0u8; 12].into(),
            vec![0u8; 60].into(),
            "local:test".into(),
        ];
        insert.values_panic(row.map(Into::into));
    }
    app.db.execute(&insert).await.unwrap();
}

/// Follows next_page_token to the end and returns every name, page by page.
async fn all_pages(app: &TestApp, page_size: i32, provider: Provider) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .list(request("tenants/acme", page_size, &token, provider))
            .await
            .unwrap();
        pages.push(page.secrets.into_iter().map(|s| s.name).collect());
        if page.next_page_token.is_empty() {
            return pages;
        }
        token = page.next_page_token;
    }
}

on_both_backends! {
    async fn pages_walk_every_secret_once_in_name_order_ignoring_case(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ids = ["delta", "Alpha", "charlie", "Echo", "bravo", "foxtrot", "golf"];
        for id in ids {
            app.create("acme", id, Provider::Openai, "value").await.unwrap();
        }
        app.create("other", "zulu", Provider::Openai, "value").await.unwrap();

        let pages = all_pages(&app, 3, Provider::Unspecified).await;
        let names: Vec<Vec<&str>> = pages
            .iter()
            .map(|p| p.iter().map(|n| n.trim_start_matches("tenants/acme/secrets/")).collect())
            .collect();
        assert_eq!(
            names,
            [vec!["Alpha", "bravo", "charlie"], vec!["delta", "Echo", "foxtrot"], vec!["golf"]]
        );
    }

    async fn names_with_punctuation_list_in_byte_order_on_every_backend(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for id in ["a_b", "ab", "a0", "a.b", "A-B"] {
            app.create("acme", id, Provider::Openai, "value").await.unwrap();
        }
        let pages = all_pages(&app, 2, Provider::Unspecified).await;
        let names: Vec<&str> = pages
            .iter()
            .flatten()
            .map(|n| n.trim_start_matches("tenants/acme/secrets/"))
            .collect();
        assert_eq!(names, ["A-B", "a.b", "a0", "a_b", "ab"]);
    }

    async fn the_provider_filter_keeps_only_that_providers_secrets(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for (id, provider) in [
            ("a-openai", Provider::Openai),
            ("b-groq", Provider::Groq),
            ("c-openai", Provider::Openai),
            ("d-google", Provider::Google),
            ("e-openai", Provider::Openai),
        ] {
            app.create("acme", id, provider, "value").await.unwrap();
        }
        let pages = all_pages(&app, 2, Provider::Openai).await;
        let flat: Vec<String> = pages.concat();
        assert_eq!(
            flat,
            ["a-openai", "c-openai", "e-openai"].map(|id| format!("tenants/acme/secrets/{id}"))
        );
        assert_eq!(pages.len(), 2);
    }

    async fn page_sizes_default_to_50_and_are_capped_at_1000(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for i in 0..51 {
            app.create("acme", &format!("key-{i:03}"), Provider::Other, "v").await.unwrap();
        }
        let default = app.list(request("tenants/acme", 0, "", Provider::Unspecified)).await.unwrap();
        assert_eq!(default.secrets.len(), 50);
        assert!(!default.next_page_token.is_empty());

        let huge = app.list(request("tenants/acme", 5000, "", Provider::Unspecified)).await.unwrap();
        assert_eq!(huge.secrets.len(), 51);
        assert!(huge.next_page_token.is_empty());

        // Past 1,000 secrets, a larger page size still gets 1,000.
        insert_rows(&app, "big", 1001).await;
        let capped = app.list(request("tenants/big", 5000, "", Provider::Unspecified)).await.unwrap();
        assert_eq!(capped.secrets.len(), 1000);
        let rest = app
            .list(request("tenants/big", 5000, &capped.next_page_token, Provider::Unspecified))
            .await
            .unwrap();
        assert_eq!(rest.secrets.len(), 1);
        assert!(rest.next_page_token.is_empty());

        let empty = app.list(request("tenants/nobody", 0, "", Provider::Unspecified)).await.unwrap();
        assert!(empty.secrets.is_empty() && empty.next_page_token.is_empty());
    }

    async fn a_page_token_from_another_parent_or_filter_is_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for id in ["a", "b", "c"] {
            app.create("acme", id, Provider::Openai, "value").await.unwrap();
        }
        let first = app.list(request("tenants/acme", 1, "", Provider::Unspecified)).await.unwrap();
        let token = first.next_page_token;

        for bad in [
            request("tenants/globex", 1, &token, Provider::Unspecified),
            request("tenants/acme", 1, &token, Provider::Openai),
            request("tenants/acme", 1, "garbage!", Provider::Unspecified),
        ] {
            let status = app.list(bad).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument);
            assert_eq!(violated_fields(&status), ["page_token"]);
        }
        let next = app.list(request("tenants/acme", 1, &token, Provider::Unspecified)).await.unwrap();
        assert_eq!(next.secrets[0].name, "tenants/acme/secrets/b");
    }

    async fn bad_list_arguments_name_their_fields(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let status = app
            .list(ListSecretsRequest {
                parent: "tenants/".into(),
                page_size: -1,
                page_token: String::new(),
                provider: 42,
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["parent", "provider", "page_size"]);

        // A bad token is named with the other bad fields once its listing
        // is known.
        let status = app
            .list(ListSecretsRequest {
                parent: "tenants/acme".into(),
                page_size: -1,
                page_token: "not-a-token".into(),
                provider: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["page_size", "page_token"]);
    }
}
