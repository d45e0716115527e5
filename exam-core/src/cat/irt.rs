//! Item response models: the logistic family (2PL, 3PL) and the generalized partial
//! credit model, with the scaling constant D = 1.7 throughout.
//!
//! Everything here is a pure function of θ: category probabilities, expected score,
//! Fisher information and the log-likelihood of an observed score.

use serde::{Deserialize, Serialize};

/// The scaling constant that brings the logistic close to the normal ogive.
pub const D: f64 = 1.7;

/// The response model of one item, on the θ scale of the bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Model {
    /// Dichotomous logistic model, scored 0 or 1:
    /// P(1 | θ) = c + (1 − c) / (1 + exp(−D·a·(θ − b))).
    /// It is the 2PL when `c` = 0 and the 3PL otherwise.
    Logistic {
        /// Discrimination, > 0.
        a: f64,
        /// Difficulty.
        b: f64,
        /// Lower asymptote ("guessing"), in [0, 1).
        #[serde(default)]
        c: f64,
    },
    /// Generalized partial credit model, scored 0..=`steps.len()`:
    /// P(X = k | θ) ∝ exp(Σ_{v ≤ k} D·a·(θ − b_v)), the empty sum being 0 for k = 0.
    Gpcm {
        /// Discrimination, > 0.
        a: f64,
        /// Step difficulties b_1, b_2, … on the θ scale (not relative to a location).
        steps: Vec<f64>,
    },
}

/// Why a set of item parameters cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A parameter is NaN or infinite.
    #[error("a parameter is not a finite number")]
    NotFinite,
    /// The discrimination `a` is zero or negative.
    #[error("discrimination must be positive")]
    NonPositiveDiscrimination,
    /// The lower asymptote `c` is outside [0, 1).
    #[error("lower asymptote must be in [0, 1)")]
    GuessingOutOfRange,
    /// A partial credit item has no step, so only one category.
    #[error("a partial credit item needs at least one step")]
    NoSteps,
}

impl Model {
    /// A 2PL item.
    pub fn two_pl(a: f64, b: f64) -> Model {
        Model::Logistic { a, b, c: 0.0 }
    }

