//! The certificate itself: an Open Badges 3.0 `OpenBadgeCredential` (W3C Verifiable
//! Credentials Data Model 2.0) secured as a compact JWS signed with Ed25519 — the
//! "JSON Web Token Proof Format" of Open Badges 3.0 §8.2.
//!
//! The JWS payload is the credential itself plus the registered claims that Open Badges
//! requires: `iss` = `issuer.id`, `jti` = `id`, `sub` = `credentialSubject.id`,
//! `nbf` = `validFrom`. There is no `validUntil`/`exp`: the certificate is valid for life.
//! The JOSE header is `{"alg":"EdDSA","typ":"JWT","kid":…,"jwk":…}` — Open Badges allows
//! only these members and requires `typ`, if present, to be `JWT`; `kid` is the RFC 9278
//! thumbprint URI of the key and `jwk` its public JWK.
//!
//! The holder's name is an `IdentityObject` of type `name` (not hashed, as a certificate
//! shows it); the levels are `Result`s, each pointing at a `ResultDescription` of the
//! achievement whose `name` is the part (`"overall"`, `"written.vocabulary"`, `"oral"` …).

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value, json};

use super::keys::{key_id_uri, public_jwk, verifying_key_from_jwk};
use super::merkle::{self, Hash};
use super::summary::CredentialSummary;
use super::{IssueError, IssuerKey, VerifyError, jws};

/// The first `@context` of every W3C VC 2.0 credential.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 JSON-LD context.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The name of the overall result among the credential's results.
pub const OVERALL_PART: &str = "overall";

/// What a certificate says, as the caller knows it when the overall level has reached the
/// centre's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInput {
    /// The credential's id, an absolute URI without fragment, normally `urn:uuid:…`.
    pub id: String,
    /// The issuer's id, an absolute URI (e.g. `https://host/issuer`); the JWT `iss`.
    pub issuer_id: String,
    /// The issuer's display name (the training centre or the platform).
    pub issuer_name: String,
    /// The holder's name as printed on the certificate.
    pub holder_name: String,
    /// An absolute URI for the holder (e.g. `urn:uuid:` of the candidate); when `None`
    /// the subject id is `<id>#holder`, specific to this credential. It is the JWT `sub`.
    pub holder_id: Option<String>,
    /// An absolute URI for the achievement (the kind of certificate); when `None` it is
    /// `<id>#achievement`.
    pub achievement_id: Option<String>,
    /// The achievement's name, e.g. "English — CEFR B2"; also the credential's `name`.
    pub achievement_name: String,
    /// The overall CEFR level reached, e.g. `B2`.
    pub overall: String,
    /// The level reached in each part, as `(part, level)`, e.g. `("oral", "B2")`, in the
    /// order to show them. Parts are unique and none is called `overall`.
    pub levels: Vec<(String, String)>,
    /// When the certificate was issued, in Unix seconds; its `validFrom` and `nbf`.
    pub issued_at: i64,
}

/// Signs the certificate described by `input` with `key` and returns the compact JWS.
///
/// Pure and deterministic: the same key and input give the same bytes (Ed25519 is
/// deterministic), which is what the Merkle log then hashes.
pub fn issue(key: &IssuerKey, input: &CredentialInput) -> Result<String, IssueError> {
    validate(input)?;
    let valid_from = DateTime::<Utc>::from_timestamp(input.issued_at, 0)
        .ok_or(IssueError::InvalidField {
            field: "issued_at",
            reason: "out of range",
        })?
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let subject_id = input
        .holder_id
        .clone()
        .unwrap_or_else(|| format!("{}#holder", input.id));
    let achievement_id = input
        .achievement_id
        .clone()
        .unwrap_or_else(|| format!("{}#achievement", input.id));

    let parts = std::iter::once((OVERALL_PART, input.overall.as_str()))
        .chain(input.levels.iter().map(|(p, l)| (p.as_str(), l.as_str())));
    let (descriptions, results): (Vec<Value>, Vec<Value>) = parts
        .enumerate()
        .map(|(i, (part, level))| {
            let description_id = format!("{}#result-{i}", input.id);
            (
                json!({
                    "id": description_id,
                    "type": ["ResultDescription"],
                    "name": part,
                    "resultType": "PerformanceLevel",
                }),
                json!({
                    "type": ["Result"],
                    "resultDescription": description_id,
                    "value": level,
                }),
            )
        })
        .unzip();

    let payload = json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": input.id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": input.issuer_id,
            "type": ["Profile"],
            "name": input.issuer_name,
        },
        "validFrom": valid_from,
        "name": input.achievement_name,
        "credentialSubject": {
            "id": subject_id,
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityHash": input.holder_name,
                "identityType": "name",
                "hashed": false,
            }],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": input.achievement_name,
                "description": format!(
                    "Language proficiency at CEFR level {} overall, certified by {}.",
                    input.overall, input.issuer_name
                ),
                "criteria": {
                    "narrative": "Awarded when the overall CEFR level reached in the \
                        examination (an adaptive written test and an oral interview) meets \
                        the target level set by the training centre. The results give the \
                        level reached overall and in each part. The certificate does not \
                        expire.",
                },
                "resultDescription": descriptions,
            },
            "result": results,
        },
        "iss": input.issuer_id,
        "jti": input.id,
        "sub": subject_id,
        "nbf": input.issued_at,
    });
    let verifying_key = key.verifying_key();
    let header = json!({
        "alg": "EdDSA",
        "typ": "JWT",
        "kid": key_id_uri(&verifying_key),
        "jwk": public_jwk(&verifying_key),
    });
    let payload = serde_json::to_vec(&payload).expect("a JSON value always serializes");
    Ok(jws::sign_compact(key, &header, &payload))
}

