//! Demand: what businesses look for. Every search is logged (normalised query text, filters,
//! result count, time; no IP address or other personal data); businesses file data requests.
//! The report shows the top queries, zero-result queries grouped by stem, the filters used, a
//! weekly trend, the requests, and demand set against supply per national specification and
//! EU theme (searches and requests against the organisations publishing).

use super::{Reports, cell, coverage, to_csv};
use crate::ReportError;
use chrono::{DateTime, Datelike, Duration, Utc};
use samla_indexer::stem_terms;
use samla_model::labels;
use samla_store::LoggedSearch;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The longest query text logged (longer ones are cut).
const MAX_LOGGED_QUERY: usize = 200;

/// A query as it is logged: trimmed, lower case, inner whitespace collapsed, cut to 200
/// characters.
pub fn normalise_query(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .chars()
        .take(MAX_LOGGED_QUERY)
        .collect()
}

/// Who files a request.
pub const ORGANISATION_TYPES: &[&str] =
    &["company", "cluster", "public_sector", "research", "other"];

/// A data request as filed (`POST /api/v1/requests`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataRequestInput {
    /// What data is needed (3–2000 characters).
    #[schema(min_length = 3, max_length = 2000)]
    pub what: Option<String>,
    /// A kommunkod of the region, or absent / `"region"` for the whole region.
    pub municipality: Option<String>,
    /// An EU data theme (code or IRI).
    pub theme: Option<String>,
    /// A national specification IRI.
    pub specification: Option<String>,
    /// `company`, `cluster`, `public_sector`, `research` or `other`.
    pub organisation_type: Option<String>,
    /// How to reach the requester (optional, at most 200 characters; never shown in reports).
    #[schema(max_length = 200)]
    pub contact: Option<String>,
}

/// Validates a request; the error names the field.
pub fn validate_request(
    input: DataRequestInput,
    directory: &samla_model::OrganisationDirectory,
) -> Result<Value, ReportError> {
    let what = input.what.map(|w| w.trim().to_string()).unwrap_or_default();
    let chars = what.chars().count();
    if chars < 3 {
        return Err(ReportError::bad(
            "what",
            "say what data is needed (at least 3 characters)",
        ));
    }
    if chars > 2000 {
        return Err(ReportError::bad("what", "at most 2000 characters"));
    }
    if what
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ReportError::bad(
            "what",
            "must not contain control characters",
        ));
    }
    let municipality = match input.municipality.as_deref().map(str::trim) {
        None | Some("") | Some("region") => None,
        Some(code) if directory.by_code(code).is_some() => Some(code.to_string()),
        Some(code) => {
            return Err(ReportError::bad(
                "municipality",
                format!(
                    "{code:?} is not the code of an organisation of the region (or \"region\")"
                ),
            ));
        }
    };
    let theme = match input.theme.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(samla_model::normalize::theme(t).ok_or_else(|| {
            ReportError::bad(
                "theme",
                format!("{t:?} is not an EU data theme (e.g. TRAN, ENVI)"),
            )
        })?),
    };
    let specification = match input.specification.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) => {
            Some(s.to_string())
        }
        Some(s) => {
            return Err(ReportError::bad(
                "specification",
                format!("{s:?} is not the IRI of a specification"),
            ));
        }
    };
    let organisation_type = match input.organisation_type.as_deref().map(str::trim) {
        Some(t) if ORGANISATION_TYPES.contains(&t) => t.to_string(),
        _ => {
            return Err(ReportError::bad(
                "organisation_type",
                format!("must be one of {}", ORGANISATION_TYPES.join(", ")),
            ));
        }
    };
    let contact = match input.contact.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if c.chars().count() > 200 => {
            return Err(ReportError::bad("contact", "at most 200 characters"));
        }
        Some(c) => Some(c.to_string()),
    };
    Ok(serde_json::json!({
        "what": what,
        "municipality": municipality,
        "theme": theme,
        "specification": specification,
        "organisation_type": organisation_type,
        "contact": contact,
    }))
}

/// A query's count.
#[derive(Debug, Clone, Serialize)]
pub struct QueryCount {
    /// The normalised query.
    pub query: String,
    /// Searches.
    pub searches: u64,
    /// Of which found nothing.
    pub zero_result: u64,
}

/// Zero-result queries that mean the same to search.
#[derive(Debug, Clone, Serialize)]
pub struct ZeroGroup {
    /// The stems.
    pub stem: String,
    /// Searches.
    pub searches: u64,
    /// The query texts seen.
    pub queries: Vec<String>,
}

