//! The issuer's Ed25519 key: generation, PKCS#8 PEM storage, its public JWK (RFC 8037)
//! and its RFC 7638 thumbprint, which is the key id everywhere (credential header,
//! bundle report, public pages).
//!
//! [`load_or_create`] is the one function of the certificate core that touches the file
//! system; everything else is pure.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{KeyError, VerifyError, b64};

/// Prefix of an RFC 9278 JWK thumbprint URI for SHA-256 thumbprints.
const THUMBPRINT_URI_PREFIX: &str = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:";

/// The issuer's Ed25519 signing key.
///
/// It signs credentials (as compact JWS, `alg` `EdDSA`) and log checkpoints. Its
/// [`Debug`] form shows only the key id, never the secret.
#[derive(Clone)]
pub struct IssuerKey {
    signing: SigningKey,
}

impl IssuerKey {
    /// A fresh key from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide randomness (then no key can be made safely).
    pub fn generate() -> Self {
        use rand::TryRngCore as _;
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .expect("the operating system's random number generator failed");
        Self::from_seed(seed)
    }

    /// The key whose RFC 8032 32-byte private key (seed) is `seed`. For tests and for
    /// importing a key kept elsewhere; prefer [`IssuerKey::generate`].
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// Reads a PKCS#8 (RFC 8410) PEM private key, as written by [`IssuerKey::to_pkcs8_pem`]
    /// or `openssl genpkey -algorithm ed25519`.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(|signing| Self { signing })
            .map_err(|e| KeyError::Pkcs8(e.to_string()))
    }

    /// The key as PKCS#8 (RFC 8410, v2 with the public key) PEM, `-----BEGIN PRIVATE KEY-----`.
    /// This is secret: store it with owner-only permissions.
    pub fn to_pkcs8_pem(&self) -> String {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes as PKCS#8")
            .to_string()
    }

    /// The public half, to verify what this key signed.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public key as a JWK: `{"kty":"OKP","crv":"Ed25519","x":"…"}` (RFC 8037 §2).
    pub fn public_jwk(&self) -> Value {
        public_jwk(&self.verifying_key())
    }

    /// The RFC 7638 SHA-256 thumbprint of [`IssuerKey::public_jwk`], base64url: a stable,
    /// short identifier of the key (43 characters).
    pub fn key_id(&self) -> String {
        key_id(&self.verifying_key())
    }

    /// Signs `message` (RFC 8032 Ed25519, deterministic).
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// The shape of [`public_jwk`]: an Ed25519 public key as a JWK (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// Key type: `OKP`.
    #[cfg_attr(feature = "openapi", schema(example = "OKP"))]
    pub kty: String,
    /// Curve: `Ed25519`.
    #[cfg_attr(feature = "openapi", schema(example = "Ed25519"))]
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
}

/// The public JWK of an Ed25519 key: `{"kty":"OKP","crv":"Ed25519","x":"…"}` (RFC 8037 §2).
pub fn public_jwk(key: &VerifyingKey) -> Value {
    json!({ "kty": "OKP", "crv": "Ed25519", "x": b64::url_encode(key.as_bytes()) })
}

/// The RFC 7638 JWK thumbprint of an Ed25519 key: SHA-256 over the members `crv`, `kty`
/// and `x` in that order without whitespace, base64url without padding.
pub fn key_id(key: &VerifyingKey) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        b64::url_encode(key.as_bytes())
    );
    b64::url_encode(&Sha256::digest(canonical.as_bytes()))
}

/// The key id as an RFC 9278 thumbprint URI
/// (`urn:ietf:params:oauth:jwk-thumbprint:sha-256:…`), the form used as the JWS `kid`,
/// which Open Badges 3.0 wants to be a URI.
pub fn key_id_uri(key: &VerifyingKey) -> String {
    format!("{THUMBPRINT_URI_PREFIX}{}", key_id(key))
}

/// Reads an Ed25519 public JWK. Requires `kty` `OKP`, `crv` `Ed25519` and a canonical
/// base64url `x` of 32 bytes; refuses a JWK carrying private material (`d`) and weak
/// (small-order) keys.
pub fn verifying_key_from_jwk(jwk: &Value) -> Result<VerifyingKey, VerifyError> {
    let object = jwk
        .as_object()
        .ok_or(VerifyError::InvalidKey("the JWK is not an object"))?;
    if object.get("kty").and_then(Value::as_str) != Some("OKP") {
        return Err(VerifyError::InvalidKey("kty is not OKP"));
    }
    if object.get("crv").and_then(Value::as_str) != Some("Ed25519") {
        return Err(VerifyError::InvalidKey("crv is not Ed25519"));
    }
    if object.contains_key("d") {
        return Err(VerifyError::InvalidKey(
            "a public JWK must not contain the private key",
        ));
    }
    let x = object
        .get("x")
        .and_then(Value::as_str)
        .ok_or(VerifyError::InvalidKey("x is missing"))?;
    let bytes: [u8; 32] = b64::url_decode(x, "JWK x")?
        .try_into()
        .map_err(|_| VerifyError::Base64("JWK x"))?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| VerifyError::InvalidKey("x is not a point on Ed25519"))?;
    if key.is_weak() {
        return Err(VerifyError::InvalidKey("weak (small-order) key"));
    }
    Ok(key)
}

