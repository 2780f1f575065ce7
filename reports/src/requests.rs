//! Data requests with a life: each filed request has a status (new, acknowledged, planned,
//! published, declined) that an organisation's contact or an admin sets, an answer, the
//! dataset that answers it, and the datasets samla proposes when a harvest brings one that
//! matches its words and municipality. Kept as store entries beside the request.

use chrono::{DateTime, Utc};
use samla_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The store entry kind of request states, keyed by [`key`].
pub const KIND: &str = "request";

/// The entry key of request `id` (zero-padded, so keys sort as ids).
pub fn key(id: i64) -> String {
    format!("{id:012}")
}

/// Where a request stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed, not yet looked at.
    #[default]
    New,
    /// Seen by the organisation.
    Acknowledged,
    /// The data will be published.
    Planned,
    /// The data is published (a dataset answers it).
    Published,
    /// It will not be published.
    Declined,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Acknowledged,
        Status::Planned,
        Status::Published,
        Status::Declined,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::Planned => "planned",
            Status::Published => "published",
            Status::Declined => "declined",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name.trim())
    }

    /// Whether samla still looks for datasets that answer it.
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::Acknowledged | Status::Planned)
    }
}

/// A dataset samla proposes as an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When it was proposed.
    pub at: DateTime<Utc>,
}

/// A request's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestState {
    /// Where it stands.
    pub status: Status,
    /// The organisation's answer.
    pub answer: Option<String>,
    /// The dataset that answers it.
    pub dataset: Option<String>,
    /// When it last changed.
    pub updated: Option<DateTime<Utc>>,
    /// When it was first answered (its status first left `new`).
    pub answered: Option<DateTime<Utc>>,
    /// Who answered last: `admin` or an organisation's code.
    pub by: Option<String>,
    /// Datasets proposed, newest last.
    pub proposals: Vec<Proposal>,
    /// The store's change sequence number proposals were sought up to.
    pub cursor: u64,
}

/// The state of request `id` (a new request's when none is kept).
pub fn load(store: &Store, id: i64) -> Result<RequestState, StoreError> {
    Ok(store
        .entry(KIND, &key(id))?
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or_default())
}

/// Every kept request state, by request id.
pub fn all(store: &Store) -> Result<HashMap<i64, RequestState>, StoreError> {
    Ok(store
        .entries(KIND, "")?
        .into_iter()
        .filter_map(|(k, b)| Some((k.parse().ok()?, serde_json::from_str(&b).ok()?)))
        .collect())
}

/// Keeps the state of request `id`.
pub fn save(store: &Store, id: i64, state: &RequestState) -> Result<(), StoreError> {
    let body = serde_json::to_string(state).map_err(StoreError::Report)?;
    store.put_entry(KIND, &key(id), &body, true)?;
    Ok(())
}

/// Changes the state of request `id` as `change` says, in one store transaction (an answer
/// and samla's proposals, written at once, both stay); returns the state before and after.
pub fn update(
    store: &Store,
    id: i64,
    mut change: impl FnMut(&mut RequestState) + Send,
) -> Result<(RequestState, RequestState), StoreError> {
    let mut states = None;
    store.update_entry(KIND, &key(id), |now| {
        let before: RequestState = now
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or_default();
        let mut after = before.clone();
        change(&mut after);
        let body = serde_json::to_string(&after).ok()?;
        states = Some((before, after));
        Some(body)
    })?;
    states.ok_or_else(|| StoreError::Report(serde::de::Error::custom("a request state unwritten")))
}
