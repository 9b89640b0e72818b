//! DKIM, SPF and DMARC for inbound order mail, where the operator turns them on
//! (`[inbound_email.authentication] require`), verified by the `mail-auth` crate
//! over its own DNS resolver.
//!
//! A buyer's accepted senders are `From` addresses, and a `From` address is only
//! as true as the path it came by: these checks make it true. What each means
//! here, and why:
//!
//! - `dkim`: a DKIM signature (RFC 6376) verifies, by the `From` address's domain
//!   (or a parent or child of it, DMARC's relaxed alignment). A valid signature by
//!   another domain proves nothing about the `From` address, so it does not count.
//! - `spf`: SPF (RFC 7208) passes for the `MAIL FROM` domain (the `HELO` name when
//!   the reverse path is empty) from the client's IP address. Only the SMTP
//!   listener knows those, so `POST /v1/inbound/email` cannot require it (the
//!   gateway refuses to start so configured).
//! - `dmarc`: the `From` domain publishes a DMARC record (RFC 7489) and the mail
//!   passes it: a DKIM signature or (SMTP only) SPF aligned with the `From`
//!   domain. A mail that does not pass is refused whatever the domain's policy
//!   asks (a forged order costs the craftsman the work), and so is one whose
//!   domain publishes no record: require `dkim` alone to take such domains.
//!
//! Over HTTP the gateway verifies the DKIM signatures itself, and DMARC by DKIM
//! alignment only; it never trusts an `Authentication-Results` header in the
//! posted message, which anyone on the path could have written (RFC 8601 §5 would
//! have the provider remove its own, but the gateway cannot tell whether it did).
//! A DKIM signature survives a provider that forwards the message unchanged.
//!
//! The results are recorded with the message as an `Authentication-Results`
//! header (RFC 8601) under the gateway's host name, first among its stored
//! headers; one under that name already in the mail is dropped as forged. A DNS
//! server that does not answer, or answers `SERVFAIL`, is a temporary error: SMTP
//! answers `451` and HTTP `503`, nothing is stored, and the sender tries again.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcOutput, DmarcResult,
    MessageAuthenticator, SpfOutput, SpfResult,
};
use serde::Deserialize;

use crate::delivery::render::one_line;

/// One check the operator can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Dkim,
    Spf,
    Dmarc,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Self::Dkim => "DKIM",
            Self::Spf => "SPF",
            Self::Dmarc => "DMARC",
        }
    }
}

/// `[inbound_email.authentication]`: which of DKIM, SPF and DMARC a mail must
/// pass, and the DNS servers asked. Off by default.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthenticationConfig {
    /// The checks every mail must pass: `"dmarc"`, or a list of `dkim`, `spf`
    /// and `dmarc`. Empty (the default): nothing is verified.
    #[serde(deserialize_with = "one_or_many")]
    pub require: Vec<Check>,
    /// The DNS servers to ask, `"IP"` or `"IP:PORT"` (UDP, then TCP); empty (the
    /// default): the system's (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
    /// How long one DNS query may take before it is asked again once, then
    /// given up as a temporary error (default `5s`).
    #[serde(with = "humantime_serde")]
    pub dns_timeout: Duration,
}

impl Default for AuthenticationConfig {
    fn default() -> Self {
        Self {
            require: Vec::new(),
            nameservers: Vec::new(),
            dns_timeout: Duration::from_secs(5),
        }
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Check>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Check),
        Many(Vec<Check>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(check) => vec![check],
        OneOrMany::Many(checks) => checks,
    })
}

/// What the SMTP listener knows of where a mail came from, which SPF needs.
#[derive(Debug, Clone, Copy)]
pub struct SmtpOrigin<'a> {
    pub ip: IpAddr,
    /// The `EHLO`/`HELO` name.
    pub helo: &'a str,
    /// The reverse path (`MAIL FROM`), empty for a bounce.
    pub mail_from: &'a str,
}

/// What became of a mail's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every required check passed; the `Authentication-Results` value to keep.
    Passed { results: String },
    /// A required check failed: the mail is refused, never normalized nor answered.
    Failed { reason: String, results: String },
    /// DNS could not answer now; nothing is stored and the sender tries again.
    Temporary { reason: String },
}