/// A filter's use.
#[derive(Debug, Clone, Serialize)]
pub struct FilterCount {
    /// The filter.
    pub filter: String,
    /// The value.
    pub value: String,
    /// Searches.
    pub searches: u64,
}

/// One week.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    /// ISO week, `YYYY-Www`.
    pub week: String,
    /// Searches.
    pub searches: u64,
    /// Of which found nothing.
    pub zero_result: u64,
    /// Data requests filed.
    pub requests: u64,
}

/// A request as the report shows it (without the contact).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRow {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub what: String,
    /// Kommunkod, or none for the region.
    pub municipality: Option<String>,
    /// Theme IRI.
    pub theme: Option<String>,
    /// Specification IRI.
    pub specification: Option<String>,
    /// Requester's kind.
    pub organisation_type: String,
    /// Where it stands.
    pub status: crate::requests::Status,
    /// The organisation's answer.
    pub answer: Option<String>,
    /// The dataset that answers it.
    pub dataset: Option<String>,
    /// Days from filing to the first answer.
    pub days_to_answer: Option<f64>,
}

/// Demand set against supply for one specification or theme.
#[derive(Debug, Clone, Serialize)]
pub struct Supply {
    /// IRI.
    pub value: String,
    /// Label.
    pub label: String,
    /// Searches about it (filtered by it, or with its words).
    pub searches: u64,
    /// Requests about it.
    pub requests: u64,
    /// Organisations publishing it.
    pub publishers: u64,
    /// Organisations of the region.
    pub organisations: u64,
}

/// The demand report.
#[derive(Debug, Clone, Serialize)]
pub struct DemandReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// The period's start.
    pub since: DateTime<Utc>,
    /// Searches in the period, each client's repeats of one search in a day counted once.
    pub searches: u64,
    /// Repeats folded away.
    pub repeats: u64,
    /// Searches left out of the lists (counted above): those of a client searching more
    /// than [`NOISE_PER_DAY`] times a day, and queries without a letter.
    pub noise: u64,
    /// Of which found nothing.
    pub zero_result: u64,
    /// The most frequent queries.
    pub top_queries: Vec<QueryCount>,
    /// Zero-result queries by stem.
    pub zero_result_groups: Vec<ZeroGroup>,
    /// Filters used.
    pub filters: Vec<FilterCount>,
    /// Weekly trend.
    pub weekly: Vec<Week>,
    /// Data requests, newest first.
    pub requests: Vec<RequestRow>,
    /// Of them, answered (their status left `new`).
    pub requests_answered: u64,
    /// The median time to the first answer, in days.
    pub median_days_to_answer: Option<f64>,
    /// Demand against supply per national specification.
    pub specifications: Vec<Supply>,
    /// Demand against supply per EU theme.
    pub themes: Vec<Supply>,
}

fn week_of(t: DateTime<Utc>) -> String {
    let w = t.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Whether two stem keys are one word's inflections the stemmer left apart ("elsparkcykl",
/// "elsparkcykel"): as many terms, each pair sharing all but the last two letters of the
/// shorter (and at least five).
fn near(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            let common = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
            let shorter = x.chars().count().min(y.chars().count());
            x == y || common >= (shorter.saturating_sub(2)).max(5)
        })
}

/// The key zero-result queries are grouped by: every stem the search would use.
/// The form zero-result queries are grouped by: the query's words in order, run together
/// (so `fiber utbyggnad`, `fiber-utbyggnad` and `fiberutbyggnad` are one), stemmed.
fn group_key(query: &str) -> String {
    let mut words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.sort();
    stem_terms(&words.concat()).join(" ")
}

/// A query without a letter (`1280`, `???`, `12 34`): no one's demand for data.
fn is_junk(query: &str) -> bool {
    !query.is_empty() && !query.chars().any(char::is_alphabetic)
}

/// Distinct searches by one client in one day above which its searches are noise (a
/// script, a scan): counted in the totals, left out of the lists.
pub const NOISE_PER_DAY: usize = 60;

fn day_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The searches with each client's repeats of one query and filters in one day folded into
/// its first (paging, reloading, the back button); searches of unknown clients all kept.
fn once_per_visitor(searches: Vec<LoggedSearch>) -> Vec<LoggedSearch> {
    let mut seen = HashSet::new();
    searches
        .into_iter()
        .filter(|s| {
            s.visitor.is_empty()
                || seen.insert((
                    day_of(s.at),
                    s.visitor.clone(),
                    s.query.clone(),
                    s.filters.clone(),
                ))
        })
        .collect()
}

