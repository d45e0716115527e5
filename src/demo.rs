//! `langcert demo links`: fresh single-use sign-in links for the demo centre's accounts
//! (the first start prints them once; later starts print none).

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub(crate) enum DemoCommand {
    /// Prints a new sign-in link per demo account; older unused links stop working.
    Links(LinksArgs),
}

#[derive(Args)]
pub(crate) struct LinksArgs {
    #[command(flatten)]
    installation: crate::installation::Installation,
    /// Lifetime of the links, in hours.
    #[arg(long, default_value_t = 24)]
    hours: i64,
}

pub(crate) fn run(command: DemoCommand) -> anyhow::Result<()> {
    let DemoCommand::Links(args) = command;
    tokio::runtime::Runtime::new()?.block_on(async {
        let db = args.installation.connect().await?;
        let links = exam_api::seed::demo_links(
            &db,
            &args.installation.public_url,
            args.hours.max(1) * 3_600_000,
        )
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
