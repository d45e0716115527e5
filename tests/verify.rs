//! `langcert verify FILE`: a downloaded certificate checked with no network.

use std::process::Command;

use credential::{
    Bundle, Checkpoint, CredentialInput, IssuerKey, credential_leaf_hash, issue, merkle,
};

/// A bundle of the second of two credentials in a log of two. Its input is written out
/// here rather than shared with the credential crate's unit tests: they are this test's
/// own values (a holder, levels and dates of its own), and the crate keeps its test
/// inputs private instead of exporting a fixture for the binary's tests.
fn bundle(key: &IssuerKey) -> Bundle {
    let input = CredentialInput {
        id: "urn:uuid:7d7e2c1e-3c1b-4a7e-9a52-0a9f5d0c1b2a".into(),
        issuer_id: "https://certs.example/issuer".into(),
        issuer_name: "langcert".into(),
        holder_name: "Camille Martin".into(),
        holder_id: None,
        achievement_id: None,
        achievement_name: "English — CEFR B2".into(),
        overall: "B2".into(),
        levels: vec![
            ("written.vocabulary".into(), "B2".into()),
            ("oral".into(), "B2".into()),
        ],
        issued_at: 1_790_000_000,
    };
    let other = CredentialInput {
        id: "urn:uuid:11111111-2222-4333-8444-555555555555".into(),
        holder_name: "Someone Else".into(),
        ..input.clone()
    };
    let jwts = [issue(key, &other).unwrap(), issue(key, &input).unwrap()];
    let leaves: Vec<_> = jwts.iter().map(|j| credential_leaf_hash(j)).collect();
    let cp = Checkpoint::sign(
        key,
        "certs.example/log",
        2,
        merkle::root(&leaves),
        1_790_000_100,
    )
    .unwrap();
    let proof = merkle::inclusion_proof(1, &leaves).unwrap();
    Bundle::assemble(jwts[1].clone(), 1, proof, cp, &key.verifying_key()).unwrap()
}

fn verify(file: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_langcert"))
        .arg("verify")
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_downloaded_certificate_verifies_offline_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let key = IssuerKey::generate();
    let b = bundle(&key);
    let good = dir.path().join("good.json");
    std::fs::write(&good, b.to_json_pretty()).unwrap();
    let (code, out) = verify(&good, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VALID") && out.contains("Camille Martin") && out.contains("B2"),
        "{out}"
    );
    // Pinned to the issuer's published key: still valid; pinned to another key: refused.
    let jwk = dir.path().join("key.json");
    std::fs::write(&jwk, key.public_jwk().to_string()).unwrap();
    assert_eq!(verify(&good, &["--issuer-key", jwk.to_str().unwrap()]).0, 0);
    let other = dir.path().join("other.json");
    std::fs::write(&other, IssuerKey::generate().public_jwk().to_string()).unwrap();
    assert_eq!(
        verify(&good, &["--issuer-key", other.to_str().unwrap()]).0,
        1
    );
    // One character changed in the credential, the proof or the checkpoint: invalid.
    let text = b.to_json_pretty();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let targets = [
        value["credential"].as_str().unwrap().to_owned(),
        value["inclusion_proof"][0].as_str().unwrap().to_owned(),
        value["checkpoint"]["root_hash"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    for (n, target) in targets.iter().enumerate() {
        let mut chars: Vec<char> = target.chars().collect();
        let k = chars.len() / 3;
        chars[k] = if chars[k] == 'A' { 'B' } else { 'A' };
        let changed = text.replacen(target.as_str(), &chars.into_iter().collect::<String>(), 1);
        let file = dir.path().join(format!("bad{n}.json"));
        std::fs::write(&file, changed).unwrap();
        let (code, out) = verify(&file, &[]);
        assert_eq!(code, 1, "tampered part {n} must fail: {out}");
        assert!(out.starts_with("INVALID"), "{out}");
    }
}
