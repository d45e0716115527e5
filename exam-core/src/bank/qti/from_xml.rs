//! Reading one `qti-assessment-item` document written by [`super::item_to_xml`] back into
//! an [`Item`].

use std::collections::HashMap;

use super::dom::{self, Element, Node};
use super::{
    CLASS_PASSAGE, CLASS_PASSAGE_TITLE, CLASS_ROOT, CLASS_STEM, CLASS_TEXT, QtiError,
    USE_INSTRUCTIONS, USE_TRANSCRIPT, attr,
};
use crate::bank::item::{Body, DropdownGap, Irt, IrtModel, Item, ListeningResponse, TextGap};
use crate::bank::{Domain, ItemType};
use crate::cefr::Cefr;

/// The file being read, for error messages.
#[derive(Clone, Copy)]
struct Cx<'a> {
    file: &'a str,
}

impl Cx<'_> {
    fn missing(self, what: impl Into<String>) -> QtiError {
        QtiError::Missing {
            file: self.file.to_owned(),
            what: what.into(),
        }
    }

    fn bad(self, at: &Element, message: impl std::fmt::Display) -> QtiError {
        QtiError::Content {
            file: self.file.to_owned(),
            message: format!("line {}: {message}", at.line),
        }
    }

    fn attr<'e>(self, e: &'e Element, name: &str) -> Result<&'e str, QtiError> {
        e.attr(name).ok_or_else(|| {
            self.missing(format!(
                "the {name} attribute of <{}> (line {})",
                e.name, e.line
            ))
        })
    }

    fn parsed<T: std::str::FromStr>(self, e: &Element, name: &str) -> Result<T, QtiError> {
        let v = self.attr(e, name)?;
        v.parse()
            .map_err(|_| self.bad(e, format!("{name}={v:?} is not a valid value")))
    }

    fn child<'e>(self, e: &'e Element, name: &str) -> Result<&'e Element, QtiError> {
        e.child(name)
            .ok_or_else(|| self.missing(format!("a <{name}> in <{}> (line {})", e.name, e.line)))
    }

    fn find<'e>(self, e: &'e Element, name: &str) -> Result<&'e Element, QtiError> {
        e.find(&|x| x.name == name)
            .ok_or_else(|| self.missing(format!("a <{name}> in <{}> (line {})", e.name, e.line)))
    }

    fn find_class<'e>(self, e: &'e Element, class: &str) -> Result<&'e Element, QtiError> {
        e.find(&|x| x.has_class(class))
            .ok_or_else(|| self.missing(format!("the element of class {class} in <{}>", e.name)))
    }

    fn rubric<'e>(self, body: &'e Element, use_: &str) -> Result<&'e Element, QtiError> {
        body.find(&|x| x.name == "qti-rubric-block" && x.attr("use") == Some(use_))
            .ok_or_else(|| self.missing(format!("the qti-rubric-block with use=\"{use_}\"")))
    }
}

/// The correct response and mapped keys of each response declaration.
struct Declarations<'a> {
    by_id: HashMap<&'a str, (&'a Element, Vec<String>, Vec<String>)>,
}

impl<'a> Declarations<'a> {
    fn read(cx: Cx<'_>, root: &'a Element) -> Result<Self, QtiError> {
        let mut by_id = HashMap::new();
        for d in root.children_named("qti-response-declaration") {
            let id = cx.attr(d, "identifier")?;
            let values = |name: &str| -> Vec<String> {
                d.child(name)
                    .map(|c| c.children_named("qti-value").map(Element::text).collect())
                    .unwrap_or_default()
            };
            let correct = values("qti-correct-response");
            let mut keys = Vec::new();
            if let Some(mapping) = d.child("qti-mapping") {
                for entry in mapping.children_named("qti-map-entry") {
                    keys.push(cx.attr(entry, "map-key")?.to_owned());
                }
            }
            by_id.insert(id, (d, correct, keys));
        }
        Ok(Declarations { by_id })
    }

