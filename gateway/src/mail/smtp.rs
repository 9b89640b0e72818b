//! The SMTP listener: a small, strict RFC 5321 server for buyers' order mail.
//!
//! No SMTP server crate was both well kept and small enough to embed (the
//! maintained ones are whole mail servers), so this is a state machine of the
//! commands a receiving MTA needs: `EHLO`/`HELO`, `MAIL`, `RCPT`, `DATA`,
//! `RSET`, `NOOP`, `QUIT`, `VRFY` (never verifies), `HELP` and, with a
//! certificate, `STARTTLS` (RFC 3207). What it holds to:
//!
//! - A recipient that is not a buyer's inbound address is refused at `RCPT`
//!   with `550 5.1.1`, before any message is taken.
//! - `SIZE` (RFC 1870) is advertised, a `MAIL ... SIZE=` over it is refused, and
//!   a message that grows past it is read to its end and refused `552 5.3.4`.
//! - `DATA` ends only at `<CRLF>.<CRLF>`; a line ending in a bare LF refuses
//!   the message (the "SMTP smuggling" of a second message behind `<LF>.<LF>`),
//!   and leading dots are unstuffed (RFC 5321 §4.5.2).
//! - The `250` after `DATA` is given only once the message is stored for every
//!   recipient; a failure to store is a `451` (try again), which keying the
//!   message by its bytes' hash makes safe.
//! - At most `max_sessions` sessions at once (one more is told `421` and
//!   closed), each at most `session_timeout` long (then `421` and closed), and
//!   at most 10 errors per session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::authentication::SmtpOrigin;
use super::{MailDoor, MailRefusal};
use crate::ingest::Outcome;
use crate::ingest::email;
use crate::store::Buyer;

/// The longest command line taken (RFC 5321 §4.5.3.1.4 says 512 with its CRLF;
/// some clients send longer `MAIL` parameters).
const MAX_COMMAND_LINE: usize = 2048;
/// At most this many recipients per message (RFC 5321 §4.5.3.1.8 asks at least 100
/// of a relay; one buyer's order mail needs few).
const MAX_RECIPIENTS: usize = 100;
/// A session that keeps erring is closed.
const MAX_ERRORS: u32 = 10;

/// What STARTTLS upgrades a session with.
pub type TlsAcceptor = tokio_rustls::TlsAcceptor;

/// The STARTTLS acceptor for `[inbound_email] tls_cert` and `tls_key`, when
/// both are set.
pub fn tls_acceptor(config: &super::InboundEmailConfig) -> anyhow::Result<Option<TlsAcceptor>> {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => (cert, key),
        (None, None) => return Ok(None),
        _ => anyhow::bail!("[inbound_email] tls_cert and tls_key must be set together"),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the SMTP certificate {}", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "{} holds no PEM certificate",
        cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the SMTP key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the SMTP certificate and key")?;
    Ok(Some(TlsAcceptor::from(Arc::new(server))))
}

/// Accepts SMTP sessions on `listener` for ever, each in its own task.
pub async fn serve(door: Arc<MailDoor>, listener: TcpListener, tls: Option<TlsAcceptor>) {
    let sessions = Arc::new(Semaphore::new(door.config().max_sessions.max(1)));
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::warn!(%error, "SMTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = sessions.clone().try_acquire_owned();
        let (door, tls) = (door.clone(), tls.clone());
        tokio::spawn(async move {
            let Ok(_permit) = permit else {
                let _ = stream
                    .write_all(b"421 4.3.2 Too many sessions, try again later\r\n")
                    .await;
                return;
            };
            let deadline = Instant::now() + door.config().session_timeout;
            let session = Session {
                door: &door,
                peer,
                deadline,
                tls_available: tls.is_some(),
                tls_active: false,
            };
            if let Err(error) = session.run(stream, tls).await {
                tracing::debug!(%peer, %error, "SMTP session ended with an error");
            }
        });
    }
}

struct Session<'a> {
    door: &'a MailDoor,
    peer: SocketAddr,
    deadline: Instant,
    tls_available: bool,
    tls_active: bool,
}

/// How a conversation on one stream ended.
enum End {
    Closed,
    /// The client asked for TLS and was told to go ahead.
    StartTls,
}

/// What one read of a line gave.
enum Read {
    Line,
    TooLong,
    Eof,
    Timeout,
}

/// The transaction being built: `MAIL` then `RCPT`s.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    buyers: Vec<Buyer>,
}

