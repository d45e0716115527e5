//! A candidate's response to an item and its score under the item's key.

use serde::{Deserialize, Serialize};

use super::item::{Body, Item, ListeningResponse, TextGap, normalize_typed};
use super::public::shuffle;

/// A response as the page sends it; its shape follows the item type
/// (see `docs/written-test.md`). Unanswered parts are `null` or empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged, deny_unknown_fields)]
pub enum Response {
    /// `dropdown_gaps`: the option index chosen in each gap.
    Selected {
        /// One entry per gap.
        selected: Vec<Option<usize>>,
    },
    /// `word_bank`: the word placed in each gap.
    Placed {
        /// One entry per gap.
        placed: Vec<Option<String>>,
    },
    /// `text_gaps` (and listening with gaps): what was typed in each gap.
    Typed {
        /// One entry per gap.
        typed: Vec<String>,
    },
    /// `choice` (and listening with a choice): the option index chosen.
    Choice {
        /// The option, or `null`.
        choice: Option<usize>,
    },
    /// `order_sentences` / `order_words`: indexes into the shuffled list, in order;
    /// `null` for a place left empty.
    Order {
        /// Positions placed so far.
        order: Vec<Option<usize>>,
    },
}

/// The response does not fit the item.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ResponseError(pub String);

fn bad(msg: impl Into<String>) -> ResponseError {
    ResponseError(msg.into())
}

fn check_len(got: usize, want: usize, what: &str) -> Result<(), ResponseError> {
    if got == want {
        Ok(())
    } else {
        Err(bad(format!("expected {want} {what}, got {got}")))
    }
}

fn score_typed(typed: &[String], gaps: &[TextGap]) -> Result<u32, ResponseError> {
    check_len(typed.len(), gaps.len(), "typed gaps")?;
    if typed.iter().any(|t| t.chars().count() > 200) {
        return Err(bad("a typed answer is longer than 200 characters"));
    }
    Ok(typed
        .iter()
        .zip(gaps)
        .filter(|(t, g)| {
            let t = normalize_typed(t);
            g.accept.iter().any(|a| normalize_typed(a) == t)
        })
        .count() as u32)
}

fn score_choice(
    choice: Option<usize>,
    options: usize,
    answer: usize,
) -> Result<u32, ResponseError> {
    match choice {
        Some(c) if c >= options => Err(bad(format!(
            "option {c} does not exist ({options} options)"
        ))),
        Some(c) => Ok(u32::from(c == answer)),
        None => Ok(0),
    }
}

/// The sequence a candidate built from indexes into a shuffled list (`None` for a place
/// left empty).
fn ordered<'a>(
    order: &[Option<usize>],
    shuffled: &[&'a String],
) -> Result<Vec<Option<&'a String>>, ResponseError> {
    if order.len() > shuffled.len() {
        return Err(bad("more positions than elements"));
    }
    let mut seen = vec![false; shuffled.len()];
    order
        .iter()
        .map(|&slot| {
            let Some(i) = slot else { return Ok(None) };
            let placed = seen
                .get_mut(i)
                .ok_or_else(|| bad(format!("position {i} does not exist")))?;
            if std::mem::replace(placed, true) {
                return Err(bad(format!("position {i} is placed twice")));
            }
            Ok(Some(shuffled[i]))
        })
        .collect()
}

/// True when the built sequence is complete and equals `target`.
fn same_order(built: &[Option<&String>], target: &[String]) -> bool {
    built.len() == target.len() && built.iter().zip(target).all(|(a, b)| *a == Some(b))
}

