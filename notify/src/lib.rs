//! Alerts and notices: after each harvest, saved searches are matched against the datasets
//! it added or changed, and each organisation with a contact is sent a digest of its
//! harvest when the digest changed. Deliveries are signed webhooks or mail.
//!
//! State lives in the store's entries: saved searches ([`ALERT`]), the dataset versions
//! each has told of ([`SENT`], so no change is sent twice), and the last notice per
//! organisation ([`NOTICE`]). A pass reads the store's change log from each saved search's
//! cursor up to what the index has published, so a search matches what a user would find.

pub mod alerts;
pub mod deliver;

pub use alerts::{Alert, AlertState, Alerted, Delivery};
pub use deliver::{DeliveryError, EVENT_HEADER, Message, Outbox, SIGNATURE_HEADER, signature};
pub use samla_config::email_address;

use chrono::{DateTime, Utc};
use samla_config::{Config, Contact};
use samla_indexer::{Dimension, Indexer, MAX_PER_PAGE, SearchRequest};
use samla_model::view::pick;
use samla_reports::Reports;
use samla_reports::digest::{Digest, digest};
use samla_reports::requests::{self, Proposal, RequestState};
use samla_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Entry kind of saved searches, keyed by id.
pub const ALERT: &str = "alert";
/// Entry kind of the dataset version an alert told of last, one per saved search and
/// dataset ([`alerts::sent_key`]).
pub const SENT: &str = "alert-sent";
/// Entry kind of the last notice per organisation, keyed by its code.
pub const NOTICE: &str = "notice";

/// Datasets listed in one alert; more are counted.
pub const LISTED: usize = 50;

/// What a mail says. The web UI renders it with the words of its pages.
pub enum Mail<'a> {
    /// Confirm a saved search's address.
    Confirm {
        /// The search.
        alert: &'a Alert,
        /// The link that confirms it.
        confirm_url: String,
        /// The link that ends it.
        unsubscribe_url: String,
    },
    /// Datasets a saved search matched.
    Alert {
        /// The search.
        alert: &'a Alert,
        /// The datasets, at most [`LISTED`].
        datasets: &'a [Alerted],
        /// How many more there were.
        more: usize,
        /// The link that ends it.
        unsubscribe_url: String,
        /// The search on the web.
        search_url: String,
    },
    /// A data request's new status, to its requester.
    Request {
        /// The request's number.
        id: i64,
        /// What was asked for.
        what: &'a str,
        /// Its state now.
        state: &'a RequestState,
        /// Its page.
        page_url: String,
        /// The page of the dataset that answers it.
        dataset_url: Option<String>,
    },
    /// A publisher's digest.
    Notice {
        /// The digest.
        digest: &'a Digest,
        /// Its organisation's page.
        page_url: String,
    },
}

/// Renders mails.
pub trait Render: Send + Sync {
    /// The subject and text of `mail`, in `lang`.
    fn render(&self, mail: &Mail<'_>, lang: &str) -> Message;
}

/// The last notice sent to an organisation (entry kind [`NOTICE`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticeRecord {
    /// When it was sent.
    pub sent: DateTime<Utc>,
    /// What it was about ([`Digest::fingerprint`]).
    pub fingerprint: String,
    /// The digest sent.
    pub digest: Digest,
    /// Where it went: `mailto:…` or the webhook's host.
    pub delivered_to: Vec<String>,
}

/// A search to save.
#[derive(Debug, Clone, Default)]
pub struct NewAlert {
    /// The search as a query string.
    pub search: String,
    /// Its free text.
    pub q: Option<String>,
    /// Its filters (dimension, value as the index holds it).
    pub filters: Vec<(Dimension, String)>,
    /// Mail to this address…
    pub email: Option<String>,
    /// …or POST to this webhook.
    pub webhook: Option<String>,
    /// The webhook's HMAC key (made up if not given).
    pub secret: Option<String>,
    /// Language of its mails.
    pub lang: String,
}

