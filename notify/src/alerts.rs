//! Saved searches: a query and filters with a delivery, matched against the datasets each
//! harvest adds or changes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where an alert goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Mail to an address (confirmed first).
    Email {
        /// The address.
        address: String,
    },
    /// A JSON POST to a URL, signed with `secret`.
    Webhook {
        /// The URL.
        url: String,
        /// The HMAC-SHA256 key.
        secret: String,
    },
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Waiting for its address to be confirmed.
    Pending,
    /// Sent when a harvest brings a match.
    Active,
    /// Deliveries failed too often in a row.
    Disabled,
}

impl AlertState {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Active => "active",
            AlertState::Disabled => "disabled",
        }
    }
}

/// A saved search, as stored (entry kind [`crate::ALERT`], keyed by id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    /// Its id.
    pub id: String,
    /// The search as a query string (`q=fiber&municipality=1280`), as it was saved.
    pub search: String,
    /// The free text.
    pub q: Option<String>,
    /// The filters, as (dimension name, value as the index holds it).
    pub filters: Vec<(String, String)>,
    /// Where it goes.
    pub delivery: Delivery,
    /// Where it stands.
    pub state: AlertState,
    /// The language of its mails (`sv`, `en`).
    pub lang: String,
    /// The token that ends it. Kept as it is, so every mail and payload can carry a link
    /// that ends it; it can do nothing else.
    pub token: String,
    /// SHA-256 of the token its confirmation mail carries.
    pub confirm_hash: Option<String>,
    /// When it was saved.
    pub created: DateTime<Utc>,
    /// The store's change sequence number read up to: later changes are still to match.
    pub cursor: u64,
    /// Deliveries failed in a row.
    pub failures: u32,
    /// The last delivery's error.
    pub last_error: Option<String>,
    /// Datasets sent in all.
    pub sent: u64,
}

/// A dataset an alert tells of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alerted {
    /// The dataset's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its publisher's name.
    pub publisher: Option<String>,
    /// `new` or `changed`.
    pub change: String,
    /// Its page.
    pub url: String,
}

/// A fresh random token, hex.
pub fn token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a token is stored as.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Whether two tokens are equal, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The key of a dataset version an alert has told of: never twice for one change.
pub fn sent_key(alert: &str, dataset: &str, hash: &str) -> String {
    format!("{alert}\u{1f}{dataset}\u{1f}{hash}")
}
