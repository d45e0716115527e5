//! The in-memory form of an item: what the candidate sees, its key and its parameters.

use serde::{Deserialize, Serialize};

use super::{Domain, ItemType};
use crate::cefr::Cefr;

/// One question of the bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    /// Unique id in the bank (`en-voc-001`).
    pub id: String,
    /// The domain the item measures.
    pub domain: Domain,
    /// The author's CEFR tag.
    pub cefr: Cefr,
    /// Seconds allowed, before any accommodation multiplier.
    pub time_limit_s: u32,
    /// The one-line instruction shown above the question.
    pub instruction: String,
    /// The item's IRT parameters.
    pub irt: Irt,
    /// What the candidate sees and the answer key, by type.
    pub body: Body,
    /// Advice shown after a practice exercise is checked (practice banks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip: Option<String>,
}

/// IRT parameters of an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Irt {
    /// The model and its parameters.
    pub model: IrtModel,
    /// True when the parameters come from the author's CEFR tag, not from a calibration.
    pub provisional: bool,
}

/// An IRT model with its parameters (D = 1.7 throughout).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum IrtModel {
    /// Two-parameter logistic (one-point items).
    #[serde(rename = "2pl")]
    TwoPl {
        /// Discrimination.
        a: f64,
        /// Difficulty.
        b: f64,
    },
    /// Three-parameter logistic (one-point items with guessing).
    #[serde(rename = "3pl")]
    ThreePl {
        /// Discrimination.
        a: f64,
        /// Difficulty.
        b: f64,
        /// Lower asymptote (guessing).
        c: f64,
    },
    /// Generalized partial credit (one step per point).
    Gpcm {
        /// Discrimination.
        a: f64,
        /// Step difficulties, one per point.
        steps: Vec<f64>,
    },
}

impl IrtModel {
    /// The model's name in files (`2pl`, `3pl`, `gpcm`).
    pub fn name(&self) -> &'static str {
        match self {
            IrtModel::TwoPl { .. } => "2pl",
            IrtModel::ThreePl { .. } => "3pl",
            IrtModel::Gpcm { .. } => "gpcm",
        }
    }

    /// The same model in the adaptive engine's terms.
    pub fn to_cat(&self) -> crate::cat::Model {
        match self {
            IrtModel::TwoPl { a, b } => crate::cat::Model::Logistic {
                a: *a,
                b: *b,
                c: 0.0,
            },
            IrtModel::ThreePl { a, b, c } => crate::cat::Model::Logistic {
                a: *a,
                b: *b,
                c: *c,
            },
            IrtModel::Gpcm { a, steps } => crate::cat::Model::Gpcm {
                a: *a,
                steps: steps.clone(),
            },
        }
    }

    /// The highest score the model describes.
    pub fn max_score(&self) -> u32 {
        match self {
            IrtModel::TwoPl { .. } | IrtModel::ThreePl { .. } => 1,
            IrtModel::Gpcm { steps, .. } => steps.len() as u32,
        }
    }
}

/// One drop-down list in a `dropdown_gaps` text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DropdownGap {
    /// The options of the list.
    pub options: Vec<String>,
    /// The 0-based index of the right option.
    pub answer: usize,
}

/// One typed gap in a `text_gaps` text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextGap {
    /// Every accepted answer.
    pub accept: Vec<String>,
    /// A root word to inflect, shown in brackets after the gap.
    pub root: Option<String>,
}

/// How a listening item is answered after the clip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum ListeningResponse {
    /// One right answer among options.
    Choice {
        /// The options.
        options: Vec<String>,
        /// The 0-based index of the right option.
        answer: usize,
    },
    /// Typed gaps in a text.
    TextGaps {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// One entry per gap.
        gaps: Vec<TextGap>,
    },
}

/// What the candidate sees and the key, for each of the seven types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// A text with one drop-down list per gap.
    DropdownGaps {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// One list per gap.
        gaps: Vec<DropdownGap>,
    },
    /// Sentences to put in order; the first is given.
    OrderSentences {
        /// An optional title for the text.
        passage_title: Option<String>,
        /// The sentences in the right order.
        sentences: Vec<String>,
    },
    /// Gaps filled from a bank with more words than gaps.
    WordBank {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// The words offered.
        words: Vec<String>,
        /// The right word for each gap.
        answers: Vec<String>,
    },
    /// Words of a sentence to put in order; the first is given.
    OrderWords {
        /// The tokens in the right order.
        words: Vec<String>,
        /// Other accepted orders of the same tokens.
        alternatives: Vec<Vec<String>>,
    },
    /// Gaps to type in.
    TextGaps {
        /// The text with `{1}`, `{2}`, … gaps.
        text: String,
        /// One entry per gap.
        gaps: Vec<TextGap>,
    },
    /// One right answer among options.
    Choice {
        /// An optional text to read first.
        passage: Option<String>,
        /// The question.
        stem: String,
        /// The options.
        options: Vec<String>,
        /// The 0-based index of the right option.
        answer: usize,
    },
    /// A clip, then a choice or gaps.
    Listening {
        /// What the clip says; never sent to the candidate.
        transcript: String,
        /// The clip's path relative to the bank folder.
        clip: String,
        /// The espeak-ng voice of a monologue.
        voice: Option<String>,
        /// How many times the clip may be played.
        max_plays: u32,
        /// The question.
        stem: String,
        /// How the candidate answers.
        response: ListeningResponse,
    },
}

impl Body {
    /// The item type of this body.
    pub fn item_type(&self) -> ItemType {
        match self {
            Body::DropdownGaps { .. } => ItemType::DropdownGaps,
            Body::OrderSentences { .. } => ItemType::OrderSentences,
            Body::WordBank { .. } => ItemType::WordBank,
            Body::OrderWords { .. } => ItemType::OrderWords,
            Body::TextGaps { .. } => ItemType::TextGaps,
            Body::Choice { .. } => ItemType::Choice,
            Body::Listening { .. } => ItemType::Listening,
        }
    }

    /// The number of points the item is scored on.
    pub fn max_score(&self) -> u32 {
        match self {
            Body::DropdownGaps { gaps, .. } => gaps.len() as u32,
            Body::WordBank { answers, .. } => answers.len() as u32,
            Body::TextGaps { gaps, .. } => gaps.len() as u32,
            Body::Listening {
                response: ListeningResponse::TextGaps { gaps, .. },
                ..
            } => gaps.len() as u32,
            Body::OrderSentences { .. }
            | Body::OrderWords { .. }
            | Body::Choice { .. }
            | Body::Listening { .. } => 1,
        }
    }
}

impl Item {
    /// The item's type.
    pub fn item_type(&self) -> ItemType {
        self.body.item_type()
    }
}

/// The normal form in which typed answers are compared: trimmed, lower-case, single
/// spaces, typographic apostrophes turned into `'`.
pub fn normalize_typed(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['\u{2019}', '\u{2018}', '\u{02bc}'], "'")
        .to_lowercase()
}

/// The numbers of the `{n}` gaps of a text, in order of appearance.
pub fn gap_numbers(text: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "a '{' is never closed".to_owned())?;
        let inner = &after[..close];
        let canonical = !inner.is_empty()
            && inner.bytes().all(|b| b.is_ascii_digit())
            && !inner.starts_with('0');
        let n: usize = inner
            .parse()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| format!("'{{{inner}}}' is not a gap (gaps are {{1}}, {{2}}, …)"))?;
        out.push(n);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' has no matching '{'".to_owned());
    }
    Ok(out)
}
