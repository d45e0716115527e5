//! Round trips of hand-built items and packages.

use std::collections::BTreeMap;

use super::*;
use crate::bank::item::{DropdownGap, Irt, IrtModel, ListeningResponse, TextGap};
use crate::bank::{Domain, parse_file};
use crate::cefr::Cefr;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn two_pl(b: f64) -> Irt {
    Irt {
        model: IrtModel::TwoPl { a: 1.0, b },
        provisional: true,
    }
}

fn gpcm(steps: &[f64]) -> Irt {
    Irt {
        model: IrtModel::Gpcm {
            a: 0.9,
            steps: steps.to_vec(),
        },
        provisional: true,
    }
}

fn item(id: &str, domain: Domain, cefr: Cefr, irt: Irt, body: Body) -> Item {
    Item {
        id: id.to_owned(),
        domain,
        cefr,
        time_limit_s: 60,
        instruction: "Choose the best answer.".to_owned(),
        irt,
        body,
        tip: None,
    }
}

/// One item of each type and each listening response, all valid.
fn sample_items() -> Vec<Item> {
    vec![
        item(
            "en-voc-001",
            Domain::Vocabulary,
            Cefr::A1,
            Irt {
                model: IrtModel::ThreePl {
                    a: 1.25,
                    b: -2.5,
                    c: 0.2,
                },
                provisional: false,
            },
            Body::Choice {
                passage: None,
                stem: "Which word is the opposite of \"hot\" & 'warm'?".to_owned(),
                options: strings(&["cold", "<wet>", "old & slow", "a > b"]),
                answer: 0,
            },
        ),
        item(
            "en-rea-001",
            Domain::Reading,
            Cefr::B2,
            two_pl(0.5),
            Body::Choice {
                passage: Some(
                    "Tom's shop — \"Fish & Chips\"\n\nOpen 9 < 5?\r\nYes.  \n".to_owned(),
                ),
                stem: "When does the shop open?".to_owned(),
                options: strings(&["At 9", "At 5", "Never"]),
                answer: 2,
            },
        ),
        item(
            "en-gra-001",
            Domain::Grammar,
            Cefr::B1,
            gpcm(&[-1.0, 0.0]),
            Body::DropdownGaps {
                text: "She {1} to school every day & {2} the bus.\nThe end <3.".to_owned(),
                gaps: vec![
                    DropdownGap {
                        options: strings(&["go", "goes", "going"]),
                        answer: 1,
                    },
                    DropdownGap {
                        options: strings(&["takes", "take"]),
                        answer: 0,
                    },
                ],
            },
        ),
        item(
            "en-gra-002",
            Domain::Grammar,
            Cefr::A2,
            two_pl(-1.5),
            Body::OrderSentences {
                passage_title: Some("A day at the \"zoo\"".to_owned()),
                sentences: strings(&[
                    "First, we met.",
                    "Then we ate.",
                    "We saw lions & tigers.",
                    "Finally, we left.",
                ]),
            },
        ),
        item(
            "en-gra-003",
            Domain::Grammar,
            Cefr::B1,
            two_pl(-0.5),
            Body::OrderSentences {
                passage_title: None,
                sentences: strings(&["One.", "Two.", "Three.", "Four.", "Five."]),
            },
        ),
        item(
            "en-voc-002",
            Domain::Vocabulary,
            Cefr::B2,
            gpcm(&[0.0, 1.0]),
            Body::WordBank {
                text: "The {1} sat on the {2}.".to_owned(),
                words: strings(&["mat", "cat", "hat", "<b>"]),
                answers: strings(&["cat", "mat"]),
            },
        ),
        item(
            "en-gra-004",
            Domain::Grammar,
            Cefr::C1,
            Irt {
                model: IrtModel::TwoPl {
                    a: 0.1 + 0.2,
                    b: 1.0 / 3.0,
                },
                provisional: false,
            },
            Body::OrderWords {
                words: strings(&["the", "cat", "saw", "the", "dog", "."]),
                alternatives: vec![strings(&["the", "dog", "saw", "the", "cat", "."])],
            },
        ),
        item(
            "en-gra-005",
            Domain::Grammar,
            Cefr::A1,
            two_pl(-2.5),
            Body::OrderWords {
                words: strings(&["I", "am", "a", "student"]),
                alternatives: Vec::new(),
            },
        ),
        item(
            "en-exp-001",
            Domain::Expressions,
            Cefr::C2,
            gpcm(&[2.0, 2.5, 3.0]),
            Body::TextGaps {
                text: "{1} you mind? I {2} (never) do that. It's a {3}.".to_owned(),
                gaps: vec![
                    TextGap {
                        accept: strings(&["Would", "would", "Do"]),
                        root: None,
                    },
                    TextGap {
                        accept: strings(&["would", "'d", "will"]),
                        root: Some("will (modal)".to_owned()),
                    },
                    TextGap {
                        accept: strings(&["piece of cake"]),
                        root: Some("(x)".to_owned()),
                    },
                ],
            },
        ),
        item(
            "en-lis-001",
            Domain::Listening,
            Cefr::B1,
            two_pl(-0.5),
            Body::Listening {
                transcript: "A: Where's the station?\nB: Next to the bank & the \"café\"."
                    .to_owned(),
                clip: "clips/en-lis-001.ogg".to_owned(),
                voice: None,
                max_plays: 2,
                stem: "Where is the station?".to_owned(),
                response: ListeningResponse::Choice {
                    options: strings(&["Next to the bank", "Far away"]),
                    answer: 0,
                },
            },
        ),
        item(
            "en-lis-002",
            Domain::Listening,
            Cefr::B2,
            gpcm(&[0.0, 1.0]),
            Body::Listening {
                transcript: "The train to <York> leaves at ten.".to_owned(),
                clip: "clips/en-lis-002.ogg".to_owned(),
                voice: Some("en-gb+\"f3\" & <x>\t'y'".to_owned()),
                max_plays: 1,
                stem: "Complete the sentence.\nWrite one word per gap.".to_owned(),
                response: ListeningResponse::TextGaps {
                    text: "The train to {1} leaves at {2}.".to_owned(),
                    gaps: vec![
                        TextGap {
                            accept: strings(&["York"]),
                            root: None,
                        },
                        TextGap {
                            accept: strings(&["ten", "10", "10:00"]),
                            root: None,
                        },
                    ],
                },
            },
        ),
    ]
}

