//! The shipped English bank and the bank file format's error reporting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use exam_core::bank::{Bank, Body, Domain, ItemType, parse_file};
use exam_core::cefr::Cefr;

fn shipped() -> Bank {
    Bank::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bank/en"
    )))
    .unwrap_or_else(|errors| {
        panic!(
            "the shipped bank has errors:\n{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn shipped_bank_validates_and_covers_every_domain_type_and_level() {
    let bank = shipped();
    assert_eq!(bank.language, "en");
    let mut per_domain: BTreeMap<Domain, usize> = BTreeMap::new();
    let mut types = BTreeSet::new();
    let mut levels: BTreeMap<Domain, BTreeSet<Cefr>> = BTreeMap::new();
    for item in &bank.items {
        *per_domain.entry(item.domain).or_default() += 1;
        types.insert(item.item_type());
        levels.entry(item.domain).or_default().insert(item.cefr);
        assert!(
            item.irt.provisional,
            "{}: the shipped parameters are provisional",
            item.id
        );
    }
    for d in Domain::ALL {
        assert!(
            per_domain.get(&d).copied().unwrap_or(0) >= 40,
            "{d}: {per_domain:?}"
        );
        assert_eq!(levels[&d].len(), 6, "{d} spans A1–C2");
    }
    assert_eq!(
        types.len(),
        ItemType::ALL.len(),
        "every type present: {types:?}"
    );
    assert!(bank.items.len() >= 200);
}

#[test]
fn embedded_bank_is_the_shipped_bank() {
    let embedded = Bank::english();
    let shipped = shipped();
    assert_eq!(embedded.items, shipped.items);
    assert_eq!(
        embedded.clips.keys().collect::<Vec<_>>(),
        shipped.clips.keys().collect::<Vec<_>>()
    );
}

#[test]
fn every_listening_clip_is_ogg_opus() {
    let bank = shipped();
    let mut n = 0;
    for item in &bank.items {
        if let Body::Listening { clip, .. } = &item.body {
            let bytes = &bank.clips[clip];
            assert!(bytes.starts_with(b"OggS"), "{clip}");
            // The first page carries the OpusHead identification header (RFC 7845).
            let segments = bytes[26] as usize;
            let head = &bytes[27 + segments..];
            assert!(head.starts_with(b"OpusHead"), "{clip}");
            assert!(bytes.len() > 4000, "{clip} holds audio");
            n += 1;
        }
    }
    assert!(n >= 40);
}

#[test]
fn bank_files_round_trip_through_the_toml_writer() {
    let bank = shipped();
    let files = bank.to_files();
    let again = Bank::from_sources(files, bank.clips.clone()).expect("rewritten bank validates");
    assert_eq!(again.items, bank.items);
}

const BROKEN: &str = r#"
language = "en"
format = 1

[[items]]
id = "bad-choice"
domain = "vocabulary"
type = "choice"
cefr = "B3"
time_limit_s = 5
instruction = "Choose."
irt = { model = "2pl", a = 1.0, b = 0.0, provisional = true }
stem = "Pick one"
options = ["a", "b"]
answer = 4
colour = "red"

[[items]]
id = "bad-gaps"
domain = "grammar"
type = "dropdown_gaps"
cefr = "A2"
time_limit_s = 60
instruction = "Fill the gaps."
irt = { model = "2pl", a = 1.0, b = 0.0, provisional = true }
text = "One {1} two {3}."
gaps = [{ options = ["x", "y"], answer = 0 }, { options = ["x", "y"], answer = 1 }]

[[items]]
id = "bad-bank"
domain = "reading"
type = "word_bank"
cefr = "C1"
time_limit_s = 60
instruction = "Fill the gaps."
irt = { model = "gpcm", a = 0.9, steps = [0.0], provisional = "yes" }
text = "A {1} B {2}."
words = ["one", "two"]
answers = ["one", "three"]

[[items]]
domain = "listening"
type = "listening"
cefr = "A1"
time_limit_s = 45
instruction = "Listen."
irt = { model = "2pl", a = 1.0, b = 0.0, provisional = true }
transcript = "Hello."
clip = "../etc/passwd"
stem = "What?"
response = "choice"
options = ["a", "b"]
answer = "zero"
"#;

#[test]
fn a_malformed_file_gets_every_error_listed() {
    let errors = parse_file(BROKEN).expect_err("the file is broken");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    // One per problem, each located by item and field.
    assert!(has("bad-choice cefr: not a CEFR level"), "{text:#?}");
    assert!(has("bad-choice time_limit_s: 5 is outside"), "{text:#?}");
    assert!(
        has("bad-choice answer: the answer index 4 is out of range (2 options)"),
        "{text:#?}"
    );
    assert!(has("bad-choice colour: unknown field"), "{text:#?}");
    assert!(
        has("bad-gaps text: has gaps [1, 3] but 2 gap definitions"),
        "{text:#?}"
    );
    assert!(
        has("bad-gaps irt.model: 2pl describes one-point items; this one has 2 points"),
        "{text:#?}"
    );
    assert!(
        has("bad-bank irt.provisional: expected true or false"),
        "{text:#?}"
    );
    assert!(
        has("bad-bank words: needs more words than gaps") || has("bad-bank answers"),
        "{text:#?}"
    );
    assert!(has("#4 id: missing"), "{text:#?}");
    assert!(has("#4 answer: expected an integer"), "{text:#?}");
    assert!(errors.len() >= 10, "{text:#?}");
}

#[test]
fn a_syntax_error_names_its_line() {
    let errors = parse_file("language = \"en\"\nformat = 1\n[[items]\n").expect_err("bad TOML");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("line 3"), "{}", errors[0]);
}

#[test]
fn duplicate_ids_across_files_are_reported() {
    let one = r#"language = "en"
format = 1
[[items]]
id = "dup-1"
domain = "vocabulary"
type = "choice"
cefr = "A1"
time_limit_s = 30
instruction = "Choose."
irt = { model = "2pl", a = 1.0, b = -2.5, provisional = true }
stem = "Pick"
options = ["a", "b"]
answer = 0
"#;
    let errors = Bank::from_sources(
        vec![("a.toml".into(), one.into()), ("b.toml".into(), one.into())],
        Default::default(),
    )
    .expect_err("duplicate");
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("dup-1 id: appears twice")),
        "{errors:?}"
    );
}

