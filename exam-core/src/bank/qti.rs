//! Exchange with IMS QTI 3.0: a bank as a content package, an item as a
//! `qti-assessment-item` document, and back without loss.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use exam_core::bank::{Bank, qti};
//! let bank = Bank::english();
//! qti::export(&bank, "out/qti".as_ref())?;        // imsmanifest.xml, items/*.xml, clips/*.ogg
//! let back = qti::import("out/qti".as_ref())?;    // validated like Bank::load
//! assert_eq!(back.items, bank.items);
//! # Ok(()) }
//! ```
//!
//! # The package
//!
//! `imsmanifest.xml` (IMS CP, QTI 3.0 profile) lists one `imsqti_item_xmlv3p0` resource
//! per item, `items/<id>.xml`, in bank order, and one `webcontent` resource per clip,
//! `clips/<name>.ogg`; a listening item's resource depends on its clip's. The bank's
//! language is the manifest's `metadata/lom/general/language` (and each item's
//! `xml:lang`).
//!
//! # An item
//!
//! | type | item body |
//! |---|---|
//! | `dropdown_gaps` | `div.langcert-text`, one `p` per line of the text, each `{n}` replaced in place by a `qti-inline-choice-interaction` answering `RESPONSE_n` (choices `G<n>_<k>`) |
//! | `order_sentences` | optional `h2.langcert-passage-title`, then a `qti-order-interaction` (vertical, shuffled) with one `qti-simple-choice` `S<k>` per sentence in the right order, the first `fixed="true"` |
//! | `word_bank` | `qti-gap-match-interaction`: one `qti-gap-text` `W<k>` per word (`match-max="1"`), then the `div.langcert-text` with a `qti-gap` `G<n>` per gap |
//! | `order_words` | as `order_sentences`, horizontal, choices `W<k>` |
//! | `text_gaps` | as `dropdown_gaps` with a `qti-text-entry-interaction` per gap, preceded by `span.langcert-root` holding `(root)` when the gap has one |
//! | `choice` | optional `div.langcert-passage` (a `p` per line), then a `qti-choice-interaction` (`max-choices="1"`, the stem as `qti-prompt`, choices `C<k>`) |
//! | `listening` | `qti-rubric-block use="transcript" view="scorer"` (a `p` per line), a `qti-media-interaction` (`max-plays`, an `audio` whose `source` is `../<clip>`), then the choice as above, or `div.langcert-stem` and the text entries |
//!
//! Every item body starts with the instruction in a `qti-rubric-block use="instructions"
//! view="candidate"`. Response declarations: `RESPONSE` (single identifier for a choice,
//! ordered identifier for an order, multiple directedPair `W<k> G<n>` for a word bank)
//! or `RESPONSE_n` per gap (single identifier, or single string whose correct response is
//! the first accepted answer and whose `qti-mapping` lists every accepted answer,
//! case-insensitive); listening items add `MEDIA` (single integer). The response
//! processing scores as the bank does, and for `order_words` lists each alternative order
//! as a `qti-ordered` value, which is where the alternatives are read back from.
//!
//! What QTI has no place for is in `data-langcert-*` attributes of
//! `qti-assessment-item`: `type`, `domain`, `cefr`, `time-limit-s`, `irt-model`, `irt-a`,
//! `irt-b`, `irt-c`, `irt-steps` (space-separated), `irt-provisional`, and a listening
//! item's `voice`. Numbers are written in Rust's shortest round-tripping form.

mod dom;
mod from_xml;
mod markup;
mod to_xml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use super::item::{Body, Item};
use super::{Bank, BankError, to_toml};
use markup::Markup;

const QTI_NS: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0";
const QTI_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd";
const CP_NS: &str = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1";
const CP_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd";
const LOM_NS: &str = "http://ltsc.ieee.org/xsd/LOM";
const LOM_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/md/v1p3/schema/xsd/imsmd_loose_v1p3p2.xsd";

/// The file name of the package's manifest.
pub const MANIFEST: &str = "imsmanifest.xml";
/// The resource type of a QTI 3.0 item in the manifest.
pub const ITEM_RESOURCE: &str = "imsqti_item_xmlv3p0";

const RESPONSE_ID: &str = "RESPONSE";
const MEDIA_ID: &str = "MEDIA";
const USE_INSTRUCTIONS: &str = "instructions";
const USE_TRANSCRIPT: &str = "transcript";
const CLASS_TEXT: &str = "langcert-text";
const CLASS_ROOT: &str = "langcert-root";
const CLASS_PASSAGE: &str = "langcert-passage";
const CLASS_PASSAGE_TITLE: &str = "langcert-passage-title";
const CLASS_STEM: &str = "langcert-stem";