fn sample_bank() -> Bank {
    let items = sample_items();
    let refs: Vec<&Item> = items.iter().collect();
    let clips: BTreeMap<String, Vec<u8>> = [
        ("clips/en-lis-001.ogg".to_owned(), b"OggS one".to_vec()),
        ("clips/en-lis-002.ogg".to_owned(), b"OggS two".to_vec()),
    ]
    .into();
    Bank::from_sources(vec![("all.toml".to_owned(), to_toml("en", &refs))], clips)
        .expect("the sample items are valid")
}

#[test]
fn sample_items_are_valid_and_cover_every_type() {
    let bank = sample_bank();
    let mut expected = sample_items();
    expected.sort_by_key(|i| i.domain);
    assert_eq!(bank.items, expected);
    for t in crate::bank::ItemType::ALL {
        assert!(bank.items.iter().any(|i| i.item_type() == t), "no {t} item");
    }
}

#[test]
fn every_item_round_trips() {
    let mut items = sample_items();
    items[0].tip = Some("Look at the words around the gap.\nThen & only then, choose.".to_owned());
    for item in items {
        let xml = item_to_xml(&item);
        let back = item_from_xml(&xml).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", item.id));
        assert_eq!(back, item, "{xml}");
    }
}

#[test]
fn awkward_numbers_round_trip() {
    for (a, b, c) in [
        (1e-7, -0.0, 0.49999999999999994),
        (5.0, 6.0, 0.0),
        (0.1 + 0.2, -1.0 / 3.0, 1e-300),
    ] {
        let mut i = sample_items().remove(0);
        i.irt.model = IrtModel::ThreePl { a, b, c };
        assert_eq!(item_from_xml(&item_to_xml(&i)).unwrap(), i);
    }
}

