//! Inbound addresses (`orders+TOKEN@domain`) and the senders a buyer accepts.

use rand::RngCore;

/// A new inbound address token: 20 random bytes as lower-case hex, so that no
/// mail system's case folding of the local part can change it.
pub fn new_token() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The address with `token`.
pub fn inbound_address(local_part: &str, token: &str, domain: &str) -> String {
    format!("{local_part}+{token}@{domain}")
}

/// The token of `address` if it is an inbound address of this gateway
/// (`local_part+TOKEN@domain`, compared without regard to case; angle brackets
/// and a source route are taken off).
pub fn token_of(address: &str, local_part: &str, domain: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    // RFC 5321 §4.1.2: a source route (`@a,@b:user@host`) is to be ignored.
    let address = address.rsplit(':').next().unwrap_or(address);
    let (local, host) = address.rsplit_once('@')?;
    if !host.eq_ignore_ascii_case(domain) {
        return None;
    }
    let (prefix, token) = local.split_once('+')?;
    if !prefix.eq_ignore_ascii_case(local_part) || token.is_empty() {
        return None;
    }
    Some(token.to_ascii_lowercase())
}

/// Whether `sender` (an address) is one of `accepted` (addresses and domains,
/// lower case); an empty list accepts anyone. A domain accepts its own
/// addresses, not its subdomains'.
pub fn sender_accepted(sender: &str, accepted: &[String]) -> bool {
    if accepted.is_empty() {
        return true;
    }
    let sender = sender.trim().to_ascii_lowercase();
    let Some((_, domain)) = sender.rsplit_once('@') else {
        return false;
    };
    accepted.iter().any(|rule| {
        let rule = rule.trim_start_matches('@');
        if rule.contains('@') {
            *rule == sender
        } else {
            rule == domain
        }
    })
}

/// An accepted-sender rule as stored: lower case, an address or a domain;
/// `None` when it is neither.
pub fn sender_rule(rule: &str) -> Option<String> {
    let rule = rule.trim().trim_start_matches('@').to_ascii_lowercase();
    let domain = rule.rsplit('@').next()?;
    let local = rule.rsplit_once('@').map(|(local, _)| local);
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let local_ok = local.is_none_or(|l| !l.is_empty() && !l.contains(char::is_whitespace));
    (domain_ok && local_ok).then_some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inbound_address_gives_its_token_back() {
        let token = new_token();
        let address = inbound_address("orders", &token, "in.example.id");
        assert_eq!(
            token_of(&address, "orders", "in.example.id"),
            Some(token.clone())
        );
        assert_eq!(
            token_of(
                &format!("<{}>", address.to_uppercase()),
                "orders",
                "in.example.id"
            ),
            Some(token)
        );
        assert_eq!(
            token_of("orders+x@other.id", "orders", "in.example.id"),
            None
        );
        assert_eq!(
            token_of("sales+x@in.example.id", "orders", "in.example.id"),
            None
        );
        assert_eq!(
            token_of("orders@in.example.id", "orders", "in.example.id"),
            None
        );
    }

    #[test]
    fn senders_are_accepted_by_address_or_domain() {
        let rules = vec!["budi@mitra.co.id".to_owned(), "pabrik.id".to_owned()];
        assert!(sender_accepted("Budi@Mitra.co.id", &rules));
        assert!(!sender_accepted("ani@mitra.co.id", &rules));
        assert!(sender_accepted("ani@pabrik.id", &rules));
        assert!(!sender_accepted("ani@evil.pabrik.id", &rules));
        assert!(!sender_accepted("", &rules));
        assert!(sender_accepted("anyone@anywhere.id", &[]));
        assert_eq!(sender_rule(" @Pabrik.ID "), Some("pabrik.id".into()));
        assert_eq!(
            sender_rule("Budi@Mitra.co.id"),
            Some("budi@mitra.co.id".into())
        );
        assert_eq!(sender_rule("not a domain"), None);
        assert_eq!(sender_rule("@"), None);
    }
}
