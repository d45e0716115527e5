//! Writing one item as a `qti-assessment-item` document.

use super::markup::Markup;
use super::{
    CLASS_PASSAGE, CLASS_PASSAGE_TITLE, CLASS_ROOT, CLASS_STEM, CLASS_TEXT, MEDIA_ID, QTI_NS,
    QTI_SCHEMA, RESPONSE_ID, USE_INSTRUCTIONS, USE_TRANSCRIPT, attr, gap_response_id,
};
use crate::bank::item::{Body, DropdownGap, IrtModel, Item, ListeningResponse, TextGap};

const MATCH_CORRECT: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml";
const MAP_RESPONSE: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml";

/// The item as a QTI 3.0 document; `language` goes in `xml:lang` when given.
pub(super) fn item_xml(item: &Item, language: Option<&str>) -> String {
    let mut m = Markup::new();
    let root = root_attrs(item, language);
    let root: Vec<(&str, &str)> = root.iter().map(|(k, v)| (*k, v.as_str())).collect();
    m.open("qti-assessment-item", &root);
    declarations(&mut m, &item.body);
    outcome(&mut m, "SCORE", "0");
    outcome(&mut m, "MAXSCORE", &item.body.max_score().to_string());
    if item.tip.is_some() {
        m.open(
            "qti-outcome-declaration",
            &[
                ("identifier", "FEEDBACK"),
                ("cardinality", "single"),
                ("base-type", "identifier"),
            ],
        );
        m.open("qti-default-value", &[]);
        m.leaf("qti-value", &[], "TIP");
        m.close("qti-default-value");
        m.close("qti-outcome-declaration");
    }
    m.open("qti-item-body", &[]);
    rubric(&mut m, USE_INSTRUCTIONS, "candidate", &item.instruction);
    body(&mut m, &item.body);
    m.close("qti-item-body");
    processing(&mut m, &item.body);
    if let Some(tip) = &item.tip {
        m.open(
            "qti-modal-feedback",
            &[
                ("outcome-identifier", "FEEDBACK"),
                ("identifier", "TIP"),
                ("show-hide", "show"),
            ],
        );
        m.open("qti-content-body", &[]);
        paragraphs(&mut m, tip);
        m.close("qti-content-body");
        m.close("qti-modal-feedback");
    }
    m.close("qti-assessment-item");
    m.finish()
}

fn root_attrs(item: &Item, language: Option<&str>) -> Vec<(&'static str, String)> {
    let mut a: Vec<(&'static str, String)> = vec![
        ("xmlns", QTI_NS.into()),
        (
            "xmlns:xsi",
            "http://www.w3.org/2001/XMLSchema-instance".into(),
        ),
        ("xsi:schemaLocation", format!("{QTI_NS} {QTI_SCHEMA}")),
        ("identifier", item.id.clone()),
        ("title", item.id.clone()),
        ("adaptive", "false".into()),
        ("time-dependent", "false".into()),
    ];
    if let Some(l) = language.filter(|l| !l.is_empty()) {
        a.push(("xml:lang", l.into()));
    }
    a.extend([
        (attr::TYPE, item.item_type().as_str().into()),
        (attr::DOMAIN, item.domain.as_str().into()),
        (attr::CEFR, item.cefr.to_string()),
        (attr::TIME_LIMIT, item.time_limit_s.to_string()),
        (attr::IRT_MODEL, item.irt.model.name().into()),
    ]);
    match &item.irt.model {
        IrtModel::TwoPl { a: da, b } => {
            a.push((attr::IRT_A, da.to_string()));
            a.push((attr::IRT_B, b.to_string()));
        }
        IrtModel::ThreePl { a: da, b, c } => {
            a.push((attr::IRT_A, da.to_string()));
            a.push((attr::IRT_B, b.to_string()));
            a.push((attr::IRT_C, c.to_string()));
        }
        IrtModel::Gpcm { a: da, steps } => {
            a.push((attr::IRT_A, da.to_string()));
            let steps: Vec<String> = steps.iter().map(f64::to_string).collect();
            a.push((attr::IRT_STEPS, steps.join(" ")));
        }
    }
    a.push((attr::IRT_PROVISIONAL, item.irt.provisional.to_string()));
    if let Body::Listening { voice: Some(v), .. } = &item.body {
        a.push((attr::VOICE, v.clone()));
    }
    a
}

