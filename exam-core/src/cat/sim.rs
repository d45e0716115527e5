//! Monte Carlo study of the engine: simulated candidates with known abilities take the
//! adaptive test, and the report compares what the engine found with the truth.
//!
//! Candidates' true abilities are N(0, 1) in each domain with a common correlation
//! ([`SimConfig::correlation`]); responses are drawn from the items' own models (a
//! category for partial credit items). Everything is driven by one seeded RNG, so a
//! report is reproducible from its [`SimConfig`].

use std::collections::HashMap;

use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, LogNormal, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::bank::{Domain, ItemType};
use crate::cefr::Cefr;

use super::error::CatError;
use super::exposure::ExposureCounts;
use super::irt::Model;
use super::pool::{CatItem, Pool};
use super::session::{CatConfig, CatSession};

/// Settings of a simulation study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Items per domain in the synthetic bank (used by [`run`] only).
    pub per_domain_items: usize,
    /// Simulated candidates.
    pub candidates: usize,
    /// Seed of the whole study.
    pub seed: u64,
    /// True common correlation between the domain abilities.
    pub correlation: f64,
    /// The engine's settings (its own assumed correlation is `cat.correlation`).
    pub cat: CatConfig,
    /// Which estimates are compared with the truth.
    pub scoring: Scoring,
}

/// Which of a session's estimates a study scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// [`CatSession::estimates`]: each domain borrows from the earlier ones only.
    #[default]
    Sequential,
    /// [`CatSession::collateral_estimates`]: each domain borrows from all the others.
    Collateral,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            per_domain_items: 150,
            candidates: 2000,
            seed: 7,
            correlation: 0.75,
            cat: CatConfig::default(),
            scoring: Scoring::Sequential,
        }
    }
}

/// Results for one domain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainReport {
    /// The domain.
    pub domain: Domain,
    /// √mean (θ̂ − θ)².
    pub rmse: f64,
    /// mean (θ̂ − θ).
    pub bias: f64,
    /// Share of candidates placed at their true CEFR level.
    pub exact_level: f64,
    /// Share placed at most one level away.
    pub within_one_level: f64,
    /// The highest share of candidates who saw any single item.
    pub max_exposure: f64,
    /// Mean over pairs of candidates of (items in common / test length).
    pub mean_overlap: f64,
}

/// Results of a study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimReport {
    /// Per domain, in test order.
    pub domains: Vec<DomainReport>,
    /// Mean of the domains' RMSE.
    pub mean_rmse: f64,
    /// Share of all domain × candidate placements at the true level.
    pub exact_level: f64,
    /// Highest item exposure over all domains.
    pub max_exposure: f64,
}

/// The four item types of each domain in the synthetic bank, in test order.
const SYNTHETIC_TYPES: [[ItemType; 4]; 5] = [
    [
        ItemType::Choice,
        ItemType::DropdownGaps,
        ItemType::WordBank,
        ItemType::TextGaps,
    ],
    [
        ItemType::Choice,
        ItemType::DropdownGaps,
        ItemType::OrderWords,
        ItemType::TextGaps,
    ],
    [
        ItemType::Choice,
        ItemType::DropdownGaps,
        ItemType::WordBank,
        ItemType::TextGaps,
    ],
    [
        ItemType::Choice,
        ItemType::DropdownGaps,
        ItemType::OrderSentences,
        ItemType::TextGaps,
    ],
    [
        ItemType::Listening,
        ItemType::Choice,
        ItemType::DropdownGaps,
        ItemType::TextGaps,
    ],
];

/// A synthetic 2PL bank: per domain, `per_domain` items with a ~ lognormal(0.1, 0.3),
/// b ~ U(−3, 3), and four item types assigned round-robin. Ids are `domain-NNN`.
pub fn synthetic_pool<R: Rng + ?Sized>(per_domain: usize, rng: &mut R) -> Pool {
    let discrimination = LogNormal::new(0.1, 0.3).expect("valid lognormal parameters");
    let mut items = Vec::with_capacity(5 * per_domain);
    for domain in Domain::ALL {
        for i in 0..per_domain {
            let a = discrimination.sample(rng);
            let b = rng.random_range(-3.0..3.0);
            items.push(CatItem {
                id: format!("{domain}-{i:03}"),
                domain,
                item_type: SYNTHETIC_TYPES[domain.index()][i % 4],
                model: Model::two_pl(a, b),
            });
        }
    }
    Pool::new(items).expect("synthetic items are valid and unique")
}