/// The `data-langcert-*` attributes of `qti-assessment-item`.
mod attr {
    pub(super) const TYPE: &str = "data-langcert-type";
    pub(super) const DOMAIN: &str = "data-langcert-domain";
    pub(super) const CEFR: &str = "data-langcert-cefr";
    pub(super) const TIME_LIMIT: &str = "data-langcert-time-limit-s";
    pub(super) const IRT_MODEL: &str = "data-langcert-irt-model";
    pub(super) const IRT_A: &str = "data-langcert-irt-a";
    pub(super) const IRT_B: &str = "data-langcert-irt-b";
    pub(super) const IRT_C: &str = "data-langcert-irt-c";
    pub(super) const IRT_STEPS: &str = "data-langcert-irt-steps";
    pub(super) const IRT_PROVISIONAL: &str = "data-langcert-irt-provisional";
    pub(super) const VOICE: &str = "data-langcert-voice";
}

/// The response identifier of gap `n` (from 1).
fn gap_response_id(n: usize) -> String {
    format!("{RESPONSE_ID}_{n}")
}

/// Why a package or an item could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QtiError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not well-formed XML.
    #[error("{file}: not well-formed XML: {message}")]
    Xml {
        /// The file, relative to the package folder (`items/en-voc-001.xml`).
        file: String,
        /// What is wrong, with its line.
        message: String,
    },
    /// Something an item or the manifest needs is not there.
    #[error("{file}: missing {what}")]
    Missing {
        /// The file, relative to the package folder.
        file: String,
        /// What is missing.
        what: String,
    },
    /// A well-formed file that does not hold an item (or manifest) as this module writes it.
    #[error("{file}: {message}")]
    Content {
        /// The file, relative to the package folder.
        file: String,
        /// What is wrong, with its line.
        message: String,
    },
    /// A path in the manifest or the bank that would leave the package folder.
    #[error("{path:?} is not a relative path inside the package")]
    Path {
        /// The offending path.
        path: String,
    },
    /// The imported items break the rules of the bank format (`docs/items.md`).
    #[error("{} problem(s) in the imported bank:\n{}", .0.len(), list(.0))]
    Invalid(Vec<BankError>),
}

fn list(errors: &[BankError]) -> String {
    let mut out = String::new();
    for e in errors {
        let _ = writeln!(out, "  {e}");
    }
    out
}

/// The item as a QTI 3.0 `qti-assessment-item` document (see the module docs).
pub fn item_to_xml(item: &Item) -> String {
    to_xml::item_xml(item, None)
}

/// Reads an item written by [`item_to_xml`]. The item is not validated; [`import`] does
/// that for a whole package.
pub fn item_from_xml(xml: &str) -> Result<Item, QtiError> {
    from_xml::parse_item(xml, "(item)")
}

/// Writes the bank as a QTI 3.0 content package in `dir` (created if needed):
/// `imsmanifest.xml`, `items/<id>.xml` and every clip of `bank.clips`.
pub fn export(bank: &Bank, dir: &Path) -> Result<(), QtiError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| QtiError::Io { path, source }
    };
    let items_dir = dir.join("items");
    std::fs::create_dir_all(&items_dir).map_err(io(&items_dir))?;
    let language = Some(bank.language.as_str());
    for item in &bank.items {
        let href = item_href(item)?;
        let path = dir.join(&href);
        std::fs::write(&path, to_xml::item_xml(item, language)).map_err(io(&path))?;
    }
    for (name, bytes) in &bank.clips {
        let path = dir.join(inside(name)?);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
    }
    let path = dir.join(MANIFEST);
    std::fs::write(&path, manifest(bank)?).map_err(io(&path))
}

