//! The link checker on loopback: HEAD then GET, statuses recorded, and no private, loopback
//! or link-local address asked by default, not even through a redirect.

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::any;
use samla_config::LinkSettings;
use samla_harvester::links::LinkChecker;

async fn web() -> String {
    let port_base = |req: axum::extract::Request| async move {
        let host = req
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let port = host.rsplit(':').next().unwrap_or_default().to_string();
        match (req.method().clone(), req.uri().path()) {
            (_, "/ok") => StatusCode::OK.into_response(),
            (Method::HEAD, "/no-head") => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            (_, "/no-head") => StatusCode::OK.into_response(),
            (_, "/to-loopback") => {
                Redirect::temporary(&format!("http://127.0.0.1:{port}/ok")).into_response()
            }
            (_, "/to-private") => Redirect::temporary("http://10.0.0.1/ok").into_response(),
            (_, "/to-same-host") => {
                Redirect::temporary(&format!("http://localhost:{port}/ok")).into_response()
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    };
    crate::support::serve(Router::new().fallback(any(port_base))).await
}

fn checker(tune: impl FnOnce(&mut LinkSettings)) -> LinkChecker {
    let mut settings = LinkSettings {
        per_host_delay: std::time::Duration::ZERO,
        timeout: std::time::Duration::from_secs(5),
        ..LinkSettings::default()
    };
    tune(&mut settings);
    LinkChecker::new(settings, "samla-test").expect("checker")
}

#[tokio::test]
async fn by_default_loopback_private_and_redirects_to_them_are_refused() {
    let base = web().await; // http://127.0.0.1:PORT
    let port = base.rsplit(':').next().expect("port");
    let strict = checker(|_| {});
    for url in [
        format!("{base}/ok"),
        format!("http://localhost:{port}/ok"),
        "http://10.1.2.3/data.csv".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://[::1]/x".to_string(),
    ] {
        let c = strict.check(&url).await;
        assert!(!c.ok, "{url}: {c:?}");
        assert_eq!(c.status, None, "{url}: no request was made");
        assert!(
            c.error.as_deref().unwrap_or("").contains("refused"),
            "{url}: {c:?}"
        );
    }

    // A host allowed by name is asked; its redirects to private addresses are not followed.
    let intranet = checker(|s| s.allow_hosts = vec!["localhost".into()]);
    let ok = intranet.check(&format!("http://localhost:{port}/ok")).await;
    assert!(ok.ok && ok.status == Some(200), "{ok:?}");
    let same = intranet
        .check(&format!("http://localhost:{port}/to-same-host"))
        .await;
    assert!(
        same.ok,
        "a redirect within the allowed host is followed: {same:?}"
    );
    for path in ["/to-loopback", "/to-private"] {
        let c = intranet
            .check(&format!("http://localhost:{port}{path}"))
            .await;
        assert!(!c.ok, "{path}: {c:?}");
        assert!(
            c.error.as_deref().unwrap_or("").contains("refused"),
            "{path}: {c:?}"
        );
    }
}

#[tokio::test]
async fn head_falls_back_to_get_and_statuses_are_recorded() {
    let base = web().await;
    let open = checker(|s| s.allow_private = true);
    let results = open
        .check_all(vec![
            format!("{base}/ok"),
            format!("{base}/no-head"),
            format!("{base}/missing"),
            format!("{base}/to-loopback"),
            "ftp://example.org/file".into(),
            "not a url".into(),
        ])
        .await;
    let by_url = |suffix: &str| {
        results
            .iter()
            .find(|r| r.url.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix}"))
    };
    assert_eq!((by_url("/ok").ok, by_url("/ok").status), (true, Some(200)));
    assert_eq!(
        by_url("/no-head").status,
        Some(200),
        "GET after a 405 to HEAD"
    );
    assert_eq!(
        (by_url("/missing").ok, by_url("/missing").status),
        (false, Some(404))
    );
    assert!(by_url("/to-loopback").ok, "allowed when configured");
    assert!(!by_url("/file").ok && by_url("/file").status.is_none());
    assert!(
        by_url("not a url")
            .error
            .as_deref()
            .unwrap_or("")
            .contains("not a URL")
    );
}