/// The checks in force and the resolver they ask.
pub struct Authenticator {
    require: Vec<Check>,
    hostname: String,
    resolver: MessageAuthenticator,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("require", &self.require)
            .field("hostname", &self.hostname)
            .finish_non_exhaustive()
    }
}

/// Why the configured checks cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "[inbound_email.authentication] requires spf, which only the SMTP listener can \
         check (it needs the client's address); POST /v1/inbound/email is on \
         (http_token is set): require dkim or dmarc instead, or turn the HTTP door off"
    )]
    SpfOverHttp,
    #[error("[inbound_email.authentication] nameservers: '{0}' is not IP or IP:PORT")]
    Nameserver(String),
    #[error("the DNS resolver: {0}")]
    Resolver(String),
}

impl Authenticator {
    /// The checks `config` requires, or `None` when it requires none.
    /// `over_http`: whether `POST /v1/inbound/email` takes mail, which cannot
    /// give SPF what it needs.
    pub fn new(
        config: &AuthenticationConfig,
        hostname: &str,
        over_http: bool,
    ) -> Result<Option<Self>, SetupError> {
        if config.require.is_empty() {
            return Ok(None);
        }
        if over_http && config.require.contains(&Check::Spf) {
            return Err(SetupError::SpfOverHttp);
        }
        let mut options = ResolverOpts::default();
        options.timeout = config.dns_timeout;
        options.attempts = 1;
        let resolver = if config.nameservers.is_empty() {
            let (system, mut system_options) =
                mail_auth::hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| SetupError::Resolver(e.to_string()))?;
            system_options.timeout = config.dns_timeout;
            system_options.attempts = 1;
            MessageAuthenticator::new(system, system_options)
        } else {
            let mut servers = Vec::new();
            for text in &config.nameservers {
                let address = text
                    .parse::<SocketAddr>()
                    .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                    .map_err(|_| SetupError::Nameserver(text.clone()))?;
                let mut udp = ConnectionConfig::udp();
                udp.port = address.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = address.port();
                servers.push(NameServerConfig::new(address.ip(), true, vec![udp, tcp]));
            }
            MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), options)
        }
        .map_err(|e| SetupError::Resolver(e.to_string()))?;
        Ok(Some(Self {
            require: config.require.clone(),
            hostname: hostname.to_owned(),
            resolver,
        }))
    }

    /// The host name the results are recorded under (their authserv-id).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Runs the required checks on `raw`, whose `From` address is `from`;
    /// `origin` is `None` for a mail posted over HTTP.
    pub async fn verify(&self, raw: &[u8], from: &str, origin: Option<SmtpOrigin<'_>>) -> Verdict {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Verdict::Failed {
                reason: "the message's header cannot be read to verify it".into(),
                results: format!("{}; none", self.hostname),
            };
        };
        let from_domain = domain_of(from);
        let wants = |check| self.require.contains(&check);
        let dkim = if wants(Check::Dkim) || wants(Check::Dmarc) {
            self.resolver.verify_dkim(&message).await
        } else {
            Vec::new()
        };
        let spf = match origin {
            Some(origin) if wants(Check::Spf) || wants(Check::Dmarc) => Some(
                self.resolver
                    .verify_spf(if origin.mail_from.is_empty() {
                        SpfParameters::verify_ehlo(origin.ip, origin.helo, &self.hostname)
                    } else {
                        SpfParameters::verify_mail_from(
                            origin.ip,
                            origin.helo,
                            &self.hostname,
                            origin.mail_from,
                        )
                    })
                    .await,
            ),
            _ => None,
        };
        // Over HTTP there is no SPF to align: DMARC can pass by DKIM alone.
        let no_spf = SpfOutput::new(String::new());
        let spf_domain = origin.map_or(String::new(), |o| {
            domain_of(o.mail_from).unwrap_or_else(|| o.helo.to_ascii_lowercase())
        });
        let dmarc = if wants(Check::Dmarc) {
            Some(
                self.resolver
                    .verify_dmarc(DmarcParameters::new(
                        &message,
                        &dkim,
                        &spf_domain,
                        spf.as_ref().unwrap_or(&no_spf),
                    ))
                    .await,
            )
        } else {
            None
        };

        let mut results = AuthenticationResults::new(&self.hostname);
        if !dkim.is_empty() {
            results = results.with_dkim_results(&dkim, from);
        }
        if let (Some(spf), Some(origin)) = (&spf, origin) {
            results = if origin.mail_from.is_empty() {
                results.with_spf_ehlo_result(spf, origin.ip, origin.helo)
            } else {
                results.with_spf_mailfrom_result(spf, origin.ip, origin.mail_from, origin.helo)
            };
        }
        if let Some(dmarc) = &dmarc {
            results = results.with_dmarc_result(dmarc);
        }
        // `mail-auth` folds the results as a header; they are kept on one line.
        let results = one_line(&results.to_string());

        let mut temporary = None;
        for &check in &self.require {
            let outcome = match check {
                Check::Dkim => dkim_outcome(&dkim, from_domain.as_deref()),
                Check::Spf => match (&spf, origin) {
                    (Some(spf), Some(origin)) => spf_outcome(spf, origin),
                    _ => Outcome::Fail("SPF cannot be checked for mail posted over HTTP".into()),
                },
                Check::Dmarc => dmarc_outcome(dmarc.as_ref(), &dkim),
            };
            match outcome {
                Outcome::Pass => {}
                Outcome::Fail(why) => {
                    return Verdict::Failed {
                        reason: format!("{} failed: {why}", check.name()),
                        results,
                    };
                }
                Outcome::Temporary(why) => {
                    temporary
                        .get_or_insert(format!("{} could not be checked now: {why}", check.name()));
                }
            }
        }
        match temporary {
            Some(reason) => Verdict::Temporary { reason },
            None => Verdict::Passed { results },
        }
    }
}

