//! Certificates: the pure core that issues and verifies them.
//!
//! When a candidate's overall level reaches the target set by the training centre, the
//! platform issues an Open Badges 3.0 credential (W3C Verifiable Credentials 2.0) as a
//! JWT signed with Ed25519 ([`issue`]), valid for life, carrying the overall level and
//! the level of each part. The hash of every issued credential is appended to an
//! append-only Merkle log hashed as RFC 6962 ([`merkle`]), whose tree heads are signed
//! as [`Checkpoint`]s and published. A [`Bundle`] — credential, inclusion proof,
//! checkpoint and issuer key — verifies offline ([`verify_bundle`]), which is what
//! `langcert verify FILE` does. Any changed byte of the credential, and any changed leaf,
//! proof element, size or root of the log, makes verification fail.
//!
//! Nothing here reads a clock or the network: timestamps are arguments. The one function
//! that touches the file system is [`keys::load_or_create`], which keeps the issuer key
//! in the data directory (PKCS#8 PEM, owner-only permissions).
//!
//! The issuing side, with the log's leaf hashes held by the caller (the server stores
//! the tree's perfect subtrees instead, see [`merkle::Node`]):
//!
//! ```
//! use credential::{Bundle, Checkpoint, CredentialInput, IssuerKey, merkle};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = IssuerKey::generate(); // in the server: keys::load_or_create(path)?
//! let input = CredentialInput {
//!     id: "urn:uuid:6f1c1b1e-2f0a-4c55-9d6b-0c8a4e3f5a10".into(),
//!     issuer_id: "https://langcert.example/issuer".into(),
//!     issuer_name: "Centre Example".into(),
//!     holder_name: "Ada Example".into(),
//!     holder_id: None,
//!     achievement_id: None,
//!     achievement_name: "English — CEFR B2".into(),
//!     overall: "B2".into(),
//!     levels: vec![("written.reading".into(), "B2".into()), ("oral".into(), "B2".into())],
//!     issued_at: 1_767_225_600,
//! };
//! let jwt = credential::issue(&key, &input)?;
//!
//! // Append the leaf, then sign the new tree head.
//! let mut leaves: Vec<merkle::Hash> = Vec::new();
//! leaves.push(credential::credential_leaf_hash(&jwt));
//! let checkpoint = Checkpoint::sign(
//!     &key, "langcert.example/log", leaves.len() as u64, merkle::root(&leaves), 1_767_225_601,
//! )?;
//!
//! // The downloadable bundle, and what `langcert verify` does with it.
//! let proof = merkle::inclusion_proof(0, &leaves).expect("leaf 0 is in the tree");
//! let bundle = Bundle::assemble(jwt, 0, proof, checkpoint, &key.verifying_key())?;
//! let file = bundle.to_json_pretty();
//! let pinned = key.verifying_key();
//! let report = credential::verify_bundle(&Bundle::from_json(&file)?, Some(&pinned))?;
//! assert_eq!(report.credential.overall, "B2");
//! # Ok(()) }
//! ```

mod b64;
pub mod bundle;
pub mod checkpoint;
pub mod credential;
mod error;
mod jws;
pub mod keys;
pub mod merkle;
pub mod summary;

pub use bundle::{Bundle, BundleReport, verify_bundle};
pub use checkpoint::{Checkpoint, verify_extension};
pub use credential::{CredentialInput, credential_leaf_hash, issue, verify_credential};
pub use ed25519_dalek::VerifyingKey;
pub use error::{IssueError, KeyError, VerifyError};
pub use keys::{IssuerKey, Jwk};
pub use summary::{CredentialSummary, PartLevel};