// ---- response and outcome declarations -------------------------------------------

/// How the values of a declaration's `qti-mapping` are compared.
#[derive(Clone, Copy)]
enum Case {
    Sensitive,
    Insensitive,
}

fn declaration(
    m: &mut Markup,
    id: &str,
    cardinality: &str,
    base_type: &str,
    correct: &[String],
    mapping: Option<(&[String], Case)>,
) {
    m.open(
        "qti-response-declaration",
        &[
            ("identifier", id),
            ("cardinality", cardinality),
            ("base-type", base_type),
        ],
    );
    if !correct.is_empty() {
        m.open("qti-correct-response", &[]);
        for v in correct {
            m.leaf("qti-value", &[], v);
        }
        m.close("qti-correct-response");
    }
    if let Some((keys, case)) = mapping.filter(|(keys, _)| !keys.is_empty()) {
        let sensitive = match case {
            Case::Sensitive => "true",
            Case::Insensitive => "false",
        };
        m.open(
            "qti-mapping",
            &[("default-value", "0"), ("lower-bound", "0")],
        );
        for k in keys {
            m.empty(
                "qti-map-entry",
                &[
                    ("map-key", k),
                    ("mapped-value", "1"),
                    ("case-sensitive", sensitive),
                ],
            );
        }
        m.close("qti-mapping");
    }
    m.close("qti-response-declaration");
}

fn outcome(m: &mut Markup, id: &str, default: &str) {
    m.open(
        "qti-outcome-declaration",
        &[
            ("identifier", id),
            ("cardinality", "single"),
            ("base-type", "float"),
        ],
    );
    m.open("qti-default-value", &[]);
    m.leaf("qti-value", &[], default);
    m.close("qti-default-value");
    m.close("qti-outcome-declaration");
}

fn choice_id(i: usize) -> String {
    format!("C{}", i + 1)
}

fn option_id(gap: usize, i: usize) -> String {
    format!("G{gap}_{}", i + 1)
}

fn declarations(m: &mut Markup, body: &Body) {
    match body {
        Body::DropdownGaps { gaps, .. } => dropdown_declarations(m, gaps),
        Body::OrderSentences { sentences, .. } => {
            let ids: Vec<String> = (1..=sentences.len()).map(|i| format!("S{i}")).collect();
            declaration(m, RESPONSE_ID, "ordered", "identifier", &ids, None);
        }
        Body::WordBank { words, answers, .. } => {
            let pairs: Vec<String> = answers
                .iter()
                .enumerate()
                .filter_map(|(g, a)| {
                    let w = words.iter().position(|w| w == a)?;
                    Some(format!("W{} G{}", w + 1, g + 1))
                })
                .collect();
            declaration(
                m,
                RESPONSE_ID,
                "multiple",
                "directedPair",
                &pairs,
                Some((&pairs, Case::Sensitive)),
            );
        }
        Body::OrderWords { words, .. } => {
            let ids: Vec<String> = (1..=words.len()).map(|i| format!("W{i}")).collect();
            declaration(m, RESPONSE_ID, "ordered", "identifier", &ids, None);
        }
        Body::TextGaps { gaps, .. } => text_gap_declarations(m, gaps),
        Body::Choice { answer, .. } => {
            declaration(
                m,
                RESPONSE_ID,
                "single",
                "identifier",
                &[choice_id(*answer)],
                None,
            );
        }
        Body::Listening { response, .. } => {
            m.empty(
                "qti-response-declaration",
                &[
                    ("identifier", MEDIA_ID),
                    ("cardinality", "single"),
                    ("base-type", "integer"),
                ],
            );
            match response {
                ListeningResponse::Choice { answer, .. } => {
                    declaration(
                        m,
                        RESPONSE_ID,
                        "single",
                        "identifier",
                        &[choice_id(*answer)],
                        None,
                    );
                }
                ListeningResponse::TextGaps { gaps, .. } => text_gap_declarations(m, gaps),
            }
        }
    }
}

