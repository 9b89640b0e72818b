//! Secrets: API keys and tokens are made here, stored only as hashes, and compared
//! in constant time.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh secret: `prefix` + 32 random bytes, base64url. The prefix tells a
/// leaked secret's kind at a glance (and lets secret scanners find it).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored in place of a secret. Keys have 256 bits of entropy, so a plain
/// SHA-256 is enough; a slow password hash would only slow every request.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hex SHA-256 of bytes: tells an idempotent retry from a different request, and is
/// a plugin's identity.
pub fn hash_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Constant-time equality of two secrets (compared through their hashes so the
/// length of the expected one does not leak either).
pub fn matches(presented: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(presented.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A time-ordered id with a kind prefix, e.g. `ord_0193…`: sorting ids sorts by
/// creation, which the store's cursors rely on.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_compare_by_value() {
        let (a, b) = (generate("jbk_"), generate("jbk_"));
        assert_ne!(a, b);
        assert!(a.starts_with("jbk_") && a.len() > 40);
        assert!(matches(&a, &a.clone()));
        assert!(!matches(&a, &b));
        assert_eq!(hash(&a), hash(&a.clone()));
        assert_eq!(hash(&a).len(), 64);
    }

    #[test]
    fn sha256_is_lower_hex() {
        assert_eq!(
            hash_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ids_sort_by_creation() {
        let first = new_id("ord");
        let second = new_id("ord");
        assert!(first < second, "{first} {second}");
    }
}