impl Item {
    /// The score of a response (0 ..= `body.max_score()`); `seed` is the one the public
    /// view was shuffled with.
    pub fn score(&self, response: &Response, seed: u64) -> Result<u32, ResponseError> {
        let wrong_shape = || {
            bad(format!(
                "this response does not fit a {} item",
                self.item_type()
            ))
        };
        match (&self.body, response) {
            (Body::DropdownGaps { gaps, .. }, Response::Selected { selected }) => {
                check_len(selected.len(), gaps.len(), "gaps")?;
                let mut score = 0;
                for (s, g) in selected.iter().zip(gaps) {
                    if let Some(i) = s {
                        if *i >= g.options.len() {
                            return Err(bad(format!("option {i} does not exist in a gap")));
                        }
                        score += u32::from(*i == g.answer);
                    }
                }
                Ok(score)
            }
            (Body::WordBank { words, answers, .. }, Response::Placed { placed }) => {
                check_len(placed.len(), answers.len(), "gaps")?;
                let used: Vec<&String> = placed.iter().flatten().collect();
                if let Some(w) = used.iter().find(|w| !words.contains(w)) {
                    return Err(bad(format!("{w:?} is not in the word bank")));
                }
                if (1..used.len()).any(|i| used[..i].contains(&used[i])) {
                    return Err(bad("a word is placed twice"));
                }
                Ok(placed
                    .iter()
                    .zip(answers)
                    .filter(|(p, a)| p.as_ref() == Some(*a))
                    .count() as u32)
            }
            (Body::TextGaps { gaps, .. }, Response::Typed { typed })
            | (
                Body::Listening {
                    response: ListeningResponse::TextGaps { gaps, .. },
                    ..
                },
                Response::Typed { typed },
            ) => score_typed(typed, gaps),
            (
                Body::Choice {
                    options, answer, ..
                },
                Response::Choice { choice },
            )
            | (
                Body::Listening {
                    response: ListeningResponse::Choice { options, answer },
                    ..
                },
                Response::Choice { choice },
            ) => score_choice(*choice, options.len(), *answer),
            (Body::OrderSentences { sentences, .. }, Response::Order { order }) => {
                let rest = &sentences[1..];
                let shuffled: Vec<&String> = shuffle(rest.len(), seed, &self.id)
                    .into_iter()
                    .map(|i| &rest[i])
                    .collect();
                let built = ordered(order, &shuffled)?;
                Ok(u32::from(same_order(&built, rest)))
            }
            (
                Body::OrderWords {
                    words,
                    alternatives,
                },
                Response::Order { order },
            ) => {
                let rest = &words[1..];
                let shuffled: Vec<&String> = shuffle(rest.len(), seed, &self.id)
                    .into_iter()
                    .map(|i| &rest[i])
                    .collect();
                let built = ordered(order, &shuffled)?;
                Ok(u32::from(
                    same_order(&built, rest)
                        || alternatives.iter().any(|alt| same_order(&built, &alt[1..])),
                ))
            }
            _ => Err(wrong_shape()),
        }
    }

    /// The expected answers, as text, for feedback after a practice exercise.
    pub fn expected_answers(&self) -> Vec<String> {
        match &self.body {
            Body::DropdownGaps { gaps, .. } => {
                gaps.iter().map(|g| g.options[g.answer].clone()).collect()
            }
            Body::WordBank { answers, .. } => answers.clone(),
            Body::TextGaps { gaps, .. }
            | Body::Listening {
                response: ListeningResponse::TextGaps { gaps, .. },
                ..
            } => gaps.iter().map(|g| g.accept.join(" / ")).collect(),
            Body::Choice {
                options, answer, ..
            }
            | Body::Listening {
                response: ListeningResponse::Choice { options, answer },
                ..
            } => {
                vec![options[*answer].clone()]
            }
            Body::OrderSentences { sentences, .. } => sentences.clone(),
            Body::OrderWords { words, .. } => vec![words.join(" ")],
        }
    }
}