fn dropdown_declarations(m: &mut Markup, gaps: &[DropdownGap]) {
    for (i, g) in gaps.iter().enumerate() {
        let key = [option_id(i + 1, g.answer)];
        let id = gap_response_id(i + 1);
        declaration(
            m,
            &id,
            "single",
            "identifier",
            &key,
            Some((&key, Case::Sensitive)),
        );
    }
}

fn text_gap_declarations(m: &mut Markup, gaps: &[TextGap]) {
    for (i, g) in gaps.iter().enumerate() {
        let id = gap_response_id(i + 1);
        let first: Vec<String> = g.accept.first().cloned().into_iter().collect();
        declaration(
            m,
            &id,
            "single",
            "string",
            &first,
            Some((&g.accept, Case::Insensitive)),
        );
    }
}

// ---- item body ---------------------------------------------------------------------

/// One `<p>` per line of `text`, so that joining them with newlines gives it back.
fn paragraphs(m: &mut Markup, text: &str) {
    for line in text.split('\n') {
        m.leaf("p", &[], line);
    }
}

fn block(m: &mut Markup, class: &str, text: &str) {
    m.open("div", &[("class", class)]);
    paragraphs(m, text);
    m.close("div");
}

fn rubric(m: &mut Markup, use_: &str, view: &str, text: &str) {
    m.open("qti-rubric-block", &[("use", use_), ("view", view)]);
    m.open("qti-content-body", &[]);
    paragraphs(m, text);
    m.close("qti-content-body");
    m.close("qti-rubric-block");
}

/// A text whose `{n}` gaps (1 ≤ n ≤ `gaps`) are replaced by what `gap` writes for gap n.
fn gapped_text(m: &mut Markup, text: &str, gaps: usize, gap: &dyn Fn(&mut Markup, usize)) {
    m.open("div", &[("class", CLASS_TEXT)]);
    for line in text.split('\n') {
        m.newline();
        m.start("p", &[]);
        let mut rest = line;
        while let Some((before, n, after)) = next_gap(rest, gaps) {
            m.text(before);
            gap(m, n);
            rest = after;
        }
        m.text(rest);
        m.end("p");
    }
    m.close("div");
}

/// The text before the next `{n}` gap with 1 ≤ n ≤ `gaps`, n, and the text after it.
/// Only the canonical spelling of n counts; anything else stays text.
fn next_gap(s: &str, gaps: usize) -> Option<(&str, usize, &str)> {
    let mut from = 0;
    while let Some(open) = s[from..].find('{').map(|i| i + from) {
        let after = &s[open + 1..];
        if let Some(close) = after.find('}') {
            let inner = &after[..close];
            if let Ok(n) = inner.parse::<usize>()
                && (1..=gaps).contains(&n)
                && n.to_string() == inner
            {
                return Some((&s[..open], n, &after[close + 1..]));
            }
        }
        from = open + 1;
    }
    None
}

fn choice_interaction(m: &mut Markup, stem: &str, options: &[String]) {
    m.open(
        "qti-choice-interaction",
        &[
            ("response-identifier", RESPONSE_ID),
            ("shuffle", "false"),
            ("max-choices", "1"),
        ],
    );
    m.leaf("qti-prompt", &[], stem);
    for (i, o) in options.iter().enumerate() {
        m.leaf("qti-simple-choice", &[("identifier", &choice_id(i))], o);
    }
    m.close("qti-choice-interaction");
}

fn order_interaction(m: &mut Markup, prefix: char, orientation: &str, parts: &[String]) {
    m.open(
        "qti-order-interaction",
        &[
            ("response-identifier", RESPONSE_ID),
            ("shuffle", "true"),
            ("orientation", orientation),
        ],
    );
    for (i, p) in parts.iter().enumerate() {
        let id = format!("{prefix}{}", i + 1);
        if i == 0 {
            m.leaf(
                "qti-simple-choice",
                &[("identifier", &id), ("fixed", "true")],
                p,
            );
        } else {
            m.leaf("qti-simple-choice", &[("identifier", &id)], p);
        }
    }
    m.close("qti-order-interaction");
}

