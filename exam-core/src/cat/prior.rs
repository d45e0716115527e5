//! The joint prior over the five domain abilities, and how a finished domain informs
//! the ones still to come.
//!
//! Assumption: the abilities (θ_1, …, θ_5) are multivariate normal with mean 0, unit
//! variances and one common correlation ρ (0.75 by default). The engine keeps the
//! current Gaussian belief N(m, P) about all five. When domain k ends with the EAP
//! posterior mean θ̂_k and posterior SD s_k, the belief is updated by
//!
//! ```text
//! K = P[·, k] / P[k, k]
//! m ← m + K·(θ̂_k − m_k)
//! P ← P + K·Kᵀ·(s_k² − P[k, k])
//! ```
//!
//! Because the domain-k responses depend on θ_k alone, the other abilities are linear
//! Gaussian in θ_k under the current belief, so these are the exact posterior mean and
//! covariance of the other domains given the first two moments of θ_k's posterior: the
//! prior of a later domain is the conditional normal given the earlier EAP estimates,
//! *widened* for their standard errors (s_k → 0 gives the plain conditional normal given
//! θ_k = θ̂_k; s_k = √P(k, k) leaves the belief unchanged). Only the shape of the next
//! prior, taken as normal, is approximate.
//!
//! For the collateral estimates (every domain borrowing from every other, once all are
//! done) each domain's likelihood is approximated by a normal whose precision is the
//! posterior precision minus the prior precision, 1/s_k² − 1/τ_k², and the prior of
//! domain k is the population belief conditioned on those of the other four domains.

use serde::{Deserialize, Serialize};

use super::eap::{Estimate, Normal};

/// The Gaussian belief about the five domain abilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct JointPrior {
    mean: [f64; 5],
    cov: [[f64; 5]; 5],
}

impl JointPrior {
    /// The population belief: mean 0, unit variances, common correlation `rho`.
    pub(crate) fn new(rho: f64) -> Self {
        let mut cov = [[rho; 5]; 5];
        for (i, row) in cov.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        JointPrior {
            mean: [0.0; 5],
            cov,
        }
    }

    /// The current belief about domain `k` alone.
    pub(crate) fn marginal(&self, k: usize) -> Normal {
        Normal {
            mean: self.mean[k],
            sd: self.cov[k][k].max(0.0).sqrt(),
        }
    }

    /// Takes in the posterior of domain `k` (its EAP estimate and SE).
    pub(crate) fn update(&mut self, k: usize, posterior: Estimate) {
        let pkk = self.cov[k][k];
        if pkk <= 0.0 {
            return;
        }
        let gain: [f64; 5] = std::array::from_fn(|i| self.cov[i][k] / pkk);
        let shift = posterior.theta - self.mean[k];
        let dvar = posterior.se * posterior.se - pkk;
        for ((m, row), gi) in self.mean.iter_mut().zip(&mut self.cov).zip(gain) {
            *m += gi * shift;
            for (c, gj) in row.iter_mut().zip(gain) {
                *c += gi * gj * dvar;
            }
        }
    }

    /// Conditions on a noisy measurement `y` = θ_k + e, e ~ N(0, `var`).
    pub(crate) fn observe(&mut self, k: usize, y: f64, var: f64) {
        let denom = self.cov[k][k] + var;
        if denom <= 0.0 {
            return;
        }
        let gain: [f64; 5] = std::array::from_fn(|i| self.cov[i][k] / denom);
        let row = self.cov[k];
        let shift = y - self.mean[k];
        for ((m, cov_row), gi) in self.mean.iter_mut().zip(&mut self.cov).zip(gain) {
            *m += gi * shift;
            for (c, rj) in cov_row.iter_mut().zip(row) {
                *c -= gi * rj;
            }
        }
    }
}

/// What one domain has shown: the prior it started from, its EAP posterior, and how
/// many responses that posterior rests on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Evidence {
    pub(crate) prior: Normal,
    pub(crate) posterior: Estimate,
    pub(crate) answered: usize,
}

impl Evidence {
    /// The normal approximation N(centre, 1/precision) of the domain's likelihood, if it
    /// carries any information.
    fn likelihood(&self) -> Option<(f64, f64)> {
        if self.answered == 0 || self.posterior.se <= 0.0 {
            return None;
        }
        let post = 1.0 / (self.posterior.se * self.posterior.se);
        let prior = 1.0 / (self.prior.sd * self.prior.sd);
        let precision = post - prior;
        (precision > 1e-6).then(|| {
            let centre = (self.posterior.theta * post - self.prior.mean * prior) / precision;
            (centre, precision)
        })
    }
}

