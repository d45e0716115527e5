//! Compact JWS (RFC 7515 §7.1) with EdDSA/Ed25519 only (RFC 8037 §3.1), written here so
//! that the algorithm is certain: the signature is over exactly the ASCII bytes
//! `BASE64URL(header) "." BASE64URL(payload)`, verification is `verify_strict`, and every
//! segment must be canonical base64url.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};

use super::{IssuerKey, VerifyError, b64};

/// The longest token accepted, far above any credential this core issues (a few KiB).
pub(crate) const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Signs `payload` under `header` (which must say `"alg":"EdDSA"`) and returns
/// `header.payload.signature`.
pub(crate) fn sign_compact(key: &IssuerKey, header: &Value, payload: &[u8]) -> String {
    debug_assert_eq!(header["alg"], "EdDSA");
    let header = serde_json::to_vec(header).expect("a JSON value always serializes");
    let mut token = b64::url_encode(&header);
    token.push('.');
    token.push_str(&b64::url_encode(payload));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64::url_encode(&signature));
    token
}

/// Checks a compact JWS: three canonical base64url segments, a JSON-object header with
/// `alg` `EdDSA` and no `crit`, and a valid strict Ed25519 signature by `key` over the
/// first two segments. Returns the header and the payload bytes; the caller judges the
/// other header members.
pub(crate) fn verify_compact(
    token: &str,
    key: &VerifyingKey,
) -> Result<(Map<String, Value>, Vec<u8>), VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Malformed("JWS: longer than 64 KiB"));
    }
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(VerifyError::Malformed(
            "JWS: not three dot-separated segments",
        ));
    };

    let header_bytes = b64::url_decode(header_b64, "JWS header")?;
    let header: Value =
        serde_json::from_slice(&header_bytes).map_err(|source| VerifyError::Json {
            part: "JWS header",
            source,
        })?;
    let Value::Object(header) = header else {
        return Err(VerifyError::Malformed("JWS header: not a JSON object"));
    };
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "EdDSA" => {}
        Some(Value::String(alg)) => return Err(VerifyError::UnsupportedAlgorithm(alg.clone())),
        _ => return Err(VerifyError::Malformed("JWS header: alg missing")),
    }
    // Extensions that must be understood (RFC 7515 §4.1.11), such as unencoded payloads
    // (RFC 7797), are not: refuse rather than verify something else.
    if header.contains_key("crit") {
        return Err(VerifyError::UnexpectedHeader("crit".into()));
    }

    let signature: [u8; 64] = b64::url_decode(signature_b64, "JWS signature")?
        .try_into()
        .map_err(|_| VerifyError::Base64("JWS signature"))?;
    let signing_input_len = header_b64.len() + 1 + payload_b64.len();
    key.verify_strict(
        &token.as_bytes()[..signing_input_len],
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| VerifyError::BadSignature)?;

    let payload = b64::url_decode(payload_b64, "JWS payload")?;
    Ok((header, payload))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rfc8037_key() -> IssuerKey {
        let seed = b64::url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", "d").unwrap();
        IssuerKey::from_seed(seed.try_into().unwrap())
    }

    /// RFC 8037 Appendix A.4 (signing) and A.5 (validation).
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    #[test]
    fn rfc8037_signing_example() {
        let key = rfc8037_key();
        let token = sign_compact(&key, &json!({"alg":"EdDSA"}), b"Example of Ed25519 signing");
        assert_eq!(token, RFC8037_JWS);
        let (header, payload) = verify_compact(RFC8037_JWS, &key.verifying_key()).unwrap();
        assert_eq!(Value::Object(header), json!({"alg":"EdDSA"}));
        assert_eq!(payload, b"Example of Ed25519 signing");
    }

    #[test]
    fn every_changed_character_fails() {
        let key = rfc8037_key().verifying_key();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for position in 0..RFC8037_JWS.len() {
            let original = RFC8037_JWS.as_bytes()[position];
            // The neighbouring base64url character (a one-character change that still
            // decodes), and characters outside the alphabet.
            let neighbour = alphabet
                .iter()
                .position(|&c| c == original)
                .map_or(b'A', |i| alphabet[i ^ 1]);
            for replacement in [neighbour, b'.', b'=', b'+', b' '] {
                let mut bytes = RFC8037_JWS.as_bytes().to_vec();
                if bytes[position] == replacement {
                    continue;
                }
                bytes[position] = replacement;
                let tampered = String::from_utf8(bytes).unwrap();
                assert!(
                    verify_compact(&tampered, &key).is_err(),
                    "accepted {tampered} (position {position})"
                );
            }
        }
    }

    #[test]
    fn other_algorithms_and_shapes_are_refused() {
        let key = rfc8037_key();
        let vk = key.verifying_key();
        let none = format!(
            "{}.{}.",
            b64::url_encode(br#"{"alg":"none"}"#),
            b64::url_encode(b"x")
        );
        assert!(matches!(
            verify_compact(&none, &vk),
            Err(VerifyError::UnsupportedAlgorithm(_))
        ));
        let crit = sign_compact(
            &key,
            &json!({"alg":"EdDSA","crit":["b64"],"b64":false}),
            b"x",
        );
        assert!(matches!(
            verify_compact(&crit, &vk),
            Err(VerifyError::UnexpectedHeader(_))
        ));
        assert!(verify_compact("a.b", &vk).is_err());
        assert!(verify_compact(&format!("{RFC8037_JWS}.x"), &vk).is_err());
        let array_header = sign_compact(&key, &json!({"alg":"EdDSA"}), b"x").replacen(
            &b64::url_encode(br#"{"alg":"EdDSA"}"#),
            &b64::url_encode(b"[1]"),
            1,
        );
        assert!(verify_compact(&array_header, &vk).is_err());
        let other = IssuerKey::generate().verifying_key();
        assert!(matches!(
            verify_compact(RFC8037_JWS, &other),
            Err(VerifyError::BadSignature)
        ));
    }
}