/// Loads the issuer key from `path` (PKCS#8 PEM), or, if there is no file there, makes a
/// new key and stores it there first (creating the parent directories).
///
/// The new file is written to a temporary name beside it with owner-only permissions
/// (0600 on Unix), synced, then hard-linked into place, which fails if a key appeared in
/// the meantime: an existing key is never overwritten, and a concurrent start ends up
/// with the key that won. (Where hard links are not supported the file is created in
/// place, exclusively.) A file that exists but is not a valid key is an
/// [`io::ErrorKind::InvalidData`] error, never replaced.
pub fn load_or_create(path: &Path) -> io::Result<IssuerKey> {
    match fs::read_to_string(path) {
        Ok(pem) => return parse_key_file(&pem, path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        fs::create_dir_all(parent)?;
    }
    let key = IssuerKey::generate();
    let pem = key.to_pkcs8_pem();
    let temporary = temporary_path(path);
    let mut written = write_private(&temporary, pem.as_bytes());
    if written.is_ok() {
        written = fs::hard_link(&temporary, path);
        if written
            .as_ref()
            .is_err_and(|e| e.kind() != io::ErrorKind::AlreadyExists)
        {
            // A file system without hard links: create the file in place, still never
            // over an existing one.
            written = write_private(path, pem.as_bytes());
        }
    }
    let _ = fs::remove_file(&temporary);
    match written {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            parse_key_file(&fs::read_to_string(path)?, path)
        }
        Err(e) => Err(e),
    }
}

fn parse_key_file(pem: &str, path: &Path) -> io::Result<IssuerKey> {
    IssuerKey::from_pkcs8_pem(pem).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce: u64 = rand::random();
    path.with_file_name(format!(".{name}.{}.{nonce:016x}.tmp", std::process::id()))
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.1: the private key `d`, as the 32-byte seed.
    const RFC8037_SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    fn rfc8037_key() -> IssuerKey {
        let seed: [u8; 32] = b64::url_decode(RFC8037_SEED, "d")
            .unwrap()
            .try_into()
            .unwrap();
        IssuerKey::from_seed(seed)
    }

    #[test]
    fn rfc8037_public_jwk_and_thumbprint() {
        let key = rfc8037_key();
        // Appendix A.2 (public key) and A.3 (thumbprint).
        assert_eq!(
            key.public_jwk(),
            json!({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
        );
        assert_eq!(key.key_id(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(
            key_id_uri(&key.verifying_key()),
            "urn:ietf:params:oauth:jwk-thumbprint:sha-256:kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        assert!(!format!("{key:?}").contains(RFC8037_SEED));
    }

    #[test]
    fn jwk_round_trip_and_refusals() {
        let key = IssuerKey::generate();
        let jwk = key.public_jwk();
        assert_eq!(verifying_key_from_jwk(&jwk).unwrap(), key.verifying_key());

        let mut with_d = jwk.clone();
        with_d["d"] = json!(RFC8037_SEED);
        assert!(verifying_key_from_jwk(&with_d).is_err());
        let mut other_curve = jwk.clone();
        other_curve["crv"] = json!("X25519");
        assert!(verifying_key_from_jwk(&other_curve).is_err());
        let mut padded = jwk.clone();
        padded["x"] = json!(format!("{}=", jwk["x"].as_str().unwrap()));
        assert!(verifying_key_from_jwk(&padded).is_err());
        // The identity point is a weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = json!({"kty":"OKP","crv":"Ed25519","x": b64::url_encode(&identity)});
        assert!(verifying_key_from_jwk(&weak).is_err());
    }

    #[test]
    fn pkcs8_pem_round_trip() {
        let key = IssuerKey::generate();
        let pem = key.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = IssuerKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.verifying_key(), key.verifying_key());
        assert!(IssuerKey::from_pkcs8_pem("not a key").is_err());
    }

    #[test]
    fn load_or_create_makes_a_private_key_once_and_then_keeps_it() {
        let dir = std::env::temp_dir().join(format!(
            "langcert-key-test-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let path = dir.join("keys").join("issuer.pem");
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.key_id(), second.key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the key file is left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        fs::write(&path, "garbage").unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(fs::read_to_string(&path).unwrap(), "garbage");
        fs::remove_dir_all(&dir).unwrap();
    }
}