/// What one check came to.
enum Outcome {
    Pass,
    Fail(String),
    Temporary(String),
}

/// The domain of an address, lower case.
fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('>').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// Whether a signature by `signer` speaks for mail from `from`: the same domain,
/// or one inside the other (DMARC's relaxed alignment, without a public-suffix
/// list: a signer's key must be published under its domain, so a parent that
/// signs controls the child's DNS anyway).
fn aligned(signer: &str, from: &str) -> bool {
    let signer = signer.trim_end_matches('.').to_ascii_lowercase();
    let from = from.trim_end_matches('.');
    signer.contains('.')
        && (signer == from
            || from.ends_with(&format!(".{signer}"))
            || signer.ends_with(&format!(".{from}")))
}

fn dkim_outcome(dkim: &[DkimOutput<'_>], from: Option<&str>) -> Outcome {
    let Some(from) = from else {
        return Outcome::Fail("the mail has no From address to align a signature with".into());
    };
    if dkim.is_empty() {
        return Outcome::Fail("the mail carries no DKIM signature".into());
    }
    let signer = |output: &DkimOutput<'_>| {
        output
            .signature()
            .map_or_else(|| "?".to_owned(), |s| s.d.clone())
    };
    let mut first_failure = None;
    let mut temporary = None;
    let mut unaligned = None;
    for output in dkim {
        let d = signer(output);
        match output.result() {
            DkimResult::Pass if aligned(&d, from) => return Outcome::Pass,
            DkimResult::Pass => {
                unaligned.get_or_insert(d);
            }
            DkimResult::TempError(error) => {
                temporary.get_or_insert(format!("the key of d={d}: {error}"));
            }
            DkimResult::Fail(error) | DkimResult::PermError(error) | DkimResult::Neutral(error) => {
                first_failure
                    .get_or_insert(format!("the signature by d={d} does not verify: {error}"));
            }
            DkimResult::None => {}
        }
    }
    if let Some(why) = temporary {
        return Outcome::Temporary(why);
    }
    Outcome::Fail(first_failure.unwrap_or_else(|| match unaligned {
        Some(d) => format!("the only valid signature is by d={d}, not by the From domain {from}"),
        None => "the mail carries no DKIM signature".into(),
    }))
}

