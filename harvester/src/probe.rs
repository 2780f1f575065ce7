//! What platform answers at a URL: `samla probe` and `samla check` ask before a source is
//! configured.

use crate::{Fetched, Harvester, RDF_ACCEPT, RdfFormat, ckan, entryscape, parse_rdf};
use samla_config::Protocol;
use samla_model::record::states_type;
use samla_model::vocab::dcat;
use url::Url;

/// What answers at a source URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The platform found: `ckan`, `entryscape` or `dcat`; `None` when nothing answers.
    pub platform: Option<Protocol>,
    /// What was seen (counts, or why nothing answers).
    pub detail: String,
}

impl Harvester {
    /// Finds out what platform answers at `url`: a CKAN Action API (`package_search?rows=0`),
    /// an EntryStore (`/store/search`), or a DCAT document. One request each, in that order.
    pub async fn probe(&self, url: &Url) -> Probe {
        let json =
            |fetched: &Fetched| serde_json::from_slice::<serde_json::Value>(&fetched.body).ok();
        if let Some(mut api) = ckan::search_url(url, 0) {
            api.query_pairs_mut().clear().append_pair("rows", "0");
            if let Ok(f) = self.client.get(&api, "application/json").await
                && let Some(v) = json(&f)
                && v.get("success") == Some(&serde_json::Value::Bool(true))
            {
                let count = v
                    .pointer("/result/count")
                    .and_then(|c| c.as_u64())
                    .unwrap_or(0);
                return Probe {
                    platform: Some(Protocol::Ckan),
                    detail: format!("CKAN Action API at {api}: {count} datasets"),
                };
            }
        }
        if let Ok(mut search) = entryscape::store_base(url).join("search") {
            search
                .query_pairs_mut()
                .append_pair("type", "solr")
                .append_pair("query", &entryscape::query())
                .append_pair("limit", "1");
            if let Ok(f) = self.client.get(&search, "application/json").await
                && let Some(v) = json(&f)
                && v.pointer("/resource/children").is_some()
            {
                let count = v.get("results").and_then(|c| c.as_u64()).unwrap_or(0);
                return Probe {
                    platform: Some(Protocol::Entryscape),
                    detail: format!("EntryStore search at {search}: {count} public entries"),
                };
            }
        }
        match self.client.get(url, RDF_ACCEPT).await {
            Ok(f) => {
                let format = RdfFormat::detect(f.content_type.as_deref(), &f.body);
                match parse_rdf(&f.body, format, f.url.as_str()) {
                    Ok(parsed) => {
                        let datasets = parsed
                            .triples
                            .iter()
                            .filter(|t| states_type(t, dcat::DATASET))
                            .count();
                        Probe {
                            platform: Some(Protocol::Dcat),
                            detail: format!(
                                "{format} at {}: {datasets} datasets on the first page",
                                f.url
                            ),
                        }
                    }
                    Err(e) => Probe {
                        platform: None,
                        detail: format!("{} answers, but not with RDF ({format}: {e})", f.url),
                    },
                }
            }
            Err(e) => Probe {
                platform: None,
                detail: format!("nothing answers: {e}"),
            },
        }
    }
}