/// For each domain, the population belief about it given the evidence of the four others.
pub(crate) fn collateral_priors(rho: f64, evidence: &[Evidence; 5]) -> [Normal; 5] {
    let likelihoods = evidence.map(|e| e.likelihood());
    std::array::from_fn(|k| {
        let mut joint = JointPrior::new(rho);
        for (j, lik) in likelihoods.iter().enumerate() {
            if let Some((centre, precision)) = lik.filter(|_| j != k) {
                joint.observe(j, centre, 1.0 / precision);
            }
        }
        joint.marginal(k)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_estimate_gives_the_conditional_normal() {
        let rho: f64 = 0.75;
        let mut p = JointPrior::new(rho);
        p.update(
            0,
            Estimate {
                theta: 1.0,
                se: 0.0,
            },
        );
        let m = p.marginal(1);
        assert!((m.mean - rho).abs() < 1e-12);
        assert!((m.sd - (1.0 - rho * rho).sqrt()).abs() < 1e-12);
        // Two known domains: E = 2ρ/(1+ρ)·mean, Var = 1 − 2ρ²/(1+ρ).
        p.update(
            1,
            Estimate {
                theta: 0.5,
                se: 0.0,
            },
        );
        let m = p.marginal(2);
        assert!((m.mean - 2.0 * rho / (1.0 + rho) * 0.75).abs() < 1e-12);
        assert!((m.sd * m.sd - (1.0 - 2.0 * rho * rho / (1.0 + rho))).abs() < 1e-12);
    }

    #[test]
    fn observing_matches_the_marginal_update() {
        // A measurement y with variance v on a N(0, 1) prior gives the posterior
        // N(y/(1+v), v/(1+v)); propagating that posterior or observing y must agree.
        let (y, v) = (1.2, 0.25);
        let mut observed = JointPrior::new(0.7);
        observed.observe(0, y, v);
        let mut propagated = JointPrior::new(0.7);
        propagated.update(
            0,
            Estimate {
                theta: y / (1.0 + v),
                se: (v / (1.0 + v)).sqrt(),
            },
        );
        for k in 0..5 {
            let (a, b) = (observed.marginal(k), propagated.marginal(k));
            assert!((a.mean - b.mean).abs() < 1e-12 && (a.sd - b.sd).abs() < 1e-12);
        }
    }

    #[test]
    fn collateral_priors_use_the_other_domains_only() {
        let rho = 0.75;
        // Domain 0 was answered with a likelihood N(1, 0.1²) on a standard prior; others empty.
        let (y, v): (f64, f64) = (1.0, 0.01);
        let post = Estimate {
            theta: y / (1.0 + v),
            se: (v / (1.0 + v)).sqrt(),
        };
        let mut evidence = [Evidence {
            prior: Normal::STANDARD,
            posterior: Estimate {
                theta: 0.0,
                se: 1.0,
            },
            answered: 0,
        }; 5];
        evidence[0] = Evidence {
            prior: Normal::STANDARD,
            posterior: post,
            answered: 10,
        };
        let priors = collateral_priors(rho, &evidence);
        assert_eq!(priors[0], Normal::STANDARD);
        let mut want = JointPrior::new(rho);
        want.observe(0, y, v);
        for p in &priors[1..] {
            assert!((p.mean - want.marginal(1).mean).abs() < 1e-9, "{p:?}");
            assert!((p.sd - want.marginal(1).sd).abs() < 1e-9, "{p:?}");
        }
    }

    #[test]
    fn uninformative_domain_changes_nothing() {
        let mut p = JointPrior::new(0.6);
        let before = p.clone();
        p.update(
            0,
            Estimate {
                theta: 0.0,
                se: 1.0,
            },
        );
        assert_eq!(p, before);
    }

    #[test]
    fn standard_error_widens_the_next_prior() {
        let mut sharp = JointPrior::new(0.75);
        let mut rough = sharp.clone();
        sharp.update(
            0,
            Estimate {
                theta: 1.0,
                se: 0.1,
            },
        );
        rough.update(
            0,
            Estimate {
                theta: 1.0,
                se: 0.5,
            },
        );
        assert!(rough.marginal(1).sd > sharp.marginal(1).sd);
        assert_eq!(rough.marginal(1).mean, sharp.marginal(1).mean);
        // Independent domains learn nothing from each other.
        let mut indep = JointPrior::new(0.0);
        indep.update(
            0,
            Estimate {
                theta: 2.0,
                se: 0.2,
            },
        );
        assert_eq!(indep.marginal(1), Normal::STANDARD);
    }
}
