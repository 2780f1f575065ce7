//! Alerts and publisher notices, end to end: the simulated region harvested over loopback,
//! saved searches made through the API, webhooks received by a local server, mail by a
//! local SMTP server (Python's aiosmtpd).

use crate::store::Engine;
use crate::support::{self, Region};
use axum::Router;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use samla_config::{Contact, SmtpSettings, SmtpTls};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// The headers and body of each POST a receiver got.
type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A webhook receiver on loopback: what each POST carried, answered with `status`.
struct Receiver {
    url: String,
    got: Received,
}

async fn receiver(status: u16) -> Receiver {
    let got: Received = Arc::default();
    let kept = Arc::clone(&got);
    let router = Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let kept = Arc::clone(&kept);
            async move {
                kept.lock().expect("lock").push((headers, body.to_vec()));
                axum::http::StatusCode::from_u16(status).expect("status")
            }
        }),
    );
    Receiver {
        url: format!("{}/hook", support::serve(router).await),
        got,
    }
}

impl Receiver {
    fn received(&self) -> Vec<(HeaderMap, Vec<u8>)> {
        self.got.lock().expect("lock").clone()
    }
}

/// The SMTP sink: mails land in a directory as JSON.
struct Sink {
    port: u16,
    dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

async fn sink() -> Sink {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = tokio::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/smtp_sink.py"
        ))
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs the SMTP sink (scripts/test installs aiosmtpd)");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::io::BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("the sink starts")
    .expect("read");
    let port = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the sink says where it listens: {line:?}"));
    Sink {
        port,
        dir,
        _child: child,
    }
}

impl Sink {
    fn mails(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
            .collect()
    }

    /// The mails, once there are `n` (or after 20 s).
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.mails()
    }
}

/// The datasets a search finds through the API, by id, with their content hash.
async fn found(region: &Region, base: &str, search: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for page in 1.. {
        let answer = support::get_json(format!(
            "{base}/api/v1/datasets?{search}&per_page=100&page={page}"
        ))
        .await;
        let hits = answer["hits"].as_array().expect("hits").clone();
        for hit in &hits {
            let id = hit["id"].as_str().expect("id").to_string();
            let stored = region
                .samla
                .store
                .winner(&id)
                .expect("store")
                .expect("stored");
            out.insert(id, stored.hash);
        }
        if hits.len() < 100 {
            break;
        }
    }
    out
}

fn valid_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(bytes) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    mac.verify_slice(&bytes).is_ok()
}

