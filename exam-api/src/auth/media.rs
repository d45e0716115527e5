//! Media grants: short-lived tokens whose grants name one room, with which a participant
//! of an interview publishes and receives media there.

use super::{Claims, Grants, JwtKeys, Role};

/// How long a media grant lasts: longer than any interview (renegotiations need it).
pub const MEDIA_GRANT_TTL_S: i64 = 3 * 3600;

/// A media grant could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// Signing the token failed.
    #[error("the media grant could not be signed: {0}")]
    Signing(String),
}

impl JwtKeys {
    /// A media grant for `user`, who takes part as `role`, in `room`, issued at `now_ms`
    /// (ms since the epoch): it may publish and subscribe there for
    /// [`MEDIA_GRANT_TTL_S`], and is no session (it has no sign-in id).
    pub fn media_grant(
        &self,
        user: &str,
        role: Role,
        room: &str,
        now_ms: i64,
    ) -> Result<String, GrantError> {
        let iat = now_ms / 1000;
        let claims = Claims {
            sub: user.to_owned(),
            role,
            centre: None,
            grants: Grants {
                room: Some(room.to_owned()),
                can_publish: true,
                can_subscribe: true,
            },
            sid: String::new(),
            iat,
            exp: iat + MEDIA_GRANT_TTL_S,
        };
        self.sign(&claims)
            .map_err(|e| GrantError::Signing(e.to_string()))
    }

    /// Whether `token` is a valid, unexpired media grant of `user` in `room`.
    pub fn check_media_grant(&self, token: &str, user: &str, room: &str) -> bool {
        self.verify(token).is_ok_and(|c| {
            c.sub == user
                && c.grants.room.as_deref() == Some(room)
                && c.grants.can_publish
                && c.grants.can_subscribe
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_its_holder_role_and_room_only() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let now = crate::db::now_ms();
        let token = keys
            .media_grant("ev-1", Role::Evaluator, "room-1", now)
            .unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.role, Role::Evaluator);
        assert_eq!(claims.exp - claims.iat, MEDIA_GRANT_TTL_S);
        assert!(claims.sid.is_empty(), "a grant is not a session");
        assert!(keys.check_media_grant(&token, "ev-1", "room-1"));
        assert!(!keys.check_media_grant(&token, "cand-1", "room-1"));
        assert!(!keys.check_media_grant(&token, "ev-1", "room-2"));
        // Expired long ago.
        let old = keys
            .media_grant("ev-1", Role::Evaluator, "room-1", now - 4 * 3600 * 1000)
            .unwrap();
        assert!(!keys.check_media_grant(&old, "ev-1", "room-1"));
    }
}
