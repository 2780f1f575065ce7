//! Delivery: a webhook POST signed with HMAC-SHA256 and retried with backoff, or a mail
//! through the region's SMTP server. Webhooks keep to the harvest's address policy: no
//! private, loopback or link-local address unless `[notify]` allows it.

use hmac::{Hmac, Mac};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use samla_config::{NotifySettings, SmtpTls};
use samla_harvester::AddressPolicy;
use sha2::Sha256;
use std::time::Duration;

/// The header a webhook's signature is sent in: `sha256=` and the hex HMAC-SHA256 of the
/// body under the shared secret.
pub const SIGNATURE_HEADER: &str = "x-samla-signature";
/// The header naming what a webhook delivers: `alert` or `notice`.
pub const EVENT_HEADER: &str = "x-samla-event";

/// How long one webhook request or mail may take.
const DEADLINE: Duration = Duration::from_secs(20);

/// A mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Subject (line breaks are dropped).
    pub subject: String,
    /// Body, plain text.
    pub text: String,
}

/// Why a delivery failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryError {
    /// The address is refused by the policy.
    #[error("{0}")]
    Refused(String),
    /// The receiver answered with a status that is not 2xx.
    #[error("the receiver answered {0}")]
    Status(u16),
    /// No answer, or the connection failed.
    #[error("{0}")]
    Transport(String),
    /// Mail is not configured.
    #[error("this samla sends no mail ([notify.smtp] is not set)")]
    NoMail,
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sends webhooks and mail.
pub struct Outbox {
    client: reqwest::Client,
    policy: AddressPolicy,
    retries: u32,
    retry_base: Duration,
    mailer: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl Outbox {
    /// The outbox `[notify]` describes, with `user_agent` on its requests.
    pub fn new(settings: &NotifySettings, user_agent: &str) -> Result<Self, String> {
        let policy = AddressPolicy::new(settings.allow_private, &settings.allow_hosts);
        let builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(Duration::from_secs(10))
            .timeout(DEADLINE)
            .no_proxy();
        let client = policy
            .apply(builder)
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        let mailer = match &settings.smtp {
            None => None,
            Some(smtp) => {
                let builder = match smtp.tls {
                    SmtpTls::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                    }
                    SmtpTls::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                            .map_err(|e| format!("notify.smtp: {e}"))?
                    }
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                        .map_err(|e| format!("notify.smtp: {e}"))?,
                };
                let mut builder = builder.port(smtp.port).timeout(Some(DEADLINE));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                let from: Mailbox = smtp
                    .from
                    .parse()
                    .map_err(|e| format!("notify.smtp.from {:?}: {e}", smtp.from))?;
                Some((builder.build(), from))
            }
        };
        Ok(Self {
            client,
            policy,
            retries: settings.retries,
            retry_base: settings.retry_base,
            mailer,
        })
    }

    /// Whether mail can be sent.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// Why a webhook URL is refused before any request, if it is (a non-public address
    /// given as an IP literal; names are checked when they are resolved).
    pub fn refused(&self, url: &url::Url) -> Option<String> {
        self.policy.refused(url)
    }

    /// POSTs `body` (JSON) to `url`, signed with `secret`, as `event`; retried with backoff
    /// on failures that may pass (no answer, 408, 429, 5xx).
    pub async fn post(
        &self,
        url: &url::Url,
        event: &str,
        secret: &str,
        body: &[u8],
    ) -> Result<(), DeliveryError> {
        if let Some(why) = self.policy.refused(url) {
            return Err(DeliveryError::Refused(why));
        }
        let signature = signature(secret, body);
        self.retried(self.retries, || async {
            let sent = self
                .client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .header(EVENT_HEADER, event)
                .body(body.to_vec())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => {
                    let status = r.status().as_u16();
                    let passing = status == 408 || status == 429 || status >= 500;
                    Err((DeliveryError::Status(status), passing))
                }
                Err(e) => Err((
                    DeliveryError::Transport(samla_model::run::error_chain(&e)),
                    true,
                )),
            }
        })
        .await
    }

    /// Runs `attempt` until it succeeds, fails for good (its error says whether a failure
    /// may pass), or `retries` retries are spent, waiting twice as long before each retry
    /// as before the last.
    async fn retried<F, Fut>(&self, retries: u32, mut attempt: F) -> Result<(), DeliveryError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), (DeliveryError, bool)>>,
    {
        let mut tried = 0;
        loop {
            match attempt().await {
                Ok(()) => return Ok(()),
                Err((error, passing)) if !passing || tried >= retries => return Err(error),
                Err(_) => {}
            }
            tokio::time::sleep(self.retry_base * 2u32.saturating_pow(tried)).await;
            tried += 1;
        }
    }

    /// Mails `message` to `to`, retried as a webhook is.
    pub async fn mail(&self, to: &str, message: &Message) -> Result<(), DeliveryError> {
        self.mail_tries(to, message, self.retries).await
    }

    /// Mails `message` to `to` once, for someone waiting for the answer (a confirmation):
    /// a failure is theirs to retry.
    pub async fn mail_now(&self, to: &str, message: &Message) -> Result<(), DeliveryError> {
        self.mail_tries(to, message, 0).await
    }

    async fn mail_tries(
        &self,
        to: &str,
        message: &Message,
        retries: u32,
    ) -> Result<(), DeliveryError> {
        let Some((transport, from)) = &self.mailer else {
            return Err(DeliveryError::NoMail);
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| DeliveryError::Refused(format!("{to:?}: {e}")))?;
        let subject: String = message
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mail = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|e| DeliveryError::Transport(e.to_string()))?;
        self.retried(retries, || async {
            transport
                .send(mail.clone())
                .await
                .map(drop)
                .map_err(|e| (DeliveryError::Transport(e.to_string()), !e.is_permanent()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