/// A saved search, as its creator gets it back.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// Its id.
    pub id: String,
    /// `pending` (confirm by the mail's link) or `active`.
    pub state: &'static str,
    /// The token that ends it (also in every mail's and payload's unsubscribe link).
    pub token: String,
    /// The webhook's signing key, when samla made it up.
    pub secret: Option<String>,
    /// The link that ends it.
    pub unsubscribe: String,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The request is wrong: which field, and why.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// No such saved search, or not this token's.
    #[error("no saved search {0} with this token")]
    NotFound(String),
    /// The confirmation could not be sent.
    #[error("the confirmation mail could not be sent: {0}")]
    Undelivered(DeliveryError),
    /// The store, index or reports failed.
    #[error("{0}")]
    Internal(String),
}

fn internal(e: impl std::fmt::Display) -> NotifyError {
    NotifyError::Internal(e.to_string())
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Datasets proposed as answers to open data requests.
    pub proposed: usize,
    /// Alerts delivered.
    pub alerts: usize,
    /// Datasets they told of.
    pub datasets: usize,
    /// Notices delivered.
    pub notices: usize,
    /// Deliveries that failed.
    pub failed: usize,
}

/// Matches and delivers.
pub struct Notifier {
    store: Arc<Store>,
    index: Arc<Indexer>,
    reports: Arc<Reports>,
    outbox: Outbox,
    render: Arc<dyn Render>,
    contacts: Vec<(String, Vec<Contact>)>,
    webhook_secret: Option<String>,
    disable_after: u32,
    base: std::sync::OnceLock<String>,
    passing: tokio::sync::Mutex<()>,
}