async fn post_json(url: String, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_saved_search_is_alerted_once_when_the_next_epoch_adds_a_match() {
    let region = support::region_configured(Engine::Sqlite, 1500, |c| {
        c.notify.allow_hosts = vec!["127.0.0.1".into()];
        c.notify.retry_base = Duration::from_millis(50);
    })
    .await;
    region.harvest().await;
    let base = support::serve_api(&region.samla).await;
    region.samla.notifier.link_to_if_unset(&base);
    let hook = receiver(200).await;
    // Malmö's datasets: the next epoch adds, changes and removes some of them.
    let search = "municipality=1280";

    // A webhook on a private address is refused unless configured, and so is a search that
    // matches everything.
    let (status, body) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": search, "webhook": "http://10.0.0.7/hook"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("webhook"), "{body}");
    let (status, body) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": "", "webhook": hook.url}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": "municipality=nowhere", "webhook": hook.url}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": "q=fiber&modified_since=2026-01-01", "webhook": hook.url}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("dates"), "{body}");

    let (status, created) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": search, "webhook": hook.url}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "active");
    let secret = created["secret"]
        .as_str()
        .expect("a made-up key")
        .to_string();
    let id = created["id"].as_str().expect("id").to_string();
    let token = created["token"].as_str().expect("token").to_string();

    // Nothing changed since it was saved: nothing is sent.
    region.samla.notify().await.expect("pass");
    assert!(hook.received().is_empty());

    let before = found(&region, &base, search).await;
    region.simulator.advance();
    region.harvest().await;
    let after = found(&region, &base, search).await;
    let expected: BTreeSet<&String> = after
        .iter()
        .filter(|(id, hash)| before.get(*id) != Some(hash))
        .map(|(id, _)| id)
        .collect();
    assert!(
        expected.iter().any(|id| !before.contains_key(*id)),
        "the epoch adds a dataset of Malmö's"
    );

    let pass = region.samla.notify().await.expect("pass");
    assert_eq!(pass.alerts, 1, "{pass:?}");
    let received = hook.received();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let signature = headers["x-samla-signature"].to_str().expect("ascii");
    assert!(valid_signature(&secret, body, signature), "{signature}");
    assert!(!valid_signature(
        "another key of enough length",
        body,
        signature
    ));
    assert_eq!(headers["x-samla-event"], "alert");
    let payload: Value = serde_json::from_slice(body).expect("json");
    let told: BTreeSet<&str> = payload["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .map(|d| d["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        told,
        expected.iter().map(|s| s.as_str()).collect::<BTreeSet<_>>()
    );
    for d in payload["datasets"].as_array().expect("datasets") {
        let new = !before.contains_key(d["id"].as_str().expect("id"));
        assert_eq!(d["change"], if new { "new" } else { "changed" }, "{d}");
        assert!(
            d["url"]
                .as_str()
                .expect("url")
                .starts_with(&format!("{base}/dataset/"))
        );
    }
    let unsubscribe = payload["unsubscribe"].as_str().expect("unsubscribe link");
    assert!(unsubscribe.starts_with(&format!("{base}/alerts/{id}/unsubscribe?token=")));

    // The same harvest again, and another pass: nothing new, nothing sent twice.
    region.harvest().await;
    region.samla.notify().await.expect("pass");
    region.samla.notify().await.expect("pass");
    assert_eq!(hook.received().len(), 1);

    let sent = |prefix: &str| {
        region
            .samla
            .store
            .entries(samla_notify::SENT, prefix)
            .expect("entries")
            .len()
    };
    assert_eq!(
        sent(&format!("{id}\u{1f}")),
        expected.len(),
        "one entry per dataset told of"
    );
    let shown = support::get_json(format!("{base}/api/v1/alerts/{id}?token={token}")).await;
    assert_eq!(shown["state"], "active");
    assert_eq!(shown["datasets_sent"], expected.len());
    let (status, _) = support::get_text(format!("{base}/api/v1/alerts/{id}?token=wrong")).await;
    assert_eq!(status, 404);

    // The search page offers to watch a search; its form saves one the same way.
    let (_, page) = support::get_text(format!("{base}/?q=badplatser&municipality=1280")).await;
    assert!(
        page.contains("action=\"/alerts\""),
        "the search page has a watch form"
    );
    let (_, page) = support::get_text(format!("{base}/")).await;
    assert!(
        !page.contains("action=\"/alerts\""),
        "nothing to watch without words or filters"
    );
    let other = receiver(200).await;
    let saved = reqwest::Client::new()
        .post(format!("{base}/alerts"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "search=q%3Dbadplatser%26municipality%3D1280&lang=sv&email=&webhook={}",
            url::form_urlencoded::byte_serialize(other.url.as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status().as_u16(), 201);
    let page = saved.text().await.expect("page");
    assert!(
        page.contains("Bevakningen är aktiv") && page.contains("<code>"),
        "{page}"
    );

    // The unsubscribe link asks first (a mail scanner follows links), then ends it.
    let (status, page) = support::get_text(unsubscribe.to_string()).await;
    assert_eq!(status, 200);
    assert!(page.contains("method=\"post\""), "{page}");
    let ended = reqwest::Client::new()
        .post(format!("{base}/alerts/{id}/unsubscribe"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("post");
    assert_eq!(ended.status().as_u16(), 200);
    let (status, _) = support::get_text(format!("{base}/api/v1/alerts/{id}?token={token}")).await;
    assert_eq!(status, 404);
    assert_eq!(
        sent(&format!("{id}\u{1f}")),
        0,
        "an ended search's entries go with it"
    );
    region.simulator.advance();
    region.harvest().await;
    region.samla.notify().await.expect("pass");
    assert_eq!(hook.received().len(), 1, "an ended search sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_that_keeps_failing_is_retried_then_disabled() {
    let region = support::region_configured(Engine::Sqlite, 600, |c| {
        c.notify.allow_hosts = vec!["127.0.0.1".into()];
        c.notify.retries = 2;
        c.notify.retry_base = Duration::from_millis(20);
        c.notify.disable_after = 2;
    })
    .await;
    region.harvest().await;
    let base = support::serve_api(&region.samla).await;
    let hook = receiver(503).await;
    let (status, created) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": "municipality=1280", "webhook": hook.url, "secret": "a shared key of some length"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["secret"].is_null(), "a given key is not echoed");
    let (id, token) = (
        created["id"].as_str().expect("id"),
        created["token"].as_str().expect("token"),
    );
    for round in 1..=3 {
        region.simulator.advance();
        region.harvest().await;
        let pass = region.samla.notify().await.expect("pass");
        let attempts = hook.received().len();
        match round {
            // One attempt and two retries per failed delivery.
            1 | 2 => {
                assert_eq!(pass.failed, 1, "round {round}");
                assert_eq!(attempts, 3 * round, "round {round}");
            }
            _ => {
                assert_eq!(pass.failed, 0, "disabled: not tried");
                assert_eq!(attempts, 6);
            }
        }
    }
    let shown = support::get_json(format!("{base}/api/v1/alerts/{id}?token={token}")).await;
    assert_eq!(shown["state"], "disabled");
    assert_eq!(shown["failures"], 2);
    assert!(
        shown["last_error"].as_str().expect("error").contains("503"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_confirms_alerts_and_tells_a_publisher_once_when_its_source_starts_failing() {
    let sink = sink().await;
    let port = sink.port;
    let hook = receiver(200).await;
    let hook_url = url::Url::parse(&hook.url).expect("url");
    let region = support::region_configured(Engine::Sqlite, 800, |c| {
        c.notify.allow_hosts = vec!["127.0.0.1".into()];
        c.notify.webhook_secret = Some("the region's notice key".into());
        c.notify.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            from: "samla <samla@region.example>".into(),
            username: None,
            password: None,
        });
        let ystad = c
            .organisations
            .iter_mut()
            .find(|o| o.code == "1286")
            .expect("Ystad");
        ystad.notify = vec![
            Contact::Email("oppnadata@ystad.example".into()),
            Contact::Webhook(hook_url),
        ];
    })
    .await;
    let ystad = region
        .simulator
        .catalogs()
        .iter()
        .find(|c| c.organisation.code == "1286")
        .expect("Ystad's catalog")
        .organisation
        .slug();
    region.harvest().await;
    let base = support::serve_api(&region.samla).await;
    region.samla.notifier.link_to_if_unset(&base);

    // The first pass tells Ystad where its catalog stands.
    let pass = region.samla.notify().await.expect("pass");
    assert_eq!(pass.notices, 1, "{pass:?}");
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["to"], json!(["oppnadata@ystad.example"]));
    let first = mails[0]["body"].as_str().expect("body");
    assert!(first.contains("fungerar"), "{first}");
    assert!(
        first.contains(&format!("{base}/organisation/1286")),
        "{first}"
    );

    // Nothing changed: no notice.
    region.harvest().await;
    region.samla.notify().await.expect("pass");
    // A pass returns once its mails are accepted, and the sink files a mail before it
    // accepts it: what is not there now was not sent.
    assert_eq!(sink.mails().len(), 1);

    // Its server starts failing: one notice says so.
    region.simulator.set_failing(&ystad, true);
    region.harvest().await;
    let pass = region.samla.notify().await.expect("pass");
    assert_eq!(pass.notices, 1, "{pass:?}");
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    let failing = mails[1]["body"].as_str().expect("body");
    assert!(failing.contains("fungerar inte"), "{failing}");
    assert!(failing.contains("Nya problem"), "{failing}");
    assert!(
        !failing.contains("reason_") && !failing.contains("outcome_"),
        "{failing}"
    );
    // Still failing, nothing else changed: no second notice.
    region.harvest().await;
    region.samla.notify().await.expect("pass");
    assert_eq!(sink.mails().len(), 2);
    // Its webhook got the same two notices, signed with the region's key.
    let notices = hook.received();
    assert_eq!(notices.len(), 2);
    for (headers, body) in &notices {
        assert_eq!(headers["x-samla-event"], "notice");
        let signature = headers["x-samla-signature"].to_str().expect("ascii");
        assert!(valid_signature("the region's notice key", body, signature));
        let payload: Value = serde_json::from_slice(body).expect("json");
        assert_eq!(payload["organisation"], "1286");
    }
    let last: Value = serde_json::from_slice(&notices[1].1).expect("json");
    assert_eq!(last["digest"]["sources"][0]["status"], "failing", "{last}");
    // The organisation page shows the digest and the notice.
    let (status, page) = support::get_text(format!("{base}/organisation/1286")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("fungerar inte") && page.contains("oppnadata@ystad.example"),
        "{page}"
    );

    // A saved search by mail is confirmed by the link its first mail carries.
    let (status, created) = post_json(
        format!("{base}/api/v1/alerts"),
        json!({"search": "municipality=1280", "email": "analys@foretag.example"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "pending");
    let mails = sink.wait_for(3).await;
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[2]["to"], json!(["analys@foretag.example"]));
    let text = mails[2]["body"].as_str().expect("body");
    let confirm = text
        .split_whitespace()
        .find(|w| w.contains("/confirm?token="))
        .unwrap_or_else(|| panic!("a confirm link: {text}"));
    // Pending: a harvest that brings matches sends nothing yet.
    region.simulator.advance();
    region.harvest().await;
    region.samla.notify().await.expect("pass");
    assert_eq!(sink.mails().len(), 3);
    let (status, page) = support::get_text(confirm.to_string()).await;
    assert_eq!(status, 200, "{page}");
    let (status, _) = support::get_text(format!("{}x", confirm)).await;
    assert_eq!(status, 404, "a wrong token confirms nothing");
    region.simulator.advance();
    region.harvest().await;
    let pass = region.samla.notify().await.expect("pass");
    assert_eq!(pass.alerts, 1, "{pass:?}");
    let mails = sink.wait_for(4).await;
    let alert = &mails[3];
    assert_eq!(alert["to"], json!(["analys@foretag.example"]));
    assert_eq!(alert["content_type"], "text/plain");
    let text = alert["body"].as_str().expect("body");
    assert!(text.contains(&format!("{base}/dataset/")), "{text}");
    assert!(text.contains("/unsubscribe?token="), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_data_request_gets_proposals_an_answer_and_its_requester_is_told() {
    let sink = sink().await;
    let port = sink.port;
    let malmo_token = "malmo-svarar-0123456789";
    let admin_token = "admin-0123456789abcdef";
    let region = support::region_configured(Engine::Sqlite, 800, |c| {
        c.admin_token = Some(admin_token.into());
        c.notify.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            from: "samla@region.example".into(),
            username: None,
            password: None,
        });
        c.organisations
            .iter_mut()
            .find(|o| o.code == "1280")
            .expect("Malmö")
            .token = Some(malmo_token.into());
    })
    .await;
    region.harvest().await;
    let base = support::serve_api(&region.samla).await;
    region.samla.notifier.link_to_if_unset(&base);
    let file = |what: &str| {
        post_json(
            format!("{base}/api/v1/requests"),
            json!({"what": what, "municipality": "1280", "organisation_type": "company",
                   "contact": "analys@foretag.example"}),
        )
    };
    // One request any of Malmö's datasets answers (its name is a word of each), one none does.
    let (status, broad) = file("Allt om Malmö, från Malmö").await;
    assert_eq!(status, 201, "{broad}");
    let (_, narrow) = file("Zyxwvutsr qwertyuiop").await;
    let (broad, narrow) = (
        broad["id"].as_i64().expect("id"),
        narrow["id"].as_i64().expect("id"),
    );

    let before = found(&region, &base, "municipality=1280").await;
    region.simulator.advance();
    region.harvest().await;
    let after = found(&region, &base, "municipality=1280").await;
    let written: BTreeSet<String> = after
        .iter()
        .filter(|(id, hash)| before.get(*id) != Some(hash))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(!written.is_empty());
    let pass = region.samla.notify().await.expect("pass");
    let shown = support::get_json(format!("{base}/api/v1/requests/{broad}")).await;
    let proposed: BTreeSet<String> = shown["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(pass.proposed, proposed.len());
    assert_eq!(proposed.len(), written.len().min(20), "{shown}");
    assert!(proposed.is_subset(&written), "{proposed:?} {written:?}");
    let none = support::get_json(format!("{base}/api/v1/requests/{narrow}")).await;
    assert_eq!(none["proposals"], json!([]));
    assert!(
        !shown.to_string().contains("analys@foretag.example"),
        "no contact shown"
    );
    // Nothing new: nothing proposed again.
    assert_eq!(region.samla.notify().await.expect("pass").proposed, 0);

    let answer = |id: i64, token: Option<&str>, body: Value| {
        let mut request = reqwest::Client::new()
            .post(format!("{base}/api/v1/requests/{id}/answer"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("post");
            let status = response.status().as_u16();
            (
                status,
                serde_json::from_str::<Value>(&response.text().await.unwrap_or_default())
                    .unwrap_or(Value::Null),
            )
        }
    };
    let dataset = proposed.iter().next().expect("a proposal").clone();
    let published = json!({"status": "published", "answer": "<b>Finns nu</b> som öppna data.", "dataset": dataset});
    assert_eq!(answer(broad, None, published.clone()).await.0, 401);
    assert_eq!(
        answer(broad, Some("not-a-token-at-all"), published.clone())
            .await
            .0,
        403
    );
    let (status, body) = answer(broad, Some(malmo_token), json!({"status": "done"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("status"), "{body}");
    let (status, body) = answer(
        broad,
        Some(malmo_token),
        json!({"status": "published", "dataset": "no-such-dataset"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = answer(broad, Some(malmo_token), published).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "published");
    let (status, body) = answer(
        narrow,
        Some(admin_token),
        json!({"status": "declined", "answer": "Finns inte."}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The requester is told each new status, with the dataset's page.
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let told = mails[0]["body"].as_str().expect("body");
    assert_eq!(mails[0]["to"], json!(["analys@foretag.example"]));
    assert!(
        told.contains("publicerad") && told.contains("<b>Finns nu</b>"),
        "{told}"
    );
    assert!(
        told.contains(&format!("{base}/dataset/{}", support::segment(&dataset))),
        "{told}"
    );
    // Answering again with the same status tells nobody.
    let again = json!({"status": "published", "answer": "Nu med API.", "dataset": dataset});
    assert_eq!(answer(broad, Some(malmo_token), again).await.0, 200);
    assert_eq!(sink.mails().len(), 2);

    // The demand report counts the answers; the pages show them escaped, never the contact.
    let demand = support::get_json(format!("{base}/api/v1/reports/demand")).await;
    assert_eq!(demand["requests_answered"], 2, "{demand}");
    assert!(demand["median_days_to_answer"].as_f64().expect("median") >= 0.0);
    for page in [format!("{base}/request/{broad}"), format!("{base}/demand")] {
        let (status, html) = support::get_text(page.clone()).await;
        assert_eq!(status, 200, "{page}");
        assert!(html.contains("publicerad"), "{page}");
        assert!(!html.contains("analys@foretag.example"), "{page}");
        assert!(!html.contains("<b>Finns"), "{page}");
    }
    // A proposal stops when the request is answered: closed requests get no more.
    region.simulator.advance();
    region.harvest().await;
    assert_eq!(region.samla.notify().await.expect("pass").proposed, 0);
}
