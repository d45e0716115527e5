//! `langcert items …`: validate a bank file or folder, export it as IMS QTI 3.0, import
//! a QTI package back into the bank format.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use exam_core::bank::{Bank, qti};

#[derive(Subcommand)]
pub(crate) enum ItemsCommand {
    /// Check a bank file or folder; list every error (exit 1) or none (exit 0).
    Validate {
        /// A `.toml` bank file or a bank folder.
        path: PathBuf,
    },
    /// Write a bank as an exchange package.
    Export {
        /// The exchange format.
        #[arg(long, value_enum, default_value_t = Format::Qti3)]
        format: Format,
        /// The folder to write.
        #[arg(long)]
        out: PathBuf,
        /// The bank folder (default: the English bank built into the binary).
        bank: Option<PathBuf>,
    },
    /// Read an exchange package back into the bank format (one file per domain).
    Import {
        /// The exchange format.
        #[arg(long, value_enum, default_value_t = Format::Qti3)]
        format: Format,
        /// The package folder.
        package: PathBuf,
        /// The bank folder to write (created; clips go to its clips/).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// IMS QTI 3.0 content package.
    Qti3,
}

fn load(path: Option<&PathBuf>) -> anyhow::Result<Bank> {
    match path {
        None => Ok(Bank::english()),
        Some(p) => Bank::load(p).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("{} error(s):\n{}", list.len(), list.join("\n"))
        }),
    }
}

/// Runs the subcommand; returns the process exit code.
pub(crate) fn run(command: ItemsCommand) -> anyhow::Result<i32> {
    match command {
        ItemsCommand::Validate { path } => match Bank::load(&path) {
            Ok(bank) => {
                println!("{}: {} items, no error", path.display(), bank.items.len());
                Ok(0)
            }
            Err(errors) => {
                for e in &errors {
                    println!("{e}");
                }
                eprintln!("{}: {} error(s)", path.display(), errors.len());
                Ok(1)
            }
        },
        ItemsCommand::Export {
            format: Format::Qti3,
            out,
            bank,
        } => {
            let bank = load(bank.as_ref())?;
            qti::export(&bank, &out).with_context(|| format!("exporting to {}", out.display()))?;
            println!(
                "{} items written to {} (IMS QTI 3.0)",
                bank.items.len(),
                out.display()
            );
            Ok(0)
        }
        ItemsCommand::Import {
            format: Format::Qti3,
            package,
            out,
        } => {
            let bank = qti::import(&package)
                .with_context(|| format!("importing {}", package.display()))?;
            std::fs::create_dir_all(out.join("clips"))?;
            for (name, text) in bank.to_files() {
                std::fs::write(out.join(&name), text)?;
            }
            for (name, bytes) in &bank.clips {
                std::fs::write(out.join(name), bytes)?;
            }
            println!("{} items written to {}", bank.items.len(), out.display());
            Ok(0)
        }
    }
}
