//! `langcert`: the one binary of the platform. It only wires the crates of the workspace
//! together: `serve` runs the HTTP API and pages, the signaling, the SFU and the vision
//! workers in one process; `items` validates and converts item banks; `simulate` runs
//! the adaptive engine on simulated candidates; `verify` checks a certificate offline;
//! `bench` prints the figures of each hot path.

mod bench;
mod bench_monitor;
mod bench_vision;
mod demo;
mod export;
mod h264;
mod installation;
mod interview;
mod items;
mod monitor;
mod serve;
mod simulate;
mod tls;
mod verify;

use clap::{Parser, Subcommand};

/// Self-hosted remote language certification.
#[derive(Parser)]
#[command(name = "langcert", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform: HTTP API and pages, with the demo centre on first start.
    Serve(Box<serve::ServeArgs>),
    /// Validate, export and import item banks.
    Items {
        #[command(subcommand)]
        command: items::ItemsCommand,
    },
    /// Run the adaptive engine on simulated candidates and print accuracy and exposure.
    Simulate(simulate::SimulateArgs),
    /// Verify a downloaded certificate offline.
    Verify(verify::VerifyArgs),
    /// Export data for other systems.
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// The demo centre: new sign-in links for its accounts.
    Demo {
        #[command(subcommand)]
        command: demo::DemoCommand,
    },
    /// Load commands that print figures.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
                )
                .with_writer(std::io::stderr)
                .init();
            tokio::runtime::Runtime::new()?.block_on(serve::run(*args))
        }
        Command::Items { command } => {
            let code = items::run(command)?;
            std::process::exit(code)
        }
        Command::Simulate(args) => simulate::run(args),
        Command::Bench { command } => bench::run(command),
        Command::Export { command } => export::run(command),
        Command::Demo { command } => demo::run(command),
        Command::Verify(args) => {
            let code = verify::run(args)?;
            std::process::exit(code)
        }
    }
}