impl Notifier {
    /// The notifier of a configuration: its `[notify]` settings, its organisations'
    /// contacts, links to its `public_url`. A contact's webhook that the address policy
    /// refuses is a configuration error, named by its key.
    pub fn new(
        config: &Config,
        store: Arc<Store>,
        index: Arc<Indexer>,
        reports: Arc<Reports>,
        render: Arc<dyn Render>,
    ) -> Result<Self, String> {
        let outbox = Outbox::new(&config.notify, &config.harvest.user_agent)?;
        let mut problems = Vec::new();
        for (i, o) in config.organisations.iter().enumerate() {
            for (j, c) in o.notify.iter().enumerate() {
                if let Contact::Webhook(url) = c
                    && let Some(why) = outbox.refused(url)
                {
                    problems.push(format!("organisation[{i}].notify[{j}]: {why}"));
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Self {
            store,
            index,
            reports,
            outbox,
            render,
            contacts: config
                .organisations
                .iter()
                .filter(|o| !o.notify.is_empty())
                .map(|o| (o.code.clone(), o.notify.clone()))
                .collect(),
            webhook_secret: config.notify.webhook_secret.clone(),
            disable_after: config.notify.disable_after.max(1),
            base: config
                .public_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_string())
                .map(std::sync::OnceLock::from)
                .unwrap_or_default(),
            passing: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether saved searches can be mailed.
    pub fn sends_mail(&self) -> bool {
        self.outbox.sends_mail()
    }

    /// Links in mails and payloads lead to `base` (`http://host:port`) unless the
    /// configuration's `public_url` says where this samla is.
    pub fn link_to_if_unset(&self, base: &str) {
        let _ = self.base.set(base.trim_end_matches('/').to_string());
    }

    /// The absolute URL of a path of this samla.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base.get().map_or("", String::as_str))
    }

    fn unsubscribe_url(&self, id: &str, token: &str) -> String {
        self.link(&format!("/alerts/{id}/unsubscribe?token={token}"))
    }

    /// Saves a search. A webhook's is active at once; a mail's once the link its
    /// confirmation mail carries is followed.
    pub async fn create_alert(
        self: &Arc<Self>,
        new: NewAlert,
        now: DateTime<Utc>,
    ) -> Result<Created, NotifyError> {
        let invalid = |field, message: String| NotifyError::Invalid { field, message };
        let (delivery, secret_made) = match (&new.email, &new.webhook) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(
                    "email",
                    "give either an e-mail address or a webhook URL".into(),
                ));
            }
            (Some(address), None) => {
                let address =
                    samla_config::email_address(address).map_err(|e| invalid("email", e))?;
                if !self.outbox.sends_mail() {
                    return Err(invalid(
                        "email",
                        "this samla sends no mail; use a webhook".into(),
                    ));
                }
                (Delivery::Email { address }, None)
            }
            (None, Some(url)) => {
                let Ok(Contact::Webhook(url)) = Contact::parse(url) else {
                    return Err(invalid(
                        "webhook",
                        format!("{url:?} is not an http or https URL"),
                    ));
                };
                if let Some(why) = self.outbox.refused(&url) {
                    return Err(invalid("webhook", why));
                }
                let (secret, made) = match new.secret.as_deref().map(str::trim) {
                    Some(s) if s.len() >= 16 && s.len() <= 256 => (s.to_string(), None),
                    Some(_) => {
                        return Err(invalid(
                            "secret",
                            "a signing key of 16 to 256 characters".into(),
                        ));
                    }
                    None => {
                        let made = alerts::token();
                        (made.clone(), Some(made))
                    }
                };
                (
                    Delivery::Webhook {
                        url: url.to_string(),
                        secret,
                    },
                    made,
                )
            }
        };
        let id = alerts::token()[..16].to_string();
        let token = alerts::token();
        let confirm = matches!(delivery, Delivery::Email { .. }).then(alerts::token);
        let alert = Alert {
            id: id.clone(),
            search: new.search,
            q: new.q,
            filters: new
                .filters
                .into_iter()
                .map(|(d, v)| (d.name().to_string(), v))
                .collect(),
            delivery,
            state: if confirm.is_some() {
                AlertState::Pending
            } else {
                AlertState::Active
            },
            lang: if new.lang == "en" { "en" } else { "sv" }.into(),
            token: token.clone(),
            confirm_hash: confirm.as_deref().map(alerts::token_hash),
            created: now,
            cursor: self.index.indexed_seq().unwrap_or(0),
            failures: 0,
            last_error: None,
            sent: 0,
        };
        self.save(&alert, false).await?;
        let unsubscribe = self.unsubscribe_url(&id, &token);
        if let (Some(confirm), Delivery::Email { address }) = (&confirm, &alert.delivery) {
            let mail = Mail::Confirm {
                alert: &alert,
                confirm_url: self.link(&format!("/alerts/{id}/confirm?token={confirm}")),
                unsubscribe_url: unsubscribe.clone(),
            };
            let message = self.render.render(&mail, &alert.lang);
            if let Err(e) = self.outbox.mail_now(address, &message).await {
                let this = Arc::clone(self);
                let key = id.clone();
                tokio::task::spawn_blocking(move || this.store.remove_entry(ALERT, &key))
                    .await
                    .map_err(internal)?
                    .map_err(internal)?;
                return Err(NotifyError::Undelivered(e));
            }
        }
        Ok(Created {
            id,
            state: alert.state.as_str(),
            token,
            secret: secret_made,
            unsubscribe,
        })
    }

