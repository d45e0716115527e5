//! Runs [`media_server::bench::run`] and prints its report as one JSON object, as
//! `langcert bench sfu` does (the SFU node is this program again, started with `--node`):
//!
//! ```text
//! cargo run --release --example bench_sfu -- --rooms 10 --seconds 20
//! ```
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default: warnings).

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    if std::env::args().nth(1).as_deref() == Some("--node") {
        // The child process: the SFU node the benchmark drives.
        return Ok(media_server::bench::serve_stdio(
            media_server::bench::node_config(),
        )?);
    }
    let (mut rooms, mut seconds) = (10, 20);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or("a flag without a value")?;
        match arg.as_str() {
            "--rooms" => rooms = value.parse()?,
            "--seconds" => seconds = value.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let node = media_server::bench::NodeCommand {
        program: std::env::current_exe()?,
        args: vec!["--node".to_owned()],
    };
    let report = media_server::bench::run(rooms, seconds, &node)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
