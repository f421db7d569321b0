//! The `strongroom` binary as an operator runs it: `serve --dev`, `keygen`,
//! `migrate`, signals, and everything it prints.

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use strongroom::pb::strongroom::v1::{self as pb, Provider};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::support::testdata;

const BIN: &str = env!("CARGO_BIN_EXE_strongroom");

/// A `strongroom` command that sees none of the caller's STRONGROOM_*
/// variables, so each test sets exactly what it means.
fn strongroom() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("STRONGROOM_") {
            command.env_remove(name);
        }
    }
    command
}

/// A running `strongroom` process whose standard error is collected.
struct Process {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Process {
    fn start(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Process {
        let mut child = strongroom()
            .args(args)
            .envs(envs.iter().copied())
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strongroom starts");
        let output = Arc::new(Mutex::new(String::new()));
        for mut stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            });
        }
        Process { child, output }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits for the "strongroom listening" line and returns its address.
    fn listening_address(&self) -> String {
        self.address_logged_with("strongroom listening")
    }

    /// Waits for a log line containing `marker` and returns the loopback
    /// address it names.
    fn address_logged_with(&self, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let output = self.output();
            if let Some(line) = output.lines().find(|l| l.contains(marker)) {
                let addr = line.split("127.0.0.1:").nth(1).expect("address in line");
                let port: String = addr.chars().take_while(char::is_ascii_digit).collect();
                return format!("127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not start:\n{}", self.output());
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
    }

    /// Waits up to `limit` for the process to exit.
    fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("process state") {
                std::thread::sleep(Duration::from_millis(100));
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends SIGTERM and waits for the exit status.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = self
            .wait_for_exit(Duration::from_secs(60))
            .expect("process exits");
        (status, self.output())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// CreateSecret of `tenants/acme/secrets/k`.
fn secret_k(provider: Provider, value: &str) -> pb::CreateSecretRequest {
    pb::CreateSecretRequest {
        parent: "tenants/acme".into(),
        secret_id: "k".into(),
        provider: provider.into(),
        value: value.into(),
    }
}

/// An unconditional DeleteSecret of `tenants/acme/secrets/k`.
fn delete_k() -> pb::DeleteSecretRequest {
    pb::DeleteSecretRequest {
        name: "tenants/acme/secrets/k".into(),
        etag: String::new(),
    }
}

async fn client(addr: &str) -> SecretsServiceClient<Channel> {
    SecretsServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("client connects")
}

/// Every form a value could take in a log line: raw, escaped as JSON or
/// Debug, base64, and a distinctive slice of it.
fn forms(value: &str) -> Vec<String> {
    let middle: String = value
        .chars()
        .skip(value.chars().count() / 3)
        .take(12)
        .collect();
    vec![
        value.to_owned(),
        serde_json::to_string(value)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
        format!("{value:?}").trim_matches('"').to_owned(),
        STANDARD.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        middle,
    ]
}

/// Runs create, access, list, update and delete, with rejected requests
/// among them, and returns every value sent or received.
async fn exercise(client: &mut SecretsServiceClient<Channel>) -> Vec<String> {
    let service_account =
        std::fs::read_to_string(testdata().join("google-service-account.json")).unwrap();
    let openai = std::fs::read_to_string(testdata().join("openai-api-key.txt")).unwrap();
    let rotated = "sk-proj-ROTATED-b7c1d9e3f5a7b9c1d3e5f7";
    let rejected = "gsk_REJECTED-value-that-must-not-print";
    let oversized = "OVERSIZED-".repeat(6600);

    let create = |id: &str, provider: Provider, value: &str| pb::CreateSecretRequest {
        parent: "tenants/acme".into(),
        secret_id: id.into(),
        provider: provider.into(),
        value: value.into(),
    };
    let created = client
        .create_secret(create("openai-key", Provider::Openai, &openai))
        .await
        .unwrap();
    client
        .create_secret(create("gcp-sa", Provider::Google, &service_account))
        .await
        .unwrap();

    // Rejected: bad parent, duplicate, oversized, stale etag.
    let mut bad = create("x", Provider::Groq, rejected);
    bad.parent = "tenants/BAD".into();
    assert_eq!(
        client.create_secret(bad).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let duplicate = create("OPENAI-KEY", Provider::Openai, rejected);
    assert_eq!(
        client.create_secret(duplicate).await.unwrap_err().code(),
        Code::AlreadyExists
    );
    let big = create("big", Provider::Other, &oversized);
    assert_eq!(
        client.create_secret(big).await.unwrap_err().code(),
        Code::InvalidArgument
    );

    for name in [
        "tenants/acme/secrets/openai-key",
        "tenants/acme/secrets/gcp-sa",
    ] {
        let request = pb::AccessSecretValueRequest { name: name.into() };
        client.access_secret_value(request).await.unwrap();
    }
    let update = |value: &str, etag: &str| pb::UpdateSecretValueRequest {
        name: "tenants/acme/secrets/openai-key".into(),
        value: value.into(),
        etag: etag.into(),
    };
    client
        .update_secret_value(update(rotated, &created.get_ref().etag))
        .await
        .unwrap();
    let stale = client
        .update_secret_value(update(rejected, &created.get_ref().etag))
        .await;
    assert_eq!(stale.unwrap_err().code(), Code::Aborted);

    let list = pb::ListSecretsRequest {
        parent: "tenants/acme".into(),
        ..Default::default()
    };
    assert_eq!(
        client
            .list_secrets(list)
            .await
            .unwrap()
            .get_ref()
            .secrets
            .len(),
        2
    );

    // The development registry attaches openai-key; gcp-sa is free.
    let delete = |name: &str| pb::DeleteSecretRequest {
        name: name.into(),
        etag: String::new(),
    };
    let refused = client
        .delete_secret(delete("tenants/acme/secrets/openai-key"))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::FailedPrecondition);
    client
        .delete_secret(delete("tenants/acme/secrets/gcp-sa"))
        .await
        .unwrap();

    vec![
        service_account,
        openai,
        rotated.into(),
        rejected.into(),
        oversized,
    ]
}

async fn assert_no_value_in_output(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::start(
        dir.path(),
        &[
            "--log-format",
            format,
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
        ],
        &[("RUST_LOG", "trace")],
    );
    let addr = server.listening_address();
    let values = exercise(&mut client(&addr).await).await;
    let (status, output) = server.terminate();

    assert!(status.success(), "{status:?}\n{output}");
    assert!(
        output.contains("strongroom stopped"),
        "no graceful stop:\n{output}"
    );
    // The capture really is at TRACE and covers the calls, one line per
    // call with the RPC, tenant, secret name and status code.
    let access = match format {
        "json" => assert_json_lines(&output),
        _ => assert_text_lines(&output),
    };
    assert!(access, "no per-RPC line for AccessSecretValue:\n{output}");
    for value in &values {
        for form in forms(value) {
            assert!(
                !output.contains(&form),
                "a value appeared in the {format} output: {form:.40}"
            );
        }
    }
}

/// Checks text output is at TRACE; whether it holds the per-RPC line of a
/// successful AccessSecretValue with its span fields.
fn assert_text_lines(output: &str) -> bool {
    assert!(
        output.lines().any(|l| l.contains(" TRACE ")),
        "not at TRACE"
    );
    output.lines().any(|line| {
        line.contains("rpc{rpc.method=/strongroom.v1.SecretsService/AccessSecretValue")
            && line.contains("tenant=\"acme\"")
            && line.contains("secret.name=\"openai-key\"")
            && line.contains("grpc.code=\"Ok\"")
            && line.contains("rpc finished")
    })
}

/// Checks every line of JSON output is a JSON event and some are at
/// TRACE; whether one is the per-RPC event of a successful
/// AccessSecretValue with its span fields.
fn assert_json_lines(output: &str) -> bool {
    let events: Vec<serde_json::Value> = output
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        events
            .iter()
            .all(|e| e["timestamp"].is_string() && e["level"].is_string())
    );
    assert!(events.iter().any(|e| e["level"] == "TRACE"), "not at TRACE");
    events.iter().any(|event| {
        let span = &event["span"];
        event["fields"]["message"] == "rpc finished"
            && span["rpc.method"] == "/strongroom.v1.SecretsService/AccessSecretValue"
            && span["tenant"] == "acme"
            && span["secret.name"] == "openai-key"
            && span["grpc.code"] == "Ok"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_value_appears_in_trace_level_text_output() {
    assert_no_value_in_output("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_value_appears_in_trace_level_json_output() {
    assert_no_value_in_output("json").await;
}

#[test]
fn serve_refuses_a_key_file_that_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("kek.key");
    let keygen = strongroom().arg("keygen").arg(&key).output().unwrap();
    assert!(keygen.status.success());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();

    let output = strongroom()
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--key-file"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
}

#[test]
fn serve_without_any_key_says_how_to_provide_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = strongroom()
        .current_dir(dir.path())
        .env_remove("STRONGROOM_KEY")
        .env_remove("STRONGROOM_KEY_FILE")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--key-file") && stderr.contains("STRONGROOM_KEY"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_then_serve_with_a_key_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("prod.db").display());
    let migrate = strongroom()
        .args(["migrate", "--database-url", &db])
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let key = STANDARD.encode([42u8; 32]);
    let server = Process::start(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--unchecked-deletes"],
        &[
            ("STRONGROOM_KEY", key.as_str()),
            ("STRONGROOM_DATABASE_URL", db.as_str()),
        ],
    );
    let mut client = client(&server.listening_address()).await;
    client
        .create_secret(secret_k(Provider::Replicate, "r8_value"))
        .await
        .unwrap();
    let delete = delete_k();
    client.delete_secret(delete).await.unwrap();
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    assert!(
        output.contains("--unchecked-deletes"),
        "the warning is logged:\n{output}"
    );
    assert!(!output.contains(&key));
}

/// Opens a health watch: a stream that stays open until the server ends it.
async fn open_watch(addr: &str) -> tonic::Streaming<tonic_health::pb::HealthCheckResponse> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let request = tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    };
    let mut watch = health.watch(request).await.unwrap().into_inner();
    watch.message().await.unwrap().expect("first status");
    watch
}

/// A `serve --dev` process with `--shutdown-grace grace` and a health watch
/// open on it. The directory and the stream must outlive the test's checks.
async fn serving_with_an_open_watch(
    grace: &str,
) -> (
    tempfile::TempDir,
    Process,
    tonic::Streaming<tonic_health::pb::HealthCheckResponse>,
) {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "serve",
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--shutdown-grace",
        grace,
    ];
    let server = Process::start(dir.path(), &args, &[]);
    let watch = open_watch(&server.listening_address()).await;
    (dir, server, watch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_not_serving_and_an_open_stream_holds_shutdown_only_for_the_grace() {
    let (_dir, mut server, mut watch) = serving_with_an_open_watch("1s").await;

    server.signal("-TERM");
    let update = watch.message().await.unwrap().expect("a status update");
    assert_eq!(update.status(), ServingStatus::NotServing);
    let status = server
        .wait_for_exit(Duration::from_secs(20))
        .expect("exits after the grace");
    assert!(status.success());
    let output = server.output();
    assert!(output.contains("grace period over"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_at_once() {
    let (_dir, mut server, _watch) = serving_with_an_open_watch("10m").await;

    server.signal("-TERM");
    std::thread::sleep(Duration::from_millis(500));
    let early = server.wait_for_exit(Duration::from_millis(100));
    assert!(early.is_none(), "still waiting for the stream");
    server.signal("-INT");
    let status = server
        .wait_for_exit(Duration::from_secs(20))
        .expect("exits on the second signal");
    assert!(status.success());
    let output = server.output();
    assert!(output.contains("second signal"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_database_written_under_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::start(
        dir.path(),
        &["serve", "--dev", "--listen", "127.0.0.1:0"],
        &[],
    );
    let mut client = client(&server.listening_address()).await;
    client
        .create_secret(secret_k(Provider::Openai, "sk-value"))
        .await
        .unwrap();
    assert!(server.terminate().0.success());

    // Same database (./strongroom.db), another key.
    let other_key = STANDARD.encode([7u8; 32]);
    let output = strongroom()
        .current_dir(dir.path())
        .env("STRONGROOM_KEY", &other_key)
        .args(["serve", "--listen", "127.0.0.1:0", "--unchecked-deletes"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrapped by key-encryption key"), "{stderr}");

    // With the development key lost, --dev generates a new one, which the
    // database refuses; the useless new key is not left behind.
    let dev_key = dir.path().join("strongroom-dev/kek.key");
    std::fs::remove_file(&dev_key).unwrap();
    let output = strongroom()
        .current_dir(dir.path())
        .env_remove("STRONGROOM_KEY")
        .args(["serve", "--dev", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(!dev_key.exists(), "the generated key was removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_key_wins_over_the_development_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = STANDARD.encode([5u8; 32]);
    let server = Process::start(
        dir.path(),
        &["serve", "--dev", "--listen", "127.0.0.1:0"],
        &[("STRONGROOM_KEY", key.as_str())],
    );
    server.listening_address();
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    assert!(
        !dir.path().join("strongroom-dev/kek.key").exists(),
        "{output}"
    );
    assert!(!output.contains("generated a development key"), "{output}");
}

/// `strongroom serve ARGS` with `envs`, expected to refuse to start: its
/// exit code and standard error.
fn refused_serve(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = strongroom()
        .current_dir(dir.path())
        .env("STRONGROOM_KEY", STANDARD.encode([1u8; 32]))
        .envs(envs.iter().copied())
        .arg("serve")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn options_that_exclude_each_other_are_refused_with_a_usage_error() {
    let registry = ["--registry", "http://127.0.0.1:1"];
    /// Arguments, environment, and what the error says.
    type Refused<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let refused: [Refused; 6] = [
        (&["--dev", registry[0], registry[1]], &[], "drop --registry"),
        (&["--registry-deadline", "0s"], &[], "longer than 0s"),
        (
            &["--dev", "--unchecked-deletes"],
            &[],
            "drop --unchecked-deletes",
        ),
        (
            &registry,
            &[("STRONGROOM_UNCHECKED_DELETES", "yes")],
            "--unchecked-deletes",
        ),
        (&["--dev-dir", "elsewhere"], &[], "only with --dev"),
        (
            &[],
            &[("STRONGROOM_UNCHECKED_DELETES", "maybe")],
            "invalid value 'maybe'",
        ),
    ];
    for (args, envs, says) in refused {
        let (code, stderr) = refused_serve(args, envs);
        assert_eq!(code, 2, "{args:?} {envs:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?} {envs:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switches_from_the_environment_take_boolish_words_and_off_is_not_given() {
    let dir = tempfile::tempdir().unwrap();
    let key = STANDARD.encode([9u8; 32]);
    let key = ("STRONGROOM_KEY", key.as_str());
    let listen = ["serve", "--listen", "127.0.0.1:0"];

    // Switched off in the environment, --dev and --unchecked-deletes do not
    // conflict with --registry.
    let with_registry = [&listen[..], &["--registry", "http://127.0.0.1:1"]].concat();
    let off = [
        ("STRONGROOM_DEV", "off"),
        ("STRONGROOM_UNCHECKED_DELETES", "0"),
        key,
    ];
    let server = Process::start(dir.path(), &with_registry, &off);
    server.listening_address();
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    assert!(
        output.contains("deletes are checked with the evaluator registry"),
        "{output}"
    );

    let on = [("STRONGROOM_UNCHECKED_DELETES", "on"), key];
    let server = Process::start(dir.path(), &listen, &on);
    server.listening_address();
    let (_, output) = server.terminate();
    assert!(
        output.contains("deleted without asking the evaluator registry"),
        "{output}"
    );

    let server = Process::start(dir.path(), &listen, &[key]);
    server.listening_address();
    let (_, output) = server.terminate();
    assert!(output.contains("every delete will be refused"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_registry_runs_on_its_own_and_serve_asks_it_before_deleting() {
    let dir = tempfile::tempdir().unwrap();
    let attachments = dir.path().join("attachments.json");
    let attached = r#"{"tenants/acme/secrets/k": [{"name": "evaluators/e", "display_name": "E"}]}"#;
    std::fs::write(&attachments, attached).unwrap();
    let registry = Process::start(
        dir.path(),
        &[
            "dev-registry",
            "--listen",
            "127.0.0.1:0",
            "--attachments",
            "attachments.json",
        ],
        &[],
    );
    let registry_addr = registry.address_logged_with("reference evaluator registry listening");

    let key = STANDARD.encode([3u8; 32]);
    let url = format!("http://{registry_addr}");
    let server = Process::start(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--registry",
            &url,
            "--registry-deadline",
            "5s",
        ],
        &[("STRONGROOM_KEY", key.as_str())],
    );
    let mut client = client(&server.listening_address()).await;
    client
        .create_secret(secret_k(Provider::Groq, "gsk_value"))
        .await
        .unwrap();
    let delete = delete_k();
    let refused = client.delete_secret(delete.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("evaluators/e"),
        "{}",
        refused.message()
    );

    // The registry reads the file on every call: detach, and it goes.
    std::fs::write(&attachments, "{}").unwrap();
    client.delete_secret(delete).await.unwrap();

    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    let (status, output) = registry.terminate();
    assert!(status.success(), "the registry stops on SIGTERM: {output}");
}

#[test]
fn a_database_that_cannot_open_is_named_with_a_hint() {
    // (Passwords in URLs are hidden by the same path; unit-tested in
    // startup.rs, since a refused PostgreSQL connection takes 10 s to fail.)
    let dir = tempfile::tempdir().unwrap();
    let output = strongroom()
        .current_dir(dir.path())
        .args(["migrate", "--database-url", "sqlite://missing.db"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("database sqlite://missing.db (add ?mode=rwc"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("unable to open database file").count(),
        1,
        "{stderr}"
    );
}
