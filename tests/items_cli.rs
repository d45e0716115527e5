//! `langcert items …` as a bank author uses it.

use std::process::Command;

fn langcert(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_langcert"))
        .args(args)
        .output()
        .expect("run langcert")
}

#[test]
fn validate_accepts_the_shipped_bank() {
    let out = langcert(&[
        "items",
        "validate",
        concat!(env!("CARGO_MANIFEST_DIR"), "/bank/en"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no error"));
}

#[test]
fn validate_lists_every_error_of_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    std::fs::write(
        &file,
        r#"language = "en"
format = 1

[[items]]
id = "x-1"
domain = "vocabulary"
type = "choice"
cefr = "Z9"
time_limit_s = 30
instruction = "Choose."
irt = { model = "2pl", a = -1.0, b = 0.0, provisional = true }
stem = "?"
options = ["a", "a"]
answer = 0

[[items]]
id = "x-2"
domain = "vocabulary"
type = "text_gaps"
cefr = "A1"
time_limit_s = 30
instruction = "Type."
irt = { model = "2pl", a = 1.0, b = 0.0, provisional = true }
text = "No gap here."
gaps = [{ accept = [] }]
"#,
    )
    .unwrap();
    let out = langcert(&["items", "validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "x-1 cefr:",
        "x-1 irt.a:",
        "x-1 options: two options are the same",
        "x-2 gaps[1].accept: lists no accepted answer",
        "x-2 text:",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }
}

#[test]
fn export_then_import_gives_back_the_bank() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("qti");
    let back = dir.path().join("back");
    let out = langcert(&[
        "items",
        "export",
        "--format",
        "qti3",
        "--out",
        pkg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(pkg.join("imsmanifest.xml").exists());
    let out = langcert(&[
        "items",
        "import",
        "--format",
        "qti3",
        pkg.to_str().unwrap(),
        "--out",
        back.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shipped = exam_core::bank::Bank::english();
    let imported = exam_core::bank::Bank::load(&back).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(imported.items, shipped.items);
    assert_eq!(imported.clips, shipped.clips);
    let out = langcert(&["items", "validate", back.to_str().unwrap()]);
    assert!(out.status.success());
}
