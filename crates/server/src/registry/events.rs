//! Package events for subscribers: written in the transaction of the change
//! they tell of, so that none is lost and none is told of a change that did
//! not commit. A job then fans each event out to the subscriptions that
//! want it ([`super::deliveries`]).

use std::fmt;
use std::str::FromStr;

use diesel::prelude::*;

use super::error::Result;
use super::jobs::{self, Job};
use crate::store::db::now;
use crate::store::schema::subscription_events;
use crate::store::DbConn;

/// What happened to a package. The stored and sent names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// A version was published.
    Published,
    /// A version was yanked, or the yank lifted (`"yanked": false`).
    Yanked,
    /// The package was deprecated, or the mark lifted.
    Deprecated,
    /// An advisory was published for versions of the package.
    Advisory,
    /// Someone forked the package.
    Forked,
}

impl Event {
    pub const ALL: [Event; 5] = [
        Event::Published,
        Event::Yanked,
        Event::Deprecated,
        Event::Advisory,
        Event::Forked,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Event::Published => "published",
            Event::Yanked => "yanked",
            Event::Deprecated => "deprecated",
            Event::Advisory => "advisory",
            Event::Forked => "forked",
        }
    }

    /// The German words for mails and the web UI.
    pub const fn german(self) -> &'static str {
        match self {
            Event::Published => "neue Version",
            Event::Yanked => "Version zurückgezogen",
            Event::Deprecated => "Paket abgekündigt",
            Event::Advisory => "Hinweis",
            Event::Forked => "abgeleitet",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Event {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "the event \"{}\" is not known; use {}",
                    s.escape_default(),
                    Event::ALL.map(Event::as_str).join(", ")
                )
            })
    }
}

/// Records `event` about `package` (`ns/name`) with its details, and the
/// job that fans it out. Call it inside the change's transaction. `details`
/// is a JSON object; the common fields (event, package, time, actor) are
/// added here.
pub fn record(
    conn: &mut DbConn,
    event: Event,
    package: &str,
    actor: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    let at = now();
    let mut payload = match details {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    payload.insert("event".into(), event.as_str().into());
    payload.insert("package".into(), package.into());
    payload.insert(
        "occurred_at".into(),
        at.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            .into(),
    );
    payload.insert("actor".into(), actor.into());
    let id: i64 = diesel::insert_into(subscription_events::table)
        .values((
            subscription_events::event.eq(event.as_str()),
            subscription_events::package.eq(package),
            subscription_events::payload.eq(serde_json::Value::Object(payload).to_string()),
            subscription_events::created_at.eq(at),
        ))
        .returning(subscription_events::id)
        .get_result(conn)?;
    jobs::enqueue(conn, Job::FanOutEvent, &id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_from_their_names_which_stay() {
        for e in Event::ALL {
            assert_eq!(e.as_str().parse::<Event>(), Ok(e));
        }
        assert_eq!(
            Event::ALL.map(Event::as_str),
            ["published", "yanked", "deprecated", "advisory", "forked"]
        );
        assert!("release"
            .parse::<Event>()
            .unwrap_err()
            .contains("published"));
    }
}