#[test]
fn item_xml_uses_the_qti_vocabulary() {
    let items = sample_items();
    let xml = |id: &str| item_to_xml(items.iter().find(|i| i.id == id).unwrap());
    let choice = xml("en-voc-001");
    assert!(
        choice
            .contains("<qti-assessment-item xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\"")
    );
    assert!(choice.contains("max-choices=\"1\""));
    assert!(
        choice.contains(
            "<qti-prompt>Which word is the opposite of \"hot\" &amp; 'warm'?</qti-prompt>"
        )
    );
    assert!(
        choice.contains("<qti-simple-choice identifier=\"C2\">&lt;wet&gt;</qti-simple-choice>")
    );
    assert!(choice.contains("data-langcert-irt-model=\"3pl\""));
    let gaps = xml("en-gra-001");
    assert!(gaps.contains(
        "<p>She <qti-inline-choice-interaction response-identifier=\"RESPONSE_1\" shuffle=\"false\"><qti-inline-choice identifier=\"G1_1\">go</qti-inline-choice>"
    ));
    assert!(gaps.contains("data-langcert-irt-steps=\"-1 0\""));
    let order = xml("en-gra-004");
    assert!(order.contains("cardinality=\"ordered\" base-type=\"identifier\""));
    assert!(
        order.contains(
            "<qti-simple-choice identifier=\"W1\" fixed=\"true\">the</qti-simple-choice>"
        )
    );
    let bank = xml("en-voc-002");
    assert!(bank.contains("cardinality=\"multiple\" base-type=\"directedPair\""));
    assert!(bank.contains("<qti-value>W2 G1</qti-value>"));
    assert!(bank.contains("<qti-gap-text identifier=\"W1\" match-max=\"1\">mat</qti-gap-text>"));
    let typed = xml("en-exp-001");
    assert!(typed.contains(
        "<span class=\"langcert-root\">(will (modal))</span><qti-text-entry-interaction response-identifier=\"RESPONSE_2\""
    ));
    assert!(typed.contains(
        "<qti-map-entry map-key=\"&apos;d\" mapped-value=\"1\" case-sensitive=\"false\"/>"
    ));
    let listening = xml("en-lis-002");
    assert!(listening.contains("max-plays=\"1\""));
    assert!(listening.contains("<source src=\"../clips/en-lis-002.ogg\" type=\"audio/ogg\"/>"));
    assert!(listening.contains("<qti-rubric-block use=\"transcript\" view=\"scorer\">"));
    assert!(
        listening.contains(
            "data-langcert-voice=\"en-gb+&quot;f3&quot; &amp; &lt;x&gt;&#9;&apos;y&apos;\""
        )
    );
}

#[test]
fn package_round_trips_and_lists_every_item() {
    let bank = sample_bank();
    let dir = tempfile::tempdir().unwrap();
    export(&bank, dir.path()).unwrap();
    let manifest = std::fs::read_to_string(dir.path().join(MANIFEST)).unwrap();
    let root = dom::parse(&manifest).unwrap();
    let resources: Vec<_> = root
        .child("resources")
        .unwrap()
        .children_named("resource")
        .collect();
    let item_hrefs: Vec<&str> = resources
        .iter()
        .filter(|r| r.attr("type") == Some(ITEM_RESOURCE))
        .map(|r| r.attr("href").unwrap())
        .collect();
    let expected: Vec<String> = bank
        .items
        .iter()
        .map(|i| format!("items/{}.xml", i.id))
        .collect();
    assert_eq!(item_hrefs, expected);
    for href in &item_hrefs {
        assert!(dir.path().join(href).is_file());
    }
    assert!(manifest.contains("<dependency identifierref=\"clip-en-lis-002.ogg\"/>"));
    assert_eq!(
        std::fs::read(dir.path().join("clips/en-lis-001.ogg")).unwrap(),
        b"OggS one"
    );

    let back = import(dir.path()).unwrap();
    assert_eq!(back.language, "en");
    assert_eq!(back.items, bank.items);
    assert_eq!(back.clips, bank.clips);
}

