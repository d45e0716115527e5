//! `langcert verify FILE`: checks a downloaded certificate bundle with no network — the
//! issuer's signature on the credential and on the log checkpoint, and the credential's
//! inclusion in the log at that checkpoint. Revocation can only be checked online.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use credential::{Bundle, verify_bundle};

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The bundle downloaded from the verification page (`certificat-….json`).
    file: PathBuf,
    /// The issuer's public key (JWK JSON, as served at /api/v1/log/key) to trust;
    /// without it the key inside the bundle is used and its fingerprint printed.
    #[arg(long)]
    issuer_key: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Returns the process exit code: 0 when the certificate verifies, 1 otherwise.
pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let pinned = match &args.issuer_key {
        Some(p) => {
            let jwk: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p)?)
                .context("the issuer key is not JSON")?;
            Some(
                credential::keys::verifying_key_from_jwk(&jwk)
                    .map_err(|e| anyhow::anyhow!("the issuer key: {e}"))?,
            )
        }
        None => None,
    };
    let outcome = Bundle::from_json(&text).and_then(|b| verify_bundle(&b, pinned.as_ref()));
    match outcome {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let c = &report.credential;
                println!("VALID certificate {}", c.id);
                println!("  holder:     {}", c.holder_name);
                println!("  overall:    {}", c.overall);
                for l in &c.levels {
                    println!("  {:<22}{}", format!("{}:", l.part), l.level);
                }
                println!("  issued:     {}", c.valid_from);
                println!(
                    "  issuer key: {} ({})",
                    report.key_id,
                    if report.key_pinned {
                        "the key you trust"
                    } else {
                        "taken from the bundle: compare it with the issuer's published key"
                    }
                );
                println!(
                    "  log:        leaf {} of {} at {} (checkpoint signed)",
                    report.leaf_index, report.tree_size, report.log_origin
                );
                println!("  revocation: {}", report.revocation);
            }
            Ok(0)
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(1)
        }
    }
}
