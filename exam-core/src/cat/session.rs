//! The per-candidate adaptive test: a sans-IO state machine over the five domains.

use serde::{Deserialize, Serialize};

use crate::bank::{Domain, ItemType};
use crate::cefr::Cefr;

use super::eap::{Estimate, Grid, Normal, eap};
use super::error::CatError;
use super::exposure::ExposureCounts;
use super::irt::Model;
use super::pool::{CatItem, Pool};
use super::prior::{Evidence, JointPrior, collateral_priors};
use super::select::{Request, SelectionConfig, select, stream};

/// Settings of an adaptive test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatConfig {
    /// Items given in each domain (fewer only if the pool runs out), at least 1.
    pub items_per_domain: usize,
    /// Assumed common correlation between the five domain abilities, in [0, 1).
    /// It shapes the prior of each later domain (see [`super::prior`]).
    pub correlation: f64,
    /// The quadrature grid of the EAP estimates.
    pub grid: Grid,
    /// Item selection and exposure control.
    pub selection: SelectionConfig,
}

impl Default for CatConfig {
    fn default() -> Self {
        CatConfig {
            items_per_domain: 10,
            correlation: 0.75,
            grid: Grid::default(),
            selection: SelectionConfig::default(),
        }
    }
}

impl CatConfig {
    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), CatError> {
        if self.items_per_domain == 0 {
            return Err(CatError::InvalidConfig(
                "items_per_domain must be at least 1",
            ));
        }
        if !(0.0..1.0).contains(&self.correlation) {
            return Err(CatError::InvalidConfig("correlation must be in [0, 1)"));
        }
        if !self.grid.is_valid() {
            return Err(CatError::InvalidConfig(
                "grid needs 2 or more points on lo < hi",
            ));
        }
        let s = &self.selection;
        if !(s.max_exposure > 0.0 && s.max_exposure <= 1.0) {
            return Err(CatError::InvalidConfig("max_exposure must be in (0, 1]"));
        }
        if !(0.0..=1.0).contains(&s.randomness) {
            return Err(CatError::InvalidConfig("randomness must be in [0, 1]"));
        }
        Ok(())
    }
}

/// One scored response, with what the engine needs to re-estimate without the pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The item.
    pub item_id: String,
    /// Its domain.
    pub domain: Domain,
    /// Its type.
    pub item_type: ItemType,
    /// Its model at the time it was given.
    pub model: Model,
    /// The observed score, 0..=max.
    pub score: u32,
}

/// Where a domain stands, as reported to the candidate's record.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainEstimate {
    /// The domain.
    pub domain: Domain,
    /// EAP estimate of θ (the prior mean before the first response).
    pub theta: f64,
    /// Posterior standard deviation of θ.
    pub se: f64,
    /// The level θ falls in ([`Cefr::from_theta`]).
    pub level: Cefr,
    /// The levels met by θ ± 1.96·SE ([`Cefr::band`]): lowest, highest.
    #[cfg_attr(feature = "openapi", schema(value_type = [Cefr], min_items = 2, max_items = 2))]
    pub band: (Cefr, Cefr),
    /// Responses recorded in the domain.
    pub answered: usize,
    /// The prior the domain started from.
    pub prior: Normal,
}

/// Per-domain progress, kept in step with the responses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct DomainState {
    prior: Normal,
    estimate: Estimate,
    answered: usize,
}

/// The adaptive test of one candidate.
///
/// The five domains are taken in [`Domain::ALL`] order, [`CatConfig::items_per_domain`]
/// items each. The session never reads a clock or draws from a global RNG: its only
/// randomness is derived from the seed given at creation and the position in the test,
/// so [`CatSession::replay`] rebuilds it exactly from the scored responses.
///
/// It is `Serialize`/`Deserialize` as a snapshot (config, seed, responses with their
/// item models, pending item, estimates). A JSON round trip may move a float by its
/// last bit; [`CatSession::replay`] is the bit-exact way back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatSession {
    config: CatConfig,
    seed: u64,
    /// Index into [`Domain::ALL`] of the current domain; 5 once finished.
    current: usize,
    responses: Vec<Response>,
    pending: Option<CatItem>,
    joint: JointPrior,
    domains: [DomainState; 5],
    /// Whether this candidate was counted in the exposure counters.
    counted: bool,
}