/// The (day, client) pairs with more distinct searches than [`NOISE_PER_DAY`].
fn noisy_visitors(searches: &[LoggedSearch]) -> HashSet<(String, &str)> {
    let mut per: HashMap<(String, &str), usize> = HashMap::new();
    for s in searches.iter().filter(|s| !s.visitor.is_empty()) {
        *per.entry((day_of(s.at), s.visitor.as_str())).or_default() += 1;
    }
    per.into_iter()
        .filter(|(_, n)| *n > NOISE_PER_DAY)
        .map(|(k, _)| k)
        .collect()
}

/// Words too common to say what a query or request is about.
const STOP: &[&str] = &[
    "och", "den", "det", "för", "med", "som", "till", "från", "samt", "eller", "alla", "vilka",
    "när", "enligt", "the", "and", "for", "with", "from",
];

/// The content stems of a text: stop words and stems of three letters or fewer left out.
fn stems(text: &str) -> BTreeSet<String> {
    let words: String = text
        .split_whitespace()
        .filter(|w| {
            let w = w.to_lowercase();
            !STOP.contains(&w.trim_matches(|c: char| !c.is_alphanumeric()))
        })
        .collect::<Vec<_>>()
        .join(" ");
    stem_terms(&words)
        .into_iter()
        .filter(|s| s.chars().count() > 3)
        .collect()
}