#[cfg(test)]
impl Item {
    /// A response with every part right, for the `seed` the public view was shuffled with
    /// (tests of scoring and of the session machine).
    pub(crate) fn key_response(&self, seed: u64) -> Response {
        use crate::bank::PublicBody;
        match (&self.body, &self.public_view(seed, 1.0, "", 0).body) {
            (Body::DropdownGaps { gaps, .. }, _) => Response::Selected {
                selected: gaps.iter().map(|g| Some(g.answer)).collect(),
            },
            (Body::WordBank { answers, .. }, _) => Response::Placed {
                placed: answers.iter().cloned().map(Some).collect(),
            },
            (Body::TextGaps { gaps, .. }, _)
            | (
                Body::Listening {
                    response: ListeningResponse::TextGaps { gaps, .. },
                    ..
                },
                _,
            ) => Response::Typed {
                typed: gaps.iter().map(|g| g.accept[0].clone()).collect(),
            },
            (Body::Choice { answer, .. }, _)
            | (
                Body::Listening {
                    response: ListeningResponse::Choice { answer, .. },
                    ..
                },
                _,
            ) => Response::Choice {
                choice: Some(*answer),
            },
            (
                Body::OrderSentences { sentences: r, .. },
                PublicBody::OrderSentences { shuffled, .. },
            )
            | (Body::OrderWords { words: r, .. }, PublicBody::OrderWords { shuffled, .. }) => {
                let mut taken = vec![false; shuffled.len()];
                Response::Order {
                    order: r[1..]
                        .iter()
                        .map(|s| {
                            let k = (0..shuffled.len())
                                .find(|&k| !taken[k] && &shuffled[k] == s)
                                .unwrap();
                            taken[k] = true;
                            Some(k)
                        })
                        .collect(),
                }
            }
            _ => unreachable!(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Bank;

    fn item(id: &str) -> Item {
        Bank::english().item(id).cloned().unwrap()
    }

    fn resp(v: serde_json::Value) -> Response {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn dropdown_scores_one_point_per_gap() {
        let i = item("en-voc-003"); // answers 0, 1
        assert_eq!(
            i.score(&resp(serde_json::json!({"selected": [0, 1]})), 1),
            Ok(2)
        );
        assert_eq!(
            i.score(&resp(serde_json::json!({"selected": [0, null]})), 1),
            Ok(1)
        );
        assert!(
            i.score(&resp(serde_json::json!({"selected": [0]})), 1)
                .is_err()
        );
        assert!(
            i.score(&resp(serde_json::json!({"selected": [9, 0]})), 1)
                .is_err()
        );
        assert!(
            i.score(&resp(serde_json::json!({"choice": 0})), 1).is_err(),
            "wrong shape"
        );
    }

    #[test]
    fn typed_answers_are_normalised() {
        let i = item("en-voc-006"); // seven|7, months
        assert_eq!(
            i.score(
                &resp(serde_json::json!({"typed": ["  Seven ", "MONTHS"]})),
                1
            ),
            Ok(2)
        );
        assert_eq!(
            i.score(&resp(serde_json::json!({"typed": ["7", ""]})), 1),
            Ok(1)
        );
        assert_eq!(
            i.score(&resp(serde_json::json!({"typed": ["six", "weeks"]})), 1),
            Ok(0)
        );
    }

    #[test]
    fn word_bank_checks_words() {
        let i = item("en-voc-005"); // fridge, chairs, sink
        assert_eq!(
            i.score(
                &resp(serde_json::json!({"placed": ["fridge", "chairs", "sink"]})),
                1
            ),
            Ok(3)
        );
        assert_eq!(
            i.score(
                &resp(serde_json::json!({"placed": ["sink", null, "fridge"]})),
                1
            ),
            Ok(0)
        );
        assert!(
            i.score(
                &resp(serde_json::json!({"placed": ["fridge", "fridge", null]})),
                1
            )
            .is_err()
        );
        assert!(
            i.score(
                &resp(serde_json::json!({"placed": ["table", null, null]})),
                1
            )
            .is_err()
        );
    }

    #[test]
    fn order_items_are_scored_through_the_shuffle() {
        for (id, seed) in [("en-rea-006", 11u64), ("en-gra-004", 12)] {
            let i = item(id);
            let view = i.public_view(seed, 1.0, "", 0);
            let (first, shuffled, right) = match (&view.body, &i.body) {
                (
                    crate::bank::PublicBody::OrderSentences {
                        first, shuffled, ..
                    },
                    Body::OrderSentences { sentences, .. },
                ) => (first.clone(), shuffled.clone(), sentences.clone()),
                (
                    crate::bank::PublicBody::OrderWords { first, shuffled },
                    Body::OrderWords { words, .. },
                ) => (first.clone(), shuffled.clone(), words.clone()),
                _ => continue,
            };
            assert_eq!(first, right[0]);
            assert_ne!(
                shuffled,
                right[1..].to_vec(),
                "never shown in the right order"
            );
            let order: Vec<Option<usize>> = right[1..]
                .iter()
                .map(|s| shuffled.iter().position(|x| x == s))
                .collect();
            assert_eq!(
                i.score(
                    &Response::Order {
                        order: order.clone()
                    },
                    seed
                ),
                Ok(1),
                "{id}"
            );
            let mut wrong = order.clone();
            wrong.swap(0, 1);
            assert_eq!(i.score(&Response::Order { order: wrong }, seed), Ok(0));
            assert_eq!(
                i.score(
                    &Response::Order {
                        order: order[..2].to_vec()
                    },
                    seed
                ),
                Ok(0),
                "incomplete"
            );
            assert!(
                i.score(
                    &Response::Order {
                        order: vec![Some(0), Some(0)]
                    },
                    seed
                )
                .is_err()
            );
            let mut holed = order.clone();
            holed[1] = None;
            assert_eq!(
                i.score(&Response::Order { order: holed }, seed),
                Ok(0),
                "a place left empty"
            );
            // Another seed shuffles differently, so the same indexes do not score.
            assert_eq!(i.public_view(seed, 1.0, "", 0), view, "stable for a seed");
        }
    }

    #[test]
    fn the_public_view_has_no_key() {
        for i in Bank::english().items {
            let json = serde_json::to_string(&i.public_view(5, 1.33, "/clip", 1)).unwrap();
            for key in [
                "\"answer\":",
                "\"answers\":",
                "\"accept\":",
                "\"transcript\":",
                "\"irt\":",
                "\"alternatives\":",
                "\"sentences\":",
            ] {
                assert!(!json.contains(key), "{key} in {json}");
            }
            if let Body::Listening { transcript, .. } = &i.body {
                assert!(!json.contains(transcript.as_str()));
            }
            assert_eq!(
                i.public_view(5, 1.33, "/clip", 1).time_limit_ms,
                (f64::from(i.time_limit_s) * 1330.0).round() as u64
            );
        }
    }

    #[test]
    fn every_shipped_item_scores_its_own_key_full() {
        for i in Bank::english().items {
            let seed = 99;
            let r = i.key_response(seed);
            assert_eq!(i.score(&r, seed), Ok(i.body.max_score()), "{}", i.id);
        }
    }
}
