//! Signed checkpoints of the log: the tree size and root at a moment, signed by the
//! issuer key, in the C2SP `tlog-checkpoint` format.
//!
//! The signed text (the note body) is, with `\n` line ends:
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, standard base64>
//! <timestamp, Unix seconds, decimal>
//! ```
//!
//! The first three lines are the C2SP checkpoint; the timestamp is an extension line.
//! The signature is Ed25519 over exactly these bytes, which is also a C2SP signed-note
//! signature, so [`Checkpoint::signed_note`] can publish it in that form. The text always
//! contains newlines and a credential's JWS signing input never does, so one key can sign
//! both without either being mistaken for the other.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::merkle::{self, Hash};
use super::{IssueError, IssuerKey, VerifyError, b64};

/// A signed tree head of the certificate log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The log's identity, a schema-less URL such as `langcert.example/log`: non-empty,
    /// without spaces, `+` or control characters.
    pub origin: String,
    /// The number of leaves (issued credentials) in the tree.
    pub tree_size: u64,
    /// The RFC 6962 root of those leaves; standard base64 in JSON.
    #[serde(with = "crate::b64::serde_std::hash")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub root_hash: Hash,
    /// When the checkpoint was signed, in Unix seconds.
    pub timestamp: i64,
    /// Ed25519 signature over [`Checkpoint::body`]; standard base64 in JSON.
    #[serde(with = "crate::b64::serde_std::signature")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub signature: [u8; 64],
}

impl Checkpoint {
    /// Signs the tree head `(tree_size, root_hash)` of the log `origin` at `timestamp`.
    pub fn sign(
        key: &IssuerKey,
        origin: &str,
        tree_size: u64,
        root_hash: Hash,
        timestamp: i64,
    ) -> Result<Self, IssueError> {
        if !valid_origin(origin) {
            return Err(IssueError::InvalidField {
                field: "origin",
                reason: "empty, or contains spaces, '+' or control characters",
            });
        }
        let mut checkpoint = Self {
            origin: origin.to_owned(),
            tree_size,
            root_hash,
            timestamp,
            signature: [0; 64],
        };
        checkpoint.signature = key.sign(checkpoint.body().as_bytes());
        Ok(checkpoint)
    }

    /// The signed text: origin, size, base64 root and timestamp, each followed by `\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            b64::std_encode(&self.root_hash),
            self.timestamp
        )
    }

    /// Checks the signature with the issuer key (strict Ed25519).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), VerifyError> {
        if !valid_origin(&self.origin) {
            return Err(VerifyError::InvalidOrigin);
        }
        key.verify_strict(
            self.body().as_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| VerifyError::BadCheckpointSignature)
    }

    /// The checkpoint as a C2SP signed note: the body, a blank line, and
    /// `— <origin> <base64(key id ‖ signature)>` where the key id is
    /// [`note_key_id`]`(origin, key)`.
    pub fn signed_note(&self, key: &VerifyingKey) -> String {
        let mut signature = note_key_id(&self.origin, key).to_vec();
        signature.extend_from_slice(&self.signature);
        format!(
            "{}\n\u{2014} {} {}\n",
            self.body(),
            self.origin,
            b64::std_encode(&signature)
        )
    }
}

/// The C2SP signed-note key id of an Ed25519 key named `name`: the first four bytes of
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.
pub fn note_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0x0a, 0x01]);
    hasher.update(key.as_bytes());
    let hash = hasher.finalize();
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Checks that `newer` extends `older`: both are signed by `key`, come from the same
/// log, and `proof` is a valid RFC 6962 consistency proof between their trees — the log
/// was only appended to in between.
pub fn verify_extension(
    older: &Checkpoint,
    newer: &Checkpoint,
    proof: &[Hash],
    key: &VerifyingKey,
) -> Result<(), VerifyError> {
    older.verify(key)?;
    newer.verify(key)?;
    if older.origin != newer.origin {
        return Err(VerifyError::NotConsistent);
    }
    if merkle::verify_consistency(
        older.tree_size,
        newer.tree_size,
        &older.root_hash,
        &newer.root_hash,
        proof,
    ) {
        Ok(())
    } else {
        Err(VerifyError::NotConsistent)
    }
}

