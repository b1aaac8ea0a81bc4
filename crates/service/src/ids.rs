//! Validated identifiers and the authenticated caller: parsed once at the front door, then
//! trusted by every operation that takes them.

use crate::error::ServiceError;
use qrid_store::Role;
use std::fmt;

/// Declares a record id type: 16 hexadecimal digits (either case, as the API has always taken
/// them), the form of every id the store makes.
macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Takes `id` if it is 16 hexadecimal digits; anything else cannot name a record,
            /// and is refused as [`ServiceError::NotFound`] without asking the store.
            pub fn parse(id: &str) -> Result<$name, ServiceError> {
                if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok($name(id.to_owned()))
                } else {
                    Err(ServiceError::NotFound($what))
                }
            }

            /// The id as the store keeps it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

record_id!(
    /// An enrolled citizen's id.
    CitizenId,
    "citizen"
);
record_id!(
    /// A stored credential's id (a citizen's or an official's signer credential).
    CredentialId,
    "credential"
);
record_id!(
    /// A signature record's id.
    SignatureId,
    "signature"
);

/// A registered client that has authenticated ([`crate::Service::authenticate_client`]):
/// only that operation makes one, so holding a `ClientId` means the client was known, enabled
/// and presented its secret. The access record names clients by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Made by authentication alone.
    pub(crate) fn authenticated(id: String) -> ClientId {
        ClientId(id)
    }

    /// The client's id, as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An authenticated officer: who they are and the role they act in. Made by the front door
/// from a token it has verified; operations check the role with [`Officer::require`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    /// The officer's username, as the access and audit records name them.
    pub username: String,
    /// Their role.
    pub role: Role,
}

impl Officer {
    /// How the access record names this officer when they verify at an office counter:
    /// `office:<username>`, which no registered client id can be (client ids are random hex).
    pub fn counter_client(&self) -> ClientId {
        ClientId(format!("office:{}", self.username))
    }

    /// Refuses ([`ServiceError::Forbidden`], naming the roles that would do) unless the
    /// officer acts in one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ServiceError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
            ))
        }
    }
}

/// Whether a name taken from a request (a username, a client id) may be looked up at all:
/// PostgreSQL refuses text holding a NUL byte with an error, not "no such row", so a name with
/// a control character (or empty, or absurdly long) is treated as unknown before the database
/// is asked, on both databases alike.
pub fn lookup_name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= 256 && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_sixteen_hex_digits() {
        assert!(CitizenId::parse("0123456789abcdef").is_ok());
        assert!(CredentialId::parse("0123456789ABCDEF").is_ok());
        for bad in [
            "",
            "0123456789abcde",
            "0123456789abcdefa",
            "0123456789abcdeg",
            "../etc/passwd00",
        ] {
            let e = CitizenId::parse(bad).unwrap_err();
            assert_eq!(e.kind(), "not_found", "{bad}");
            assert_eq!(e.to_string(), "citizen not found");
        }
    }

    #[test]
    fn require_names_the_roles_that_would_do() {
        let clerk = Officer {
            username: "a".into(),
            role: Role::Auditor,
        };
        assert!(clerk.require(&[Role::Auditor]).is_ok());
        let e = clerk.require(&[Role::Issuer, Role::Admin]).unwrap_err();
        assert_eq!(e.kind(), "forbidden");
        assert_eq!(e.to_string(), "this needs the role issuer or admin");
    }

    #[test]
    fn lookup_names_refuse_control_characters() {
        assert!(lookup_name_ok("officer-1"));
        assert!(!lookup_name_ok(""));
        assert!(!lookup_name_ok("a\0b"));
        assert!(!lookup_name_ok(&"a".repeat(257)));
    }
}