fn dropdown_gap(m: &mut Markup, n: usize, gap: &DropdownGap) {
    let id = gap_response_id(n);
    m.start(
        "qti-inline-choice-interaction",
        &[("response-identifier", &id), ("shuffle", "false")],
    );
    for (i, o) in gap.options.iter().enumerate() {
        m.start("qti-inline-choice", &[("identifier", &option_id(n, i))]);
        m.text(o);
        m.end("qti-inline-choice");
    }
    m.end("qti-inline-choice-interaction");
}

fn text_gap(m: &mut Markup, n: usize, gap: &TextGap) {
    if let Some(root) = &gap.root {
        m.start("span", &[("class", CLASS_ROOT)]);
        m.text(&format!("({root})"));
        m.end("span");
    }
    let longest = gap
        .accept
        .iter()
        .map(|a| a.chars().count())
        .max()
        .unwrap_or(0);
    m.empty_tag(
        "qti-text-entry-interaction",
        &[
            ("response-identifier", &gap_response_id(n)),
            ("expected-length", &longest.to_string()),
        ],
    );
}

fn text_gaps(m: &mut Markup, text: &str, gaps: &[TextGap]) {
    gapped_text(m, text, gaps.len(), &|m, n| text_gap(m, n, &gaps[n - 1]));
}

fn body(m: &mut Markup, body: &Body) {
    match body {
        Body::DropdownGaps { text, gaps } => {
            gapped_text(m, text, gaps.len(), &|m, n| {
                dropdown_gap(m, n, &gaps[n - 1])
            });
        }
        Body::OrderSentences {
            passage_title,
            sentences,
        } => {
            if let Some(t) = passage_title {
                m.leaf("h2", &[("class", CLASS_PASSAGE_TITLE)], t);
            }
            order_interaction(m, 'S', "vertical", sentences);
        }
        Body::WordBank {
            text,
            words,
            answers,
        } => {
            m.open(
                "qti-gap-match-interaction",
                &[("response-identifier", RESPONSE_ID), ("shuffle", "false")],
            );
            for (i, w) in words.iter().enumerate() {
                m.leaf(
                    "qti-gap-text",
                    &[("identifier", &format!("W{}", i + 1)), ("match-max", "1")],
                    w,
                );
            }
            gapped_text(m, text, answers.len(), &|m, n| {
                m.empty_tag("qti-gap", &[("identifier", &format!("G{n}"))]);
            });
            m.close("qti-gap-match-interaction");
        }
        Body::OrderWords { words, .. } => order_interaction(m, 'W', "horizontal", words),
        Body::TextGaps { text, gaps } => text_gaps(m, text, gaps),
        Body::Choice {
            passage,
            stem,
            options,
            ..
        } => {
            if let Some(p) = passage {
                block(m, CLASS_PASSAGE, p);
            }
            choice_interaction(m, stem, options);
        }
        Body::Listening {
            transcript,
            clip,
            max_plays,
            stem,
            response,
            ..
        } => {
            rubric(m, USE_TRANSCRIPT, "scorer", transcript);
            m.open(
                "qti-media-interaction",
                &[
                    ("response-identifier", MEDIA_ID),
                    ("autostart", "false"),
                    ("max-plays", &max_plays.to_string()),
                ],
            );
            m.open("audio", &[("controls", "controls")]);
            m.empty(
                "source",
                &[("src", &format!("../{clip}")), ("type", "audio/ogg")],
            );
            m.close("audio");
            m.close("qti-media-interaction");
            match response {
                ListeningResponse::Choice { options, .. } => choice_interaction(m, stem, options),
                ListeningResponse::TextGaps { text, gaps } => {
                    block(m, CLASS_STEM, stem);
                    text_gaps(m, text, gaps);
                }
            }
        }
    }
}

