//! Reading and writing the TOML bank format of `docs/items.md`, listing every error.

use toml::{Table, Value};

use super::item::{
    Body, DropdownGap, Irt, IrtModel, Item, ListeningResponse, TextGap, gap_numbers,
};
use super::{BankError, Domain, ItemType};
use crate::cefr::Cefr;

/// The version of the file format this code reads and writes.
pub const FORMAT: i64 = 1;

/// The items of one file and its language, or every error found in it.
pub fn parse_file(source: &str) -> Result<(String, Vec<Item>), Vec<BankError>> {
    let table: Table = match source.parse() {
        Ok(t) => t,
        Err(e) => return Err(vec![BankError::file("toml", e.to_string().trim())]),
    };
    let mut errors = Vec::new();
    let language = match table.get("language").and_then(Value::as_str) {
        Some(l) if l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase()) => l.to_owned(),
        Some(l) => {
            errors.push(BankError::file(
                "language",
                format!("{l:?} is not an ISO 639-1 code"),
            ));
            String::new()
        }
        None => {
            errors.push(BankError::file(
                "language",
                "missing (a two-letter code, e.g. \"en\")",
            ));
            String::new()
        }
    };
    match table.get("format").and_then(Value::as_integer) {
        Some(FORMAT) => {}
        Some(v) => errors.push(BankError::file(
            "format",
            format!("version {v} is not supported (expected {FORMAT})"),
        )),
        None => errors.push(BankError::file(
            "format",
            format!("missing (expected {FORMAT})"),
        )),
    }
    for key in table.keys() {
        if !["language", "format", "items"].contains(&key.as_str()) {
            errors.push(BankError::file(key, "unknown top-level field"));
        }
    }
    let mut items = Vec::new();
    match table.get("items") {
        Some(Value::Array(list)) => {
            for (n, value) in list.iter().enumerate() {
                let Value::Table(t) = value else {
                    errors.push(BankError::file(
                        "items",
                        format!("entry {} is not a table", n + 1),
                    ));
                    continue;
                };
                let mut f = Fields::new(t, n);
                if let Some(item) = read_item(&mut f) {
                    items.push(item);
                }
                errors.append(&mut f.errors);
            }
        }
        Some(_) => errors.push(BankError::file(
            "items",
            "must be an array of [[items]] tables",
        )),
        None => errors.push(BankError::file("items", "no [[items]] in the file")),
    }
    if errors.is_empty() {
        Ok((language, items))
    } else {
        Err(errors)
    }
}

/// Reads the fields of one `[[items]]` table, recording each error with the item's id.
struct Fields<'a> {
    table: &'a Table,
    id: String,
    used: Vec<&'static str>,
    errors: Vec<BankError>,
}