    /// Stores `alert`: a new one only if its id is free, else only if it is still there (a
    /// search ended while a pass delivered stays ended).
    async fn save(self: &Arc<Self>, alert: &Alert, replace: bool) -> Result<(), NotifyError> {
        let body = serde_json::to_string(alert).map_err(internal)?;
        let this = Arc::clone(self);
        let id = alert.id.clone();
        tokio::task::spawn_blocking(move || {
            if replace {
                this.store
                    .update_entry(ALERT, &id, |now| now.map(|_| body.clone()))
            } else {
                this.store.put_entry(ALERT, &id, &body, false)
            }
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        Ok(())
    }

    /// The saved search `id`, if `token` manages it (or, with `confirming`, confirms it).
    async fn load(
        self: &Arc<Self>,
        id: &str,
        token: &str,
        confirming: bool,
    ) -> Result<Alert, NotifyError> {
        let this = Arc::clone(self);
        let key = id.to_string();
        let body = tokio::task::spawn_blocking(move || this.store.entry(ALERT, &key))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        let alert: Alert = body
            .and_then(|b| serde_json::from_str(&b).ok())
            .ok_or_else(|| NotifyError::NotFound(id.to_string()))?;
        let ok = if confirming {
            alert
                .confirm_hash
                .as_deref()
                .is_some_and(|hash| alerts::same(&alerts::token_hash(token), hash))
        } else {
            alerts::same(token, &alert.token)
        };
        if ok {
            Ok(alert)
        } else {
            Err(NotifyError::NotFound(id.to_string()))
        }
    }

    /// The saved search `id`, shown to the holder of its token.
    pub async fn alert(self: &Arc<Self>, id: &str, token: &str) -> Result<Alert, NotifyError> {
        self.load(id, token, false).await
    }

    /// Confirms a saved search's address: it is active from now on. Confirming twice is
    /// harmless.
    pub async fn confirm(self: &Arc<Self>, id: &str, token: &str) -> Result<Alert, NotifyError> {
        let mut alert = self.load(id, token, true).await?;
        if alert.state == AlertState::Pending {
            alert.state = AlertState::Active;
            alert.cursor = self.index.indexed_seq().unwrap_or(0);
            self.save(&alert, true).await?;
        }
        Ok(alert)
    }

    /// Ends a saved search, and forgets what it told of.
    pub async fn unsubscribe(self: &Arc<Self>, id: &str, token: &str) -> Result<(), NotifyError> {
        let alert = self.load(id, token, false).await?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || -> Result<(), samla_store::StoreError> {
            this.store.remove_entry(ALERT, &alert.id)?;
            let prefix = alerts::sent_key(&alert.id, "", "");
            let prefix = prefix.trim_end_matches('\u{1f}');
            for (key, _) in this.store.entries(SENT, &format!("{prefix}\u{1f}"))? {
                this.store.remove_entry(SENT, &key)?;
            }
            Ok(())
        })
        .await
        .map_err(internal)?
        .map_err(internal)
    }

    /// One pass: saved searches against what the harvests since the last pass added or
    /// changed, then each organisation's digest against its last notice. One pass runs at a
    /// time.
    pub async fn pass(self: &Arc<Self>, now: DateTime<Utc>) -> Result<Pass, NotifyError> {
        let _one = self.passing.lock().await;
        let mut pass = Pass::default();
        let this = Arc::clone(self);
        pass.proposed = tokio::task::spawn_blocking(move || this.propose_answers(Utc::now()))
            .await
            .map_err(internal)??;
        self.alert_pass(&mut pass).await?;
        self.notice_pass(now, &mut pass).await?;
        Ok(pass)
    }

    async fn alert_pass(self: &Arc<Self>, pass: &mut Pass) -> Result<(), NotifyError> {
        let this = Arc::clone(self);
        let matched = tokio::task::spawn_blocking(move || this.match_alerts())
            .await
            .map_err(internal)??;
        for (mut alert, found, upto) in matched {
            if found.is_empty() {
                alert.cursor = upto;
                self.save(&alert, true).await?;
                continue;
            }
            let datasets: Vec<Alerted> = found.iter().map(|(a, _)| a.clone()).collect();
            match self.deliver_alert(&alert, &datasets).await {
                Ok(()) => {
                    pass.alerts += 1;
                    pass.datasets += datasets.len();
                    let sent: Vec<(String, String)> = found
                        .into_iter()
                        .map(|(a, k)| (alerts::sent_key(&alert.id, &a.id, ""), k))
                        .collect();
                    let this = Arc::clone(self);
                    tokio::task::spawn_blocking(move || -> Result<(), samla_store::StoreError> {
                        // One entry per saved search and dataset: the version told of last.
                        for (dataset, key) in sent {
                            for (older, _) in this.store.entries(SENT, &dataset)? {
                                this.store.remove_entry(SENT, &older)?;
                            }
                            this.store.put_entry(SENT, &key, "", false)?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(internal)?
                    .map_err(internal)?;
                    alert.cursor = upto;
                    alert.failures = 0;
                    alert.last_error = None;
                    alert.sent += datasets.len() as u64;
                }
                Err(e) => {
                    pass.failed += 1;
                    alert.failures += 1;
                    tracing::warn!(alert = %alert.id, failures = alert.failures, error = %e, "alert not delivered");
                    alert.last_error = Some(e.to_string());
                    if alert.failures >= self.disable_after {
                        alert.state = AlertState::Disabled;
                    }
                }
            }
            self.save(&alert, true).await?;
        }
        Ok(())
    }

    /// Each active saved search behind the index, with the datasets it matches among those
    /// changed since its cursor and not yet told of, and the sequence number read up to.
    #[allow(clippy::type_complexity)]
    fn match_alerts(&self) -> Result<Vec<(Alert, Vec<(Alerted, String)>, u64)>, NotifyError> {
        let upto = self.index.indexed_seq().unwrap_or(0);
        let alerts: Vec<Alert> = self
            .store
            .entries(ALERT, "")
            .map_err(internal)?
            .into_iter()
            .filter_map(|(_, body)| serde_json::from_str::<Alert>(&body).ok())
            .filter(|a| a.state == AlertState::Active && a.cursor < upto)
            .collect();
        let Some(from) = alerts.iter().map(|a| a.cursor).min() else {
            return Ok(Vec::new());
        };
        let changes = self.changes(from, upto)?;
        let mut out = Vec::new();
        for alert in alerts {
            let ids: BTreeSet<&str> = changes
                .iter()
                .filter(|c| c.seq > alert.cursor)
                .map(|c| c.id.as_str())
                .collect();
            let mut found = Vec::new();
            if !ids.is_empty() {
                let ids: Vec<String> = ids.into_iter().map(str::to_string).collect();
                for chunk in ids.chunks(1024) {
                    self.match_chunk(&alert, chunk, &mut found)?;
                }
            }
            out.push((alert, found, upto));
        }
        Ok(out)
    }

    /// The datasets written (not removed) by the store's transactions after `from` up to
    /// `upto`.
    fn changes(&self, from: u64, upto: u64) -> Result<Vec<samla_store::Change>, NotifyError> {
        let mut changes = Vec::new();
        let mut after = from;
        while after < upto {
            let part = self.store.changes_since(after, 10_000).map_err(internal)?;
            let Some(last) = part.last().map(|c| c.seq) else {
                break;
            };
            changes.extend(part.into_iter().filter(|c| c.seq <= upto && !c.removed));
            after = last;
        }
        Ok(changes)
    }

    /// Proposes, for each open data request, the datasets written since it was last looked
    /// at that match its municipality, theme and specification and at least half of its
    /// words (those of five letters or more, six at most); returns how many were proposed.
    fn propose_answers(&self, now: DateTime<Utc>) -> Result<usize, NotifyError> {
        let upto = self.index.indexed_seq().unwrap_or(0);
        let states = requests::all(&self.store).map_err(internal)?;
        if !states
            .values()
            .any(|s| s.status.is_open() && s.cursor < upto)
        {
            return Ok(0);
        }
        let filed = self
            .store
            .requests_since(DateTime::<Utc>::UNIX_EPOCH)
            .map_err(internal)?;
        let mut proposed = 0;
        for request in filed {
            let Some(state) = states.get(&request.id) else {
                continue;
            };
            if !state.status.is_open() || state.cursor >= upto {
                continue;
            }
            let ids: Vec<String> = self
                .changes(state.cursor, upto)?
                .into_iter()
                .map(|c| c.id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let text = |k: &str| request.request.get(k).and_then(serde_json::Value::as_str);
            let mut filters = Vec::new();
            for (dim, key) in [
                (Dimension::Municipality, "municipality"),
                (Dimension::Theme, "theme"),
                (Dimension::ConformsTo, "specification"),
            ] {
                if let Some(v) = text(key) {
                    filters.push((dim, v.to_string()));
                }
            }
            let mut words: Vec<String> = text("what")
                .unwrap_or_default()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 5)
                .map(str::to_lowercase)
                .collect();
            words.sort();
            words.dedup();
            words.truncate(6);
            // Without words, a theme or specification alone says what is asked for.
            let queries: Vec<Option<String>> = if words.is_empty() {
                if filters.iter().any(|(d, _)| *d != Dimension::Municipality) {
                    vec![None]
                } else {
                    Vec::new()
                }
            } else {
                words.into_iter().map(Some).collect()
            };
            let needed = queries.len().div_ceil(2).max(1);
            let mut hits: std::collections::HashMap<String, (usize, String)> = Default::default();
            for chunk in ids.chunks(1024) {
                for q in &queries {
                    let result = self
                        .index
                        .search(&SearchRequest {
                            q: q.clone(),
                            filters: filters.clone(),
                            limit: MAX_PER_PAGE,
                            only: Some(chunk.to_vec()),
                            ..Default::default()
                        })
                        .map_err(internal)?;
                    for hit in result.hits {
                        let title = pick(&hit.title, "sv").unwrap_or(&hit.id).to_string();
                        hits.entry(hit.id).or_insert((0, title)).0 += 1;
                    }
                }
            }
            let mut found: Vec<(String, String)> = hits
                .into_iter()
                .filter(|(_, (n, _))| *n >= needed)
                .map(|(id, (_, title))| (id, title))
                .collect();
            found.sort();
            // Into the state as it is now: an answer given meanwhile stays.
            let (before, after) = requests::update(&self.store, request.id, |fresh| {
                for (id, title) in &found {
                    if fresh.proposals.len() < 20 && !fresh.proposals.iter().any(|p| &p.id == id) {
                        fresh.proposals.push(Proposal {
                            id: id.clone(),
                            title: title.clone(),
                            at: now,
                        });
                    }
                }
                fresh.cursor = fresh.cursor.max(upto);
            })
            .map_err(internal)?;
            proposed += after.proposals.len().saturating_sub(before.proposals.len());
        }
        Ok(proposed)
    }

    /// Mails `mail` to `to` now, once (a requester told of their request while the one who
    /// answered it waits).
    pub async fn send_mail(
        &self,
        to: &str,
        mail: &Mail<'_>,
        lang: &str,
    ) -> Result<(), DeliveryError> {
        let message = self.render.render(mail, lang);
        self.outbox.mail_now(to, &message).await
    }

    fn match_chunk(
        &self,
        alert: &Alert,
        ids: &[String],
        found: &mut Vec<(Alerted, String)>,
    ) -> Result<(), NotifyError> {
        let filters = alert
            .filters
            .iter()
            .filter_map(|(d, v)| Dimension::from_name(d).map(|d| (d, v.clone())))
            .collect();
        let mut offset = 0;
        loop {
            let result = self
                .index
                .search(&SearchRequest {
                    q: alert.q.clone(),
                    filters: Vec::clone(&filters),
                    offset,
                    limit: MAX_PER_PAGE,
                    only: Some(ids.to_vec()),
                    ..Default::default()
                })
                .map_err(internal)?;
            for hit in &result.hits {
                let Some(stored) = self.store.winner(&hit.id).map_err(internal)? else {
                    continue;
                };
                let key = alerts::sent_key(&alert.id, &hit.id, &stored.hash);
                if self.store.entry(SENT, &key).map_err(internal)?.is_some() {
                    continue;
                }
                found.push((
                    Alerted {
                        id: hit.id.clone(),
                        title: pick(&hit.title, &alert.lang).unwrap_or(&hit.id).to_string(),
                        publisher: hit
                            .publisher
                            .as_ref()
                            .and_then(|p| pick(&p.name, &alert.lang))
                            .map(str::to_string),
                        change: if stored.first_seen == stored.last_changed {
                            "new"
                        } else {
                            "changed"
                        }
                        .into(),
                        url: self.link(&format!("/dataset/{}", path_segment(&hit.id))),
                    },
                    key,
                ));
            }
            offset += result.hits.len();
            if result.hits.is_empty() || offset >= result.total {
                return Ok(());
            }
        }
    }

    async fn deliver_alert(
        &self,
        alert: &Alert,
        datasets: &[Alerted],
    ) -> Result<(), DeliveryError> {
        let unsubscribe_url = self.unsubscribe_url(&alert.id, &alert.token);
        let search_url = self.link(&format!("/?{}", alert.search));
        let listed = &datasets[..datasets.len().min(LISTED)];
        match &alert.delivery {
            Delivery::Webhook { url, secret } => {
                let url =
                    url::Url::parse(url).map_err(|e| DeliveryError::Refused(e.to_string()))?;
                let body = serde_json::json!({
                    "alert": alert.id,
                    "search": alert.search,
                    "search_url": search_url,
                    "datasets": datasets,
                    "unsubscribe": unsubscribe_url,
                });
                self.outbox
                    .post(&url, "alert", secret, body.to_string().as_bytes())
                    .await
            }
            Delivery::Email { address } => {
                let mail = Mail::Alert {
                    alert,
                    datasets: listed,
                    more: datasets.len() - listed.len(),
                    unsubscribe_url,
                    search_url,
                };
                let message = self.render.render(&mail, &alert.lang);
                self.outbox.mail(address, &message).await
            }
        }
    }

    async fn notice_pass(
        self: &Arc<Self>,
        now: DateTime<Utc>,
        pass: &mut Pass,
    ) -> Result<(), NotifyError> {
        if self.contacts.is_empty() {
            return Ok(());
        }
        let this = Arc::clone(self);
        let due = tokio::task::spawn_blocking(move || this.due_notices(now))
            .await
            .map_err(internal)??;
        for (code, digest, fingerprint) in due {
            let contacts = self
                .contacts
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, c)| c.as_slice())
                .unwrap_or_default();
            let page_url = self.link(&format!("/organisation/{}", path_segment(&code)));
            let mut delivered_to = Vec::new();
            for contact in contacts {
                let (to, sent) = match contact {
                    Contact::Email(address) => {
                        let mail = Mail::Notice {
                            digest: &digest,
                            page_url: page_url.clone(),
                        };
                        let message = self.render.render(&mail, "sv");
                        (
                            format!("mailto:{address}"),
                            self.outbox.mail(address, &message).await,
                        )
                    }
                    Contact::Webhook(url) => {
                        let body = serde_json::json!({
                            "organisation": code,
                            "page": page_url,
                            "digest": digest,
                        });
                        let secret = self.webhook_secret.as_deref().unwrap_or_default();
                        (
                            url.host_str().unwrap_or_default().to_string(),
                            self.outbox
                                .post(url, "notice", secret, body.to_string().as_bytes())
                                .await,
                        )
                    }
                };
                match sent {
                    Ok(()) => delivered_to.push(to),
                    Err(e) => {
                        pass.failed += 1;
                        tracing::warn!(organisation = %code, to = %to, error = %e, "notice not delivered");
                    }
                }
            }
            // Undelivered everywhere: tried again at the next pass.
            if delivered_to.is_empty() {
                continue;
            }
            pass.notices += 1;
            let record = NoticeRecord {
                sent: now,
                fingerprint,
                digest,
                delivered_to,
            };
            let body = serde_json::to_string(&record).map_err(internal)?;
            let this = Arc::clone(self);
            tokio::task::spawn_blocking(move || this.store.put_entry(NOTICE, &code, &body, true))
                .await
                .map_err(internal)?
                .map_err(internal)?;
        }
        Ok(())
    }

    /// The digests of organisations with a contact that differ from their last notice.
    fn due_notices(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, Digest, String)>, NotifyError> {
        let mut due = Vec::new();
        for (code, _) in &self.contacts {
            let Some(mut digest) = digest(&self.reports, code, now).map_err(internal)? else {
                continue;
            };
            let fingerprint = digest.fingerprint();
            let last = last_notice(&self.store, code)?;
            if last.as_ref().is_some_and(|l| l.fingerprint == fingerprint) {
                continue;
            }
            digest.mark_new(last.as_ref().map(|l| &l.digest));
            due.push((code.clone(), digest, fingerprint));
        }
        Ok(due)
    }
}

/// The last notice sent to organisation `code`, if any.
pub fn last_notice(store: &Store, code: &str) -> Result<Option<NoticeRecord>, NotifyError> {
    Ok(store
        .entry(NOTICE, code)
        .map_err(internal)?
        .and_then(|body| serde_json::from_str(&body).ok()))
}

/// An id percent-encoded for a path segment.
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