impl Session<'_> {
    async fn run(
        mut self,
        stream: tokio::net::TcpStream,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<()> {
        let (end, stream) = self.converse(stream, true).await?;
        let (End::StartTls, Some(tls)) = (end, tls) else {
            return Ok(());
        };
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let stream = match tokio::time::timeout(remaining, tls.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, %error, "STARTTLS handshake failed");
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        self.tls_active = true;
        // RFC 3207 §4.2: everything known before TLS is forgotten; the client
        // starts again with EHLO.
        self.converse(stream, false).await.map(drop)
    }

    /// Talks SMTP on `stream` until QUIT, the end of the stream, the session's
    /// deadline, or STARTTLS (the stream is then handed back, any bytes the client
    /// pipelined behind STARTTLS dropped, as RFC 3207 §5 requires).
    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
        greet: bool,
    ) -> std::io::Result<(End, S)> {
        let config = self.door.config();
        let host = config.hostname().to_owned();
        let mut io = BufReader::new(stream);
        if greet {
            reply(&mut io, &format!("220 {host} ESMTP jembatan")).await?;
        }
        let mut line = Vec::new();
        // The EHLO/HELO name, once greeted (SPF checks it and the MAIL FROM).
        let mut helo: Option<String> = None;
        let mut envelope = Envelope::default();
        let mut errors = 0u32;
        loop {
            match read_line(&mut io, &mut line, MAX_COMMAND_LINE, self.deadline).await? {
                Read::Line => {}
                Read::TooLong => {
                    errors += 1;
                    reply(&mut io, "500 5.5.6 Line too long").await?;
                    continue;
                }
                Read::Eof => return Ok((End::Closed, io.into_inner())),
                Read::Timeout => {
                    reply(&mut io, "421 4.4.2 Session too long, closing").await?;
                    return Ok((End::Closed, io.into_inner()));
                }
            }
            if errors >= MAX_ERRORS {
                reply(&mut io, "421 4.7.0 Too many errors, closing").await?;
                return Ok((End::Closed, io.into_inner()));
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, argument) = match text.split_once(' ') {
                Some((verb, argument)) => (verb.to_ascii_uppercase(), argument.trim()),
                None => (text.to_ascii_uppercase(), ""),
            };
            let answer: String = match verb.as_str() {
                "EHLO" | "HELO" if argument.is_empty() => {
                    errors += 1;
                    "501 5.5.4 A domain or address is required".into()
                }
                "EHLO" => {
                    helo = Some(argument.to_owned());
                    envelope = Envelope::default();
                    let mut lines = vec![
                        format!("250-{host} greets {argument}"),
                        format!("250-SIZE {}", config.max_message_bytes),
                        "250-8BITMIME".into(),
                        "250-ENHANCEDSTATUSCODES".into(),
                    ];
                    if self.tls_available && !self.tls_active {
                        lines.push("250-STARTTLS".into());
                    }
                    lines.push("250 SMTPUTF8".into());
                    lines.join("\r\n")
                }
                "HELO" => {
                    helo = Some(argument.to_owned());
                    envelope = Envelope::default();
                    format!("250 {host}")
                }
                "MAIL" => match self.mail(helo.is_some(), &envelope, argument) {
                    Ok(from) => {
                        envelope.from = Some(from);
                        "250 2.1.0 OK".into()
                    }
                    Err(answer) => {
                        errors += 1;
                        answer
                    }
                },
                "RCPT" => match self.rcpt(&mut envelope, argument).await {
                    Ok(answer) => answer,
                    Err(answer) => {
                        errors += 1;
                        answer
                    }
                },
                "DATA" if envelope.from.is_none() => {
                    errors += 1;
                    "503 5.5.1 Send MAIL first".into()
                }
                "DATA" if envelope.buyers.is_empty() => {
                    errors += 1;
                    "554 5.5.1 No valid recipients".into()
                }
                "DATA" => {
                    reply(&mut io, "354 End data with <CR><LF>.<CR><LF>").await?;
                    let helo = helo.as_deref().unwrap_or_default();
                    let answer = match self.data(&mut io, &envelope, helo).await? {
                        Some(answer) => answer,
                        None => {
                            reply(&mut io, "421 4.4.2 Session too long, closing").await?;
                            return Ok((End::Closed, io.into_inner()));
                        }
                    };
                    envelope = Envelope::default();
                    answer
                }
                "RSET" => {
                    envelope = Envelope::default();
                    "250 2.0.0 OK".into()
                }
                "NOOP" => "250 2.0.0 OK".into(),
                "VRFY" => "252 2.1.5 Cannot verify, send a message to find out".into(),
                "HELP" => "214 2.0.0 See RFC 5321".into(),
                "QUIT" => {
                    reply(&mut io, "221 2.0.0 Bye").await?;
                    return Ok((End::Closed, io.into_inner()));
                }
                "STARTTLS" if !self.tls_available || self.tls_active => {
                    errors += 1;
                    "502 5.5.1 STARTTLS not available".into()
                }
                "STARTTLS" if !argument.is_empty() => {
                    errors += 1;
                    "501 5.5.4 STARTTLS takes no argument".into()
                }
                "STARTTLS" => {
                    reply(&mut io, "220 2.0.0 Ready to start TLS").await?;
                    return Ok((End::StartTls, io.into_inner()));
                }
                _ => {
                    errors += 1;
                    "500 5.5.2 Command not recognized".into()
                }
            };
            reply(&mut io, &answer).await?;
        }
    }

    /// `MAIL FROM:<address> [SIZE=n]`: the reverse path, which may be empty.
    fn mail(&self, greeted: bool, envelope: &Envelope, argument: &str) -> Result<String, String> {
        if !greeted {
            return Err("503 5.5.1 Send EHLO or HELO first".into());
        }
        if envelope.from.is_some() {
            return Err("503 5.5.1 A transaction is already open; RSET first".into());
        }
        let (path, parameters) = path_argument(argument, "FROM:")
            .ok_or_else(|| "501 5.5.4 Syntax: MAIL FROM:<address>".to_owned())?;
        for parameter in parameters.split_whitespace() {
            let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            if key.eq_ignore_ascii_case("SIZE") {
                let size: u64 = value
                    .parse()
                    .map_err(|_| "501 5.5.4 SIZE must be a number".to_owned())?;
                if size > self.door.config().max_message_bytes as u64 {
                    return Err(format!(
                        "552 5.3.4 Message size exceeds the limit of {} bytes",
                        self.door.config().max_message_bytes
                    ));
                }
            }
        }
        Ok(path)
    }

    /// `RCPT TO:<address>`: a buyer's inbound address, or refused.
    async fn rcpt(&self, envelope: &mut Envelope, argument: &str) -> Result<String, String> {
        if envelope.from.is_none() {
            return Err("503 5.5.1 Send MAIL first".into());
        }
        let (path, _) = path_argument(argument, "TO:")
            .ok_or_else(|| "501 5.5.4 Syntax: RCPT TO:<address>".to_owned())?;
        if envelope.buyers.len() >= MAX_RECIPIENTS {
            return Err("452 4.5.3 Too many recipients".into());
        }
        match self.door.recipient(&path).await {
            Ok(buyer) => {
                if !envelope.buyers.iter().any(|b| b.id == buyer.id) {
                    envelope.buyers.push(buyer);
                }
                Ok("250 2.1.5 OK".into())
            }
            Err(MailRefusal::UnknownRecipient(_) | MailRefusal::Disabled) => {
                Err("550 5.1.1 No such mailbox here".into())
            }
            Err(MailRefusal::NotForEmail(error)) => {
                tracing::warn!(recipient = %path, %error, "a buyer's address whose plugin does not read e-mail");
                Err("550 5.7.1 This mailbox does not take orders by e-mail".into())
            }
            Err(error) => {
                tracing::warn!(recipient = %path, %error, "RCPT could not be checked");
                Err("451 4.3.0 Cannot check this recipient now, try again later".into())
            }
        }
    }

    /// Reads the message up to `<CRLF>.<CRLF>` and stores it for each recipient;
    /// the answer to give, or `None` when the session ran out of time.
    async fn data<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut BufReader<S>,
        envelope: &Envelope,
        helo: &str,
    ) -> std::io::Result<Option<String>> {
        let max = self.door.config().max_message_bytes;
        let mut raw = Vec::new();
        let mut line = Vec::new();
        let (mut too_big, mut bare_lf) = (false, false);
        loop {
            let budget = if too_big { 1024 } else { max - raw.len() + 2 };
            match read_line(io, &mut line, budget.max(5), self.deadline).await? {
                Read::Line => {}
                Read::TooLong => {
                    too_big = true;
                    continue;
                }
                Read::Eof => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Read::Timeout => return Ok(None),
            }
            if line == b".\r\n" {
                break;
            }
            if !line.ends_with(b"\r\n") {
                bare_lf = true;
            }
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            if raw.len() + unstuffed.len() > max {
                too_big = true;
            }
            if !too_big {
                raw.extend_from_slice(unstuffed);
            }
        }
        if too_big {
            return Ok(Some(format!(
                "552 5.3.4 Message size exceeds the limit of {max} bytes"
            )));
        }
        if bare_lf {
            return Ok(Some(
                "550 5.6.11 Bare LF in message: lines must end with CRLF".into(),
            ));
        }
        Ok(Some(self.store(envelope, helo, raw).await))
    }

    /// Checks `raw` where the operator requires it (DKIM, SPF, DMARC), then
    /// stores it for each recipient's buyer: `250` once every one has it.
    async fn store(&self, envelope: &Envelope, helo: &str, raw: Vec<u8>) -> String {
        let parsed = match email::parse(&raw) {
            Ok(parsed) => parsed,
            Err(error) => return format!("550 5.6.0 {error}"),
        };
        let origin = SmtpOrigin {
            ip: self.peer.ip(),
            helo,
            mail_from: envelope.from.as_deref().unwrap_or_default(),
        };
        let verdict = match self.door.authenticate(&raw, &parsed, Some(origin)).await {
            Ok(verdict) => verdict,
            // RFC 3463 X.4.3: a directory (here DNS) server failure.
            Err(refusal) => {
                return format!("451 4.4.3 {}", one_line(&refusal.to_string()));
            }
        };
        let mut stored = Vec::new();
        let mut temporary = None;
        let mut permanent = None;
        for buyer in &envelope.buyers {
            match self
                .door
                .receive_parsed(buyer, parsed.clone(), raw.clone(), verdict.as_ref())
                .await
            {
                Ok(Outcome::Accepted(response) | Outcome::Refused(response)) => {
                    if let Some(id) = response.body["message_id"].as_str() {
                        stored.push(id.to_owned());
                    }
                }
                Err(refusal) if refusal.is_temporary() => {
                    tracing::warn!(buyer_id = %buyer.id, error = %refusal, "e-mail not stored; the sender is told to retry");
                    temporary.get_or_insert(refusal);
                }
                Err(refusal) => {
                    permanent.get_or_insert(refusal);
                }
            }
        }
        if temporary.is_some() {
            // A retry is safe: what was stored is found by its bytes' hash.
            return "451 4.3.0 The message could not be stored now, try again later".into();
        }
        match (stored.is_empty(), permanent) {
            (true, Some(refusal)) => format!("550 5.6.0 {}", one_line(&refusal.to_string())),
            _ => format!("250 2.0.0 Stored as {}", stored.join(" ")),
        }
    }
}

