//! Account administration (officers, clients, officials): create, list, disable, enable,
//! reset a password, a client secret or an official's TOTP device, and rotate an official's
//! signing key ([`crate::officials::rotate_key`]). The `qrid` commands call
//! these, and so do the office's admin screens (through the `admin_*` operations below, which
//! check the caller's role). Every change holds on every node at
//! once: requests read the account on arrival (docs/api.md, "Accounts"), and each change is
//! audited under `actor` in the same transaction.

use crate::custody::Kek;
use crate::error::{Result, ServiceError};
use crate::passwords::{hash_password, new_client_secret};
use qrid_store::{AccountKind, AccountSummary, Role, Store, StoreError};
use zeroize::Zeroizing;

/// The shortest password an account may be given, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Whether `name` may be a username: 1 to 64 ASCII letters, digits, `.`, `_` or `-` (never
/// `:`, which the throttling tables use to tell officers from officials).
pub fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Refuses a username that is not [`valid_username`].
pub fn check_username(name: &str) -> Result<()> {
    if valid_username(name) {
        Ok(())
    } else {
        Err(ServiceError::InvalidRequest(
            "username must be 1 to 64 letters, digits, '.', '_' or '-'".into(),
        ))
    }
}

/// Refuses a password shorter than [`MIN_PASSWORD_CHARS`].
pub fn check_new_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServiceError::InvalidRequest(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Hashes a new password (checked first) with argon2id on a blocking thread.
async fn new_password_hash(password: &str) -> Result<String> {
    check_new_password(password)?;
    let password = Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::internal)
}

/// Creates an officer with `role` and a new password (at least [`MIN_PASSWORD_CHARS`]);
/// refuses a username taken or not [`valid_username`].
pub async fn create_officer(
    store: &Store,
    username: &str,
    role: Role,
    password: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    check_username(username)?;
    let hash = new_password_hash(password).await?;
    store
        .create_officer(username, &hash, role, actor, now)
        .await?;
    tracing::info!(officer = %username, role = role.as_str(), "officer created");
    Ok(())
}

/// One page of accounts of `kind` (at most `qrid_store::ACCOUNT_PAGE`), in name order after
/// `after`.
pub async fn list_accounts(
    store: &Store,
    kind: AccountKind,
    after: Option<&str>,
) -> Result<Vec<AccountSummary>> {
    Ok(store.list_accounts(kind, after).await?)
}

/// Disables (refuses sign-in, ends the tokens and sessions held) or enables an account;
/// [`StoreError::NotFound`] if there is none of that name.
pub async fn set_disabled(
    store: &Store,
    kind: AccountKind,
    name: &str,
    disabled: bool,
    actor: &str,
    now: i64,
) -> Result<()> {
    store
        .set_account_disabled(kind, name, disabled, actor, now)
        .await?;
    Ok(())
}

/// Gives an officer or official a new password (at least [`MIN_PASSWORD_CHARS`]); the tokens
/// issued before are refused from then on.
pub async fn reset_password(
    store: &Store,
    kind: AccountKind,
    name: &str,
    password: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    let hash = new_password_hash(password).await?;
    store.reset_password(kind, name, &hash, actor, now).await?;
    Ok(())
}

/// Gives a client a new secret and returns it: it is shown once, only its SHA-256 is stored,
/// and the old one stops working at once.
pub async fn reset_client_secret(
    store: &Store,
    client_id: &str,
    actor: &str,
    now: i64,
) -> Result<Zeroizing<String>> {
    let (secret, digest) = new_client_secret();
    store
        .reset_client_secret(client_id, &digest, actor, now)
        .await?;
    Ok(secret)
}

/// Gives an official a new TOTP secret, sealed under `kek`, for a lost or replaced device, and
/// returns its `otpauth://` URI to show once; codes of the old device stop working.
pub async fn reset_official_totp(
    store: &Store,
    kek: &Kek,
    username: &str,
    totp_issuer: &str,
    actor: &str,
    now: i64,
) -> Result<Zeroizing<String>> {
    let o = store
        .official_by_username(username)
        .await?
        .ok_or(StoreError::NotFound("official"))?;
    let (sealed, uri) = crate::officials::new_totp(kek, &o.username, &o.kid, totp_issuer);
    store
        .reset_official_totp(username, &sealed, actor, now)
        .await?;
    Ok(uri)
}