/// Builds the report over the last `days` days (of one organisation, if given: its filters,
/// its requests and its supply).
pub fn demand_report(
    reports: &Reports,
    now: DateTime<Utc>,
    days: u32,
    municipality: Option<&str>,
) -> Result<DemandReport, ReportError> {
    let since = now - Duration::days(i64::from(days));
    let mut searches: Vec<LoggedSearch> = reports.store().searches_since(since)?;
    if let Some(m) = municipality {
        searches.retain(|s| s.filters.iter().any(|(k, v)| k == "municipality" && v == m));
    }
    let logged = searches.len() as u64;
    let searches = once_per_visitor(searches);
    let repeats = logged - searches.len() as u64;
    let noisy = noisy_visitors(&searches);
    // What the lists read: not a noisy client's searches, not a query without a letter.
    let listed = |s: &LoggedSearch| {
        !noisy.contains(&(day_of(s.at), s.visitor.as_str())) && !is_junk(&s.query)
    };
    let noise = searches.iter().filter(|s| !listed(s)).count() as u64;
    let mut states = crate::requests::all(reports.store())?;
    let requests: Vec<RequestRow> = reports
        .store()
        .requests_since(since)?
        .into_iter()
        .map(|r| {
            let text = |k: &str| r.request.get(k).and_then(Value::as_str).map(str::to_string);
            let state = states.remove(&r.id).unwrap_or_default();
            RequestRow {
                status: state.status,
                answer: state.answer,
                dataset: state.dataset,
                days_to_answer: state
                    .answered
                    .map(|a| (a - r.at).num_seconds().max(0) as f64 / 86_400.0),
                id: r.id,
                at: r.at,
                what: text("what").unwrap_or_default(),
                municipality: text("municipality"),
                theme: text("theme"),
                specification: text("specification"),
                organisation_type: text("organisation_type").unwrap_or_default(),
            }
        })
        .filter(|r| municipality.is_none_or(|m| r.municipality.as_deref() == Some(m)))
        .collect();

    let mut by_query: HashMap<&str, (u64, u64)> = HashMap::new();
    let mut zero: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    let mut filters: HashMap<(String, String), u64> = HashMap::new();
    let mut weekly_counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for s in &searches {
        let w = weekly_counts.entry(week_of(s.at)).or_default();
        w.0 += 1;
        if s.total == 0 {
            w.1 += 1;
        }
        if !listed(s) {
            continue;
        }
        for (k, v) in &s.filters {
            *filters.entry((k.clone(), v.clone())).or_default() += 1;
        }
        if s.query.is_empty() {
            continue;
        }
        let q = by_query.entry(s.query.as_str()).or_default();
        q.0 += 1;
        if s.total == 0 {
            q.1 += 1;
            let key = group_key(&s.query);
            let key = if key.is_empty() { s.query.clone() } else { key };
            let g = zero.entry(key).or_default();
            g.0 += 1;
            g.1.insert(s.query.clone());
        }
    }
    for r in &requests {
        weekly_counts.entry(week_of(r.at)).or_default().2 += 1;
    }
    let weekly: Vec<Week> = weekly_counts
        .into_iter()
        .map(|(week, (searches, zero_result, requests))| Week {
            week,
            searches,
            zero_result,
            requests,
        })
        .collect();
    let mut top_queries: Vec<QueryCount> = by_query
        .into_iter()
        .map(|(q, (n, z))| QueryCount {
            query: q.to_string(),
            searches: n,
            zero_result: z,
        })
        .collect();
    top_queries.sort_by(|a, b| {
        b.searches
            .cmp(&a.searches)
            .then_with(|| a.query.cmp(&b.query))
    });
    top_queries.truncate(50);
    let mut zero_result_groups: Vec<ZeroGroup> = Vec::new();
    for (stem, (n, qs)) in zero {
        match zero_result_groups.iter_mut().find(|g| near(&g.stem, &stem)) {
            Some(g) => {
                g.searches += n;
                g.queries.extend(qs);
                g.queries.sort();
                g.queries.dedup();
            }
            None => zero_result_groups.push(ZeroGroup {
                stem,
                searches: n,
                queries: qs.into_iter().collect(),
            }),
        }
    }
    zero_result_groups.sort_by(|a, b| {
        b.searches
            .cmp(&a.searches)
            .then_with(|| a.stem.cmp(&b.stem))
    });
    zero_result_groups.truncate(50);
    let mut filters: Vec<FilterCount> = filters
        .into_iter()
        .map(|((filter, value), n)| FilterCount {
            filter,
            value,
            searches: n,
        })
        .collect();
    filters.sort_by(|a, b| {
        b.searches
            .cmp(&a.searches)
            .then_with(|| (&a.filter, &a.value).cmp(&(&b.filter, &b.value)))
    });

    // Supply: the coverage of the whole region (demand in one municipality is still set
    // against how many organisations publish).
    let [specs, _, theme_matrix] = coverage::matrices(reports, now, None)?;
    let organisations = theme_matrix.rows.len() as u64;
    let query_stems: Vec<(BTreeSet<String>, &LoggedSearch)> = searches
        .iter()
        .filter(|s| listed(s))
        .map(|s| (stems(&s.query), s))
        .collect();
    let request_stems: Vec<(BTreeSet<String>, &RequestRow)> =
        requests.iter().map(|r| (stems(&r.what), r)).collect();
    let supply = |value: &str,
                  label: &str,
                  words: &str,
                  filter: &str,
                  publishers: u64,
                  field: fn(&RequestRow) -> Option<&str>| {
        let words = stems(words);
        let about = |s: &BTreeSet<String>| !words.is_empty() && s.iter().any(|w| words.contains(w));
        Supply {
            value: value.to_string(),
            label: label.to_string(),
            searches: query_stems
                .iter()
                .filter(|(s, l)| {
                    l.filters.iter().any(|(k, v)| k == filter && v == value)
                        || l.about.iter().any(|(k, v)| k == filter && v == value)
                        || about(s)
                })
                .count() as u64,
            requests: request_stems
                .iter()
                .filter(|(s, r)| field(r) == Some(value) || about(s))
                .count() as u64,
            publishers,
            organisations,
        }
    };
    let mut spec_values: BTreeMap<String, (String, u64)> = specs
        .columns
        .iter()
        .map(|c| (c.value.clone(), (c.label.clone(), c.publishers)))
        .collect();
    for r in &requests {
        if let Some(s) = &r.specification {
            spec_values
                .entry(s.clone())
                .or_insert_with(|| (samla_model::labels::specification_label(s), 0));
        }
    }
    for f in &filters {
        if f.filter == "conforms_to" {
            spec_values
                .entry(f.value.clone())
                .or_insert_with(|| (samla_model::labels::specification_label(&f.value), 0));
        }
    }
    let mut specifications: Vec<Supply> = spec_values
        .iter()
        .map(|(value, (label, publishers))| {
            // The words of a specification are its slug's ("offentliga-toaletter" → both).
            let words = label
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(" ");
            supply(value, label, &words, "conforms_to", *publishers, |r| {
                r.specification.as_deref()
            })
        })
        .collect();
    specifications.sort_by(|a, b| {
        (b.searches + b.requests)
            .cmp(&(a.searches + a.requests))
            .then_with(|| a.value.cmp(&b.value))
    });
    let mut themes: Vec<Supply> = theme_matrix
        .columns
        .iter()
        .map(|c| {
            let en = labels::theme(&c.value).map(|t| t.en).unwrap_or_default();
            supply(
                &c.value,
                &c.label,
                &format!("{} {en}", c.label),
                "theme",
                c.publishers,
                |r| r.theme.as_deref(),
            )
        })
        .collect();
    themes.sort_by(|a, b| {
        (b.searches + b.requests)
            .cmp(&(a.searches + a.requests))
            .then_with(|| a.value.cmp(&b.value))
    });
    let mut waits: Vec<f64> = requests.iter().filter_map(|r| r.days_to_answer).collect();
    waits.sort_by(f64::total_cmp);
    let median_days_to_answer = match waits.len() {
        0 => None,
        n if n % 2 == 1 => Some(waits[n / 2]),
        n => Some((waits[n / 2 - 1] + waits[n / 2]) / 2.0),
    };
    Ok(DemandReport {
        repeats,
        noise,
        requests_answered: waits.len() as u64,
        median_days_to_answer,
        as_of: now,
        since,
        searches: searches.len() as u64,
        zero_result: searches.iter().filter(|s| s.total == 0).count() as u64,
        top_queries,
        zero_result_groups,
        filters,
        weekly,
        requests,
        specifications,
        themes,
    })
}