/// The `<path>` after `prefix` (`FROM:`, `TO:`), and the parameters after it.
fn path_argument<'a>(argument: &'a str, prefix: &str) -> Option<(String, &'a str)> {
    let head = argument.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = argument[prefix.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let (path, parameters) = rest.split_once('>')?;
    Some((path.trim().to_owned(), parameters.trim()))
}

/// An answer on one line whatever it quotes.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(400)
        .collect()
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    text: &str,
) -> std::io::Result<()> {
    let stream = io.get_mut();
    stream.write_all(text.as_bytes()).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

/// Reads one line, its line end kept, into `line`; a line longer than `max` is
/// read to its end and dropped ([`Read::TooLong`]), so a client cannot make the
/// server hold more than `max` bytes of it.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
    deadline: Instant,
) -> std::io::Result<Read> {
    line.clear();
    let mut too_long = false;
    loop {
        let available = match tokio::time::timeout_at(deadline, reader.fill_buf()).await {
            Err(_) => return Ok(Read::Timeout),
            Ok(read) => read?,
        };
        if available.is_empty() {
            return Ok(Read::Eof);
        }
        let (taken, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if !too_long && line.len() + taken <= max {
            line.extend_from_slice(&available[..taken]);
        } else {
            too_long = true;
            line.clear();
        }
        reader.consume(taken);
        if complete {
            return Ok(if too_long { Read::TooLong } else { Read::Line });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_with_their_parameters() {
        assert_eq!(
            path_argument("FROM:<a@b.id> SIZE=100", "FROM:"),
            Some(("a@b.id".into(), "SIZE=100"))
        );
        assert_eq!(
            path_argument("from: <>", "FROM:"),
            Some((String::new(), ""))
        );
        assert_eq!(path_argument("TO:a@b.id", "TO:"), None);
        assert_eq!(path_argument("", "TO:"), None);
    }

    #[tokio::test]
    async fn a_long_line_is_dropped_not_kept() {
        let input: &[u8] = b"short\r\nxxxxxxxxxxxxxxxxxxxx\r\nnext\r\n";
        let mut reader = BufReader::with_capacity(4, input);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut line = Vec::new();
        assert!(matches!(
            read_line(&mut reader, &mut line, 10, deadline)
                .await
                .unwrap(),
            Read::Line
        ));
        assert_eq!(line, b"short\r\n");
        assert!(matches!(
            read_line(&mut reader, &mut line, 10, deadline)
                .await
                .unwrap(),
            Read::TooLong
        ));
        assert!(line.is_empty());
        assert!(matches!(
            read_line(&mut reader, &mut line, 10, deadline)
                .await
                .unwrap(),
            Read::Line
        ));
        assert_eq!(line, b"next\r\n");
        assert!(matches!(
            read_line(&mut reader, &mut line, 10, deadline)
                .await
                .unwrap(),
            Read::Eof
        ));
    }
}
