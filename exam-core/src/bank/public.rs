//! What a candidate's page receives of an item: everything to show it, no key.
//!
//! Orderable items are shuffled by a seed fixed per session and item, so a reload
//! shows the same order and the scorer can map positions back ([`shuffle`]).

use serde::Serialize;

use super::item::{Body, Item, ListeningResponse};
use super::{Domain, ItemType};

/// One gap of a drop-down text, without its answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicDropdownGap {
    /// The options, in the author's order.
    pub options: Vec<String>,
}

/// One typed gap, without its accepted answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicTextGap {
    /// The root word to inflect, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// How a listening item is answered, without the key.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum PublicListeningResponse {
    /// Choose one option.
    Choice {
        /// The options.
        options: Vec<String>,
    },
    /// Type in gaps.
    TextGaps {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// One entry per gap.
        gaps: Vec<PublicTextGap>,
    },
}

/// The type-specific part of a public item.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PublicBody {
    /// Drop-down lists in a text.
    DropdownGaps {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// One list per gap.
        gaps: Vec<PublicDropdownGap>,
    },
    /// Sentences to order after the given first one.
    OrderSentences {
        /// Optional title.
        #[serde(skip_serializing_if = "Option::is_none")]
        passage_title: Option<String>,
        /// The first sentence, given.
        first: String,
        /// The other sentences, shuffled.
        shuffled: Vec<String>,
    },
    /// Gaps filled from a word bank.
    WordBank {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// The words offered.
        words: Vec<String>,
        /// How many gaps the text has.
        gap_count: usize,
    },
    /// Words to order after the given first one.
    OrderWords {
        /// The first word, given.
        first: String,
        /// The other words, shuffled.
        shuffled: Vec<String>,
    },
    /// Gaps to type in.
    TextGaps {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// One entry per gap.
        gaps: Vec<PublicTextGap>,
    },
    /// One answer among options.
    Choice {
        /// Optional text to read first.
        #[serde(skip_serializing_if = "Option::is_none")]
        passage: Option<String>,
        /// The question.
        stem: String,
        /// The options.
        options: Vec<String>,
    },
    /// A clip to play, then a question.
    Listening {
        /// Where the page gets the clip (each fetch may count as a play).
        clip_url: String,
        /// How many plays are allowed.
        max_plays: u32,
        /// How many plays were used.
        plays_used: u32,
        /// The question.
        stem: String,
        /// How to answer.
        #[serde(flatten)]
        response: PublicListeningResponse,
    },
}

/// An item as the candidate's page receives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicItem {
    /// Id.
    pub id: String,
    /// Domain.
    pub domain: Domain,
    /// The one-line instruction.
    pub instruction: String,
    /// Time allowed, with the candidate's multiplier.
    pub time_limit_ms: u64,
    /// The type and what to show.
    #[serde(flatten)]
    pub body: PublicBody,
}

/// A permutation of `0..n` fixed by `seed` (FNV-1a seeded xorshift, Fisher–Yates); for
/// n ≥ 2 it is never the identity, so an order item never shows its answer.
pub fn shuffle(n: usize, seed: u64, item_id: &str) -> Vec<usize> {
    let mut state = item_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64 ^ seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
        | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    if n >= 2 && p.iter().enumerate().all(|(i, &v)| i == v) {
        p.rotate_left(1);
    }
    p
}

fn text_gaps(gaps: &[super::TextGap]) -> Vec<PublicTextGap> {
    gaps.iter()
        .map(|g| PublicTextGap {
            root: g.root.clone(),
        })
        .collect()
}

impl Item {
    /// The public view of the item: `seed` fixes the shuffles, `multiplier` scales the
    /// time limit, `clip_url` and `plays_used` describe a listening clip.
    pub fn public_view(
        &self,
        seed: u64,
        multiplier: f64,
        clip_url: &str,
        plays_used: u32,
    ) -> PublicItem {
        let body = match &self.body {
            Body::DropdownGaps { text, gaps } => PublicBody::DropdownGaps {
                text: text.clone(),
                gaps: gaps
                    .iter()
                    .map(|g| PublicDropdownGap {
                        options: g.options.clone(),
                    })
                    .collect(),
            },
            Body::OrderSentences {
                passage_title,
                sentences,
            } => {
                let rest = &sentences[1..];
                PublicBody::OrderSentences {
                    passage_title: passage_title.clone(),
                    first: sentences[0].clone(),
                    shuffled: shuffle(rest.len(), seed, &self.id)
                        .into_iter()
                        .map(|i| rest[i].clone())
                        .collect(),
                }
            }
            Body::WordBank {
                text,
                words,
                answers,
            } => PublicBody::WordBank {
                text: text.clone(),
                words: words.clone(),
                gap_count: answers.len(),
            },
            Body::OrderWords { words, .. } => {
                let rest = &words[1..];
                PublicBody::OrderWords {
                    first: words[0].clone(),
                    shuffled: shuffle(rest.len(), seed, &self.id)
                        .into_iter()
                        .map(|i| rest[i].clone())
                        .collect(),
                }
            }
            Body::TextGaps { text, gaps } => PublicBody::TextGaps {
                text: text.clone(),
                gaps: text_gaps(gaps),
            },
            Body::Choice {
                passage,
                stem,
                options,
                ..
            } => PublicBody::Choice {
                passage: passage.clone(),
                stem: stem.clone(),
                options: options.clone(),
            },
            Body::Listening {
                max_plays,
                stem,
                response,
                ..
            } => PublicBody::Listening {
                clip_url: clip_url.to_owned(),
                max_plays: *max_plays,
                plays_used,
                stem: stem.clone(),
                response: match response {
                    ListeningResponse::Choice { options, .. } => PublicListeningResponse::Choice {
                        options: options.clone(),
                    },
                    ListeningResponse::TextGaps { text, gaps } => {
                        PublicListeningResponse::TextGaps {
                            text: text.clone(),
                            gaps: text_gaps(gaps),
                        }
                    }
                },
            },
        };
        PublicItem {
            id: self.id.clone(),
            domain: self.domain,
            instruction: self.instruction.clone(),
            time_limit_ms: self.time_limit_ms(multiplier),
            body,
        }
    }

    /// The time allowed in milliseconds, with an accommodation multiplier (≥ 1).
    pub fn time_limit_ms(&self, multiplier: f64) -> u64 {
        (f64::from(self.time_limit_s) * 1000.0 * multiplier.max(1.0)).round() as u64
    }
}

impl PublicBody {
    /// The item type shown.
    pub fn item_type(&self) -> ItemType {
        match self {
            PublicBody::DropdownGaps { .. } => ItemType::DropdownGaps,
            PublicBody::OrderSentences { .. } => ItemType::OrderSentences,
            PublicBody::WordBank { .. } => ItemType::WordBank,
            PublicBody::OrderWords { .. } => ItemType::OrderWords,
            PublicBody::TextGaps { .. } => ItemType::TextGaps,
            PublicBody::Choice { .. } => ItemType::Choice,
            PublicBody::Listening { .. } => ItemType::Listening,
        }
    }
}