#[test]
fn malformed_xml_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    export(&sample_bank(), dir.path()).unwrap();
    let path = dir.path().join("items/en-gra-001.xml");
    let xml = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, xml.replace("</qti-item-body>", "</qti-body>")).unwrap();
    match import(dir.path()) {
        Err(e @ QtiError::Xml { .. }) => {
            let QtiError::Xml { file, message } = &e else {
                unreachable!()
            };
            assert_eq!(file, "items/en-gra-001.xml");
            assert!(message.starts_with("line "), "{message}");
            assert!(e.to_string().starts_with("items/en-gra-001.xml: "), "{e}");
        }
        other => panic!("expected an XML error, got {other:?}"),
    }
    assert!(matches!(
        item_from_xml("<qti-assessment-item>"),
        Err(QtiError::Xml { .. })
    ));
    assert!(matches!(
        item_from_xml("not xml at all"),
        Err(QtiError::Content { .. } | QtiError::Xml { .. })
    ));
}

#[test]
fn missing_parts_are_named() {
    let xml = item_to_xml(&sample_items()[0]).replace(" data-langcert-cefr=\"A1\"", "");
    match item_from_xml(&xml) {
        Err(QtiError::Missing { what, .. }) => {
            assert!(what.contains("data-langcert-cefr"), "{what}")
        }
        other => panic!("{other:?}"),
    }
    let xml = item_to_xml(&sample_items()[0])
        .replace("<qti-value>C1</qti-value>", "<qti-value>C9</qti-value>");
    assert!(matches!(item_from_xml(&xml), Err(QtiError::Content { .. })));
}

#[test]
fn import_validates_like_the_bank() {
    let dir = tempfile::tempdir().unwrap();
    export(&sample_bank(), dir.path()).unwrap();
    let path = dir.path().join("items/en-voc-001.xml");
    let xml = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        xml.replace(
            "data-langcert-time-limit-s=\"60\"",
            "data-langcert-time-limit-s=\"5\"",
        ),
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("clips/en-lis-002.ogg")).unwrap();
    match import(dir.path()) {
        Err(QtiError::Io { path, .. }) => assert!(path.ends_with("clips/en-lis-002.ogg")),
        other => panic!("{other:?}"),
    }
    std::fs::write(dir.path().join("clips/en-lis-002.ogg"), b"not ogg").unwrap();
    match import(dir.path()) {
        Err(QtiError::Invalid(errors)) => {
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert_eq!(errors[0].file.as_deref(), Some("items/en-voc-001.xml"));
            assert_eq!(errors[0].field, "time_limit_s");
            assert_eq!(errors[1].field, "clip");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn paths_leaving_the_package_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    export(&sample_bank(), dir.path()).unwrap();
    let path = dir.path().join(MANIFEST);
    let manifest = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        manifest.replace("href=\"items/en-voc-001.xml\"", "href=\"../../etc/passwd\""),
    )
    .unwrap();
    assert!(matches!(import(dir.path()), Err(QtiError::Path { .. })));

    let mut bank = sample_bank();
    bank.clips
        .insert("/tmp/evil.ogg".to_owned(), b"OggS".to_vec());
    assert!(matches!(
        export(&bank, dir.path()),
        Err(QtiError::Path { .. })
    ));
}

