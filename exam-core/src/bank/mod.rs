//! The item bank: the file format of `docs/items.md`, its validation, the shipped
//! English bank, and the exchange with IMS QTI 3.0.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bank = exam_core::bank::Bank::english();           // embedded in the binary
//! let other = exam_core::bank::Bank::load("bank/en".as_ref()).map_err(|e| format!("{} errors", e.len()))?;
//! assert_eq!(bank.items.len(), other.items.len());
//! # Ok(()) }
//! ```

mod file;
mod item;
mod kind;
mod public;
pub mod qti;
mod response;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use include_dir::{Dir, include_dir};

pub use file::{FORMAT, parse_file, to_toml};
pub use item::{
    Body, DropdownGap, Irt, IrtModel, Item, ListeningResponse, TextGap, gap_numbers,
    normalize_typed,
};
pub use kind::{Domain, ItemType};
pub use public::{
    PublicBody, PublicDropdownGap, PublicItem, PublicListeningResponse, PublicTextGap, shuffle,
};
pub use response::{Response, ResponseError};

static ENGLISH: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../bank/en");

/// One problem found in a bank file, located by item id and field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankError {
    /// The file the error was found in, when known.
    pub file: Option<String>,
    /// The item's id (or `#n` for the n-th item without an id); `None` for the file itself.
    pub item: Option<String>,
    /// The field at fault (`options`, `gaps[2].answer`, `irt.steps`, …).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl BankError {
    fn file(field: &str, message: impl Into<String>) -> Self {
        BankError {
            file: None,
            item: None,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn item(id: &str, field: &str, message: impl Into<String>) -> Self {
        BankError {
            file: None,
            item: Some(id.to_owned()),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_owned());
        self
    }
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        match &self.item {
            Some(id) => write!(f, "{id} {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// A validated item bank for one tested language, with its listening clips.
#[derive(Clone, Debug, Default)]
pub struct Bank {
    /// The language tested (ISO 639-1).
    pub language: String,
    /// Every item, in file order, domain by domain.
    pub items: Vec<Item>,
    /// The clips by path relative to the bank folder (`clips/en-lis-001.ogg`).
    pub clips: BTreeMap<String, Vec<u8>>,
}

impl Bank {
    /// The English bank shipped inside the binary.
    pub fn english() -> Bank {
        Bank::embedded(&ENGLISH).expect("the embedded English bank is validated by its tests")
    }

    /// The English demo mini-test (seven items, one per type), shipped inside the binary.
    pub fn english_demo() -> Bank {
        ENGLISH
            .get_dir("demo")
            .map(|d| Bank::embedded(d).expect("the demo bank is validated by its tests"))
            .unwrap_or_default()
    }

    /// The English practice exercises, shipped inside the binary.
    pub fn english_practice() -> Bank {
        ENGLISH
            .get_dir("practice")
            .map(|d| Bank::embedded(d).expect("the practice bank is validated by its tests"))
            .unwrap_or_default()
    }

    /// A bank from an embedded folder: its `*.toml` files and its `clips/`.
    fn embedded(dir: &Dir<'_>) -> Result<Bank, Vec<BankError>> {
        let base = dir.path().to_owned();
        let rel = |p: &Path| p.strip_prefix(&base).unwrap_or(p).display().to_string();
        let files = dir
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
            .map(|f| {
                (
                    rel(f.path()),
                    f.contents_utf8().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let clips = dir
            .get_dir(base.join("clips"))
            .map(|d| {
                d.files()
                    .map(|f| (rel(f.path()), f.contents().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        Bank::from_sources(files, clips)
    }

    /// Loads a bank folder (every `*.toml` file and `clips/`), or a single file.
    pub fn load(path: &Path) -> Result<Bank, Vec<BankError>> {
        let io =
            |e: std::io::Error| vec![BankError::file("path", format!("{}: {e}", path.display()))];
        let mut files = Vec::new();
        let mut clips = BTreeMap::new();
        let base = if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            entries.sort();
            for p in entries {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                files.push((name, std::fs::read_to_string(&p).map_err(io)?));
            }
            path.to_owned()
        } else {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            files.push((name, std::fs::read_to_string(path).map_err(io)?));
            path.parent().unwrap_or(Path::new(".")).to_owned()
        };
        if let Ok(rd) = std::fs::read_dir(base.join("clips")) {
            for e in rd.filter_map(Result::ok) {
                let name = format!("clips/{}", e.file_name().to_string_lossy());
                clips.insert(name, std::fs::read(e.path()).map_err(io)?);
            }
        }
        Bank::from_sources(files, clips)
    }

    /// Builds a bank from file texts (name, source) and clips, listing every error.
    pub fn from_sources(
        files: Vec<(String, String)>,
        clips: BTreeMap<String, Vec<u8>>,
    ) -> Result<Bank, Vec<BankError>> {
        let mut errors = Vec::new();
        let mut bank = Bank {
            clips,
            ..Bank::default()
        };
        for (name, source) in files {
            match parse_file(&source) {
                Ok((language, items)) => {
                    if bank.language.is_empty() {
                        bank.language = language;
                    } else if bank.language != language {
                        errors.push(
                            BankError::file(
                                "language",
                                format!(
                                    "{language:?} differs from {:?} in another file",
                                    bank.language
                                ),
                            )
                            .in_file(&name),
                        );
                    }
                    bank.items.extend(items);
                }
                Err(errs) => errors.extend(errs.into_iter().map(|e| e.in_file(&name))),
            }
        }
        // Files may come in any order; the bank keeps the test's domain order.
        bank.items.sort_by_key(|i| i.domain);
        let mut seen = HashSet::new();
        for item in &bank.items {
            if !seen.insert(item.id.as_str()) {
                errors.push(BankError::item(&item.id, "id", "appears twice in the bank"));
            }
            if let Body::Listening { clip, .. } = &item.body {
                match bank.clips.get(clip) {
                    None => errors.push(BankError::item(
                        &item.id,
                        "clip",
                        format!("{clip} is missing (run tools/clipgen)"),
                    )),
                    Some(bytes) if !bytes.starts_with(b"OggS") => errors.push(BankError::item(
                        &item.id,
                        "clip",
                        format!("{clip} is not an Ogg file"),
                    )),
                    Some(_) => {}
                }
            }
        }
        if errors.is_empty() {
            Ok(bank)
        } else {
            Err(errors)
        }
    }

    /// The item with that id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The bank as the adaptive engine's pool (ids, domains, types and IRT models).
    pub fn cat_pool(&self) -> Result<crate::cat::Pool, crate::cat::CatError> {
        crate::cat::Pool::new(
            self.items
                .iter()
                .map(|i| crate::cat::CatItem {
                    id: i.id.clone(),
                    domain: i.domain,
                    item_type: i.item_type(),
                    model: i.irt.model.to_cat(),
                })
                .collect(),
        )
    }

    /// The bank in the TOML format, one text per domain file (`vocabulary.toml`, …).
    pub fn to_files(&self) -> Vec<(String, String)> {
        Domain::ALL
            .iter()
            .filter_map(|d| {
                let items: Vec<&Item> = self.items.iter().filter(|i| i.domain == *d).collect();
                (!items.is_empty()).then(|| (format!("{d}.toml"), to_toml(&self.language, &items)))
            })
            .collect()
    }
}
