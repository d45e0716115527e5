//! The offline bundle that `langcert verify FILE` checks: a credential, its inclusion
//! proof, the checkpoint the proof leads to, and the issuer's public key.
//!
//! JSON form:
//!
//! ```json
//! {
//!   "credential": "<compact JWS>",
//!   "leaf_index": 41,
//!   "inclusion_proof": ["<base64 hash>", "…"],
//!   "checkpoint": { "origin": "…", "tree_size": 42, "root_hash": "<base64>",
//!                   "timestamp": 1767225600, "signature": "<base64>" },
//!   "issuer_key": { "kty": "OKP", "crv": "Ed25519", "x": "…" }
//! }
//! ```

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::credential::{credential_leaf_hash, verify_credential};
use super::keys::{key_id, public_jwk, verifying_key_from_jwk};
use super::merkle::{self, Hash};
use super::summary::CredentialSummary;
use super::{Checkpoint, VerifyError, b64};

/// The largest bundle file [`Bundle::from_json`] reads.
pub const MAX_BUNDLE_LEN: usize = 256 * 1024;

/// What the report says about revocation, which a file alone cannot tell.
pub const REVOCATION_NOTE: &str = "not checked: revocation is only known online, on the \
    issuer's public verification page";

/// A credential with everything needed to verify it without a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The credential, a compact JWS.
    pub credential: String,
    /// Its position in the log.
    pub leaf_index: u64,
    /// The RFC 6962 audit path from its leaf to the checkpoint's root; standard base64.
    #[serde(with = "crate::b64::serde_std::hashes")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub inclusion_proof: Vec<Hash>,
    /// A signed checkpoint whose tree contains the credential.
    pub checkpoint: Checkpoint,
    /// The issuer's public key as a JWK (RFC 8037).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::Jwk))]
    pub issuer_key: Value,
}

impl Bundle {
    /// Builds the bundle of the credential at `leaf_index` with its audit path in the
    /// tree of `checkpoint`. Fails — so that no broken bundle is ever handed out — if the
    /// path does not lead from the credential's leaf to the checkpoint's root.
    pub fn assemble(
        credential: String,
        leaf_index: u64,
        inclusion_proof: Vec<Hash>,
        checkpoint: Checkpoint,
        issuer_key: &VerifyingKey,
    ) -> Result<Self, VerifyError> {
        if !merkle::verify_inclusion(
            &credential_leaf_hash(&credential),
            leaf_index,
            checkpoint.tree_size,
            &inclusion_proof,
            &checkpoint.root_hash,
        ) {
            return Err(VerifyError::NotIncluded);
        }
        Ok(Self {
            credential,
            leaf_index,
            inclusion_proof,
            checkpoint,
            issuer_key: public_jwk(issuer_key),
        })
    }

    /// Reads a bundle file's JSON (at most [`MAX_BUNDLE_LEN`] bytes, no unknown members,
    /// hashes and signatures in canonical base64).
    pub fn from_json(text: &str) -> Result<Self, VerifyError> {
        if text.len() > MAX_BUNDLE_LEN {
            return Err(VerifyError::Malformed("bundle: larger than 256 KiB"));
        }
        serde_json::from_str(text).map_err(|source| VerifyError::Json {
            part: "bundle",
            source,
        })
    }

    /// The bundle as pretty-printed JSON, the downloadable file.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a bundle always serializes")
    }
}

/// The outcome of a successful [`verify_bundle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    /// RFC 7638 thumbprint of the key everything was checked with.
    pub key_id: String,
    /// Whether that key was the caller's trusted key. When `false`, the bundle's own key
    /// was used: the bundle is internally consistent, but whoever made it may have made
    /// the key too — compare `key_id` with the issuer's published key.
    pub key_pinned: bool,
    /// What the credential says.
    pub credential: CredentialSummary,
    /// The credential's position in the log.
    pub leaf_index: u64,
    /// The log's origin.
    pub log_origin: String,
    /// The tree size of the checkpoint.
    pub tree_size: u64,
    /// The checkpoint's root, standard base64.
    pub root_hash: String,
    /// When the checkpoint was signed (Unix seconds).
    pub checkpoint_timestamp: i64,
    /// Revocation status: always [`REVOCATION_NOTE`] offline.
    pub revocation: &'static str,
}