/// Verifies a credential issued by [`issue`] against the trusted issuer key and returns
/// its payload (the credential JSON with its JWT claims).
///
/// Strict: the signature must be a valid strict Ed25519 signature over exactly the
/// first two segments; `alg` must be `EdDSA`, `typ` `JWT`; the header may only hold
/// `alg`, `typ`, `kid`, `jwk`, and `kid`/`jwk` must name `key`; every segment must be
/// canonical base64url; and the claims must agree with the credential (see
/// [`CredentialSummary::from_payload`]). It reads no clock: a certificate is valid for
/// life, and its `validFrom` is in the summary.
pub fn verify_credential(jwt: &str, key: &VerifyingKey) -> Result<Value, VerifyError> {
    let (header, payload) = jws::verify_compact(jwt, key)?;
    check_header(&header, key)?;
    let payload: Value = serde_json::from_slice(&payload).map_err(|source| VerifyError::Json {
        part: "JWS payload",
        source,
    })?;
    CredentialSummary::from_payload(&payload)?;
    Ok(payload)
}

/// The Merkle leaf hash of a credential: RFC 6962 `SHA-256(0x00 ‖ jwt)` over the exact
/// JWT bytes, so the log holds a hash and never personal data.
pub fn credential_leaf_hash(jwt: &str) -> Hash {
    merkle::leaf_hash(jwt.as_bytes())
}

fn check_header(header: &Map<String, Value>, key: &VerifyingKey) -> Result<(), VerifyError> {
    if let Some(name) = header
        .keys()
        .find(|name| !matches!(name.as_str(), "alg" | "typ" | "kid" | "jwk"))
    {
        return Err(VerifyError::UnexpectedHeader(name.clone()));
    }
    if header.get("typ").and_then(Value::as_str) != Some("JWT") {
        return Err(VerifyError::UnexpectedHeader("typ".into()));
    }
    if !header.contains_key("kid") && !header.contains_key("jwk") {
        return Err(VerifyError::Malformed("JWS header: neither kid nor jwk"));
    }
    if let Some(kid) = header.get("kid")
        && kid.as_str() != Some(key_id_uri(key).as_str())
    {
        return Err(VerifyError::KeyMismatch);
    }
    if let Some(jwk) = header.get("jwk")
        && verifying_key_from_jwk(jwk)? != *key
    {
        return Err(VerifyError::KeyMismatch);
    }
    Ok(())
}

fn validate(input: &CredentialInput) -> Result<(), IssueError> {
    absolute_uri("id", &input.id)?;
    if input.id.contains('#') {
        return Err(invalid("id", "must not have a fragment"));
    }
    absolute_uri("issuer_id", &input.issuer_id)?;
    if let Some(holder_id) = &input.holder_id {
        absolute_uri("holder_id", holder_id)?;
    }
    if let Some(achievement_id) = &input.achievement_id {
        absolute_uri("achievement_id", achievement_id)?;
    }
    text("issuer_name", &input.issuer_name, 300)?;
    text("holder_name", &input.holder_name, 300)?;
    text("achievement_name", &input.achievement_name, 300)?;
    text("overall", &input.overall, 32)?;
    for (i, (part, level)) in input.levels.iter().enumerate() {
        text("levels (part)", part, 100)?;
        text("levels (level)", level, 32)?;
        if part == OVERALL_PART {
            return Err(invalid("levels", "a part may not be called \"overall\""));
        }
        if input.levels[..i].iter().any(|(p, _)| p == part) {
            return Err(invalid("levels", "a part is listed twice"));
        }
    }
    Ok(())
}