/// A score drawn from the item's model at ability `theta`.
pub fn draw_score<R: Rng + ?Sized>(model: &Model, theta: f64, rng: &mut R) -> u32 {
    let u: f64 = rng.random();
    let mut cumulative = 0.0;
    let probs = model.category_probabilities(theta);
    for (k, p) in probs.iter().enumerate() {
        cumulative += p;
        if u < cumulative {
            return k as u32;
        }
    }
    model.max_score()
}

/// Runs the study on a synthetic bank of [`SimConfig::per_domain_items`] items per domain
/// (see [`synthetic_pool`]), drawn from the same seeded RNG as the candidates.
pub fn run(config: &SimConfig) -> Result<SimReport, CatError> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let pool = synthetic_pool(config.per_domain_items, &mut rng);
    simulate(config, &pool, &mut rng)
}

/// Runs the study on a given pool, e.g. the real bank.
pub fn run_on_pool(config: &SimConfig, pool: &Pool) -> Result<SimReport, CatError> {
    simulate(config, pool, &mut StdRng::seed_from_u64(config.seed))
}

/// Running sums for one domain.
#[derive(Default)]
struct Tally {
    err: f64,
    err2: f64,
    exact: usize,
    within_one: usize,
    seen: HashMap<String, u64>,
    given: u64,
}