    fn correct(&self, cx: Cx<'_>, id: &str) -> Result<&[String], QtiError> {
        match self.by_id.get(id) {
            Some((_, values, _)) if !values.is_empty() => Ok(values),
            Some(_) => Err(cx.missing(format!("the qti-correct-response of {id}"))),
            None => Err(cx.missing(format!("the qti-response-declaration of {id}"))),
        }
    }

    fn single(&self, cx: Cx<'_>, id: &str) -> Result<&str, QtiError> {
        let values = self.correct(cx, id)?;
        match values {
            [v] => Ok(v),
            _ => Err(cx.bad(
                self.by_id[id].0,
                format!("{id} has {} correct values, not one", values.len()),
            )),
        }
    }

    fn mapped(&self, id: &str) -> &[String] {
        self.by_id
            .get(id)
            .map(|(_, _, keys)| keys.as_slice())
            .unwrap_or_default()
    }
}

/// Reads an item; errors name `file`.
pub(super) fn parse_item(xml: &str, file: &str) -> Result<Item, QtiError> {
    let cx = Cx { file };
    let root = dom::parse(xml).map_err(|message| QtiError::Xml {
        file: file.to_owned(),
        message,
    })?;
    if root.name != "qti-assessment-item" {
        return Err(cx.bad(
            &root,
            format!(
                "the root element is <{}>, not <qti-assessment-item>",
                root.name
            ),
        ));
    }
    let id = cx.attr(&root, "identifier")?.to_owned();
    let domain = cx.attr(&root, attr::DOMAIN)?;
    let domain = Domain::parse(domain)
        .ok_or_else(|| cx.bad(&root, format!("{domain:?} is not a domain")))?;
    let item_type = cx.attr(&root, attr::TYPE)?;
    let item_type = ItemType::parse(item_type)
        .ok_or_else(|| cx.bad(&root, format!("{item_type:?} is not an item type")))?;
    let cefr: Cefr = cx.parsed(&root, attr::CEFR)?;
    let time_limit_s: u32 = cx.parsed(&root, attr::TIME_LIMIT)?;
    let irt = read_irt(cx, &root)?;
    let decls = Declarations::read(cx, &root)?;
    let body_el = cx.child(&root, "qti-item-body")?;
    let instruction = paragraphs(
        cx,
        cx.child(cx.rubric(body_el, USE_INSTRUCTIONS)?, "qti-content-body")?,
    )?;
    let body = match item_type {
        ItemType::DropdownGaps => {
            let (text, gaps) = read_dropdown_text(cx, &decls, cx.find_class(body_el, CLASS_TEXT)?)?;
            Body::DropdownGaps { text, gaps }
        }
        ItemType::OrderSentences => {
            let passage_title = body_el
                .find(&|e| e.has_class(CLASS_PASSAGE_TITLE))
                .map(Element::text);
            Body::OrderSentences {
                passage_title,
                sentences: read_order(cx, &decls, body_el)?.0,
            }
        }
        ItemType::WordBank => read_word_bank(cx, &decls, body_el)?,
        ItemType::OrderWords => {
            let (words, ids) = read_order(cx, &decls, body_el)?;
            let alternatives = read_alternatives(cx, &root, &words, &ids)?;
            Body::OrderWords {
                words,
                alternatives,
            }
        }
        ItemType::TextGaps => {
            let (text, gaps) = read_text_gaps(cx, &decls, cx.find_class(body_el, CLASS_TEXT)?)?;
            Body::TextGaps { text, gaps }
        }
        ItemType::Choice => {
            let passage = match body_el.find(&|e| e.has_class(CLASS_PASSAGE)) {
                Some(p) => Some(paragraphs(cx, p)?),
                None => None,
            };
            let (stem, options, answer) = read_choice(cx, &decls, body_el)?;
            Body::Choice {
                passage,
                stem,
                options,
                answer,
            }
        }
        ItemType::Listening => read_listening(cx, &root, &decls, body_el)?,
    };
    let tip = match root.child("qti-modal-feedback") {
        Some(fb) => Some(paragraphs(cx, cx.child(fb, "qti-content-body")?)?),
        None => None,
    };
    Ok(Item {
        id,
        domain,
        cefr,
        time_limit_s,
        instruction,
        irt,
        body,
        tip,
    })
}

