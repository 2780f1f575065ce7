//! TLS to PostgreSQL, as libpq's connection settings say it: `sslmode` (`disable`, `prefer`,
//! the default, `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file of the
//! certificates to trust, or `system` for the system's). The client (`tokio-postgres`) knows
//! only `disable`, `prefer` and `require`, and no root certificates: the rest is read here,
//! taken out of the address, and given to the TLS connector (native-tls, the TLS reqwest and
//! lettre use).
//!
//! As in libpq, `prefer` and `require` encrypt without checking whose certificate it is,
//! unless a root certificate is given (then the chain is checked, as `verify-ca`);
//! `verify-ca` checks the chain, `verify-full` also that the certificate names the host.

use native_tls::{Certificate, TlsConnector};
use postgres_native_tls::MakeTlsConnector;

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// Not at all: the connection is encrypted only.
    Nothing,
    /// The chain, to a trusted root.
    Chain,
    /// The chain and the host name.
    Full,
}

/// The address for the client, with the settings it does not know taken out, and the TLS
/// connector those settings ask for. `what` errors say which setting is wrong.
pub(crate) fn settings(url: &str) -> Result<(String, MakeTlsConnector), String> {
    let (address, pairs) = split(url)?;
    let mut verify = None;
    let mut root = None;
    let mut kept = Vec::new();
    for (key, value) in pairs {
        match (key.as_str(), value.as_str()) {
            ("sslmode", "verify-ca") => verify = Some(Verify::Chain),
            ("sslmode", "verify-full") => verify = Some(Verify::Full),
            ("sslrootcert", path) => root = Some(path.to_string()),
            _ => {
                kept.push((key, value));
                continue;
            }
        }
        if key == "sslmode" {
            kept.push(("sslmode".into(), "require".into()));
        }
    }
    // As libpq: a root certificate given means the chain is checked; `system` also the host.
    let verify = match (verify, root.as_deref()) {
        (Some(v), _) => v,
        (None, Some("system")) => Verify::Full,
        (None, Some(_)) => Verify::Chain,
        (None, None) => Verify::Nothing,
    };
    let mut builder = TlsConnector::builder();
    match root.as_deref() {
        None | Some("system") => {}
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("sslrootcert {path}: cannot be read: {e}"))?;
            let certificates = Certificate::stack_from_pem(&pem)
                .map_err(|e| format!("sslrootcert {path}: not PEM certificates: {e}"))?;
            if certificates.is_empty() {
                return Err(format!("sslrootcert {path}: holds no certificate"));
            }
            builder.disable_built_in_roots(true);
            for c in certificates {
                builder.add_root_certificate(c);
            }
        }
    }
    match verify {
        Verify::Nothing => {
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        }
        Verify::Chain => {
            builder.danger_accept_invalid_hostnames(true);
        }
        Verify::Full => {}
    }
    let connector = builder
        .build()
        .map_err(|e| format!("TLS settings cannot be used: {e}"))?;
    Ok((join(&address, &kept), MakeTlsConnector::new(connector)))
}

type Pairs = Vec<(String, String)>;

/// A `postgres://` address's settings (decoded); any other address is left to the client.
fn split(url: &str) -> Result<(String, Pairs), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Ok((url.to_string(), Vec::new()));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("not a PostgreSQL address: {e}"))?;
    let pairs = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let address = url.split_once('?').map_or(url, |(a, _)| a).to_string();
    Ok((address, pairs))
}

/// The address again, with `pairs`.
fn join(address: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return address.to_string();
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{address}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_the_client_does_not_know_are_taken_out() {
        let (url, _) =
            settings("postgres://u@db:5432/samla?sslmode=verify-full&application_name=x")
                .expect("settings");
        assert_eq!(
            url,
            "postgres://u@db:5432/samla?sslmode=require&application_name=x"
        );
        let (url, _) = settings("postgres://u@db/samla?sslrootcert=system").expect("settings");
        assert_eq!(url, "postgres://u@db/samla");
        let (url, _) = settings("postgres://u@db/samla?sslmode=disable").expect("settings");
        assert_eq!(url, "postgres://u@db/samla?sslmode=disable");
    }

    #[test]
    fn a_root_certificate_that_cannot_be_read_is_named() {
        let e = settings("postgres://u@db/s?sslmode=verify-full&sslrootcert=/no/such.pem")
            .map(|(url, _)| url)
            .expect_err("refused");
        assert!(
            e.starts_with("sslrootcert /no/such.pem: cannot be read"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("samla-tls-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate").expect("write");
        let e = settings(&format!("postgres://u@db/s?sslrootcert={}", dir.display()))
            .map(|(url, _)| url)
            .expect_err("refused");
        let _ = std::fs::remove_file(&dir);
        assert!(e.contains("no certificate") || e.contains("not PEM"), "{e}");
    }
}