#[test]
fn exported_items_parse_as_bank_toml_again() {
    // The TOML regenerated on import is the bank's own format.
    let items = sample_items();
    let back: Vec<Item> = items
        .iter()
        .map(|i| item_from_xml(&item_to_xml(i)).unwrap())
        .collect();
    let refs: Vec<&Item> = back.iter().collect();
    let (language, parsed) = parse_file(&to_toml("en", &refs)).unwrap();
    assert_eq!(language, "en");
    assert_eq!(parsed, items);
}

/// A small deterministic generator of awkward strings.
struct Awkward(u64);

impl Awkward {
    fn string(&mut self, braces: bool) -> String {
        const POOL: &[char] = &[
            'a', 'Z', ' ', ' ', '&', '<', '>', '"', '\'', '\n', '\r', '\t', ';', '#', '\u{1}',
            '\u{7f}', '\u{85}', '\u{a0}', 'é', '€', '😀', ']', '{', '}', '(', ')',
        ];
        let mut out = String::new();
        loop {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (self.0 >> 33) as usize;
            if r.is_multiple_of(13) && !out.is_empty() {
                return out;
            }
            let c = POOL[r % POOL.len()];
            if braces || !matches!(c, '{' | '}') {
                out.push(c);
            }
        }
    }
}

#[test]
fn awkward_texts_round_trip() {
    let mut g = Awkward(7);
    for _ in 0..50 {
        for mut item in sample_items() {
            item.instruction = g.string(true);
            match &mut item.body {
                Body::Choice {
                    passage,
                    stem,
                    options,
                    ..
                } => {
                    *passage = Some(g.string(true));
                    *stem = g.string(true);
                    options.iter_mut().for_each(|o| *o = g.string(true));
                }
                Body::DropdownGaps { text, gaps } => {
                    *text = format!(
                        "{}{{1}}{}{{2}}{}",
                        g.string(false),
                        g.string(false),
                        g.string(false)
                    );
                    gaps.iter_mut()
                        .flat_map(|g| g.options.iter_mut())
                        .for_each(|o| *o = g.string(true));
                }
                Body::OrderSentences {
                    passage_title,
                    sentences,
                } => {
                    *passage_title = Some(g.string(true));
                    sentences.iter_mut().for_each(|s| *s = g.string(true));
                }
                Body::WordBank { text, .. } => {
                    *text = format!("{}{{1}}{{2}}{}", g.string(false), g.string(false));
                }
                Body::OrderWords { .. } => {}
                Body::TextGaps { text, gaps } => {
                    *text = format!("{{1}}{}{{2}}\n{{3}}{}", g.string(false), g.string(false));
                    for gap in gaps.iter_mut() {
                        gap.accept = vec![g.string(true), g.string(true)];
                        gap.root = gap.root.as_ref().map(|_| g.string(true));
                    }
                }
                Body::Listening {
                    transcript,
                    voice,
                    stem,
                    clip,
                    ..
                } => {
                    *transcript = g.string(true);
                    *voice = Some(g.string(true));
                    *stem = g.string(true);
                    *clip = format!("clips/{}.ogg", g.string(true));
                }
            }
            let xml = item_to_xml(&item);
            let back = item_from_xml(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
            assert_eq!(back, item, "{xml}");
        }
    }
}

#[test]
fn damaged_documents_fail_without_panicking() {
    for item in sample_items() {
        let xml = item_to_xml(&item);
        let cuts = (0..xml.len())
            .step_by(5)
            .filter(|&i| xml.is_char_boundary(i));
        for cut in cuts {
            if cut < xml.trim_end().len() {
                assert!(item_from_xml(&xml[..cut]).is_err());
            }
            // Dropping a few characters somewhere must not panic either.
            let end = (cut + 9).min(xml.len());
            if xml.is_char_boundary(end) {
                let _ = item_from_xml(&format!("{}{}", &xml[..cut], &xml[end..]));
            }
        }
    }
}