impl CatSession {
    /// A new session, before its first item.
    pub fn new(config: CatConfig, seed: u64) -> Result<CatSession, CatError> {
        config.validate()?;
        let joint = JointPrior::new(config.correlation);
        let first = joint.marginal(0);
        let mut domains = [DomainState {
            prior: first,
            estimate: Estimate {
                theta: first.mean,
                se: first.sd,
            },
            answered: 0,
        }; 5];
        // Until they start, later domains show the population prior.
        for d in &mut domains[1..] {
            d.prior = Normal::STANDARD;
            d.estimate = Estimate {
                theta: 0.0,
                se: 1.0,
            };
        }
        Ok(CatSession {
            config,
            seed,
            current: 0,
            responses: Vec::new(),
            pending: None,
            joint,
            domains,
            counted: false,
        })
    }

    /// Rebuilds a session from its seed and scored responses, in the order they were
    /// given, e.g. after a crash.
    ///
    /// The responses are taken as the items that were given (selection is not run
    /// again, so the exposure counters are not needed and not touched); each is checked
    /// to be in the pool, in the domain the session was in, and not repeated. The result
    /// equals the session that recorded them. A pending item that was already shown can
    /// then be put back with [`CatSession::restore_pending`].
    pub fn replay<S: AsRef<str>>(
        config: CatConfig,
        pool: &Pool,
        seed: u64,
        responses: &[(S, u32)],
    ) -> Result<CatSession, CatError> {
        let mut session = CatSession::new(config, seed)?;
        for (id, score) in responses {
            session.restore_pending(pool, id.as_ref())?;
            session.record(id.as_ref(), *score)?;
        }
        Ok(session)
    }

    /// The item to give now, or `None` once the test is finished.
    ///
    /// If an item is pending (chosen but not yet recorded) it is returned again and
    /// nothing changes. Otherwise an item is chosen, becomes pending, and is counted in
    /// `exposure` (as is the candidate, at the first item).
    pub fn next_item(&mut self, pool: &Pool, exposure: &mut ExposureCounts) -> Option<&CatItem> {
        if self.pending.is_none() {
            self.settle(pool);
            let domain = self.current_domain()?;
            if !self.counted {
                exposure.note_candidate();
                self.counted = true;
            }
            let used = self.used_in(pool, domain);
            let req = Request {
                domain,
                theta: self.domains[self.current].estimate.theta,
                used: &used,
                length: self.config.items_per_domain,
                stream: stream(self.seed, self.responses.len()),
            };
            let item = select(pool, &self.config.selection, &req, exposure)?.clone();
            exposure.note_given(&item.id);
            self.pending = Some(item);
        }
        self.pending.as_ref()
    }

    /// Makes `item_id` the pending item, as if [`CatSession::next_item`] had chosen it,
    /// without touching exposure counters: for restoring a session whose pending item
    /// was already shown to the candidate.
    pub fn restore_pending(&mut self, pool: &Pool, item_id: &str) -> Result<&CatItem, CatError> {
        if let Some(p) = &self.pending {
            return Err(CatError::AlreadyPending(p.id.clone()));
        }
        self.settle(pool);
        let item = pool
            .get(item_id)
            .ok_or_else(|| CatError::UnknownItem(item_id.to_owned()))?;
        let expected = self.current_domain().ok_or(CatError::Finished)?;
        if item.domain != expected {
            return Err(CatError::OutOfOrder {
                item: item.id.clone(),
                expected,
                got: item.domain,
            });
        }
        if self.responses.iter().any(|r| r.item_id == item.id) {
            return Err(CatError::Repeated(item.id.clone()));
        }
        // The candidate was counted when this item was first chosen.
        self.counted = true;
        Ok(&*self.pending.insert(item.clone()))
    }

