//! Where an installation keeps its data, for the commands that work on it beside the
//! server (`export cpf`, `demo links`): the same flags and variables as `serve`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use exam_api::db::Db;

/// The data folder or database of an installation, and the address users reach it at.
#[derive(Args)]
pub(crate) struct Installation {
    /// The data folder of the installation (its SQLite database).
    #[arg(long, env = "LANGCERT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// The database, when it is PostgreSQL.
    #[arg(long, env = "LANGCERT_DATABASE_URL")]
    database_url: Option<String>,
    /// The address users reach the server at, for the links printed.
    #[arg(
        long,
        env = "LANGCERT_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub(crate) public_url: String,
}

impl Installation {
    /// Opens the installation's database (an SQLite file must exist already).
    pub(crate) async fn connect(&self) -> anyhow::Result<Db> {
        let url = self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rw",
                self.data_dir.join("langcert.db").display()
            )
        });
        Db::connect(&url).await.context("opening the database")
    }
}