fn simulate(config: &SimConfig, pool: &Pool, rng: &mut StdRng) -> Result<SimReport, CatError> {
    config.cat.validate()?;
    if !(0.0..=1.0).contains(&config.correlation) {
        return Err(CatError::InvalidConfig(
            "simulated correlation must be in [0, 1]",
        ));
    }
    let n = config.candidates;
    let (common, own) = (config.correlation.sqrt(), (1.0 - config.correlation).sqrt());
    let mut exposure = ExposureCounts::new();
    let mut tallies: [Tally; 5] = Default::default();

    for _ in 0..n {
        let shared: f64 = StandardNormal.sample(rng);
        let truth: [f64; 5] = std::array::from_fn(|_| {
            let z: f64 = StandardNormal.sample(rng);
            common * shared + own * z
        });
        let mut session = CatSession::new(config.cat.clone(), rng.random())?;
        while let Some(item) = session.next_item(pool, &mut exposure) {
            let score = draw_score(&item.model, truth[item.domain.index()], rng);
            let id = item.id.clone();
            session.record(&id, score)?;
        }
        for r in session.responses() {
            let t = &mut tallies[r.domain.index()];
            t.given += 1;
            *t.seen.entry(r.item_id.clone()).or_default() += 1;
        }
        let estimates = match config.scoring {
            Scoring::Sequential => session.estimates(),
            Scoring::Collateral => session.collateral_estimates(),
        };
        for (est, (t, &theta)) in estimates.iter().zip(tallies.iter_mut().zip(&truth)) {
            let e = est.theta - theta;
            t.err += e;
            t.err2 += e * e;
            let (got, want) = (est.level.index(), Cefr::from_theta(theta).index());
            t.exact += usize::from(got == want);
            t.within_one += usize::from(got.abs_diff(want) <= 1);
        }
    }

    let nf = n.max(1) as f64;
    let domains: Vec<DomainReport> = Domain::ALL
        .iter()
        .zip(&tallies)
        .map(|(&domain, t)| {
            let max_seen = t.seen.values().copied().max().unwrap_or(0);
            // Σ over pairs of |A ∩ B| = Σ over items of C(n_i, 2).
            let shared_pairs: f64 = t
                .seen
                .values()
                .map(|&c| (c * c.saturating_sub(1)) as f64 / 2.0)
                .sum();
            let pairs = nf * (nf - 1.0) / 2.0;
            let length = t.given as f64 / nf;
            DomainReport {
                domain,
                rmse: (t.err2 / nf).sqrt(),
                bias: t.err / nf,
                exact_level: t.exact as f64 / nf,
                within_one_level: t.within_one as f64 / nf,
                max_exposure: max_seen as f64 / nf,
                mean_overlap: if pairs > 0.0 && length > 0.0 {
                    shared_pairs / pairs / length
                } else {
                    0.0
                },
            }
        })
        .collect();
    Ok(SimReport {
        mean_rmse: domains.iter().map(|d| d.rmse).sum::<f64>() / domains.len() as f64,
        exact_level: tallies.iter().map(|t| t.exact).sum::<usize>() as f64 / (nf * 5.0),
        max_exposure: domains.iter().map(|d| d.max_exposure).fold(0.0, f64::max),
        domains,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_pool_shape() {
        let pool = synthetic_pool(12, &mut StdRng::seed_from_u64(1));
        assert_eq!(pool.len(), 60);
        for d in Domain::ALL {
            assert_eq!(pool.domain_len(d), 12);
            assert_eq!(pool.types_in(d).len(), 4);
            for t in pool.types_in(d) {
                assert_eq!(pool.domain(d).filter(|i| i.item_type == *t).count(), 3);
            }
        }
        assert!(pool.get("grammar-011").is_some());
        assert!(pool.items().iter().all(|i| matches!(i.model, Model::Logistic { b, c, .. } if (-3.0..3.0).contains(&b) && c == 0.0)));
    }

    #[test]
    fn draw_score_follows_the_model() {
        let mut rng = StdRng::seed_from_u64(4);
        let m = Model::Gpcm {
            a: 1.0,
            steps: vec![-0.5, 0.5],
        };
        let n = 20_000;
        let mean = (0..n)
            .map(|_| draw_score(&m, 0.3, &mut rng) as f64)
            .sum::<f64>()
            / n as f64;
        assert!((mean - m.expected_score(0.3)).abs() < 0.03);
    }

    #[test]
    fn exposure_is_capped_in_a_small_study() {
        let mut cat = CatConfig::default();
        cat.selection.max_exposure = 0.3;
        let cfg = SimConfig {
            per_domain_items: 60,
            candidates: 200,
            seed: 3,
            cat,
            ..SimConfig::default()
        };
        let capped = run(&cfg).unwrap();
        // At most ⌈0.3·N⌉ administrations: n_i < 0.3·N when last given.
        assert!(capped.max_exposure <= 0.3 + 1.0 / 200.0, "{capped:?}");
        let mut free = cfg.clone();
        free.cat.selection.max_exposure = 1.0;
        free.cat.selection.randomness = 0.0;
        let uncapped = run(&free).unwrap();
        assert!(uncapped.max_exposure > 0.5, "{uncapped:?}");
        assert!(capped.domains.iter().all(|d| d.mean_overlap < 0.3));
    }

    #[test]
    fn small_study_is_sane_and_reproducible() {
        let cfg = SimConfig {
            per_domain_items: 50,
            candidates: 100,
            seed: 5,
            ..SimConfig::default()
        };
        let a = run(&cfg).unwrap();
        assert_eq!(a, run(&cfg).unwrap());
        assert!(a.mean_rmse < 0.45, "{a:?}");
        assert!(a.exact_level > 0.6, "{a:?}");
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["domains"][0]["domain"], "vocabulary");
        let keys: Vec<&String> = json["domains"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7);
        assert_eq!(json.as_object().unwrap().len(), 4);
    }

    #[test]
    fn partial_credit_pool() {
        let mut rng = StdRng::seed_from_u64(6);
        let items = Domain::ALL
            .iter()
            .flat_map(|&domain| (0..20).map(move |i| (domain, i)))
            .map(|(domain, i)| {
                let b = rng.random_range(-2.0..2.0);
                CatItem {
                    id: format!("{domain}-{i}"),
                    domain,
                    item_type: ItemType::ALL[i % 3],
                    model: Model::Gpcm {
                        a: 1.0,
                        steps: vec![b - 0.7, b, b + 0.7],
                    },
                }
            })
            .collect();
        let pool = Pool::new(items).unwrap();
        let cfg = SimConfig {
            candidates: 60,
            seed: 2,
            ..SimConfig::default()
        };
        let report = run_on_pool(&cfg, &pool).unwrap();
        assert!(report.mean_rmse < 0.45, "{report:?}");
    }
}