    /// Records the observed score of the pending item and updates the estimates.
    pub fn record(&mut self, item_id: &str, score: u32) -> Result<(), CatError> {
        let Some(item) = self.pending.take_if(|p| p.id == item_id) else {
            return Err(CatError::NotPending {
                expected: self.pending.as_ref().map(|p| p.id.clone()),
                got: item_id.to_owned(),
            });
        };
        let max = item.model.max_score();
        if score > max {
            let err = CatError::ScoreOutOfRange {
                item: item.id.clone(),
                score,
                max,
            };
            self.pending = Some(item);
            return Err(err);
        }
        self.responses.push(Response {
            item_id: item.id,
            domain: item.domain,
            item_type: item.item_type,
            model: item.model,
            score,
        });
        let k = self.current;
        let state = &mut self.domains[k];
        state.answered += 1;
        let in_domain = self.responses.iter().filter(|r| r.domain == item.domain);
        state.estimate = eap(
            &self.config.grid,
            state.prior,
            in_domain.map(|r| (&r.model, r.score)),
        );
        if state.answered >= self.config.items_per_domain {
            self.finish_domain();
        }
        Ok(())
    }

    /// True once every domain is done.
    pub fn is_finished(&self) -> bool {
        self.current >= Domain::ALL.len()
    }

    /// The domain being taken, or `None` once finished.
    pub fn current_domain(&self) -> Option<Domain> {
        Domain::ALL.get(self.current).copied()
    }

    /// The item waiting for a response, if any.
    pub fn pending(&self) -> Option<&CatItem> {
        self.pending.as_ref()
    }

    /// The scored responses, in the order given.
    pub fn responses(&self) -> &[Response] {
        &self.responses
    }

    /// The session's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The session's settings.
    pub fn config(&self) -> &CatConfig {
        &self.config
    }

    /// The current estimate of one domain.
    pub fn estimate(&self, domain: Domain) -> DomainEstimate {
        let s = &self.domains[domain.index()];
        domain_estimate(domain, s.estimate, s.answered, s.prior)
    }

    /// The current estimates of all five domains, in test order.
    pub fn estimates(&self) -> [DomainEstimate; 5] {
        Domain::ALL.map(|d| self.estimate(d))
    }

    /// Estimates of all five domains, each borrowing from **every** other domain.
    ///
    /// [`CatSession::estimates`] only borrows from earlier domains (through the prior a
    /// domain starts from), so the first domain is estimated from its own items alone.
    /// Here each domain's responses are combined with a prior conditioned on all the
    /// other domains ([`super::prior`]), which makes the result independent of the test
    /// order and more precise, at the cost of an earlier domain's estimate moving when
    /// later domains are answered. Meant for the final report; whether to use it is a
    /// scoring policy decision.
    pub fn collateral_estimates(&self) -> [DomainEstimate; 5] {
        let evidence: [Evidence; 5] = std::array::from_fn(|k| {
            let d = &self.domains[k];
            Evidence {
                prior: d.prior,
                posterior: d.estimate,
                answered: d.answered,
            }
        });
        let priors = collateral_priors(self.config.correlation, &evidence);
        std::array::from_fn(|k| {
            let domain = Domain::ALL[k];
            let in_domain = self.responses.iter().filter(|r| r.domain == domain);
            let estimate = eap(
                &self.config.grid,
                priors[k],
                in_domain.map(|r| (&r.model, r.score)),
            );
            domain_estimate(domain, estimate, self.domains[k].answered, priors[k])
        })
    }