/// Account administration by a signed-in administrator (the office's admin screens): the
/// operations above, each refused ([`ServiceError::Forbidden`]) unless `by` is an admin, and
/// audited under their username.
impl crate::Service {
    /// [`list_accounts`], for an admin.
    pub async fn admin_list_accounts(
        &self,
        by: &crate::Officer,
        kind: AccountKind,
        after: Option<&str>,
    ) -> Result<Vec<AccountSummary>> {
        by.require(&[Role::Admin])?;
        list_accounts(&self.store, kind, after).await
    }

    /// [`create_officer`], for an admin.
    pub async fn admin_create_officer(
        &self,
        by: &crate::Officer,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<()> {
        by.require(&[Role::Admin])?;
        create_officer(
            &self.store,
            username,
            role,
            password,
            &by.username,
            self.now(),
        )
        .await
    }

    /// [`set_disabled`], for an admin. An admin cannot disable their own account (the office
    /// would lose its last way in).
    pub async fn admin_set_disabled(
        &self,
        by: &crate::Officer,
        kind: AccountKind,
        name: &str,
        disabled: bool,
    ) -> Result<()> {
        by.require(&[Role::Admin])?;
        if disabled && kind == AccountKind::Officer && name == by.username {
            return Err(ServiceError::InvalidRequest(
                "an administrator cannot disable their own account".into(),
            ));
        }
        set_disabled(&self.store, kind, name, disabled, &by.username, self.now()).await
    }

    /// [`reset_password`], for an admin.
    pub async fn admin_reset_password(
        &self,
        by: &crate::Officer,
        kind: AccountKind,
        name: &str,
        password: &str,
    ) -> Result<()> {
        by.require(&[Role::Admin])?;
        reset_password(&self.store, kind, name, password, &by.username, self.now()).await
    }

    /// [`reset_official_totp`], for an admin: the official's new `otpauth://` URI, to show
    /// once (never log or store it). The official's tokens and signing sessions end, and codes
    /// of the old device stop working. `NotFound` for an unknown official.
    pub async fn admin_reset_official_totp(
        &self,
        by: &crate::Officer,
        username: &str,
    ) -> Result<Zeroizing<String>> {
        by.require(&[Role::Admin])?;
        let issuer = format!("qrid {}", self.config.issuer);
        let uri = reset_official_totp(
            &self.store,
            &self.kek,
            username,
            &issuer,
            &by.username,
            self.now(),
        )
        .await?;
        tracing::info!(officer = %by.username, "official TOTP re-enrolled");
        Ok(uri)
    }

    /// [`crate::officials::rotate_key`], for an admin, signed by this node's current issuer
    /// key: a new signing key (same TOTP secret), a new signer credential, the old ones
    /// revoked, the official's tokens and signing sessions ended. This node's copies of the
    /// revoked credentials' status lists are dropped at once. `NotFound` for an unknown
    /// official; `InvalidState` if the official changed meanwhile (try again).
    pub async fn admin_rotate_official_key(
        &self,
        by: &crate::Officer,
        username: &str,
    ) -> Result<qrid_store::KeyRotation> {
        by.require(&[Role::Admin])?;
        let keys = self.keys();
        let rotation = crate::officials::rotate_key(
            &self.store,
            &self.config,
            self.clock.as_ref(),
            &self.kek,
            &keys.current,
            username,
            &by.username,
        )
        .await?;
        for r in &rotation.revoked {
            self.invalidate_status_list(r.status_list);
        }
        Ok(rotation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_have_twelve_characters_at_least() {
        assert!(check_new_password("twelve chars").is_ok());
        // Characters, not bytes: eleven Vietnamese letters are still too short.
        let e = check_new_password("ăâđêôơưạảấầ").unwrap_err();
        assert_eq!(e.to_string(), "password must be at least 12 characters");
        assert_eq!(e.kind(), "invalid_body");
    }

    #[test]
    fn usernames_are_ascii_words() {
        assert!(valid_username("nguyen.van-an_1"));
        for bad in ["", "a b", "ngô", "a/b", &"a".repeat(65)] {
            assert!(!valid_username(bad), "{bad}");
        }
    }
}
