//! The domains of the written test and the seven item types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A domain of the written test. The order of the variants is the order of the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Knowledge of vocabulary.
    Vocabulary,
    /// Grammar and syntax.
    Grammar,
    /// Knowledge of expressions.
    Expressions,
    /// Reading comprehension.
    Reading,
    /// Listening comprehension.
    Listening,
}

impl Domain {
    /// The five domains in the order the test takes them.
    pub const ALL: [Domain; 5] = [
        Domain::Vocabulary,
        Domain::Grammar,
        Domain::Expressions,
        Domain::Reading,
        Domain::Listening,
    ];

    /// The name used in files and JSON (`vocabulary`, `grammar`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Vocabulary => "vocabulary",
            Domain::Grammar => "grammar",
            Domain::Expressions => "expressions",
            Domain::Reading => "reading",
            Domain::Listening => "listening",
        }
    }

    /// The position of the domain in the test, from 0.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The domain with that name, if any.
    pub fn parse(s: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the seven item types of the candidate guide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// A text with a drop-down list in each gap.
    DropdownGaps,
    /// The sentences of a text to put back in order; the first is given.
    OrderSentences,
    /// A text with gaps to fill from a bank of words (more words than gaps).
    WordBank,
    /// The words of a sentence to put back in order; the first is given.
    OrderWords,
    /// A text with gaps to type in, sometimes from a root word to inflect.
    TextGaps,
    /// A multiple-choice question with one right answer.
    Choice,
    /// A clip to listen to (at most twice), then a choice or gaps.
    Listening,
}

impl ItemType {
    /// All seven types.
    pub const ALL: [ItemType; 7] = [
        ItemType::DropdownGaps,
        ItemType::OrderSentences,
        ItemType::WordBank,
        ItemType::OrderWords,
        ItemType::TextGaps,
        ItemType::Choice,
        ItemType::Listening,
    ];

    /// The name used in files and JSON (`dropdown_gaps`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::DropdownGaps => "dropdown_gaps",
            ItemType::OrderSentences => "order_sentences",
            ItemType::WordBank => "word_bank",
            ItemType::OrderWords => "order_words",
            ItemType::TextGaps => "text_gaps",
            ItemType::Choice => "choice",
            ItemType::Listening => "listening",
        }
    }

    /// The type with that name, if any.
    pub fn parse(s: &str) -> Option<ItemType> {
        ItemType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