fn read_irt(cx: Cx<'_>, root: &Element) -> Result<Irt, QtiError> {
    let model = match cx.attr(root, attr::IRT_MODEL)? {
        "2pl" => IrtModel::TwoPl {
            a: cx.parsed(root, attr::IRT_A)?,
            b: cx.parsed(root, attr::IRT_B)?,
        },
        "3pl" => IrtModel::ThreePl {
            a: cx.parsed(root, attr::IRT_A)?,
            b: cx.parsed(root, attr::IRT_B)?,
            c: cx.parsed(root, attr::IRT_C)?,
        },
        "gpcm" => {
            let steps = cx
                .attr(root, attr::IRT_STEPS)?
                .split_whitespace()
                .map(|s| {
                    s.parse::<f64>()
                        .map_err(|_| cx.bad(root, format!("{s:?} is not a step difficulty")))
                })
                .collect::<Result<_, _>>()?;
            IrtModel::Gpcm {
                a: cx.parsed(root, attr::IRT_A)?,
                steps,
            }
        }
        other => return Err(cx.bad(root, format!("{other:?} is not one of 2pl, 3pl, gpcm"))),
    };
    let provisional = match cx.attr(root, attr::IRT_PROVISIONAL)? {
        "true" => true,
        "false" => false,
        other => {
            return Err(cx.bad(
                root,
                format!("{}={other:?} is not true or false", attr::IRT_PROVISIONAL),
            ));
        }
    };
    Ok(Irt { model, provisional })
}

/// The lines of a block written one `<p>` per line.
fn paragraphs(cx: Cx<'_>, block: &Element) -> Result<String, QtiError> {
    let lines: Vec<String> = block.children_named("p").map(Element::text).collect();
    if lines.is_empty() {
        return Err(cx.missing(format!(
            "the <p> lines of <{}> (line {})",
            block.name, block.line
        )));
    }
    Ok(lines.join("\n"))
}

/// The interactions of a gapped text, in order, with the root shown before each.
struct Gapped<'a> {
    text: String,
    gaps: Vec<(&'a Element, Option<String>)>,
}

/// Rebuilds a text whose gaps are `gap_element`s: the k-th becomes `{k}`.
fn read_gapped<'a>(
    cx: Cx<'_>,
    div: &'a Element,
    gap_element: &str,
) -> Result<Gapped<'a>, QtiError> {
    let mut lines = Vec::new();
    let mut gaps = Vec::new();
    let mut root: Option<(String, &Element)> = None;
    for p in div.children_named("p") {
        let mut line = String::new();
        for node in &p.children {
            match node {
                Node::Text(t) => line.push_str(t),
                Node::Element(e) if e.name == gap_element => {
                    gaps.push((e, root.take().map(|(r, _)| r)));
                    line.push_str(&format!("{{{}}}", gaps.len()));
                }
                Node::Element(e) if e.name == "span" && e.has_class(CLASS_ROOT) => {
                    let shown = e.text();
                    let inner = shown.strip_prefix('(').and_then(|s| s.strip_suffix(')'));
                    let Some(inner) = inner else {
                        return Err(cx.bad(e, format!("the root {shown:?} is not in brackets")));
                    };
                    if root.replace((inner.to_owned(), e)).is_some() {
                        return Err(cx.bad(e, "two roots for one gap"));
                    }
                }
                Node::Element(e) => {
                    return Err(cx.bad(e, format!("unexpected <{}> in the text", e.name)));
                }
            }
        }
        lines.push(line);
    }
    if let Some((_, e)) = root {
        return Err(cx.bad(e, "a root that no gap follows"));
    }
    if lines.is_empty() {
        return Err(cx.missing(format!(
            "the <p> lines of <{}> (line {})",
            div.name, div.line
        )));
    }
    Ok(Gapped {
        text: lines.join("\n"),
        gaps,
    })
}

