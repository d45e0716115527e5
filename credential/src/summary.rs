//! Reading a verified certificate back: who holds it, who issued it, and the levels —
//! after checking that its claims agree with its body as Open Badges 3.0 §8.2 requires.

use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

use super::VerifyError;
use super::credential::{OB_CONTEXT, OVERALL_PART, VC_CONTEXT};

/// A part and the level reached in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartLevel {
    /// The part, e.g. `written.vocabulary` or `oral`.
    pub part: String,
    /// The CEFR level, e.g. `B2`.
    pub level: String,
}

/// What a verified credential says, for pages and the `langcert verify` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSummary {
    /// The credential's id (`urn:uuid:…`).
    pub id: String,
    /// The issuer's id (URI).
    pub issuer_id: String,
    /// The issuer's name.
    pub issuer_name: String,
    /// The holder's name.
    pub holder_name: String,
    /// The subject id (`credentialSubject.id`).
    pub holder_id: String,
    /// The achievement's name.
    pub achievement_name: String,
    /// The overall level.
    pub overall: String,
    /// The level in each part, in the credential's order (the overall level excluded).
    pub levels: Vec<PartLevel>,
    /// `validFrom` as RFC 3339.
    pub valid_from: String,
    /// `validFrom` in Unix seconds (the `nbf` claim).
    pub issued_at: i64,
}

impl CredentialSummary {
    /// Reads a credential payload and checks that it is a certificate of the shape
    /// [`issue`](super::issue) makes and agrees with itself: the VC 2.0 and Open Badges
    /// contexts, the two types, `jti` = `id`, `iss` = `issuer.id`,
    /// `sub` = `credentialSubject.id`, `nbf` = `validFrom`, a holder name, and an overall
    /// result.
    ///
    /// This does not check any signature: call it on what
    /// [`verify_credential`](super::verify_credential) returned.
    pub fn from_payload(payload: &Value) -> Result<Self, VerifyError> {
        let contexts = array(payload, "@context")?;
        if contexts.first().and_then(Value::as_str) != Some(VC_CONTEXT)
            || !contexts.iter().any(|c| c.as_str() == Some(OB_CONTEXT))
        {
            return Err(VerifyError::Claims(
                "@context is not VC 2.0 + Open Badges 3.0",
            ));
        }
        let types = array(payload, "type")?;
        for wanted in ["VerifiableCredential", "OpenBadgeCredential"] {
            if !types.iter().any(|t| t.as_str() == Some(wanted)) {
                return Err(VerifyError::Claims("type is not an OpenBadgeCredential"));
            }
        }
        let id = string(payload, "id")?;
        if string(payload, "jti")? != id {
            return Err(VerifyError::Claims("jti differs from id"));
        }
        let issuer = object(payload, "issuer")?;
        let issuer_id = string(issuer, "id")?;
        if string(payload, "iss")? != issuer_id {
            return Err(VerifyError::Claims("iss differs from issuer.id"));
        }
        let valid_from = string(payload, "validFrom")?;
        let issued_at = DateTime::parse_from_rfc3339(valid_from)
            .map_err(|_| VerifyError::Claims("validFrom is not RFC 3339"))?
            .timestamp();
        if payload.get("nbf").and_then(Value::as_i64) != Some(issued_at) {
            return Err(VerifyError::Claims("nbf differs from validFrom"));
        }
        let subject = object(payload, "credentialSubject")?;
        let holder_id = string(subject, "id")?;
        if string(payload, "sub")? != holder_id {
            return Err(VerifyError::Claims("sub differs from credentialSubject.id"));
        }
        let holder_name = array(subject, "identifier")?
            .iter()
            .find(|i| {
                i.get("identityType").and_then(Value::as_str) == Some("name")
                    && i.get("hashed").and_then(Value::as_bool) == Some(false)
            })
            .and_then(|i| i.get("identityHash").and_then(Value::as_str))
            .ok_or(VerifyError::Claims("no holder name"))?;
        let achievement = object(subject, "achievement")?;

        let mut overall = None;
        let mut levels = Vec::new();
        let descriptions = array(achievement, "resultDescription")?;
        for result in array(subject, "result")? {
            let description_id = string(result, "resultDescription")?;
            let part = descriptions
                .iter()
                .find(|d| d.get("id").and_then(Value::as_str) == Some(description_id))
                .and_then(|d| d.get("name").and_then(Value::as_str))
                .ok_or(VerifyError::Claims("a result has no description"))?;
            let level = string(result, "value")?.to_owned();
            if part == OVERALL_PART {
                if overall.replace(level).is_some() {
                    return Err(VerifyError::Claims("two overall results"));
                }
            } else {
                levels.push(PartLevel {
                    part: part.to_owned(),
                    level,
                });
            }
        }
        Ok(Self {
            id: id.to_owned(),
            issuer_id: issuer_id.to_owned(),
            issuer_name: string(issuer, "name")?.to_owned(),
            holder_name: holder_name.to_owned(),
            holder_id: holder_id.to_owned(),
            achievement_name: string(achievement, "name")?.to_owned(),
            overall: overall.ok_or(VerifyError::Claims("no overall result"))?,
            levels,
            valid_from: valid_from.to_owned(),
            issued_at,
        })
    }
}

fn member<'a>(value: &'a Value, name: &'static str) -> Result<&'a Value, VerifyError> {
    value.get(name).ok_or(VerifyError::Claims(name))
}

fn string<'a>(value: &'a Value, name: &'static str) -> Result<&'a str, VerifyError> {
    member(value, name)?
        .as_str()
        .ok_or(VerifyError::Claims(name))
}

fn array<'a>(value: &'a Value, name: &'static str) -> Result<&'a [Value], VerifyError> {
    member(value, name)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or(VerifyError::Claims(name))
}

fn object<'a>(value: &'a Value, name: &'static str) -> Result<&'a Value, VerifyError> {
    let found = member(value, name)?;
    if found.is_object() {
        Ok(found)
    } else {
        Err(VerifyError::Claims(name))
    }
}