// ---- response processing -----------------------------------------------------------

fn processing(m: &mut Markup, body: &Body) {
    match body {
        Body::DropdownGaps { gaps, .. } => sum_of_gaps(m, gaps.len()),
        Body::TextGaps { gaps, .. }
        | Body::Listening {
            response: ListeningResponse::TextGaps { gaps, .. },
            ..
        } => sum_of_gaps(m, gaps.len()),
        Body::WordBank { .. } => m.empty("qti-response-processing", &[("template", MAP_RESPONSE)]),
        Body::OrderWords {
            words,
            alternatives,
        } if !alternatives.is_empty() => order_with_alternatives(m, words, alternatives),
        Body::OrderSentences { .. }
        | Body::OrderWords { .. }
        | Body::Choice { .. }
        | Body::Listening { .. } => {
            m.empty("qti-response-processing", &[("template", MATCH_CORRECT)]);
        }
    }
}

/// SCORE is the sum of the gaps' mapped values (1 for a right gap, 0 otherwise).
fn sum_of_gaps(m: &mut Markup, gaps: usize) {
    m.open("qti-response-processing", &[]);
    m.open("qti-set-outcome-value", &[("identifier", "SCORE")]);
    m.open("qti-sum", &[]);
    for n in 1..=gaps {
        m.empty("qti-map-response", &[("identifier", &gap_response_id(n))]);
    }
    m.close("qti-sum");
    m.close("qti-set-outcome-value");
    m.close("qti-response-processing");
}

/// The identifiers of an accepted order: each token takes the first unused identifier of
/// a token with the same text, so repeated tokens are interchangeable.
fn order_ids(words: &[String], order: &[String]) -> Vec<String> {
    let mut used = vec![false; words.len()];
    order
        .iter()
        .filter_map(|t| {
            let i = (0..words.len()).find(|&i| !used[i] && words[i] == *t)?;
            used[i] = true;
            Some(format!("W{}", i + 1))
        })
        .collect()
}

/// SCORE is 1 when the order is the correct response or one of the alternatives.
fn order_with_alternatives(m: &mut Markup, words: &[String], alternatives: &[Vec<String>]) {
    let score = |m: &mut Markup, v: &str| {
        m.open("qti-set-outcome-value", &[("identifier", "SCORE")]);
        m.leaf("qti-base-value", &[("base-type", "float")], v);
        m.close("qti-set-outcome-value");
    };
    m.open("qti-response-processing", &[]);
    m.open("qti-response-condition", &[]);
    m.open("qti-response-if", &[]);
    m.open("qti-or", &[]);
    m.open("qti-match", &[]);
    m.empty("qti-variable", &[("identifier", RESPONSE_ID)]);
    m.empty("qti-correct", &[("identifier", RESPONSE_ID)]);
    m.close("qti-match");
    for alt in alternatives {
        m.open("qti-match", &[]);
        m.empty("qti-variable", &[("identifier", RESPONSE_ID)]);
        m.open("qti-ordered", &[]);
        for id in order_ids(words, alt) {
            m.leaf("qti-base-value", &[("base-type", "identifier")], &id);
        }
        m.close("qti-ordered");
        m.close("qti-match");
    }
    m.close("qti-or");
    score(m, "1");
    m.close("qti-response-if");
    m.open("qti-response-else", &[]);
    score(m, "0");
    m.close("qti-response-else");
    m.close("qti-response-condition");
    m.close("qti-response-processing");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_canonical_gaps_only() {
        assert_eq!(next_gap("a {1} b", 1), Some(("a ", 1, " b")));
        assert_eq!(
            next_gap("{x} {01} {3} {2}", 2),
            Some(("{x} {01} {3} ", 2, ""))
        );
        assert_eq!(next_gap("{", 1), None);
    }

    #[test]
    fn repeated_tokens_take_distinct_identifiers() {
        let w = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            order_ids(&w("the cat saw the dog"), &w("the dog saw the cat")),
            ["W1", "W5", "W3", "W4", "W2"]
        );
    }
}