/// The identifiers and texts of an interaction's choices (`choice` elements).
fn choices<'a>(
    cx: Cx<'_>,
    interaction: &'a Element,
    choice: &str,
) -> Result<Vec<(&'a str, String)>, QtiError> {
    interaction
        .children_named(choice)
        .map(|c| Ok((cx.attr(c, "identifier")?, c.text())))
        .collect()
}

fn index_of(
    cx: Cx<'_>,
    at: &Element,
    choices: &[(&str, String)],
    id: &str,
) -> Result<usize, QtiError> {
    choices.iter().position(|(c, _)| *c == id).ok_or_else(|| {
        cx.bad(
            at,
            format!("the correct response {id:?} is not one of the choices"),
        )
    })
}

fn response_id<'e>(cx: Cx<'_>, interaction: &'e Element) -> Result<&'e str, QtiError> {
    cx.attr(interaction, "response-identifier")
}

fn read_dropdown_text(
    cx: Cx<'_>,
    decls: &Declarations<'_>,
    div: &Element,
) -> Result<(String, Vec<DropdownGap>), QtiError> {
    let gapped = read_gapped(cx, div, "qti-inline-choice-interaction")?;
    let mut gaps = Vec::new();
    for (e, root) in gapped.gaps {
        if root.is_some() {
            return Err(cx.bad(e, "a drop-down list has no root"));
        }
        let list = choices(cx, e, "qti-inline-choice")?;
        let answer = index_of(cx, e, &list, decls.single(cx, response_id(cx, e)?)?)?;
        gaps.push(DropdownGap {
            options: list.into_iter().map(|(_, t)| t).collect(),
            answer,
        });
    }
    Ok((gapped.text, gaps))
}

fn read_text_gaps(
    cx: Cx<'_>,
    decls: &Declarations<'_>,
    div: &Element,
) -> Result<(String, Vec<TextGap>), QtiError> {
    let gapped = read_gapped(cx, div, "qti-text-entry-interaction")?;
    let mut gaps = Vec::new();
    for (e, root) in gapped.gaps {
        let id = response_id(cx, e)?;
        let mapped = decls.mapped(id);
        let accept = if mapped.is_empty() {
            vec![decls.single(cx, id)?.to_owned()]
        } else {
            mapped.to_vec()
        };
        gaps.push(TextGap { accept, root });
    }
    Ok((gapped.text, gaps))
}

/// The parts of an order interaction in the correct order, and their identifiers.
fn read_order(
    cx: Cx<'_>,
    decls: &Declarations<'_>,
    body: &Element,
) -> Result<(Vec<String>, Vec<String>), QtiError> {
    let interaction = cx.find(body, "qti-order-interaction")?;
    let list = choices(cx, interaction, "qti-simple-choice")?;
    let ids = decls.correct(cx, response_id(cx, interaction)?)?;
    let parts = ids
        .iter()
        .map(|id| Ok(list[index_of(cx, interaction, &list, id)?].1.clone()))
        .collect::<Result<_, QtiError>>()?;
    Ok((parts, ids.to_vec()))
}