impl<'a> Fields<'a> {
    fn new(table: &'a Table, position: usize) -> Self {
        let id = table
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{}", position + 1));
        Fields {
            table,
            id,
            used: vec!["id"],
            errors: Vec::new(),
        }
    }

    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(BankError::item(&self.id, field, message));
    }

    fn raw(&mut self, field: &'static str) -> Option<&'a Value> {
        self.used.push(field);
        self.table.get(field)
    }

    fn opt_str(&mut self, field: &'static str) -> Option<String> {
        match self.raw(field)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::String(_) => {
                self.err(field, "is empty");
                None
            }
            other => {
                self.err(
                    field,
                    format!("expected a string, found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn string(&mut self, field: &'static str) -> Option<String> {
        if !self.table.contains_key(field) {
            self.used.push(field);
            self.err(field, "missing");
            return None;
        }
        self.opt_str(field)
    }

    fn number(&mut self, field: &'static str, v: Option<&Value>) -> Option<f64> {
        match v {
            Some(Value::Float(x)) if x.is_finite() => Some(*x),
            Some(Value::Integer(i)) => Some(*i as f64),
            Some(other) => {
                self.err(
                    field,
                    format!("expected a number, found {}", other.type_str()),
                );
                None
            }
            None => {
                self.err(field, "missing");
                None
            }
        }
    }

    fn integer(&mut self, field: &'static str) -> Option<i64> {
        match self.raw(field) {
            Some(Value::Integer(i)) => Some(*i),
            Some(other) => {
                self.err(
                    field,
                    format!("expected an integer, found {}", other.type_str()),
                );
                None
            }
            None => {
                self.err(field, "missing");
                None
            }
        }
    }

    fn strings_of(&mut self, field: &str, value: &Value) -> Option<Vec<String>> {
        let Value::Array(list) = value else {
            self.err(
                field,
                format!("expected a list of strings, found {}", value.type_str()),
            );
            return None;
        };
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            match v.as_str() {
                Some(s) if !s.trim().is_empty() => out.push(s.to_owned()),
                Some(_) => self.err(field, format!("entry {} is empty", i + 1)),
                None => self.err(field, format!("entry {} is not a string", i + 1)),
            }
        }
        (out.len() == list.len()).then_some(out)
    }

    fn strings(&mut self, field: &'static str) -> Option<Vec<String>> {
        match self.raw(field) {
            Some(v) => self.strings_of(field, v),
            None => {
                self.err(field, "missing");
                None
            }
        }
    }

    fn index(&mut self, field: &'static str, len: Option<usize>) -> Option<usize> {
        let i = self.integer(field)?;
        match len {
            Some(n) if i < 0 || i as usize >= n => {
                self.err(
                    field,
                    format!("the answer index {i} is out of range ({n} options)"),
                );
                None
            }
            _ => usize::try_from(i).ok(),
        }
    }

    fn unknown_fields(&mut self) {
        let unknown: Vec<String> = self
            .table
            .keys()
            .filter(|k| !self.used.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            self.err(&k, "unknown field for this item type");
        }
    }
}

fn read_item(f: &mut Fields<'_>) -> Option<Item> {
    let id = f.string("id");
    if let Some(id) = &id
        && !valid_id(id)
    {
        f.err(
            "id",
            "must be 3–40 characters of a–z, 0–9 and '-', starting with a letter",
        );
    }
    let domain = f.string("domain").and_then(|d| {
        let parsed = Domain::parse(&d);
        if parsed.is_none() {
            f.err(
                "domain",
                format!("{d:?} is not one of vocabulary, grammar, expressions, reading, listening"),
            );
        }
        parsed
    });
    let item_type = f.string("type").and_then(|t| {
        let parsed = ItemType::parse(&t);
        if parsed.is_none() {
            f.err("type", format!("{t:?} is not one of the seven types"));
        }
        parsed
    });
    let cefr = f.string("cefr").and_then(|c| match c.parse::<Cefr>() {
        Ok(l) => Some(l),
        Err(e) => {
            f.err("cefr", e.to_string());
            None
        }
    });
    let time_limit_s = f.integer("time_limit_s").and_then(|t| {
        if (10..=300).contains(&t) {
            Some(t as u32)
        } else {
            f.err("time_limit_s", format!("{t} is outside 10–300 seconds"));
            None
        }
    });
    let instruction = f.string("instruction");
    let tip = f.opt_str("tip");
    let irt = read_irt(f);
    let body = item_type.and_then(|t| read_body(f, t));
    f.unknown_fields();
    if let Some(body) = &body {
        check_body(f, domain, body);
        if let Some(irt) = &irt {
            check_irt(f, irt, body.max_score());
        }
    }
    if !f.errors.is_empty() {
        return None;
    }
    Some(Item {
        id: id?,
        domain: domain?,
        cefr: cefr?,
        time_limit_s: time_limit_s?,
        instruction: instruction?,
        irt: irt?,
        body: body?,
        tip,
    })
}

fn valid_id(id: &str) -> bool {
    (3..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn read_irt(f: &mut Fields<'_>) -> Option<Irt> {
    let Some(value) = f.raw("irt") else {
        f.err("irt", "missing");
        return None;
    };
    let Value::Table(t) = value else {
        f.err(
            "irt",
            format!("expected a table, found {}", value.type_str()),
        );
        return None;
    };
    let provisional = match t.get("provisional") {
        Some(Value::Boolean(b)) => Some(*b),
        Some(_) => {
            f.err("irt.provisional", "expected true or false");
            None
        }
        None => {
            f.err("irt.provisional", "missing");
            None
        }
    };
    let model_name = t.get("model").and_then(Value::as_str).unwrap_or("");
    let allowed: &[&str] = match model_name {
        "2pl" => &["model", "a", "b", "provisional"],
        "3pl" => &["model", "a", "b", "c", "provisional"],
        "gpcm" => &["model", "a", "steps", "provisional"],
        other => {
            f.err(
                "irt.model",
                format!("{other:?} is not one of 2pl, 3pl, gpcm"),
            );
            return None;
        }
    };
    for k in t.keys().filter(|k| !allowed.contains(&k.as_str())) {
        f.err(
            &format!("irt.{k}"),
            format!("not a parameter of the {model_name} model"),
        );
    }
    let a = f.number("irt.a", t.get("a"));
    if let Some(a) = a
        && !(a > 0.0 && a <= 5.0)
    {
        f.err("irt.a", format!("{a} is outside (0, 5]"));
    }
    let model = match model_name {
        "2pl" => IrtModel::TwoPl {
            a: a?,
            b: f.number("irt.b", t.get("b"))?,
        },
        "3pl" => {
            let b = f.number("irt.b", t.get("b"));
            let c = f.number("irt.c", t.get("c"));
            if let Some(c) = c
                && !(0.0..0.5).contains(&c)
            {
                f.err("irt.c", format!("{c} is outside [0, 0.5)"));
            }
            IrtModel::ThreePl {
                a: a?,
                b: b?,
                c: c?,
            }
        }
        _ => {
            let steps = match t.get("steps") {
                Some(Value::Array(list)) => {
                    let v: Vec<Option<f64>> = list
                        .iter()
                        .map(|x| f.number("irt.steps", Some(x)))
                        .collect();
                    v.into_iter().collect::<Option<Vec<f64>>>()
                }
                Some(other) => {
                    f.err(
                        "irt.steps",
                        format!("expected a list of numbers, found {}", other.type_str()),
                    );
                    None
                }
                None => {
                    f.err("irt.steps", "missing");
                    None
                }
            };
            IrtModel::Gpcm {
                a: a?,
                steps: steps?,
            }
        }
    };
    if let IrtModel::TwoPl { b, .. } | IrtModel::ThreePl { b, .. } = model
        && !(-6.0..=6.0).contains(&b)
    {
        f.err("irt.b", format!("{b} is outside [-6, 6]"));
    }
    Some(Irt {
        model,
        provisional: provisional?,
    })
}

fn read_text_gaps(f: &mut Fields<'_>, field: &'static str) -> Option<Vec<TextGap>> {
    let Some(value) = f.raw(field) else {
        f.err(field, "missing");
        return None;
    };
    let Value::Array(list) = value else {
        f.err(
            field,
            "expected a list of { accept = [..], root = \"..\" } tables",
        );
        return None;
    };
    let mut gaps = Vec::new();
    for (i, g) in list.iter().enumerate() {
        let name = format!("{field}[{}]", i + 1);
        let Value::Table(t) = g else {
            f.err(&name, "expected a table");
            continue;
        };
        for k in t
            .keys()
            .filter(|k| !["accept", "root"].contains(&k.as_str()))
        {
            f.err(
                &format!("{name}.{k}"),
                "unknown field (expected accept, root)",
            );
        }
        let accept = match t.get("accept") {
            Some(v) => f.strings_of(&format!("{name}.accept"), v),
            None => {
                f.err(&format!("{name}.accept"), "missing");
                None
            }
        };
        let root = match t.get("root") {
            None => Some(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Some(Some(s.clone())),
            Some(_) => {
                f.err(&format!("{name}.root"), "expected a non-empty string");
                None
            }
        };
        if let (Some(accept), Some(root)) = (accept, root) {
            if accept.is_empty() {
                f.err(&format!("{name}.accept"), "lists no accepted answer");
            }
            gaps.push(TextGap { accept, root });
        }
    }
    (gaps.len() == list.len()).then_some(gaps)
}

fn read_dropdown_gaps(f: &mut Fields<'_>) -> Option<Vec<DropdownGap>> {
    let Some(value) = f.raw("gaps") else {
        f.err("gaps", "missing");
        return None;
    };
    let Value::Array(list) = value else {
        f.err(
            "gaps",
            "expected a list of { options = [..], answer = i } tables",
        );
        return None;
    };
    let mut gaps = Vec::new();
    for (i, g) in list.iter().enumerate() {
        let name = format!("gaps[{}]", i + 1);
        let Value::Table(t) = g else {
            f.err(&name, "expected a table");
            continue;
        };
        for k in t
            .keys()
            .filter(|k| !["options", "answer"].contains(&k.as_str()))
        {
            f.err(
                &format!("{name}.{k}"),
                "unknown field (expected options, answer)",
            );
        }
        let options = match t.get("options") {
            Some(v) => f.strings_of(&format!("{name}.options"), v),
            None => {
                f.err(&format!("{name}.options"), "missing");
                None
            }
        };
        let answer = match t.get("answer") {
            Some(Value::Integer(a)) => Some(*a),
            _ => {
                f.err(&format!("{name}.answer"), "missing or not an integer");
                None
            }
        };
        if let (Some(options), Some(answer)) = (options, answer) {
            if answer < 0 || answer as usize >= options.len() {
                f.err(
                    &format!("{name}.answer"),
                    format!(
                        "the answer index {answer} is out of range ({} options)",
                        options.len()
                    ),
                );
                continue;
            }
            if !(2..=6).contains(&options.len()) {
                f.err(&format!("{name}.options"), "must list 2–6 options");
            }
            gaps.push(DropdownGap {
                options,
                answer: answer as usize,
            });
        }
    }
    (gaps.len() == list.len()).then_some(gaps)
}

fn read_body(f: &mut Fields<'_>, t: ItemType) -> Option<Body> {
    Some(match t {
        ItemType::DropdownGaps => {
            let text = f.string("text");
            let gaps = read_dropdown_gaps(f);
            Body::DropdownGaps {
                text: text?,
                gaps: gaps?,
            }
        }
        ItemType::OrderSentences => {
            let passage_title = f.opt_str("passage_title");
            Body::OrderSentences {
                passage_title,
                sentences: f.strings("sentences")?,
            }
        }
        ItemType::WordBank => {
            let text = f.string("text");
            let words = f.strings("words");
            let answers = f.strings("answers");
            Body::WordBank {
                text: text?,
                words: words?,
                answers: answers?,
            }
        }
        ItemType::OrderWords => {
            let words = f.strings("words");
            let alternatives = match f.raw("alternatives") {
                None => Some(Vec::new()),
                Some(Value::Array(list)) => {
                    let v: Vec<_> = list
                        .iter()
                        .map(|a| f.strings_of("alternatives", a))
                        .collect();
                    v.into_iter().collect::<Option<Vec<_>>>()
                }
                Some(_) => {
                    f.err("alternatives", "expected a list of lists of strings");
                    None
                }
            };
            Body::OrderWords {
                words: words?,
                alternatives: alternatives?,
            }
        }
        ItemType::TextGaps => {
            let text = f.string("text");
            let gaps = read_text_gaps(f, "gaps");
            Body::TextGaps {
                text: text?,
                gaps: gaps?,
            }
        }
        ItemType::Choice => {
            let passage = f.opt_str("passage");
            let stem = f.string("stem");
            let options = f.strings("options");
            let answer = f.index("answer", options.as_ref().map(Vec::len));
            Body::Choice {
                passage,
                stem: stem?,
                options: options?,
                answer: answer?,
            }
        }
        ItemType::Listening => {
            let transcript = f.string("transcript");
            let clip = f.string("clip");
            let voice = f.opt_str("voice");
            let max_plays = match f.raw("max_plays") {
                None => Some(2),
                Some(Value::Integer(n)) if (1..=5).contains(n) => Some(*n as u32),
                Some(_) => {
                    f.err("max_plays", "expected an integer from 1 to 5");
                    None
                }
            };
            let stem = f.string("stem");
            let response = match f.string("response").as_deref() {
                Some("choice") => {
                    let options = f.strings("options");
                    let answer = f.index("answer", options.as_ref().map(Vec::len));
                    Some(ListeningResponse::Choice {
                        options: options?,
                        answer: answer?,
                    })
                }
                Some("text_gaps") => {
                    let text = f.string("text");
                    let gaps = read_text_gaps(f, "gaps");
                    Some(ListeningResponse::TextGaps {
                        text: text?,
                        gaps: gaps?,
                    })
                }
                Some(other) => {
                    f.err("response", format!("{other:?} is not choice or text_gaps"));
                    None
                }
                None => None,
            };
            Body::Listening {
                transcript: transcript?,
                clip: clip?,
                voice,
                max_plays: max_plays?,
                stem: stem?,
                response: response?,
            }
        }
    })
}

/// Checks that hold between the fields of a well-typed body.
fn check_body(f: &mut Fields<'_>, domain: Option<Domain>, body: &Body) {
    let ty = body.item_type();
    if let Some(domain) = domain
        && (domain == Domain::Listening) != (ty == ItemType::Listening)
    {
        f.err(
            "type",
            "listening items, and only they, belong to the listening domain",
        );
    }
    let check_gaps = |f: &mut Fields<'_>, text: &str, n: usize| match gap_numbers(text) {
        Ok(nums) if nums == (1..=n).collect::<Vec<_>>() => {}
        Ok(nums) => f.err(
            "text",
            format!(
                "has gaps {nums:?} but {n} gap definitions (expected {{1}} … {{{n}}} in order)"
            ),
        ),
        Err(e) => f.err("text", e),
    };
    let check_choice = |f: &mut Fields<'_>, options: &[String]| {
        if !(2..=6).contains(&options.len()) {
            f.err(
                "options",
                format!("{} options (expected 2–6)", options.len()),
            );
        }
        if has_duplicates(options) {
            f.err("options", "two options are the same");
        }
    };
    match body {
        Body::DropdownGaps { text, gaps } => {
            check_gaps(f, text, gaps.len());
            if gaps.is_empty() {
                f.err("gaps", "no gap");
            }
        }
        Body::OrderSentences { sentences, .. } => {
            if !(4..=8).contains(&sentences.len()) {
                f.err(
                    "sentences",
                    format!("{} sentences (expected 4–8)", sentences.len()),
                );
            }
            if has_duplicates(sentences) {
                f.err("sentences", "two sentences are the same");
            }
        }
        Body::WordBank {
            text,
            words,
            answers,
        } => {
            check_gaps(f, text, answers.len());
            if words.len() <= answers.len() {
                f.err("words", "needs more words than gaps");
            }
            if has_duplicates(words) {
                f.err("words", "two words are the same");
            }
            if has_duplicates(answers) {
                f.err("answers", "a word is the answer of two gaps");
            }
            for a in answers.iter().filter(|a| !words.contains(a)) {
                f.err("answers", format!("{a:?} is not in words"));
            }
        }
        Body::OrderWords {
            words,
            alternatives,
        } => {
            if !(4..=16).contains(&words.len()) {
                f.err("words", format!("{} words (expected 4–16)", words.len()));
            }
            let mut sorted = words.clone();
            sorted.sort();
            for alt in alternatives {
                let mut s = alt.clone();
                s.sort();
                if s != sorted {
                    f.err(
                        "alternatives",
                        "an alternative does not use exactly the same words",
                    );
                } else if alt.first() != words.first() {
                    f.err(
                        "alternatives",
                        "an alternative must start with the given first word",
                    );
                }
            }
        }
        Body::TextGaps { text, gaps } => check_gaps(f, text, gaps.len()),
        Body::Choice { options, .. } => check_choice(f, options),
        Body::Listening { clip, response, .. } => {
            if !clip.starts_with("clips/") || !clip.ends_with(".ogg") || clip.contains("..") {
                f.err("clip", "must be clips/<name>.ogg");
            }
            match response {
                ListeningResponse::Choice { options, .. } => check_choice(f, options),
                ListeningResponse::TextGaps { text, gaps } => check_gaps(f, text, gaps.len()),
            }
        }
    }
}

/// The IRT model must describe the item's points: one-point models for one point,
/// one GPCM step per point otherwise.
fn check_irt(f: &mut Fields<'_>, irt: &Irt, points: u32) {
    match &irt.model {
        IrtModel::Gpcm { steps, .. } if steps.len() as u32 != points => f.err(
            "irt.steps",
            format!(
                "{} steps for an item scored on {points} points",
                steps.len()
            ),
        ),
        IrtModel::TwoPl { .. } | IrtModel::ThreePl { .. } if points != 1 => f.err(
            "irt.model",
            format!(
                "{} describes one-point items; this one has {points} points (use gpcm)",
                irt.model.name()
            ),
        ),
        _ => {}
    }
}

fn has_duplicates(list: &[String]) -> bool {
    let mut seen = std::collections::HashSet::new();
    !list.iter().all(|s| seen.insert(s.trim().to_lowercase()))
}

/// Writes items in the file format, in the order given.
pub fn to_toml(language: &str, items: &[&Item]) -> String {
    let mut out = format!("language = \"{language}\"\nformat = {FORMAT}\n");
    for item in items {
        let mut t = Table::new();
        t.insert("id".into(), item.id.clone().into());
        t.insert("domain".into(), item.domain.as_str().into());
        t.insert("type".into(), item.item_type().as_str().into());
        t.insert("cefr".into(), item.cefr.to_string().into());
        t.insert("time_limit_s".into(), i64::from(item.time_limit_s).into());
        t.insert("instruction".into(), item.instruction.clone().into());
        let mut irt = Table::new();
        irt.insert("model".into(), item.irt.model.name().into());
        match &item.irt.model {
            IrtModel::TwoPl { a, b } => {
                irt.insert("a".into(), (*a).into());
                irt.insert("b".into(), (*b).into());
            }
            IrtModel::ThreePl { a, b, c } => {
                irt.insert("a".into(), (*a).into());
                irt.insert("b".into(), (*b).into());
                irt.insert("c".into(), (*c).into());
            }
            IrtModel::Gpcm { a, steps } => {
                irt.insert("a".into(), (*a).into());
                irt.insert("steps".into(), steps.clone().into());
            }
        }
        irt.insert("provisional".into(), item.irt.provisional.into());
        t.insert("irt".into(), Value::Table(irt));
        let text_gaps = |gaps: &[TextGap]| -> Value {
            Value::Array(
                gaps.iter()
                    .map(|g| {
                        let mut gt = Table::new();
                        gt.insert("accept".into(), g.accept.clone().into());
                        if let Some(r) = &g.root {
                            gt.insert("root".into(), r.clone().into());
                        }
                        Value::Table(gt)
                    })
                    .collect(),
            )
        };
        match &item.body {
            Body::DropdownGaps { text, gaps } => {
                t.insert("text".into(), text.clone().into());
                let list = gaps
                    .iter()
                    .map(|g| {
                        let mut gt = Table::new();
                        gt.insert("options".into(), g.options.clone().into());
                        gt.insert("answer".into(), (g.answer as i64).into());
                        Value::Table(gt)
                    })
                    .collect();
                t.insert("gaps".into(), Value::Array(list));
            }
            Body::OrderSentences {
                passage_title,
                sentences,
            } => {
                if let Some(title) = passage_title {
                    t.insert("passage_title".into(), title.clone().into());
                }
                t.insert("sentences".into(), sentences.clone().into());
            }
            Body::WordBank {
                text,
                words,
                answers,
            } => {
                t.insert("text".into(), text.clone().into());
                t.insert("words".into(), words.clone().into());
                t.insert("answers".into(), answers.clone().into());
            }
            Body::OrderWords {
                words,
                alternatives,
            } => {
                t.insert("words".into(), words.clone().into());
                if !alternatives.is_empty() {
                    t.insert("alternatives".into(), alternatives.clone().into());
                }
            }
            Body::TextGaps { text, gaps } => {
                t.insert("text".into(), text.clone().into());
                t.insert("gaps".into(), text_gaps(gaps));
            }
            Body::Choice {
                passage,
                stem,
                options,
                answer,
            } => {
                if let Some(p) = passage {
                    t.insert("passage".into(), p.clone().into());
                }
                t.insert("stem".into(), stem.clone().into());
                t.insert("options".into(), options.clone().into());
                t.insert("answer".into(), (*answer as i64).into());
            }
            Body::Listening {
                transcript,
                clip,
                voice,
                max_plays,
                stem,
                response,
            } => {
                t.insert("transcript".into(), transcript.clone().into());
                t.insert("clip".into(), clip.clone().into());
                if let Some(v) = voice {
                    t.insert("voice".into(), v.clone().into());
                }
                t.insert("max_plays".into(), i64::from(*max_plays).into());
                t.insert("stem".into(), stem.clone().into());
                match response {
                    ListeningResponse::Choice { options, answer } => {
                        t.insert("response".into(), "choice".into());
                        t.insert("options".into(), options.clone().into());
                        t.insert("answer".into(), (*answer as i64).into());
                    }
                    ListeningResponse::TextGaps { text, gaps } => {
                        t.insert("response".into(), "text_gaps".into());
                        t.insert("text".into(), text.clone().into());
                        t.insert("gaps".into(), text_gaps(gaps));
                    }
                }
            }
        }
        if let Some(tip) = &item.tip {
            t.insert("tip".into(), tip.clone().into());
        }
        let mut doc = Table::new();
        doc.insert("items".into(), Value::Array(vec![Value::Table(t)]));
        out.push('\n');
        out.push_str(&toml::to_string(&doc).expect("a TOML table always serializes"));
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The first items of a shipped file, as a seed for mutations.
    fn seed_text() -> String {
        let full = include_str!("../../../bank/en/grammar.toml");
        let cut = full
            .match_indices("[[items]]")
            .nth(4)
            .map(|(i, _)| i)
            .unwrap_or(full.len());
        full[..cut].to_owned()
    }

    #[test]
    fn the_seed_parses() {
        let (lang, items) = parse_file(&seed_text()).expect("seed parses");
        assert_eq!(lang, "en");
        assert_eq!(items.len(), 4);
    }

    #[test]
    fn mutated_files_never_panic_and_what_parses_writes_back() {
        let seed = seed_text();
        let pieces = [
            "{",
            "}",
            "\"",
            "[",
            "]",
            "=",
            "\n",
            "-1",
            "99999999999999999999",
            "1e400",
            "{0}",
            "{2}",
            "é",
            "\u{0}",
        ];
        let mut rng = StdRng::seed_from_u64(7);
        let mut parsed = 0;
        for _ in 0..1500 {
            let mut text: Vec<char> = seed.chars().collect();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..text.len());
                match rng.random_range(0..3) {
                    0 => {
                        text.remove(at);
                    }
                    1 => {
                        let p = pieces[rng.random_range(0..pieces.len())];
                        for (k, c) in p.chars().enumerate() {
                            text.insert(at + k, c);
                        }
                    }
                    _ => {
                        let end = (at + rng.random_range(1..40)).min(text.len());
                        text.drain(at..end);
                    }
                }
            }
            let text: String = text.into_iter().collect();
            if let Ok((lang, items)) = parse_file(&text) {
                parsed += 1;
                let refs: Vec<&Item> = items.iter().collect();
                let (_, again) = parse_file(&to_toml(&lang, &refs)).expect("rewritten file parses");
                assert_eq!(again, items);
            }
        }
        assert!(parsed > 0, "some mutations keep the file valid");
    }
}
