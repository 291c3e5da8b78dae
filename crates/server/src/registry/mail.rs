//! Mails about package events, for members who asked for them, through the
//! operator's SMTP server (`serve --smtp-url`, `--mail-from`). Without SMTP
//! settings nothing is sent and nothing fails: mail subscriptions cannot be
//! made, and events reach webhooks only.

use lettre::message::{header::ContentType, Mailbox};
use lettre::{Message, SmtpTransport, Transport};

use super::error::{RegistryError, Result};
use super::events::Event;

/// The longest address accepted (RFC 5321's path limit).
const MAX_ADDRESS_CHARS: usize = 254;

/// Checks a mail address as a member typed it; answers it trimmed.
pub fn check_address(raw: &str) -> Result<String> {
    let address = raw.trim();
    let bad = |why: &str| {
        RegistryError::bad_request(
            "invalid_email",
            format!(
                "\"{}\" is not a mail address: {why}",
                address.escape_default()
            ),
        )
    };
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(bad("it is too long"));
    }
    address
        .parse::<lettre::Address>()
        .map_err(|e| bad(&e.to_string()))?;
    Ok(address.to_string())
}

/// The operator's SMTP server and sender.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer {
    /// `url` as lettre reads it: `smtp://host:port` (plain, for a relay on
    /// the same network), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://host:465`.
    pub fn new(url: &str, from: &str) -> std::result::Result<Mailer, String> {
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| format!("--smtp-url \"{url}\" is not usable: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("--mail-from \"{from}\" is not a mail address: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends the mail for one delivery; answers the server's reply.
    pub fn send_event(
        &self,
        to: &str,
        event: Event,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> std::result::Result<String, String> {
        let (subject, text) = compose(event, body);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to
                .parse::<Mailbox>()
                .map_err(|e| format!("bad recipient {to}: {e}"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| e.to_string())?;
        let reply = self.transport.send(&message).map_err(|e| e.to_string())?;
        Ok(format!(
            "{} {}",
            reply.code(),
            reply.message().collect::<Vec<_>>().join(" ")
        ))
    }
}

fn field<'a>(body: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> &'a str {
    body.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// The German subject and text of an event's mail.
pub fn compose(
    event: Event,
    body: &serde_json::Map<String, serde_json::Value>,
) -> (String, String) {
    let package = field(body, "package");
    let version = field(body, "version");
    let registry = field(body, "registry");
    let (headline, details) = match event {
        Event::Published => (
            format!("neue Version {version}"),
            format!("Version {version} von {package} ist veröffentlicht."),
        ),
        Event::Yanked if body.get("yanked") == Some(&serde_json::Value::Bool(false)) => (
            format!("Version {version} wieder freigegeben"),
            format!("Version {version} von {package} ist nicht mehr zurückgezogen."),
        ),
        Event::Yanked => (
            format!("Version {version} zurückgezogen"),
            format!(
                "Version {version} von {package} wurde zurückgezogen.{}",
                match field(body, "reason") {
                    "" => String::new(),
                    r => format!("\nGrund: {r}"),
                }
            ),
        ),
        Event::Deprecated if body.get("deprecated") == Some(&serde_json::Value::Bool(false)) => (
            "nicht mehr abgekündigt".into(),
            format!("{package} ist nicht mehr abgekündigt."),
        ),
        Event::Deprecated => (
            "abgekündigt".into(),
            format!("{package} wurde abgekündigt: {}", field(body, "message")),
        ),
        Event::Advisory => {
            let a = body.get("advisory").cloned().unwrap_or_default();
            let s = |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            (
                format!("Hinweis ({}, {})", s("kind"), s("severity")),
                format!(
                    "Für {package} gibt es einen Hinweis.\nBetroffen: {}\nBehoben in: {}\n\n{}",
                    s("affected"),
                    match s("fixed") {
                        f if f.is_empty() => "noch keiner Version".into(),
                        f => f,
                    },
                    s("text")
                ),
            )
        }
        Event::Forked => (
            format!("abgeleitet als {}", field(body, "fork")),
            format!(
                "{} wurde von {} abgeleitet.",
                field(body, "fork"),
                field(body, "base")
            ),
        ),
    };
    let sub = body.get("subscription").cloned().unwrap_or_default();
    let sub_ns = sub.get("namespace").and_then(|v| v.as_str()).unwrap_or("");
    let sub_id = sub.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
    let text = format!(
        "Guten Tag,\n\n{details}\n\nZum Paket: {registry}/pakete/{package}\n\n-- \n\
         Sie erhalten diese Nachricht, weil Sie im Namensraum {sub_ns} Nachrichten über \
         Pakete abonniert haben (Abonnement {sub_id}). Abbestellen: \
         DELETE {registry}/api/v1/namespaces/{sub_ns}/subscriptions/{sub_id}\n"
    );
    (format!("[gemeinwerk] {package}: {headline}"), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            check_address(" a.b@darmstadt.de ").unwrap(),
            "a.b@darmstadt.de"
        );
        for bad in ["", "kein-at", "a@", "@b.de", "a b@c.de"] {
            assert_eq!(
                check_address(bad).unwrap_err().code(),
                "invalid_email",
                "{bad}"
            );
        }
        assert!(check_address(&format!("{}@b.de", "a".repeat(260))).is_err());
    }

    #[test]
    fn a_mail_says_in_german_what_happened() {
        let body: serde_json::Map<_, _> = serde_json::from_value(serde_json::json!({
            "package": "kassel/parken", "version": "1.1.0", "registry": "https://r.example",
            "yanked": true, "reason": "Gebühr falsch",
            "subscription": {"id": 7, "namespace": "darmstadt"}
        }))
        .unwrap();
        let (subject, text) = compose(Event::Yanked, &body);
        assert_eq!(
            subject,
            "[gemeinwerk] kassel/parken: Version 1.1.0 zurückgezogen"
        );
        assert!(text.contains("Grund: Gebühr falsch"), "{text}");
        assert!(
            text.contains("https://r.example/pakete/kassel/parken"),
            "{text}"
        );
        assert!(text.contains("Abonnement 7"), "{text}");
    }
}
