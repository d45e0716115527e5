//! `langcert simulate`: the adaptive engine on simulated candidates, on a synthetic 2PL
//! bank or on a real one, printing accuracy (RMSE, bias, CEFR agreement) and exposure.

use std::path::PathBuf;

use clap::Args;
use exam_core::bank::Bank;
use exam_core::cat::sim::{self, Scoring, SimConfig};

#[derive(Args, Debug)]
pub(crate) struct SimulateArgs {
    /// Items per domain of a synthetic 2PL bank (a ~ lognormal(0.1, 0.3), b ~ U(−3, 3)).
    #[arg(long, default_value_t = 150, conflicts_with = "bank")]
    synthetic_bank: usize,
    /// Run on this bank folder instead of a synthetic bank.
    #[arg(long)]
    bank: Option<PathBuf>,
    /// Simulated candidates (true abilities N(0, 1) per domain, correlated across domains).
    #[arg(long, default_value_t = 2000)]
    candidates: usize,
    /// Seed of the whole study.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// True correlation between domain abilities.
    #[arg(long, default_value_t = 0.75)]
    correlation: f64,
    /// Items per domain in each test.
    #[arg(long, default_value_t = 10)]
    items_per_domain: usize,
    /// Score with every domain borrowing from all the others once the test is over.
    #[arg(long)]
    collateral: bool,
    /// Print one JSON object (otherwise a table).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let mut config = SimConfig {
        per_domain_items: args.synthetic_bank,
        candidates: args.candidates,
        seed: args.seed,
        correlation: args.correlation,
        scoring: if args.collateral {
            Scoring::Collateral
        } else {
            Scoring::Sequential
        },
        ..SimConfig::default()
    };
    config.cat.items_per_domain = args.items_per_domain;
    let report = match &args.bank {
        None => sim::run(&config)?,
        Some(path) => {
            let bank = Bank::load(path).map_err(|errors| {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::anyhow!("the bank is invalid:\n{}", list.join("\n"))
            })?;
            sim::run_on_pool(&config, &bank.cat_pool()?)?
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "{:<12} {:>6} {:>7} {:>6} {:>8} {:>9} {:>8}",
        "domain", "rmse", "bias", "exact", "within1", "max_expo", "overlap"
    );
    for d in &report.domains {
        println!(
            "{:<12} {:>6.3} {:>7.3} {:>6.3} {:>8.3} {:>9.3} {:>8.3}",
            d.domain.to_string(),
            d.rmse,
            d.bias,
            d.exact_level,
            d.within_one_level,
            d.max_exposure,
            d.mean_overlap
        );
    }
    println!(
        "mean_rmse {:.3}  exact_level {:.3}  max_exposure {:.3}",
        report.mean_rmse, report.exact_level, report.max_exposure
    );
    Ok(())
}