    /// Checks that the parameters describe a usable model.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Model::Logistic { a, b, c } => {
                if !(a.is_finite() && b.is_finite() && c.is_finite()) {
                    return Err(ModelError::NotFinite);
                }
                if *a <= 0.0 {
                    return Err(ModelError::NonPositiveDiscrimination);
                }
                if !(0.0..1.0).contains(c) {
                    return Err(ModelError::GuessingOutOfRange);
                }
            }
            Model::Gpcm { a, steps } => {
                if !a.is_finite() || steps.iter().any(|s| !s.is_finite()) {
                    return Err(ModelError::NotFinite);
                }
                if *a <= 0.0 {
                    return Err(ModelError::NonPositiveDiscrimination);
                }
                if steps.is_empty() {
                    return Err(ModelError::NoSteps);
                }
            }
        }
        Ok(())
    }

    /// The highest score of the item (1 for a logistic item, the number of steps for GPCM).
    pub fn max_score(&self) -> u32 {
        match self {
            Model::Logistic { .. } => 1,
            Model::Gpcm { steps, .. } => u32::try_from(steps.len()).unwrap_or(u32::MAX),
        }
    }

    /// P(X = k | θ) for k = 0..=`max_score()`; the entries sum to 1.
    pub fn category_probabilities(&self, theta: f64) -> Vec<f64> {
        match self {
            Model::Logistic { .. } => {
                let p = self.expected_score(theta);
                vec![1.0 - p, p]
            }
            Model::Gpcm { a, steps } => {
                let top = gpcm_max_exponent(*a, steps, theta);
                let mut z = 0.0;
                let mut probs = Vec::with_capacity(steps.len() + 1);
                probs.push((-top).exp());
                for b in steps {
                    z += D * a * (theta - b);
                    probs.push((z - top).exp());
                }
                let total: f64 = probs.iter().sum();
                probs.iter_mut().for_each(|p| *p /= total);
                probs
            }
        }
    }

    /// E[X | θ]; for a logistic item this is P(1 | θ).
    pub fn expected_score(&self, theta: f64) -> f64 {
        match self {
            Model::Logistic { a, b, c } => c + (1.0 - c) * logistic(D * a * (theta - b)),
            Model::Gpcm { a, steps } => gpcm_moments(*a, steps, theta).0,
        }
    }

    /// Fisher information at θ.
    ///
    /// Logistic: D²a²·(Q/P)·((P − c)/(1 − c))², which is D²a²·P·Q for the 2PL.
    /// GPCM: D²a²·Var(X | θ).
    pub fn information(&self, theta: f64) -> f64 {
        match self {
            Model::Logistic { a, b, c } => {
                let star = logistic(D * a * (theta - b));
                let scale = D * a;
                if *c == 0.0 {
                    scale * scale * star * (1.0 - star)
                } else {
                    let p = c + (1.0 - c) * star;
                    // (Q/P)·((P − c)/(1 − c))² with Q = (1 − c)(1 − P*) and P − c = (1 − c)P*.
                    scale * scale * (1.0 - c) * (1.0 - star) * star * star / p
                }
            }
            Model::Gpcm { a, steps } => {
                let (mean, second) = gpcm_moments(*a, steps, theta);
                let var = (second - mean * mean).max(0.0);
                D * D * a * a * var
            }
        }
    }

    /// ln P(X = `score` | θ); −∞ when `score` is above `max_score()`.
    pub fn log_likelihood(&self, theta: f64, score: u32) -> f64 {
        match self {
            Model::Logistic { a, b, c } => {
                let z = D * a * (theta - b);
                match score {
                    0 => (1.0 - c).ln() - softplus(z),
                    1 if *c == 0.0 => -softplus(-z),
                    1 => (c + (1.0 - c) * logistic(z)).ln(),
                    _ => f64::NEG_INFINITY,
                }
            }
            Model::Gpcm { a, steps } => {
                let Ok(k) = usize::try_from(score) else {
                    return f64::NEG_INFINITY;
                };
                if k > steps.len() {
                    return f64::NEG_INFINITY;
                }
                let top = gpcm_max_exponent(*a, steps, theta);
                let mut z = 0.0;
                let mut z_k = 0.0;
                let mut total = (-top).exp();
                for (v, b) in steps.iter().enumerate() {
                    z += D * a * (theta - b);
                    if v + 1 == k {
                        z_k = z;
                    }
                    total += (z - top).exp();
                }
                z_k - top - total.ln()
            }
        }
    }
}

/// 1 / (1 + e^(−z)).
fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// ln(1 + e^x), without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The largest of the GPCM exponents z_0 = 0, z_k = Σ_{v ≤ k} D·a·(θ − b_v).
fn gpcm_max_exponent(a: f64, steps: &[f64], theta: f64) -> f64 {
    let mut z = 0.0;
    let mut top: f64 = 0.0;
    for b in steps {
        z += D * a * (theta - b);
        top = top.max(z);
    }
    top
}