/// The CSV tables of the demand report.
pub const TABLES: &[&str] = &[
    "queries",
    "zero_result",
    "filters",
    "weekly",
    "requests",
    "specifications",
    "themes",
];

/// One table of the report as CSV.
pub fn demand_csv(report: &DemandReport, table: &str) -> Result<String, ReportError> {
    let supply = |rows: &[Supply]| {
        to_csv(
            &[
                "value",
                "label",
                "searches",
                "requests",
                "publishers",
                "organisations",
            ],
            rows.iter().map(|s| {
                vec![
                    s.value.clone(),
                    s.label.clone(),
                    s.searches.to_string(),
                    s.requests.to_string(),
                    s.publishers.to_string(),
                    s.organisations.to_string(),
                ]
            }),
        )
    };
    match table {
        "zero_result" => to_csv(
            &["stem", "searches", "queries"],
            report.zero_result_groups.iter().map(|g| {
                vec![
                    g.stem.clone(),
                    g.searches.to_string(),
                    g.queries.join(" | "),
                ]
            }),
        ),
        "filters" => to_csv(
            &["filter", "value", "searches"],
            report
                .filters
                .iter()
                .map(|f| vec![f.filter.clone(), f.value.clone(), f.searches.to_string()]),
        ),
        "weekly" => to_csv(
            &["week", "searches", "zero_result", "requests"],
            report.weekly.iter().map(|w| {
                vec![
                    w.week.clone(),
                    w.searches.to_string(),
                    w.zero_result.to_string(),
                    w.requests.to_string(),
                ]
            }),
        ),
        "requests" => to_csv(
            &[
                "id",
                "at",
                "what",
                "municipality",
                "theme",
                "specification",
                "organisation_type",
                "status",
                "answer",
                "dataset",
                "days_to_answer",
            ],
            report.requests.iter().map(|r| {
                vec![
                    r.id.to_string(),
                    r.at.to_rfc3339(),
                    r.what.clone(),
                    cell(r.municipality.as_ref()),
                    cell(r.theme.as_ref()),
                    cell(r.specification.as_ref()),
                    r.organisation_type.clone(),
                    r.status.as_str().to_string(),
                    cell(r.answer.as_ref()),
                    cell(r.dataset.as_ref()),
                    r.days_to_answer
                        .map(|d| format!("{d:.1}"))
                        .unwrap_or_default(),
                ]
            }),
        ),
        "specifications" => supply(&report.specifications),
        "themes" => supply(&report.themes),
        _ => to_csv(
            &["query", "searches", "zero_result"],
            report.top_queries.iter().map(|q| {
                vec![
                    q.query.clone(),
                    q.searches.to_string(),
                    q.zero_result.to_string(),
                ]
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_group_and_different_words_do_not() {
        let key = group_key;
        assert!(near(&key("elsparkcyklar"), &key("elsparkcykel")));
        assert!(near(&key("laddstolpar"), &key("laddstolpe")));
        assert!(!near(&key("hotellnätter"), &key("gästnätter")));
        assert!(!near(&key("solceller tak"), &key("solcellspotential")));
        assert_eq!(
            normalise_query("  Laddstolpar   MALMÖ "),
            "laddstolpar malmö"
        );
        // What a text is about leaves out the glue words.
        let about = |a: &str, b: &str| stems(a).intersection(&stems(b)).count();
        assert_eq!(
            about(
                "Jordbruk, fiske, skogsbruk och livsmedel",
                "Lokaler och tomter"
            ),
            0
        );
        assert_eq!(about("Transport", "transporter i regionen"), 1);
    }
}
