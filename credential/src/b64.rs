//! Canonical base64: every decoder here accepts exactly one spelling of each byte string.
//!
//! JOSE uses base64url without padding (RFC 7515 §2); checkpoints, proofs and signatures
//! in JSON use the standard alphabet with padding, like the C2SP checkpoint format. A
//! decoded value is re-encoded and compared with the input, so padding mistakes, the other
//! alphabet and non-zero trailing bits are all refused: a changed character can never
//! decode to the same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::VerifyError;

/// base64url without padding (JOSE).
pub(crate) fn url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical base64url without padding; `what` names the field in the error.
pub(crate) fn url_decode(text: &str, what: &'static str) -> Result<Vec<u8>, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| VerifyError::Base64(what))?;
    if URL_SAFE_NO_PAD.encode(&bytes) != text {
        return Err(VerifyError::Base64(what));
    }
    Ok(bytes)
}

/// Standard base64 with padding.
pub(crate) fn std_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes canonical standard base64 with padding.
pub(crate) fn std_decode(text: &str, what: &'static str) -> Result<Vec<u8>, VerifyError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| VerifyError::Base64(what))?;
    if STANDARD.encode(&bytes) != text {
        return Err(VerifyError::Base64(what));
    }
    Ok(bytes)
}

/// Decodes canonical standard base64 of exactly `N` bytes.
pub(crate) fn std_decode_array<const N: usize>(
    text: &str,
    what: &'static str,
) -> Result<[u8; N], VerifyError> {
    std_decode(text, what)?
        .try_into()
        .map_err(|_| VerifyError::Base64(what))
}

/// Serde adapters writing byte arrays as standard base64 strings, strictly decoded.
pub(crate) mod serde_std {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// A 32-byte hash.
    pub(crate) mod hash {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(value: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&super::super::std_encode(value))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
            let text = String::deserialize(d)?;
            super::super::std_decode_array(&text, "hash").map_err(D::Error::custom)
        }
    }

    /// A list of 32-byte hashes.
    pub(crate) mod hashes {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            value: &[[u8; 32]],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(value.iter().map(|h| super::super::std_encode(h)))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<[u8; 32]>, D::Error> {
            let texts = Vec::<String>::deserialize(d)?;
            texts
                .iter()
                .map(|t| super::super::std_decode_array(t, "proof hash").map_err(D::Error::custom))
                .collect()
        }
    }

    /// A 64-byte Ed25519 signature.
    pub(crate) mod signature {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(value: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&super::super::std_encode(value))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
            let text = String::deserialize(d)?;
            super::super::std_decode_array(&text, "signature").map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_round_trip_and_rejects_non_canonical_spellings() {
        let bytes = [0xfbu8, 0xff, 0x01];
        let text = url_encode(&bytes);
        assert_eq!(text, "-_8B");
        assert_eq!(url_decode(&text, "x").unwrap(), bytes);
        // Padding, the standard alphabet and whitespace are all other spellings.
        assert!(url_decode("-_8B=", "x").is_err());
        assert!(url_decode("+/8B", "x").is_err());
        assert!(url_decode(" -_8B", "x").is_err());
        // One byte is two characters; the second carries four unused bits.
        assert_eq!(url_encode(&[0xff]), "_w");
        assert!(url_decode("_x", "x").is_err());
    }

    #[test]
    fn std_round_trip_and_rejects_non_canonical_spellings() {
        let bytes = [0xffu8];
        assert_eq!(std_encode(&bytes), "/w==");
        assert_eq!(std_decode("/w==", "x").unwrap(), bytes);
        assert!(std_decode("/w", "x").is_err());
        assert!(std_decode("/x==", "x").is_err());
        assert!(std_decode("_w==", "x").is_err());
        assert!(std_decode_array::<2>("/w==", "x").is_err());
    }
}