/// E[X | θ] and E[X² | θ] under the GPCM, without allocating.
fn gpcm_moments(a: f64, steps: &[f64], theta: f64) -> (f64, f64) {
    let top = gpcm_max_exponent(a, steps, theta);
    let mut z = 0.0;
    let mut total = (-top).exp();
    let mut first = 0.0;
    let mut second = 0.0;
    for (v, b) in steps.iter().enumerate() {
        z += D * a * (theta - b);
        let w = (z - top).exp();
        let k = (v + 1) as f64;
        total += w;
        first += k * w;
        second += k * k * w;
    }
    (first / total, second / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models() -> Vec<Model> {
        vec![
            Model::two_pl(1.2, 0.3),
            Model::Logistic {
                a: 0.8,
                b: -1.0,
                c: 0.2,
            },
            Model::Gpcm {
                a: 1.1,
                steps: vec![-1.0, 0.2, 1.5],
            },
            Model::Gpcm {
                a: 0.7,
                steps: vec![0.5, -0.5],
            },
        ]
    }

    const THETAS: [f64; 7] = [-3.5, -2.0, -0.7, 0.0, 0.4, 1.9, 3.8];

    #[test]
    fn category_probabilities_sum_to_one() {
        for m in models() {
            for t in THETAS {
                let p = m.category_probabilities(t);
                assert_eq!(p.len(), m.max_score() as usize + 1);
                assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{m:?} at {t}");
                assert!(p.iter().all(|&x| (0.0..=1.0).contains(&x)));
            }
        }
    }

    #[test]
    fn logistic_matches_formula() {
        let m = Model::Logistic {
            a: 1.0,
            b: 0.5,
            c: 0.25,
        };
        let want = 0.25 + 0.75 / (1.0 + (-1.7_f64 * (1.0 - 0.5)).exp());
        assert!((m.expected_score(1.0) - want).abs() < 1e-15);
        assert!((Model::two_pl(2.0, 1.0).expected_score(1.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn information_matches_numerical_derivative() {
        // I(θ) = Σ_k P_k'(θ)² / P_k(θ), with P_k' from central differences.
        let h = 1e-5;
        for m in models() {
            for t in THETAS {
                let lo = m.category_probabilities(t - h);
                let hi = m.category_probabilities(t + h);
                let mid = m.category_probabilities(t);
                let numeric: f64 = (0..mid.len())
                    .map(|k| {
                        let d = (hi[k] - lo[k]) / (2.0 * h);
                        d * d / mid[k]
                    })
                    .sum();
                let exact = m.information(t);
                assert!(
                    (numeric - exact).abs() < 1e-5 * (1.0 + exact),
                    "{m:?} at {t}: {numeric} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn log_likelihood_is_log_of_probability() {
        for m in models() {
            for t in THETAS {
                let p = m.category_probabilities(t);
                for (k, pk) in p.iter().enumerate() {
                    let ll = m.log_likelihood(t, k as u32);
                    assert!((ll - pk.ln()).abs() < 1e-9, "{m:?} at {t}, k = {k}");
                }
                assert_eq!(m.log_likelihood(t, m.max_score() + 1), f64::NEG_INFINITY);
            }
        }
    }

    #[test]
    fn log_likelihood_stays_finite_far_from_the_item() {
        let m = Model::two_pl(2.5, 0.0);
        assert!(m.log_likelihood(40.0, 0).is_finite());
        assert!(m.log_likelihood(-40.0, 1).is_finite());
    }

    #[test]
    fn gpcm_expected_score_is_mean_of_categories() {
        let m = Model::Gpcm {
            a: 1.3,
            steps: vec![-0.4, 0.1, 0.9],
        };
        let p = m.category_probabilities(0.3);
        let mean: f64 = p.iter().enumerate().map(|(k, pk)| k as f64 * pk).sum();
        assert!((m.expected_score(0.3) - mean).abs() < 1e-12);
    }

    #[test]
    fn max_score_and_validation() {
        assert_eq!(Model::two_pl(1.0, 0.0).max_score(), 1);
        assert_eq!(
            Model::Gpcm {
                a: 1.0,
                steps: vec![0.0; 4]
            }
            .max_score(),
            4
        );
        assert_eq!(
            Model::two_pl(0.0, 0.0).validate(),
            Err(ModelError::NonPositiveDiscrimination)
        );
        assert_eq!(
            Model::Logistic {
                a: 1.0,
                b: 0.0,
                c: 1.0
            }
            .validate(),
            Err(ModelError::GuessingOutOfRange)
        );
        assert_eq!(
            Model::Gpcm {
                a: 1.0,
                steps: vec![]
            }
            .validate(),
            Err(ModelError::NoSteps)
        );
        assert_eq!(
            Model::two_pl(1.0, f64::NAN).validate(),
            Err(ModelError::NotFinite)
        );
        assert!(models().iter().all(|m| m.validate().is_ok()));
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_string(&Model::two_pl(1.5, -0.5)).unwrap();
        assert_eq!(json, r#"{"model":"logistic","a":1.5,"b":-0.5,"c":0.0}"#);
        let back: Model = serde_json::from_str(r#"{"model":"logistic","a":1.5,"b":-0.5}"#).unwrap();
        assert_eq!(back, Model::two_pl(1.5, -0.5));
        let g: Model = serde_json::from_str(r#"{"model":"gpcm","a":1,"steps":[0,1]}"#).unwrap();
        assert_eq!(g.max_score(), 2);
    }
}
