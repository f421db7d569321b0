//! The `strongroom` binary: parse the command line, set up logs, dispatch.

use std::error::Error;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser as _};
use strongroom::cli::{Cli, Command};
use strongroom::{crypto, registry, startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Serve(args) = &cli.command
        && let Err(message) = args.check()
    {
        let mut command = Cli::command();
        command.build();
        let serve = command
            .find_subcommand_mut("serve")
            .expect("the CLI has a serve subcommand");
        let message = format!(
            "{message}\n(each option may also be set by its STRONGROOM_* variable: check the \
             environment too)"
        );
        serve.error(ErrorKind::ArgumentConflict, message).exit();
    }
    telemetry::init(cli.log_format);

    let result: Result<(), Box<dyn Error>> = match cli.command {
        Command::Serve(args) => startup::serve(args).await.map_err(Into::into),
        Command::Keygen { path } => crypto::write_new_key_file(&path)
            .map(|()| println!("wrote a new key-encryption key to {}", path.display()))
            .map_err(Into::into),
        Command::Migrate { database_url } => migrate(&database_url).await,
        Command::DevRegistry {
            listen,
            attachments,
        } => dev_registry(listen, attachments).await,
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("strongroom: {}", telemetry::error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn migrate(database_url: &str) -> Result<(), Box<dyn Error>> {
    startup::open_database(database_url).await?;
    println!("migrations applied");
    Ok(())
}

async fn dev_registry(
    listen: std::net::SocketAddr,
    attachments: std::path::PathBuf,
) -> Result<(), Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(
        addr = %listener.local_addr()?,
        attachments = %attachments.display(),
        "reference evaluator registry listening"
    );
    registry::dev_server::serve(listener, attachments, startup::shutdown_signal()).await?;
    Ok(())
}