fn spf_outcome(spf: &SpfOutput, origin: SmtpOrigin<'_>) -> Outcome {
    let identity = if origin.mail_from.is_empty() {
        format!("HELO {}", origin.helo)
    } else {
        format!("MAIL FROM {}", origin.mail_from)
    };
    match spf.result() {
        SpfResult::Pass => Outcome::Pass,
        SpfResult::TempError => Outcome::Temporary(format!(
            "the SPF record of {} could not be read",
            spf.domain()
        )),
        other => Outcome::Fail(format!(
            "{} from {} is '{}' by the SPF record of {}",
            identity,
            origin.ip,
            other.to_string().to_ascii_lowercase(),
            spf.domain()
        )),
    }
}

fn dmarc_outcome(dmarc: Option<&DmarcOutput>, dkim: &[DkimOutput<'_>]) -> Outcome {
    let Some(dmarc) = dmarc else {
        return Outcome::Fail("not evaluated".into());
    };
    let (by_dkim, by_spf) = (dmarc.dkim_result(), dmarc.spf_result());
    if *by_dkim == DmarcResult::Pass || *by_spf == DmarcResult::Pass {
        return Outcome::Pass;
    }
    for result in [by_dkim, by_spf] {
        if let DmarcResult::TempError(error) = result {
            return Outcome::Temporary(error.to_string());
        }
    }
    // A DKIM key that could not be fetched may be the aligned one.
    if let Some(error) = dkim.iter().find_map(|o| match o.result() {
        DkimResult::TempError(error) => Some(error),
        _ => None,
    }) {
        return Outcome::Temporary(format!("a DKIM key could not be read: {error}"));
    }
    let domain = dmarc.domain();
    if domain.is_empty() {
        return Outcome::Fail("the From header names no single domain".into());
    }
    if dmarc.dmarc_record().is_none() {
        return Outcome::Fail(format!("{domain} publishes no DMARC record"));
    }
    Outcome::Fail(format!(
        "neither a DKIM signature nor SPF aligned with {domain} passed (its policy: {})",
        match dmarc.policy() {
            mail_auth::dmarc::Policy::Reject => "reject",
            mail_auth::dmarc::Policy::Quarantine => "quarantine",
            _ => "none",
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_is_the_domain_or_one_inside_it() {
        assert!(aligned("mitra.test", "mitra.test"));
        assert!(aligned("MITRA.test.", "mitra.test"));
        assert!(aligned("mitra.test", "mail.mitra.test"));
        assert!(aligned("mail.mitra.test", "mitra.test"));
        assert!(!aligned("evil.test", "mitra.test"));
        assert!(!aligned("tra.test", "mitra.test"));
        assert!(!aligned("test", "mitra.test"));
    }

    #[test]
    fn require_takes_one_check_or_a_list() {
        let one: AuthenticationConfig = toml::from_str("require = \"dmarc\"").unwrap();
        assert_eq!(one.require, [Check::Dmarc]);
        let many: AuthenticationConfig =
            toml::from_str("require = [\"dkim\", \"spf\"]\ndns_timeout = \"1s\"").unwrap();
        assert_eq!(many.require, [Check::Dkim, Check::Spf]);
        assert_eq!(many.dns_timeout, Duration::from_secs(1));
        assert!(toml::from_str::<AuthenticationConfig>("require = \"arc\"").is_err());
        assert!(AuthenticationConfig::default().require.is_empty());
    }

    #[test]
    fn spf_cannot_be_required_of_mail_posted_over_http() {
        let config: AuthenticationConfig =
            toml::from_str("require = [\"spf\"]\nnameservers = [\"127.0.0.1:5353\"]").unwrap();
        assert!(matches!(
            Authenticator::new(&config, "in.test", true),
            Err(SetupError::SpfOverHttp)
        ));
        let bad: AuthenticationConfig =
            toml::from_str("require = [\"dkim\"]\nnameservers = [\"dns.example\"]").unwrap();
        assert!(matches!(
            Authenticator::new(&bad, "in.test", false),
            Err(SetupError::Nameserver(_))
        ));
    }
}
