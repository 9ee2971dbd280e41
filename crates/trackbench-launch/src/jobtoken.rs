//! Job-scoped tokens: what a cluster job gets instead of the server's own token. A launcher
//! that holds the server's token mints one per submission; it names a scope (a fresh id every
//! run of the submission carries as its `launch.scope` tag) and an expiry, sealed with a keyed
//! BLAKE3 hash under a key derived from the server's token. Any replica that shares the token
//! checks it without a lookup; it reaches only runs tagged with its scope, and only until the
//! launcher revokes it for a run (the `launch.token_revoked` tag, set when Slurm reports the
//! task ended) or it expires. It never reaches another run, a listing, or an admin route.

/// Every job token starts with this.
pub const PREFIX: &str = "tbj1.";
/// The tag that puts a run in a job token's scope.
pub const SCOPE_TAG: &str = "launch.scope";
/// Set on a run when its job has ended: the token no longer reaches it.
pub const REVOKED_TAG: &str = "launch.token_revoked";

/// What a valid job token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobToken {
    pub scope: String,
    /// Unix ms after which the token is refused.
    pub expires_ms: i64,
}

fn key(secret: &str) -> [u8; 32] {
    blake3::derive_key("trackbench 2026 job token v1", secret.as_bytes())
}

fn seal(secret: &str, scope: &str, expires_ms: i64) -> String {
    blake3::keyed_hash(&key(secret), format!("{scope}.{expires_ms}").as_bytes()).to_hex().to_string()
}

/// A token for runs tagged `launch.scope = scope`, valid until `expires_ms`.
pub fn mint(secret: &str, scope: &str, expires_ms: i64) -> String {
    format!("{PREFIX}{scope}.{expires_ms}.{}", seal(secret, scope, expires_ms))
}

/// True when `token` has the job token's form (so it is checked as one, never as a plain token).
pub fn is_job_token(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// Checks `token` against the server's `secret` at time `now_ms`.
pub fn verify(secret: &str, token: &str, now_ms: i64) -> Result<JobToken, &'static str> {
    let rest = token.strip_prefix(PREFIX).ok_or("not a job token")?;
    let mut parts = rest.splitn(3, '.');
    let (Some(scope), Some(exp), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a malformed job token");
    };
    let expires_ms: i64 = exp.parse().map_err(|_| "a malformed job token")?;
    let want = seal(secret, scope, expires_ms);
    let same = want.len() == mac.len() && want.bytes().zip(mac.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    if scope.is_empty() || !same {
        return Err("a job token this server did not issue");
    }
    if now_ms > expires_ms {
        return Err("an expired job token");
    }
    Ok(JobToken { scope: scope.to_string(), expires_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_under_their_secret_before_their_expiry() {
        let t = mint("server-secret", "scope1", 1_000);
        assert!(is_job_token(&t));
        assert_eq!(verify("server-secret", &t, 999), Ok(JobToken { scope: "scope1".into(), expires_ms: 1_000 }));
        assert_eq!(verify("server-secret", &t, 1_001), Err("an expired job token"));
        assert_eq!(verify("other-secret", &t, 0), Err("a job token this server did not issue"));
        // Changing the scope or the expiry breaks the seal.
        let forged = t.replace("scope1", "scope2");
        assert_eq!(verify("server-secret", &forged, 0), Err("a job token this server did not issue"));
        let later = t.replace(".1000.", ".9999999999999.");
        assert_eq!(verify("server-secret", &later, 0), Err("a job token this server did not issue"));
        assert_eq!(verify("server-secret", "tbj1.x", 0), Err("a malformed job token"));
        assert_eq!(verify("server-secret", "server-secret", 0), Err("not a job token"));
    }
}