/// The other accepted orders, from the `qti-ordered` values of the response processing.
fn read_alternatives(
    cx: Cx<'_>,
    root: &Element,
    words: &[String],
    ids: &[String],
) -> Result<Vec<Vec<String>>, QtiError> {
    let Some(processing) = root.child("qti-response-processing") else {
        return Ok(Vec::new());
    };
    let mut ordered = Vec::new();
    processing.descendants_named("qti-ordered", &mut ordered);
    ordered
        .into_iter()
        .map(|o| {
            o.children_named("qti-base-value")
                .map(|v| {
                    let id = v.text();
                    let i = ids.iter().position(|x| *x == id).ok_or_else(|| {
                        cx.bad(
                            v,
                            format!("{id:?} in an accepted order is not one of the words"),
                        )
                    })?;
                    Ok(words[i].clone())
                })
                .collect()
        })
        .collect()
}

fn read_word_bank(cx: Cx<'_>, decls: &Declarations<'_>, body: &Element) -> Result<Body, QtiError> {
    let interaction = cx.find(body, "qti-gap-match-interaction")?;
    let words = choices(cx, interaction, "qti-gap-text")?;
    let pairs = decls.correct(cx, response_id(cx, interaction)?)?;
    let gapped = read_gapped(cx, cx.find_class(interaction, CLASS_TEXT)?, "qti-gap")?;
    let mut answers = Vec::new();
    for (gap, root) in gapped.gaps {
        if root.is_some() {
            return Err(cx.bad(gap, "a word-bank gap has no root"));
        }
        let gap_id = cx.attr(gap, "identifier")?;
        let word = pairs
            .iter()
            .find_map(|p| match p.split_whitespace().collect::<Vec<_>>()[..] {
                [w, g] if g == gap_id => Some(w),
                _ => None,
            })
            .ok_or_else(|| cx.bad(gap, format!("no correct word for the gap {gap_id}")))?;
        answers.push(words[index_of(cx, gap, &words, word)?].1.clone());
    }
    Ok(Body::WordBank {
        text: gapped.text,
        words: words.into_iter().map(|(_, w)| w).collect(),
        answers,
    })
}

fn read_choice(
    cx: Cx<'_>,
    decls: &Declarations<'_>,
    body: &Element,
) -> Result<(String, Vec<String>, usize), QtiError> {
    let interaction = cx.find(body, "qti-choice-interaction")?;
    let stem = cx.child(interaction, "qti-prompt")?.text();
    let list = choices(cx, interaction, "qti-simple-choice")?;
    let answer = index_of(
        cx,
        interaction,
        &list,
        decls.single(cx, response_id(cx, interaction)?)?,
    )?;
    Ok((stem, list.into_iter().map(|(_, t)| t).collect(), answer))
}

fn read_listening(
    cx: Cx<'_>,
    root: &Element,
    decls: &Declarations<'_>,
    body: &Element,
) -> Result<Body, QtiError> {
    let transcript = paragraphs(
        cx,
        cx.child(cx.rubric(body, USE_TRANSCRIPT)?, "qti-content-body")?,
    )?;
    let media = cx.find(body, "qti-media-interaction")?;
    let max_plays: u32 = cx.parsed(media, "max-plays")?;
    let source = media
        .find(&|e| (e.name == "source" || e.name == "audio") && e.attr("src").is_some())
        .ok_or_else(|| cx.missing("the src of the clip in <qti-media-interaction>"))?;
    let src = cx.attr(source, "src")?;
    let clip = src.strip_prefix("../").unwrap_or(src).to_owned();
    let voice = root.attr(attr::VOICE).map(str::to_owned);
    let (stem, response) = if body.find(&|e| e.name == "qti-choice-interaction").is_some() {
        let (stem, options, answer) = read_choice(cx, decls, body)?;
        (stem, ListeningResponse::Choice { options, answer })
    } else {
        let stem = paragraphs(cx, cx.find_class(body, CLASS_STEM)?)?;
        let (text, gaps) = read_text_gaps(cx, decls, cx.find_class(body, CLASS_TEXT)?)?;
        (stem, ListeningResponse::TextGaps { text, gaps })
    };
    Ok(Body::Listening {
        transcript,
        clip,
        voice,
        max_plays,
        stem,
        response,
    })
}