fn invalid(field: &'static str, reason: &'static str) -> IssueError {
    IssueError::InvalidField { field, reason }
}

/// An absolute URI as far as this core needs: `scheme:rest` with an RFC 3986 scheme and
/// no whitespace or control characters.
fn absolute_uri(field: &'static str, value: &str) -> Result<(), IssueError> {
    let Some((scheme, rest)) = value.split_once(':') else {
        return Err(invalid(field, "not an absolute URI"));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() || value.len() > 2000 {
        return Err(invalid(field, "not an absolute URI"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(field, "contains whitespace or control characters"));
    }
    Ok(())
}

fn text(field: &'static str, value: &str, max_chars: usize) -> Result<(), IssueError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "empty"));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(field, "too long"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::b64;
    use crate::summary::PartLevel;

    /// A credential input with two parts.
    pub(crate) fn sample_input() -> CredentialInput {
        CredentialInput {
            id: "urn:uuid:0b4f6c52-8f0e-4c1a-9d3e-6c1f2b7a9e01".into(),
            issuer_id: "https://langcert.example/issuer".into(),
            issuer_name: "Centre Example".into(),
            holder_name: "Zoë Example".into(),
            holder_id: None,
            achievement_id: None,
            achievement_name: "English — CEFR B2".into(),
            overall: "B2".into(),
            levels: vec![
                ("written.vocabulary".into(), "B2".into()),
                ("oral".into(), "B1".into()),
            ],
            issued_at: 1_767_225_600,
        }
    }

    #[test]
    fn issued_credential_verifies_and_reads_back() {
        let key = IssuerKey::generate();
        let jwt = issue(&key, &sample_input()).unwrap();
        let payload = verify_credential(&jwt, &key.verifying_key()).unwrap();
        assert_eq!(payload["@context"], json!([VC_CONTEXT, OB_CONTEXT]));
        assert_eq!(
            payload["type"],
            json!(["VerifiableCredential", "OpenBadgeCredential"])
        );
        assert_eq!(payload["validFrom"], "2026-01-01T00:00:00Z");
        assert!(payload.get("validUntil").is_none() && payload.get("exp").is_none());
        assert_eq!(payload["issuer"]["type"], json!(["Profile"]));
        assert_eq!(
            payload["credentialSubject"]["type"],
            json!(["AchievementSubject"])
        );
        assert_eq!(
            payload["credentialSubject"]["achievement"]["criteria"]["narrative"]
                .as_str()
                .map(|n| !n.is_empty()),
            Some(true)
        );

        let summary = CredentialSummary::from_payload(&payload).unwrap();
        assert_eq!(summary.holder_name, "Zoë Example");
        assert_eq!(summary.overall, "B2");
        assert_eq!(
            summary.levels,
            vec![
                PartLevel {
                    part: "written.vocabulary".into(),
                    level: "B2".into()
                },
                PartLevel {
                    part: "oral".into(),
                    level: "B1".into()
                },
            ]
        );
        assert_eq!(summary.holder_id, format!("{}#holder", sample_input().id));
        assert_eq!(summary.issued_at, 1_767_225_600);

        let header_b64 = jwt.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&b64::url_decode(header_b64, "h").unwrap()).unwrap();
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["jwk"], key.public_jwk());
        assert!(header["kid"].as_str().unwrap().ends_with(&key.key_id()));
        // Deterministic: the log can recompute the leaf.
        assert_eq!(issue(&key, &sample_input()).unwrap(), jwt);
    }

    #[test]
    fn changing_any_byte_of_a_credential_fails() {
        let key = IssuerKey::from_seed([7; 32]);
        let vk = key.verifying_key();
        let mut input = sample_input();
        input.levels.truncate(1);
        let jwt = issue(&key, &input).unwrap();
        // At every position, the neighbouring base64url character: a change that still
        // decodes, so it is the signature (or the strict decoding of the last character
        // of a segment) that must catch it. A '.' at every position breaks the structure.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for position in 0..jwt.len() {
            let original = jwt.as_bytes()[position];
            let neighbour = alphabet
                .iter()
                .position(|&c| c == original)
                .map_or(b'A', |i| alphabet[i ^ 1]);
            for replacement in [neighbour, b'.'] {
                if replacement == original {
                    continue;
                }
                let mut bytes = jwt.as_bytes().to_vec();
                bytes[position] = replacement;
                let tampered = String::from_utf8(bytes).unwrap();
                assert!(
                    verify_credential(&tampered, &vk).is_err(),
                    "accepted a change at {position}"
                );
            }
        }
        // Truncation and extension too.
        assert!(verify_credential(&jwt[..jwt.len() - 1], &vk).is_err());
        assert!(verify_credential(&format!("{jwt}A"), &vk).is_err());
    }

    #[test]
    fn a_different_key_fails() {
        let jwt = issue(&IssuerKey::generate(), &sample_input()).unwrap();
        let other = IssuerKey::generate().verifying_key();
        assert!(matches!(
            verify_credential(&jwt, &other),
            Err(VerifyError::BadSignature)
        ));
    }

    #[test]
    fn a_validly_signed_but_foreign_header_or_body_is_refused() {
        let key = IssuerKey::generate();
        let vk = key.verifying_key();
        let body = br#"{"hello":"world"}"#;
        let typ = jws::sign_compact(
            &key,
            &json!({"alg":"EdDSA","typ":"vc+sd-jwt","jwk":key.public_jwk()}),
            body,
        );
        assert!(matches!(
            verify_credential(&typ, &vk),
            Err(VerifyError::UnexpectedHeader(_))
        ));
        let extra = jws::sign_compact(
            &key,
            &json!({"alg":"EdDSA","typ":"JWT","jwk":key.public_jwk(),"x5u":"https://e"}),
            body,
        );
        assert!(matches!(
            verify_credential(&extra, &vk),
            Err(VerifyError::UnexpectedHeader(_))
        ));
        let other_kid = jws::sign_compact(
            &key,
            &json!({"alg":"EdDSA","typ":"JWT","kid":"urn:x"}),
            body,
        );
        assert!(matches!(
            verify_credential(&other_kid, &vk),
            Err(VerifyError::KeyMismatch)
        ));
        let good_header = jws::sign_compact(
            &key,
            &json!({"alg":"EdDSA","typ":"JWT","jwk":key.public_jwk()}),
            body,
        );
        assert!(matches!(
            verify_credential(&good_header, &vk),
            Err(VerifyError::Claims(_))
        ));

        // A payload whose claims contradict the credential.
        let jwt = issue(&key, &sample_input()).unwrap();
        let payload = verify_credential(&jwt, &vk).unwrap();
        for (claim, value) in [
            ("jti", json!("urn:uuid:other")),
            ("iss", json!("https://x")),
            ("sub", json!("urn:x")),
            ("nbf", json!(0)),
        ] {
            let mut forged = payload.clone();
            forged[claim] = value;
            let token = jws::sign_compact(
                &key,
                &json!({"alg":"EdDSA","typ":"JWT","jwk":key.public_jwk()}),
                &serde_json::to_vec(&forged).unwrap(),
            );
            assert!(
                matches!(verify_credential(&token, &vk), Err(VerifyError::Claims(_))),
                "{claim}"
            );
        }
    }

    #[test]
    fn bad_inputs_are_refused_before_signing() {
        let key = IssuerKey::generate();
        let cases: [fn(&mut CredentialInput); 10] = [
            |i| i.id = "not a uri".into(),
            |i| i.id = "urn:uuid:x#frag".into(),
            |i| i.issuer_id = "/relative".into(),
            |i| i.holder_name = "  ".into(),
            |i| i.holder_name = "a\nb".into(),
            |i| i.overall = String::new(),
            |i| i.levels.push(("overall".into(), "B2".into())),
            |i| i.levels.push(("oral".into(), "C1".into())),
            |i| i.holder_id = Some("no scheme".into()),
            |i| i.issued_at = i64::MAX,
        ];
        for (n, change) in cases.iter().enumerate() {
            let mut input = sample_input();
            change(&mut input);
            assert!(issue(&key, &input).is_err(), "case {n} was accepted");
        }
    }

    #[test]
    fn leaf_hash_is_over_the_exact_jwt() {
        let jwt = issue(&IssuerKey::generate(), &sample_input()).unwrap();
        let mut data = vec![0u8];
        data.extend_from_slice(jwt.as_bytes());
        use sha2::Digest as _;
        assert_eq!(
            credential_leaf_hash(&jwt),
            <[u8; 32]>::from(sha2::Sha256::digest(&data))
        );
    }
}