fn valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin.len() <= 255
        && !origin
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| merkle::leaf_hash(&[i as u8])).collect()
    }

    #[test]
    fn sign_verify_and_json_round_trip() {
        let key = IssuerKey::generate();
        let log = leaves(5);
        let checkpoint = Checkpoint::sign(
            &key,
            "langcert.example/log",
            5,
            merkle::root(&log),
            1_767_225_600,
        )
        .unwrap();
        checkpoint.verify(&key.verifying_key()).unwrap();
        assert_eq!(
            checkpoint.body(),
            format!(
                "langcert.example/log\n5\n{}\n1767225600\n",
                b64::std_encode(&merkle::root(&log))
            )
        );
        let json = serde_json::to_string(&checkpoint).unwrap();
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, checkpoint);
        back.verify(&key.verifying_key()).unwrap();
    }

    #[test]
    fn any_change_fails() {
        let key = IssuerKey::generate();
        let vk = key.verifying_key();
        let good = Checkpoint::sign(
            &key,
            "langcert.example/log",
            7,
            merkle::root(&leaves(7)),
            100,
        )
        .unwrap();
        let mut changes: Vec<Checkpoint> = Vec::new();
        let mut c = good.clone();
        c.origin.push('x');
        changes.push(c);
        let mut c = good.clone();
        c.tree_size += 1;
        changes.push(c);
        let mut c = good.clone();
        c.timestamp += 1;
        changes.push(c);
        for byte in 0..32 {
            let mut c = good.clone();
            c.root_hash[byte] ^= 0x01;
            changes.push(c);
        }
        for byte in 0..64 {
            let mut c = good.clone();
            c.signature[byte] ^= 0x80;
            changes.push(c);
        }
        for changed in changes {
            assert!(changed.verify(&vk).is_err(), "{changed:?}");
        }
        assert!(good.verify(&IssuerKey::generate().verifying_key()).is_err());
        let mut newline = good.clone();
        newline.origin = "a\n1".into();
        assert!(matches!(
            newline.verify(&vk),
            Err(VerifyError::InvalidOrigin)
        ));
        assert!(Checkpoint::sign(&key, "with space", 0, merkle::empty_root(), 0).is_err());
        assert!(Checkpoint::sign(&key, "", 0, merkle::empty_root(), 0).is_err());
    }

    #[test]
    fn json_with_non_canonical_or_unknown_fields_is_refused() {
        let key = IssuerKey::generate();
        let good = Checkpoint::sign(&key, "o", 1, merkle::root(&leaves(1)), 1).unwrap();
        let json = serde_json::to_value(&good).unwrap();
        let mut unpadded = json.clone();
        unpadded["root_hash"] = json["root_hash"]
            .as_str()
            .unwrap()
            .trim_end_matches('=')
            .into();
        assert!(serde_json::from_value::<Checkpoint>(unpadded).is_err());
        let mut short = json.clone();
        short["signature"] = b64::std_encode(&[0; 63]).into();
        assert!(serde_json::from_value::<Checkpoint>(short).is_err());
        let mut extra = json.clone();
        extra["note"] = "x".into();
        assert!(serde_json::from_value::<Checkpoint>(extra).is_err());
    }

    #[test]
    fn signed_note_form() {
        let key = IssuerKey::from_seed([3; 32]);
        let checkpoint =
            Checkpoint::sign(&key, "langcert.example/log", 0, merkle::empty_root(), 5).unwrap();
        let note = checkpoint.signed_note(&key.verifying_key());
        let (body, signature_line) = note.split_once("\n\n").unwrap();
        assert_eq!(format!("{body}\n"), checkpoint.body());
        let rest = signature_line
            .strip_prefix("\u{2014} langcert.example/log ")
            .unwrap()
            .strip_suffix('\n')
            .unwrap();
        let bytes = b64::std_decode(rest, "note signature").unwrap();
        assert_eq!(bytes.len(), 68);
        assert_eq!(
            bytes[..4],
            note_key_id("langcert.example/log", &key.verifying_key())
        );
        assert_eq!(bytes[4..], checkpoint.signature);
    }

    #[test]
    fn a_newer_checkpoint_extends_an_older_one() {
        let key = IssuerKey::generate();
        let vk = key.verifying_key();
        let log = leaves(11);
        let older = Checkpoint::sign(&key, "o", 6, merkle::root(&log[..6]), 1).unwrap();
        let newer = Checkpoint::sign(&key, "o", 11, merkle::root(&log), 2).unwrap();
        let proof = merkle::consistency_proof(6, &log).unwrap();
        verify_extension(&older, &newer, &proof, &vk).unwrap();
        assert!(verify_extension(&newer, &older, &proof, &vk).is_err());

        // A log whose history was rewritten: a leaf of the old tree changed.
        let mut forked = log.clone();
        forked[2][0] ^= 1;
        let forked_head = Checkpoint::sign(&key, "o", 11, merkle::root(&forked), 2).unwrap();
        let forked_proof = merkle::consistency_proof(6, &forked).unwrap();
        assert!(matches!(
            verify_extension(&older, &forked_head, &forked_proof, &vk),
            Err(VerifyError::NotConsistent)
        ));
        let elsewhere = Checkpoint::sign(&key, "p", 11, merkle::root(&log), 2).unwrap();
        assert!(verify_extension(&older, &elsewhere, &proof, &vk).is_err());
    }
}