    /// The items of the pool already given in `domain`.
    fn used_in<'p>(&self, pool: &'p Pool, domain: Domain) -> Vec<&'p CatItem> {
        self.responses
            .iter()
            .filter(|r| r.domain == domain)
            .filter_map(|r| pool.get(&r.item_id))
            .collect()
    }

    /// Moves past domains whose pool has no unused item left.
    fn settle(&mut self, pool: &Pool) {
        while let Some(domain) = self.current_domain() {
            let used = self.responses.iter().filter(|r| r.domain == domain).count();
            let left = pool
                .domain(domain)
                .any(|i| !self.responses.iter().any(|r| r.item_id == i.id));
            if used < self.config.items_per_domain && left {
                break;
            }
            self.finish_domain();
        }
    }

    /// Closes the current domain and sets the next one's prior.
    fn finish_domain(&mut self) {
        let k = self.current;
        self.joint.update(k, self.domains[k].estimate);
        self.current += 1;
        if let Some(next) = self.domains.get_mut(self.current) {
            next.prior = self.joint.marginal(self.current);
            next.estimate = Estimate {
                theta: next.prior.mean,
                se: next.prior.sd,
            };
        }
    }
}

/// The reported form of a domain's estimate.
fn domain_estimate(
    domain: Domain,
    estimate: Estimate,
    answered: usize,
    prior: Normal,
) -> DomainEstimate {
    let Estimate { theta, se } = estimate;
    DomainEstimate {
        domain,
        theta,
        se,
        level: Cefr::from_theta(theta),
        band: Cefr::band(theta, se),
        answered,
        prior,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cat::sim::synthetic_pool;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn small_config() -> CatConfig {
        CatConfig {
            items_per_domain: 4,
            ..CatConfig::default()
        }
    }

    /// Runs a session to the end with random answers; returns the given (id, score) pairs.
    fn run(
        session: &mut CatSession,
        pool: &Pool,
        e: &mut ExposureCounts,
        seed: u64,
    ) -> Vec<(String, u32)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut given = Vec::new();
        while let Some(item) = session.next_item(pool, e) {
            let id = item.id.clone();
            let score = rng.random_range(0..=item.model.max_score());
            session.record(&id, score).unwrap();
            given.push((id, score));
        }
        given
    }

    #[test]
    fn finishes_after_five_domains_in_order() {
        let pool = synthetic_pool(30, &mut StdRng::seed_from_u64(1));
        let mut s = CatSession::new(small_config(), 5).unwrap();
        let mut e = ExposureCounts::new();
        assert_eq!(s.current_domain(), Some(Domain::Vocabulary));
        let given = run(&mut s, &pool, &mut e, 2);
        assert_eq!(given.len(), 20);
        assert!(s.is_finished() && s.current_domain().is_none());
        let domains: Vec<Domain> = s.responses().iter().map(|r| r.domain).collect();
        let want: Vec<Domain> = Domain::ALL.iter().flat_map(|&d| [d; 4]).collect();
        assert_eq!(domains, want);
        assert!(s.estimates().iter().all(|d| d.answered == 4 && d.se < 1.0));
        assert_eq!(e.candidates(), 1);
        assert_eq!(e.iter().map(|(_, n)| n).sum::<u64>(), 20);
        assert!(s.next_item(&pool, &mut e).is_none());
        // Nothing more can be recorded or replayed.
        assert!(matches!(
            s.record("vocabulary-000", 1),
            Err(CatError::NotPending { .. })
        ));
        let mut more = given.clone();
        let spare = pool
            .domain(Domain::Listening)
            .find(|i| !given.iter().any(|(id, _)| *id == i.id));
        more.push((spare.unwrap().id.clone(), 1));
        assert_eq!(
            CatSession::replay(small_config(), &pool, 5, &more),
            Err(CatError::Finished)
        );
    }

    #[test]
    fn next_item_is_stable_until_recorded() {
        let pool = synthetic_pool(30, &mut StdRng::seed_from_u64(1));
        let mut s = CatSession::new(small_config(), 5).unwrap();
        let mut e = ExposureCounts::new();
        let first = s.next_item(&pool, &mut e).unwrap().id.clone();
        assert_eq!(s.next_item(&pool, &mut e).unwrap().id, first);
        assert_eq!(e.given(&first), 1);
        assert_eq!(s.pending().unwrap().id, first);
    }

    #[test]
    fn wrong_item_or_score_is_an_error() {
        let pool = synthetic_pool(30, &mut StdRng::seed_from_u64(1));
        let mut s = CatSession::new(small_config(), 5).unwrap();
        let mut e = ExposureCounts::new();
        assert_eq!(
            s.record("nope", 1),
            Err(CatError::NotPending {
                expected: None,
                got: "nope".into()
            })
        );
        let id = s.next_item(&pool, &mut e).unwrap().id.clone();
        assert_eq!(
            s.record("nope", 1),
            Err(CatError::NotPending {
                expected: Some(id.clone()),
                got: "nope".into()
            })
        );
        assert_eq!(
            s.record(&id, 2),
            Err(CatError::ScoreOutOfRange {
                item: id.clone(),
                score: 2,
                max: 1
            })
        );
        // The item is still pending after the errors.
        s.record(&id, 1).unwrap();
        assert_eq!(s.responses().len(), 1);
    }

    #[test]
    fn replay_rebuilds_the_same_state() {
        let pool = synthetic_pool(40, &mut StdRng::seed_from_u64(3));
        let mut e = ExposureCounts::new();
        // Warm the counters so the restriction is active.
        for seed in 0..6 {
            run(
                &mut CatSession::new(small_config(), seed).unwrap(),
                &pool,
                &mut e,
                seed,
            );
        }
        let mut s = CatSession::new(small_config(), 77).unwrap();
        let mut rng = StdRng::seed_from_u64(8);
        let mut given = Vec::new();
        for _ in 0..11 {
            let item = s.next_item(&pool, &mut e).unwrap();
            let (id, score) = (item.id.clone(), rng.random_range(0..=1));
            s.record(&id, score).unwrap();
            given.push((id, score));
        }
        let back = CatSession::replay(small_config(), &pool, 77, &given).unwrap();
        assert_eq!(back, s);
        // And both continue identically given the same counters.
        let mut e2 = e.clone();
        let mut s2 = back;
        assert_eq!(
            s.next_item(&pool, &mut e).unwrap().id,
            s2.next_item(&pool, &mut e2).unwrap().id
        );
        // A serialised copy carries the same state, up to the last bit of a float
        // (serde_json's default parser may round the last digit differently).
        let json = serde_json::to_string(&s).unwrap();
        let copy: CatSession = serde_json::from_str(&json).unwrap();
        let ids = |s: &CatSession| {
            s.responses()
                .iter()
                .map(|r| (r.item_id.clone(), r.score))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&copy), ids(&s));
        assert_eq!(copy.pending().map(|p| &p.id), s.pending().map(|p| &p.id));
        assert_eq!(copy.current_domain(), s.current_domain());
        for (a, b) in copy.estimates().iter().zip(s.estimates()) {
            assert!((a.theta - b.theta).abs() < 1e-12 && a.answered == b.answered);
        }
    }

    #[test]
    fn replay_rejects_foreign_repeated_and_out_of_order_items() {
        let pool = synthetic_pool(30, &mut StdRng::seed_from_u64(1));
        let cfg = small_config;
        let err = CatSession::replay(cfg(), &pool, 1, &[("ghost", 1)]).unwrap_err();
        assert_eq!(err, CatError::UnknownItem("ghost".into()));
        let g = pool.domain(Domain::Grammar).next().unwrap().id.clone();
        let err = CatSession::replay(cfg(), &pool, 1, &[(g.as_str(), 1)]).unwrap_err();
        assert!(matches!(
            err,
            CatError::OutOfOrder {
                expected: Domain::Vocabulary,
                ..
            }
        ));
        let v = pool.domain(Domain::Vocabulary).next().unwrap().id.clone();
        let err =
            CatSession::replay(cfg(), &pool, 1, &[(v.as_str(), 1), (v.as_str(), 0)]).unwrap_err();
        assert_eq!(err, CatError::Repeated(v));
    }

    #[test]
    fn restore_pending_puts_back_the_shown_item() {
        let pool = synthetic_pool(30, &mut StdRng::seed_from_u64(1));
        let mut e = ExposureCounts::new();
        let mut s = CatSession::new(small_config(), 4).unwrap();
        let shown = s.next_item(&pool, &mut e).unwrap().id.clone();
        let mut back = CatSession::replay(small_config(), &pool, 4, &[] as &[(&str, u32)]).unwrap();
        back.restore_pending(&pool, &shown).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.next_item(&pool, &mut e).unwrap().id, shown);
        assert_eq!((e.given(&shown), e.candidates()), (1, 1));
        assert_eq!(
            back.restore_pending(&pool, &shown).unwrap_err(),
            CatError::AlreadyPending(shown)
        );
    }

    #[test]
    fn later_domains_start_from_an_informed_prior() {
        let pool = synthetic_pool(60, &mut StdRng::seed_from_u64(2));
        let cfg = CatConfig {
            items_per_domain: 8,
            ..CatConfig::default()
        };
        let mut s = CatSession::new(cfg, 9).unwrap();
        let mut e = ExposureCounts::new();
        // A candidate who gets everything right in vocabulary.
        while s.current_domain() == Some(Domain::Vocabulary) {
            let id = s.next_item(&pool, &mut e).unwrap().id.clone();
            s.record(&id, 1).unwrap();
        }
        let vocab = s.estimate(Domain::Vocabulary);
        let grammar = s.estimate(Domain::Grammar);
        assert!(vocab.theta > 1.5);
        assert!(grammar.prior.mean > 1.0 && grammar.prior.mean < vocab.theta);
        assert!(grammar.prior.sd < 1.0 && grammar.prior.sd > (1.0f64 - 0.75 * 0.75).sqrt());
        assert_eq!(grammar.theta, grammar.prior.mean);
    }

    #[test]
    fn collateral_estimates_borrow_from_every_domain() {
        let pool = synthetic_pool(60, &mut StdRng::seed_from_u64(2));
        let mut e = ExposureCounts::new();
        let mut s = CatSession::new(small_config(), 3).unwrap();
        run(&mut s, &pool, &mut e, 3);
        let seq = s.estimates();
        let all = s.collateral_estimates();
        // The first domain now has an informed prior and a smaller SE.
        assert!(all[0].prior.sd < 0.9 && all[0].se < seq[0].se);
        // The last domain already borrowed from the four others: nearly unchanged.
        assert!(
            (all[4].theta - seq[4].theta).abs() < 0.05,
            "{:?} {:?}",
            all[4],
            seq[4]
        );
        assert!((all[4].se - seq[4].se).abs() < 0.02);
        // With independent domains nothing is borrowed either way.
        let cfg = CatConfig {
            correlation: 0.0,
            ..small_config()
        };
        let given = run(
            &mut CatSession::new(cfg.clone(), 3).unwrap(),
            &pool,
            &mut e,
            4,
        );
        let indep = CatSession::replay(cfg, &pool, 3, &given).unwrap();
        for (a, b) in indep.estimates().iter().zip(indep.collateral_estimates()) {
            assert!((a.theta - b.theta).abs() < 1e-12 && (a.se - b.se).abs() < 1e-12);
        }
    }

    #[test]
    fn small_pool_ends_domains_early() {
        let pool = synthetic_pool(3, &mut StdRng::seed_from_u64(1));
        let mut s = CatSession::new(small_config(), 1).unwrap();
        let given = run(&mut s, &pool, &mut ExposureCounts::new(), 1);
        assert_eq!(given.len(), 15);
        assert!(s.is_finished());
    }

    #[test]
    fn config_is_validated() {
        let bad = CatConfig {
            correlation: 1.0,
            ..CatConfig::default()
        };
        assert!(matches!(
            CatSession::new(bad, 0),
            Err(CatError::InvalidConfig(_))
        ));
        let bad = CatConfig {
            items_per_domain: 0,
            ..CatConfig::default()
        };
        assert!(CatSession::new(bad, 0).is_err());
        let json = r#"{"items_per_domain": 12}"#;
        let cfg: CatConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.correlation, 0.75);
        assert_eq!(cfg.items_per_domain, 12);
    }
}
