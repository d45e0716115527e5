//! Runs [`media_server::bench::run`] and prints its report as one JSON object, as
//! `langcert bench sfu` does:
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
    let report = media_server::bench::run(rooms, seconds)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
