//! CEFR levels and the cut scores that place an ability estimate on them.
//!
//! θ lives on the scale of the item bank's IRT parameters (see `docs/items.md`).
//! The cut scores −2, −1, 0, 1, 2 split it into A1 | A2 | B1 | B2 | C1 | C2.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A level of the Common European Framework of Reference for Languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Cefr {
    /// Breakthrough.
    A1,
    /// Waystage.
    A2,
    /// Threshold.
    B1,
    /// Vantage.
    B2,
    /// Effective operational proficiency.
    C1,
    /// Mastery.
    C2,
}

/// The θ cut scores between consecutive levels: A1 < −2 ≤ A2 < −1 ≤ B1 < 0 ≤ B2 < 1 ≤ C1 < 2 ≤ C2.
pub const CUT_SCORES: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

impl Cefr {
    /// Every level, from the lowest.
    pub const ALL: [Cefr; 6] = [Cefr::A1, Cefr::A2, Cefr::B1, Cefr::B2, Cefr::C1, Cefr::C2];

    /// The level θ falls in, with the default cut scores.
    pub fn from_theta(theta: f64) -> Cefr {
        Self::from_theta_with(theta, &CUT_SCORES)
    }

    /// The level θ falls in, with the given ascending cut scores.
    pub fn from_theta_with(theta: f64, cuts: &[f64; 5]) -> Cefr {
        let idx = cuts.iter().take_while(|&&c| theta >= c).count();
        Cefr::ALL[idx]
    }

    /// The lowest and highest levels met by θ ± 1.96·SE.
    pub fn band(theta: f64, se: f64) -> (Cefr, Cefr) {
        let half = 1.96 * se.max(0.0);
        (
            Cefr::from_theta(theta - half),
            Cefr::from_theta(theta + half),
        )
    }

    /// The position of the level, 0 for A1 to 5 for C2.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The midpoint of the level's θ interval, used for provisional item difficulties.
    pub fn provisional_difficulty(self) -> f64 {
        -2.5 + self.index() as f64
    }
}

impl fmt::Display for Cefr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cefr::A1 => "A1",
            Cefr::A2 => "A2",
            Cefr::B1 => "B1",
            Cefr::B2 => "B2",
            Cefr::C1 => "C1",
            Cefr::C2 => "C2",
        })
    }
}

/// The text is not one of A1, A2, B1, B2, C1, C2.
#[derive(Debug, thiserror::Error)]
#[error("not a CEFR level: {0:?} (expected A1, A2, B1, B2, C1 or C2)")]
pub struct ParseCefrError(pub String);

impl FromStr for Cefr {
    type Err = ParseCefrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cefr::ALL
            .into_iter()
            .find(|l| l.to_string().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseCefrError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_scores_place_theta() {
        assert_eq!(Cefr::from_theta(-3.0), Cefr::A1);
        assert_eq!(Cefr::from_theta(-2.0), Cefr::A2);
        assert_eq!(Cefr::from_theta(-0.01), Cefr::B1);
        assert_eq!(Cefr::from_theta(0.0), Cefr::B2);
        assert_eq!(Cefr::from_theta(1.99), Cefr::C1);
        assert_eq!(Cefr::from_theta(2.0), Cefr::C2);
        assert_eq!(Cefr::from_theta(9.0), Cefr::C2);
    }

    #[test]
    fn band_follows_standard_error() {
        assert_eq!(Cefr::band(0.5, 0.1), (Cefr::B2, Cefr::B2));
        assert_eq!(Cefr::band(0.5, 0.3), (Cefr::B1, Cefr::C1));
    }

    #[test]
    fn parses_and_prints() {
        for l in Cefr::ALL {
            assert_eq!(l.to_string().parse::<Cefr>().unwrap(), l);
        }
        assert!("B3".parse::<Cefr>().is_err());
        assert_eq!(Cefr::B1.provisional_difficulty(), -0.5);
    }
}
