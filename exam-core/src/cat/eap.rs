//! Expected a posteriori (EAP) estimation of θ on a fixed quadrature grid with a
//! normal prior.

use serde::{Deserialize, Serialize};

use super::irt::Model;

/// Equally spaced quadrature points on [`lo`, `hi`].
///
/// [`lo`]: Grid::lo
/// [`hi`]: Grid::hi
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// The lowest point.
    pub lo: f64,
    /// The highest point.
    pub hi: f64,
    /// How many points, at least 2.
    pub points: usize,
}

impl Default for Grid {
    /// 81 points on [−4, 4], a step of 0.1.
    fn default() -> Self {
        Grid {
            lo: -4.0,
            hi: 4.0,
            points: 81,
        }
    }
}

impl Grid {
    /// True when the grid has at least two points on a finite, non-empty interval.
    pub fn is_valid(&self) -> bool {
        self.points >= 2 && self.lo.is_finite() && self.hi.is_finite() && self.lo < self.hi
    }

    /// The points, from `lo` to `hi`.
    pub fn nodes(&self) -> impl Iterator<Item = f64> + '_ {
        let step = (self.hi - self.lo) / (self.points - 1) as f64;
        (0..self.points).map(move |i| self.lo + step * i as f64)
    }
}

/// A normal distribution N(`mean`, `sd`²), used as a prior for θ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Normal {
    /// The mean.
    pub mean: f64,
    /// The standard deviation, > 0.
    pub sd: f64,
}

impl Normal {
    /// The standard normal N(0, 1), the population distribution of θ on the bank's scale.
    pub const STANDARD: Normal = Normal { mean: 0.0, sd: 1.0 };
}

/// A point estimate of θ with its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The posterior mean of θ.
    pub theta: f64,
    /// The posterior standard deviation, used as the standard error.
    pub se: f64,
}

/// The EAP estimate of θ from scored responses, under the prior `prior`, on `grid`.
///
/// With no response it returns the prior's mean and standard deviation (up to the
/// truncation and discretisation of the grid).
pub fn eap<'a>(
    grid: &Grid,
    prior: Normal,
    responses: impl IntoIterator<Item = (&'a Model, u32)>,
) -> Estimate {
    let nodes: Vec<f64> = grid.nodes().collect();
    let mut log_post: Vec<f64> = nodes
        .iter()
        .map(|t| {
            let z = (t - prior.mean) / prior.sd;
            -0.5 * z * z
        })
        .collect();
    for (model, score) in responses {
        for (lp, &t) in log_post.iter_mut().zip(&nodes) {
            *lp += model.log_likelihood(t, score);
        }
    }
    let top = log_post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut w_sum, mut m1, mut m2) = (0.0, 0.0, 0.0);
    for (lp, &t) in log_post.iter().zip(&nodes) {
        let w = (lp - top).exp();
        w_sum += w;
        m1 += w * t;
        m2 += w * t * t;
    }
    let theta = m1 / w_sum;
    let var = (m2 / w_sum - theta * theta).max(0.0);
    Estimate {
        theta,
        se: var.sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    #[test]
    fn default_grid_has_step_one_tenth() {
        let g = Grid::default();
        let nodes: Vec<f64> = g.nodes().collect();
        assert_eq!(nodes.len(), 81);
        assert_eq!(nodes[0], -4.0);
        assert!((nodes[80] - 4.0).abs() < 1e-12);
        assert!((nodes[41] - 0.1).abs() < 1e-12);
        assert!(g.is_valid());
        assert!(
            !Grid {
                lo: 1.0,
                hi: 1.0,
                points: 5
            }
            .is_valid()
        );
    }

    #[test]
    fn no_response_returns_the_prior() {
        let e = eap(&Grid::default(), Normal { mean: 0.5, sd: 0.8 }, []);
        assert!((e.theta - 0.5).abs() < 1e-3, "{e:?}");
        assert!((e.se - 0.8).abs() < 1e-3, "{e:?}");
        let e = eap(&Grid::default(), Normal::STANDARD, []);
        assert!(e.theta.abs() < 1e-9 && (e.se - 1.0).abs() < 1e-3, "{e:?}");
    }

    #[test]
    fn one_item_at_the_prior_mean_moves_symmetrically() {
        let item = Model::two_pl(1.0, 0.0);
        let up = eap(&Grid::default(), Normal::STANDARD, [(&item, 1)]);
        let down = eap(&Grid::default(), Normal::STANDARD, [(&item, 0)]);
        assert!(up.theta > 0.3 && (up.theta + down.theta).abs() < 1e-12);
        assert!(up.se < 1.0 && (up.se - down.se).abs() < 1e-12);
    }

    #[test]
    fn many_items_converge_to_true_theta() {
        let mut rng = StdRng::seed_from_u64(11);
        for true_theta in [-1.7, 0.0, 1.2] {
            let items: Vec<Model> = (0..400)
                .map(|_| Model::two_pl(rng.random_range(0.8..1.6), rng.random_range(-3.0..3.0)))
                .collect();
            let scores: Vec<u32> = items
                .iter()
                .map(|m| u32::from(rng.random::<f64>() < m.expected_score(true_theta)))
                .collect();
            let e = eap(&Grid::default(), Normal::STANDARD, items.iter().zip(scores));
            assert!((e.theta - true_theta).abs() < 0.2, "{true_theta}: {e:?}");
            assert!(e.se < 0.1, "{e:?}");
        }
    }
}