/// Verifies a bundle offline: the issuer key (the `pinned` one if given, which the bundle's
/// key must then equal), the checkpoint's signature, the credential's signature and
/// claims, and the inclusion of `SHA-256(0x00 ‖ credential)` at `leaf_index` under the
/// checkpoint's root. Revocation cannot be known offline; the report says so.
pub fn verify_bundle(
    bundle: &Bundle,
    pinned: Option<&VerifyingKey>,
) -> Result<BundleReport, VerifyError> {
    let key = verifying_key_from_jwk(&bundle.issuer_key)?;
    if pinned.is_some_and(|p| *p != key) {
        return Err(VerifyError::KeyMismatch);
    }
    let checkpoint = &bundle.checkpoint;
    checkpoint.verify(&key)?;
    let payload = verify_credential(&bundle.credential, &key)?;
    let credential = CredentialSummary::from_payload(&payload)?;
    if !merkle::verify_inclusion(
        &credential_leaf_hash(&bundle.credential),
        bundle.leaf_index,
        checkpoint.tree_size,
        &bundle.inclusion_proof,
        &checkpoint.root_hash,
    ) {
        return Err(VerifyError::NotIncluded);
    }
    Ok(BundleReport {
        key_id: key_id(&key),
        key_pinned: pinned.is_some(),
        credential,
        leaf_index: bundle.leaf_index,
        log_origin: checkpoint.origin.clone(),
        tree_size: checkpoint.tree_size,
        root_hash: b64::std_encode(&checkpoint.root_hash),
        checkpoint_timestamp: checkpoint.timestamp,
        revocation: REVOCATION_NOTE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::tests::sample_input;
    use crate::{IssuerKey, issue};

    /// A log of `n` credentials, a checkpoint over it and the bundle of the one at `index`.
    fn setup(n: usize, index: usize) -> (IssuerKey, Vec<String>, Vec<Hash>, Bundle) {
        let key = IssuerKey::generate();
        let credentials: Vec<String> = (0..n)
            .map(|i| {
                let mut input = sample_input();
                input.id = format!("urn:uuid:00000000-0000-4000-8000-{i:012}");
                issue(&key, &input).unwrap()
            })
            .collect();
        let leaves: Vec<Hash> = credentials
            .iter()
            .map(|c| credential_leaf_hash(c))
            .collect();
        let checkpoint = Checkpoint::sign(
            &key,
            "langcert.example/log",
            n as u64,
            merkle::root(&leaves),
            1_767_300_000,
        )
        .unwrap();
        let bundle = Bundle::assemble(
            credentials[index].clone(),
            index as u64,
            merkle::inclusion_proof(index as u64, &leaves).unwrap(),
            checkpoint,
            &key.verifying_key(),
        )
        .unwrap();
        (key, credentials, leaves, bundle)
    }

    #[test]
    fn round_trip_through_json_verifies() {
        for (n, index) in [(1, 0), (5, 3), (8, 7)] {
            let (key, _, _, bundle) = setup(n, index);
            let text = bundle.to_json_pretty();
            let read = Bundle::from_json(&text).unwrap();
            assert_eq!(read, bundle);
            let report = verify_bundle(&read, Some(&key.verifying_key())).unwrap();
            assert!(report.key_pinned);
            assert_eq!(report.key_id, key.key_id());
            assert_eq!(report.credential.holder_name, "Zoë Example");
            assert_eq!(report.credential.overall, "B2");
            assert_eq!(report.credential.levels.len(), 2);
            assert_eq!(report.leaf_index, index as u64);
            assert_eq!(report.tree_size, n as u64);
            assert_eq!(report.revocation, REVOCATION_NOTE);
            let unpinned = verify_bundle(&read, None).unwrap();
            assert!(!unpinned.key_pinned);
        }
    }

    #[test]
    fn tampering_fails() {
        let (key, credentials, leaves, bundle) = setup(6, 4);
        let vk = key.verifying_key();
        let fails = |b: &Bundle| verify_bundle(b, Some(&vk)).is_err();

        // The credential (every position is covered by the credential's own test; here
        // a spread of positions through the whole bundle check).
        for position in (0..bundle.credential.len())
            .step_by(97)
            .chain([bundle.credential.len() - 1])
        {
            let mut b = bundle.clone();
            let mut bytes = b.credential.into_bytes();
            bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
            b.credential = String::from_utf8(bytes).unwrap();
            assert!(fails(&b), "credential byte {position}");
        }
        // Another genuine credential of the same log, at the wrong index.
        let mut b = bundle.clone();
        b.credential = credentials[3].clone();
        assert!(matches!(
            verify_bundle(&b, Some(&vk)),
            Err(VerifyError::NotIncluded)
        ));
        // The proof: each byte of each element, a missing or extra element.
        for e in 0..bundle.inclusion_proof.len() {
            for byte in 0..32 {
                let mut b = bundle.clone();
                b.inclusion_proof[e][byte] ^= 1 << (byte % 8);
                assert!(matches!(
                    verify_bundle(&b, Some(&vk)),
                    Err(VerifyError::NotIncluded)
                ));
            }
        }
        let mut b = bundle.clone();
        b.inclusion_proof.pop();
        assert!(fails(&b));
        let mut b = bundle.clone();
        b.inclusion_proof.push(leaves[0]);
        assert!(fails(&b));
        // The index, the checkpoint's root, size, timestamp, origin, signature.
        for index in [0, 3, 5, 6, u64::MAX] {
            let mut b = bundle.clone();
            b.leaf_index = index;
            assert!(fails(&b), "index {index}");
        }
        for byte in 0..32 {
            let mut b = bundle.clone();
            b.checkpoint.root_hash[byte] ^= 0x10;
            assert!(fails(&b));
        }
        for size in [0, 5, 7, 8, 100] {
            let mut b = bundle.clone();
            b.checkpoint.tree_size = size;
            assert!(fails(&b), "size {size}");
        }
        let mut b = bundle.clone();
        b.checkpoint.timestamp += 1;
        assert!(fails(&b));
        let mut b = bundle.clone();
        b.checkpoint.signature[10] ^= 1;
        assert!(fails(&b));
        // A checkpoint re-signed by the honest key over a different tree still fails.
        let mut b = bundle.clone();
        let mut other_leaves = leaves.clone();
        other_leaves[0][0] ^= 1;
        b.checkpoint = Checkpoint::sign(
            &key,
            "langcert.example/log",
            6,
            merkle::root(&other_leaves),
            1,
        )
        .unwrap();
        assert!(matches!(
            verify_bundle(&b, Some(&vk)),
            Err(VerifyError::NotIncluded)
        ));
    }

    #[test]
    fn a_bundle_forged_with_another_key_fails_against_the_pinned_key() {
        let (key, _, _, bundle) = setup(3, 1);
        let (forger, _, _, forged) = setup(3, 1);
        assert!(verify_bundle(&forged, Some(&forger.verifying_key())).is_ok());
        assert!(matches!(
            verify_bundle(&forged, Some(&key.verifying_key())),
            Err(VerifyError::KeyMismatch)
        ));
        // Swapping only the key in an honest bundle breaks every signature.
        let mut b = bundle.clone();
        b.issuer_key = forger.public_jwk();
        assert!(verify_bundle(&b, None).is_err());
        assert_eq!(
            verify_bundle(&forged, None).unwrap().key_id,
            forger.key_id(),
            "unpinned, the report names the key that was used"
        );
    }

    #[test]
    fn assemble_refuses_inconsistent_inputs() {
        let (key, _, leaves, bundle) = setup(4, 2);
        let vk = key.verifying_key();
        let cp = bundle.checkpoint.clone();
        let jwt = bundle.credential.clone();
        let proof = |i: u64, tree: &[merkle::Hash]| merkle::inclusion_proof(i, tree).unwrap();
        // Another leaf's path, a path in a smaller tree, an index past the end.
        assert!(Bundle::assemble(jwt.clone(), 1, proof(1, &leaves), cp.clone(), &vk).is_err());
        assert!(Bundle::assemble(jwt.clone(), 2, proof(2, &leaves[..3]), cp.clone(), &vk).is_err());
        assert!(Bundle::assemble(jwt.clone(), 9, proof(2, &leaves), cp.clone(), &vk).is_err());
        assert!(Bundle::assemble(jwt, 2, proof(2, &leaves), cp, &vk).is_ok());
    }

    #[test]
    fn malformed_files_are_refused() {
        let (_, _, _, bundle) = setup(2, 0);
        assert!(Bundle::from_json("{").is_err());
        assert!(Bundle::from_json(&" ".repeat(MAX_BUNDLE_LEN + 1)).is_err());
        let mut json: Value = serde_json::to_value(&bundle).unwrap();
        json["extra"] = true.into();
        assert!(Bundle::from_json(&json.to_string()).is_err());
        let mut json: Value = serde_json::to_value(&bundle).unwrap();
        json["inclusion_proof"][0] = "AAAA".into();
        assert!(Bundle::from_json(&json.to_string()).is_err());
    }
}
