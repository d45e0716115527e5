//! Typed errors of the certificate core: one for issuing, one for loading keys, one for
//! every way a credential, checkpoint, proof or bundle can fail to verify.

/// Why a credential could not be issued from a [`CredentialInput`](super::CredentialInput).
///
/// These are the caller's mistakes (an empty name, an identifier that is not an absolute
/// URI, a part listed twice), caught before anything is signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A field is empty or has the wrong shape.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field of the input.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why an issuer key could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a PKCS#8 PEM Ed25519 private key (or its embedded public key does
    /// not match the private one).
    #[error("not a PKCS#8 PEM Ed25519 private key: {0}")]
    Pkcs8(String),
}

/// Why a credential, a checkpoint, a Merkle proof or a bundle did not verify.
///
/// Every variant means "do not trust this"; they differ only so that a page or the
/// `langcert verify` command can say which check failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The input does not have the expected structure (wrong number of JWS segments, a
    /// header that is not a JSON object, a missing member, an oversized token …).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A field is not canonical base64 (wrong alphabet, padding, non-zero trailing bits)
    /// or decodes to the wrong length.
    #[error("{0} is not canonical base64 of the expected length")]
    Base64(&'static str),
    /// A part that must be JSON is not.
    #[error("{part} is not valid JSON: {source}")]
    Json {
        /// Which part (JWS header, JWS payload, bundle …).
        part: &'static str,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// The JWS `alg` is not `EdDSA`.
    #[error("unsupported JWS algorithm {0:?} (only EdDSA is accepted)")]
    UnsupportedAlgorithm(String),
    /// The JWS header has a member this verifier does not accept (`crit`, a wrong `typ` …).
    #[error("unexpected JWS header member {0:?}")]
    UnexpectedHeader(String),
    /// The public key is not an Ed25519 OKP JWK, or is a weak (small-order) key.
    #[error("invalid issuer key: {0}")]
    InvalidKey(&'static str),
    /// The key named by the credential (`kid`/`jwk`) or carried by the bundle is not the
    /// key it is checked against.
    #[error("the credential or bundle names another issuer key than the trusted one")]
    KeyMismatch,
    /// The Ed25519 signature over the credential does not verify.
    #[error("the credential's signature does not verify")]
    BadSignature,
    /// The signed credential contradicts itself (e.g. `jti` ≠ `id`, `nbf` ≠ `validFrom`)
    /// or lacks a member the certificate format requires.
    #[error("credential claim check failed: {0}")]
    Claims(&'static str),
    /// The checkpoint's signature does not verify with the issuer key.
    #[error("the checkpoint's signature does not verify")]
    BadCheckpointSignature,
    /// The checkpoint's origin is empty or contains spaces, `+` or control characters.
    #[error("invalid checkpoint origin")]
    InvalidOrigin,
    /// The inclusion proof does not lead from the credential's leaf to the checkpoint's
    /// root (wrong leaf, index, tree size, proof or root).
    #[error("the credential is not included in the log at the checkpoint")]
    NotIncluded,
    /// The consistency proof does not show that the newer checkpoint extends the older.
    #[error("the newer checkpoint does not extend the older one")]
    NotConsistent,
}