#[test]
fn every_shipped_item_round_trips_through_qti3() {
    let bank = shipped();
    for item in &bank.items {
        let xml = exam_core::bank::qti::item_to_xml(item);
        let back = exam_core::bank::qti::item_from_xml(&xml)
            .unwrap_or_else(|e| panic!("{}: {e}", item.id));
        assert_eq!(&back, item, "{}", item.id);
    }
    let dir = tempfile::tempdir().unwrap();
    exam_core::bank::qti::export(&bank, dir.path()).unwrap();
    let manifest = std::fs::read_to_string(dir.path().join("imsmanifest.xml")).unwrap();
    assert!(manifest.contains("imsqti_item_xmlv3p0"));
    let again = exam_core::bank::qti::import(dir.path()).unwrap();
    assert_eq!(again.language, bank.language);
    assert_eq!(again.items, bank.items);
    assert_eq!(again.clips, bank.clips);
}

#[test]
fn the_demo_has_one_item_of_each_type_and_practice_has_tips() {
    let demo = Bank::english_demo();
    let types: Vec<ItemType> = demo.items.iter().map(|i| i.item_type()).collect();
    assert_eq!(demo.items.len(), 7);
    for t in ItemType::ALL {
        assert!(types.contains(&t), "{t} in the demo");
    }
    let practice = Bank::english_practice();
    for d in Domain::ALL {
        assert!(
            practice.items.iter().filter(|i| i.domain == d).count() >= 5,
            "{d}"
        );
    }
    assert!(
        practice.items.iter().all(|i| i.tip.is_some()),
        "every exercise has a tip"
    );
    // Neither shares an id or a text with the exam bank.
    let exam = Bank::english();
    for i in demo.items.iter().chain(&practice.items) {
        assert!(exam.item(&i.id).is_none());
        assert!(
            !exam.items.iter().any(|e| e.body == i.body),
            "{} copies an exam item",
            i.id
        );
    }
}