/// Reads a package written by [`export`] and checks it as [`Bank::load`] checks a bank
/// folder, listing every problem in [`QtiError::Invalid`] with the item's file.
///
/// The items are the manifest's `imsqti_item_xmlv3p0` resources, in order (the bank then
/// keeps them in domain order); the clips are the files under `clips/` that its
/// resources list. No path may leave `dir`.
pub fn import(dir: &Path) -> Result<Bank, QtiError> {
    let read = |href: &str| {
        let path = dir.join(inside(href)?);
        std::fs::read(&path).map_err(|source| QtiError::Io { path, source })
    };
    let text = |href: &str| {
        String::from_utf8(read(href)?).map_err(|_| QtiError::Xml {
            file: href.to_owned(),
            message: "not UTF-8".to_owned(),
        })
    };
    let root = dom::parse(&text(MANIFEST)?).map_err(|message| QtiError::Xml {
        file: MANIFEST.to_owned(),
        message,
    })?;
    let missing = |what: &str| QtiError::Missing {
        file: MANIFEST.to_owned(),
        what: what.to_owned(),
    };
    if root.name != "manifest" {
        return Err(QtiError::Content {
            file: MANIFEST.to_owned(),
            message: format!("the root element is <{}>, not <manifest>", root.name),
        });
    }
    let language = root
        .child("metadata")
        .and_then(|m| m.find(&|e| e.name == "language"))
        .map(dom::Element::text)
        .ok_or_else(|| missing("the language (metadata/lom/general/language)"))?;
    let resources = root
        .child("resources")
        .ok_or_else(|| missing("<resources>"))?;
    let mut files = Vec::new();
    let mut clips = BTreeMap::new();
    for r in resources.children_named("resource") {
        let item_href = (r.attr("type") == Some(ITEM_RESOURCE))
            .then(|| {
                r.attr("href")
                    .ok_or_else(|| missing("the href of an item resource"))
            })
            .transpose()?;
        if let Some(href) = item_href {
            let item = from_xml::parse_item(&text(href)?, href)?;
            files.push((href.to_owned(), to_toml(&language, &[&item])));
        }
        for f in r.children_named("file") {
            let href = f
                .attr("href")
                .ok_or_else(|| missing("the href of a <file>"))?;
            if Some(href) != item_href && href.starts_with("clips/") {
                clips.insert(href.to_owned(), read(href)?);
            }
        }
    }
    Bank::from_sources(files, clips).map_err(QtiError::Invalid)
}

/// The item's file in the package, `items/<id>.xml`.
fn item_href(item: &Item) -> Result<String, QtiError> {
    let href = format!("items/{}.xml", item.id);
    inside(&href)?;
    if item.id.contains(['/', '\\']) {
        return Err(QtiError::Path { path: href });
    }
    Ok(href)
}

/// `href` as a path, if it is relative and stays inside the package folder.
fn inside(href: &str) -> Result<&Path, QtiError> {
    let path = Path::new(href);
    let ok = !href.is_empty()
        && !href.contains('\\')
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(path)
    } else {
        Err(QtiError::Path {
            path: href.to_owned(),
        })
    }
}

/// The manifest's identifier of a clip's resource.
fn clip_resource(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    format!("clip-{file}")
}

fn manifest(bank: &Bank) -> Result<String, QtiError> {
    let mut m = Markup::new();
    let schemas = format!("{CP_NS} {CP_SCHEMA} {LOM_NS} {LOM_SCHEMA}");
    let id = format!("langcert-bank-{}", bank.language);
    m.open(
        "manifest",
        &[
            ("xmlns", CP_NS),
            ("xmlns:imsmd", LOM_NS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &schemas),
            ("identifier", &id),
        ],
    );
    m.open("metadata", &[]);
    m.leaf("schema", &[], "QTI Package");
    m.leaf("schemaversion", &[], "3.0.0");
    m.open("imsmd:lom", &[]);
    m.open("imsmd:general", &[]);
    m.leaf("imsmd:language", &[], &bank.language);
    m.close("imsmd:general");
    m.close("imsmd:lom");
    m.close("metadata");
    m.empty("organizations", &[]);
    m.open("resources", &[]);
    for item in &bank.items {
        let href = item_href(item)?;
        let rid = format!("item-{}", item.id);
        m.open(
            "resource",
            &[
                ("identifier", &rid),
                ("type", ITEM_RESOURCE),
                ("href", &href),
            ],
        );
        m.empty("file", &[("href", &href)]);
        if let Body::Listening { clip, .. } = &item.body
            && bank.clips.contains_key(clip)
        {
            m.empty("dependency", &[("identifierref", &clip_resource(clip))]);
        }
        m.close("resource");
    }
    for name in bank.clips.keys() {
        inside(name)?;
        m.open(
            "resource",
            &[
                ("identifier", &clip_resource(name)),
                ("type", "webcontent"),
                ("href", name),
            ],
        );
        m.empty("file", &[("href", name)]);
        m.close("resource");
    }
    m.close("resources");
    m.close("manifest");
    Ok(m.finish())
}
