//! `langcert export cpf`: the data the CPF transmission needs, as CSV.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use exam_api::db::Db;

#[derive(Subcommand)]
pub(crate) enum ExportCommand {
    /// Every candidate with a released result: identity, dates, mode, level or INSUFFISANT, verification URL.
    Cpf(CpfArgs),
}

#[derive(Args)]
pub(crate) struct CpfArgs {
    /// The data folder of the installation (its SQLite database).
    #[arg(long, env = "LANGCERT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// The database, when it is PostgreSQL.
    #[arg(long, env = "LANGCERT_DATABASE_URL")]
    database_url: Option<String>,
    /// The address of the installation, for verification URLs.
    #[arg(
        long,
        env = "LANGCERT_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
    /// Write to this file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(command: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Cpf(args) = command;
    tokio::runtime::Runtime::new()?.block_on(async {
        let url = args.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rw",
                args.data_dir.join("langcert.db").display()
            )
        });
        let db = Db::connect(&url).await.context("opening the database")?;
        let rows = exam_api::results::cpf::rows(&db, &args.public_url)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let csv = exam_api::results::cpf::to_csv(&rows);
        db.close().await;
        match &args.out {
            Some(path) => {
                std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?
            }
            None => print!("{csv}"),
        }
        eprintln!("{} candidate(s) exported", rows.len());
        Ok(())
    })
}
