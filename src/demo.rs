//! `langcert demo links`: fresh single-use sign-in links for the demo centre's accounts
//! (the first start prints them once; later starts print none).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use exam_api::db::Db;

#[derive(Subcommand)]
pub(crate) enum DemoCommand {
    /// Prints a new sign-in link per demo account; older unused links stop working.
    Links(LinksArgs),
}

#[derive(Args)]
pub(crate) struct LinksArgs {
    /// The data folder of the installation (its SQLite database).
    #[arg(long, env = "LANGCERT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// The database, when it is PostgreSQL.
    #[arg(long, env = "LANGCERT_DATABASE_URL")]
    database_url: Option<String>,
    /// The address users reach the server at, for the links.
    #[arg(
        long,
        env = "LANGCERT_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
    /// Lifetime of the links, in hours.
    #[arg(long, default_value_t = 24)]
    hours: i64,
}

pub(crate) fn run(command: DemoCommand) -> anyhow::Result<()> {
    let DemoCommand::Links(args) = command;
    tokio::runtime::Runtime::new()?.block_on(async {
        let url = args.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rw",
                args.data_dir.join("langcert.db").display()
            )
        });
        let db = Db::connect(&url).await.context("opening the database")?;
        let links =
            exam_api::seed::demo_links(&db, &args.public_url, args.hours.max(1) * 3_600_000)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        db.close().await;
        let Some(links) = links else {
            anyhow::bail!("this installation has no demo centre: sign-in links come by e-mail");
        };
        println!("Single-use sign-in links (valid {} h):", args.hours.max(1));
        for l in links {
            println!("  {:<15} {}", l.role.as_str(), l.url);
        }
        Ok(())
    })
}
