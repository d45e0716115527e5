//! `langcert export cpf`: the data the CPF transmission needs, as CSV.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub(crate) enum ExportCommand {
    /// Every candidate with a released result: identity, dates, mode, level or INSUFFISANT, verification URL.
    Cpf(CpfArgs),
}

#[derive(Args)]
pub(crate) struct CpfArgs {
    #[command(flatten)]
    installation: crate::installation::Installation,
    /// Write to this file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(command: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Cpf(args) = command;
    tokio::runtime::Runtime::new()?.block_on(async {
        let db = args.installation.connect().await?;
        let rows = exam_api::results::cpf::rows(&db, &args.installation.public_url)
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
