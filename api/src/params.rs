//! Search parameters: parsed from the raw query string (filters repeat), validated, each
//! problem named by its parameter.

use crate::ApiError;
use samla_indexer::{Dimension, MAX_PER_PAGE, MAX_QUERY_CHARS, SearchRequest, SortOrder};
use samla_model::OrganisationDirectory;
use samla_model::normalize;
use samla_model::quality::Band;

/// Whether a parameter is one browsers, ad platforms and link shorteners add to links
/// (`fbclid`, `gclid`, `utm_source`, …): a shared search link carries them, and they mean
/// nothing to a search.
fn is_tracking(key: &str) -> bool {
    key.starts_with("utm_")
        || matches!(
            key,
            "fbclid"
                | "gclid"
                | "dclid"
                | "gbraid"
                | "wbraid"
                | "msclkid"
                | "yclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "ref"
                | "ref_src"
        )
}

/// The deepest hit a search pages to.
pub const MAX_DEPTH: usize = 10_000;

/// Validated search parameters.
#[derive(Debug, Clone)]
pub struct SearchParams {
    pub q: Option<String>,
    pub filters: Vec<(Dimension, String)>,
    pub sort: SortOrder,
    pub page: usize,
    pub per_page: usize,
    pub lang: String,
    /// `modified_since`: modified on or after this day.
    pub modified_since: Option<chrono::NaiveDate>,
    /// `modified_until`: modified on or before this day.
    pub modified_until: Option<chrono::NaiveDate>,
    /// `temporal_from`: temporal coverage reaching this day or later.
    pub temporal_from: Option<chrono::NaiveDate>,
    /// `temporal_to`: temporal coverage starting on this day or earlier.
    pub temporal_to: Option<chrono::NaiveDate>,
}

impl Default for SearchParams {
    /// Everything, first page of 20, in Swedish.
    fn default() -> Self {
        SearchParams {
            q: None,
            filters: Vec::new(),
            sort: SortOrder::Relevance,
            page: 1,
            per_page: 20,
            lang: "sv".into(),
            modified_since: None,
            modified_until: None,
            temporal_from: None,
            temporal_to: None,
        }
    }
}

impl SearchParams {
    /// The date parameters by name, given or not.
    pub fn dates(&self) -> [(&'static str, Option<chrono::NaiveDate>); 4] {
        [
            ("modified_since", self.modified_since),
            ("modified_until", self.modified_until),
            ("temporal_from", self.temporal_from),
            ("temporal_to", self.temporal_to),
        ]
    }

    /// A search's parameters: 20 hits a page by default, pages up to hit [`MAX_DEPTH`].
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        Self::parse_paged(query, 20, Some(MAX_DEPTH))
    }

    /// With another default page size, and pages to any depth when `max_depth` is `None`
    /// (an export pages through everything).
    pub fn parse_paged(
        query: &str,
        default_per_page: usize,
        max_depth: Option<usize>,
    ) -> Result<Self, ApiError> {
        let mut p = SearchParams {
            per_page: default_per_page,
            ..SearchParams::default()
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_string();
            match key.as_ref() {
                "q" => {
                    let seen = p.q.is_some();
                    p.q = query_text(&value, seen)?.filter(|v| !v.is_empty());
                }
                "sort" => {
                    p.sort = match value.as_str() {
                        "relevance" => SortOrder::Relevance,
                        "modified" => SortOrder::Modified,
                        _ => {
                            return Err(ApiError::bad(
                                "sort",
                                format!("{value:?} is not relevance or modified"),
                            ));
                        }
                    }
                }
                "page" => {
                    p.page = number("page", &value, 1, max_depth.unwrap_or(u32::MAX as usize))?
                }
                "per_page" => p.per_page = number("per_page", &value, 1, MAX_PER_PAGE)?,
                "lang" => p.lang = language(&value)?,
                // An empty date is no date (a form's empty date field sends one).
                "modified_since" | "modified_until" | "temporal_from" | "temporal_to"
                    if value.is_empty() => {}
                "modified_since" => p.modified_since = Some(day("modified_since", &value)?),
                "modified_until" => p.modified_until = Some(day("modified_until", &value)?),
                "temporal_from" => {
                    p.temporal_from = Some(day_or_year("temporal_from", &value, true)?)
                }
                "temporal_to" => p.temporal_to = Some(day_or_year("temporal_to", &value, false)?),
                key if is_tracking(key) => {}
                other => match Dimension::from_name(other) {
                    Some(dim) if value.is_empty() => {
                        return Err(ApiError::bad(dim.name(), "must not be empty"));
                    }
                    Some(dim) if value.len() > 2048 => {
                        return Err(ApiError::bad(dim.name(), "too long"));
                    }
                    Some(dim) => p.filters.push((dim, value)),
                    None => return Err(ApiError::bad(other, "unknown parameter")),
                },
            }
        }
        for (from, to, from_name, to_name) in [
            (
                p.modified_since,
                p.modified_until,
                "modified_since",
                "modified_until",
            ),
            (
                p.temporal_from,
                p.temporal_to,
                "temporal_from",
                "temporal_to",
            ),
        ] {
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                return Err(ApiError::bad(
                    to_name,
                    format!("{to} is before {from_name} {from}"),
                ));
            }
        }
        if let Some(max) = max_depth
            && (p.page - 1) * p.per_page >= max
        {
            return Err(ApiError::bad(
                "page",
                format!("results are available up to hit {max}"),
            ));
        }
        Ok(p)
    }

    /// The search request, each filter value as the index holds it (see [`resolve`]).
    pub fn request(&self, directory: &OrganisationDirectory) -> Result<SearchRequest, ApiError> {
        let filters = self
            .filters
            .iter()
            .map(|(dim, value)| {
                resolve(*dim, value, directory)
                    .map(|v| (*dim, v))
                    .ok_or_else(|| {
                        ApiError::bad(
                            dim.name(),
                            format!("{value:?} names no {} samla knows", what(*dim)),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(SearchRequest {
            q: self.q.clone(),
            filters,
            sort: self.sort,
            offset: (self.page - 1) * self.per_page,
            limit: self.per_page,
            modified_from: self.modified_since.map(midnight),
            modified_before: self.modified_until.and_then(|d| d.succ_opt()).map(midnight),
            temporal_from: self.temporal_from.map(midnight),
            temporal_until: self
                .temporal_to
                .and_then(|d| d.succ_opt())
                .map(|d| midnight(d) - 1),
            only: None,
        })
    }
}

/// A filter value as the index holds it. People type codes and labels: a municipality by
/// kommunkod or name (`1280`, `malmö`), a file type by its code or media type (`CSV`,
/// `text/csv`), a licence by its id (`cc-by`, `CC-BY-4.0`), a theme, access right or HVD
/// category by its code (`TRAN`, `PUBLIC`); an IRI of the EU tables in any variant is made
/// canonical. Another absolute IRI is taken as it is (publishers, specifications, and themes
/// or licences outside the EU tables). `None`: the value names nothing.
pub fn resolve(dim: Dimension, value: &str, directory: &OrganisationDirectory) -> Option<String> {
    let value = value.trim();
    let as_iri = || is_absolute_iri(value).then(|| value.to_string());
    match dim {
        Dimension::Municipality => directory.by_code_or_name(value).map(|o| o.code.clone()),
        Dimension::Theme => normalize::theme(value).or_else(as_iri),
        Dimension::Format => normalize::file_type_iri(value).or_else(as_iri),
        Dimension::License => normalize::licence(value)
            .map(str::to_string)
            .or_else(as_iri),
        Dimension::AccessRights => normalize::access_right(value).or_else(as_iri),
        Dimension::HvdCategory => normalize::hvd_category(value)
            .or_else(|| normalize::hvd_category(&format!("{}{value}", samla_model::vocab::eu::HVD)))
            .or_else(as_iri),
        Dimension::Publisher | Dimension::ConformsTo => as_iri(),
        Dimension::OpenLicence | Dimension::Api | Dimension::Free | Dimension::Fresh => {
            yes_no(value).map(|b| b.to_string())
        }
        Dimension::Reuse => {
            let v = value.to_lowercase().replace(['-', ' '], "_");
            match v.as_str() {
                "commercial" | "kommersiell" | "kommersiellt" => Some("commercial"),
                "non_commercial" | "noncommercial" | "icke_kommersiell" | "icke_kommersiellt" => {
                    Some("non_commercial")
                }
                "unknown" | "okand" | "okänd" => Some("unknown"),
                _ => None,
            }
            .map(str::to_string)
        }
        Dimension::Quality => [Band::Excellent, Band::Good, Band::Enough, Band::Bad]
            .into_iter()
            .find(|b| {
                value.eq_ignore_ascii_case(b.key())
                    || ["sv", "en"]
                        .iter()
                        .any(|lang| value.to_lowercase() == b.label(lang).to_lowercase())
            })
            .map(|b| b.key().to_string()),
    }
}

/// A yes or no as people and forms write it.
fn yes_no(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "true" | "yes" | "ja" | "1" | "on" => Some(true),
        "false" | "no" | "nej" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// What a dimension's values are, for messages.
fn what(dim: Dimension) -> &'static str {
    match dim {
        Dimension::Municipality => "municipality (a kommunkod or a name)",
        Dimension::Theme => "theme (a data-theme code such as TRAN, or an IRI)",
        Dimension::Format => "file type (a code such as CSV, a media type, or an IRI)",
        Dimension::License => "licence (an id such as cc-by-4.0, or an IRI)",
        Dimension::AccessRights => "access right (PUBLIC, RESTRICTED, NON_PUBLIC, or an IRI)",
        Dimension::HvdCategory => "HVD category (a code or an IRI)",
        Dimension::Publisher => "publisher (an IRI)",
        Dimension::ConformsTo => "specification (an IRI)",
        Dimension::OpenLicence | Dimension::Api | Dimension::Free | Dimension::Fresh => {
            "value (true or false)"
        }
        Dimension::Reuse => "reuse (commercial, non_commercial or unknown)",
        Dimension::Quality => "quality band (excellent, good, enough or bad)",
    }
}

/// Whether a value is an absolute IRI (`scheme:` and more).
fn is_absolute_iri(value: &str) -> bool {
    oxrdf::NamedNode::new(value).is_ok()
}

/// A search's query string with its `page` replaced (left out for `None`): the links of a
/// paged answer keep every other parameter as given.
pub fn with_page(query: &str, page: Option<usize>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(url::form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "page"));
    if let Some(page) = page {
        q.append_pair("page", &page.to_string());
    }
    q.finish()
}

/// The free text `q`: at most [`MAX_QUERY_CHARS`] characters, given once (`seen`: it was
/// given before; two texts cannot both be searched, and taking one would drop the other
/// silently).
fn query_text(value: &str, seen: bool) -> Result<Option<String>, ApiError> {
    if seen {
        return Err(ApiError::bad("q", "given more than once"));
    }
    if value.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad(
            "q",
            format!("at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(Some(value.to_string()))
}

/// The language asked for: `sv` or `en`, in any case.
fn language(value: &str) -> Result<String, ApiError> {
    let lang = value.to_ascii_lowercase();
    if !matches!(lang.as_str(), "sv" | "en") {
        return Err(ApiError::bad("lang", format!("{value:?} is not sv or en")));
    }
    Ok(lang)
}

/// Validated suggestion parameters.
#[derive(Debug, Clone)]
pub struct SuggestParams {
    pub q: String,
    pub lang: String,
    pub limit: usize,
}

impl SuggestParams {
    /// `q` (required), `lang` and `limit` (10 by default, at most
    /// [`samla_indexer::suggest::MAX_SUGGESTIONS`]).
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut q: Option<String> = None;
        let mut lang = "sv".to_string();
        let mut limit = 10;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "q" => q = query_text(&value, q.is_some())?,
                "lang" => lang = language(value.trim())?,
                "limit" => {
                    limit = number(
                        "limit",
                        value.trim(),
                        1,
                        samla_indexer::suggest::MAX_SUGGESTIONS,
                    )?
                }
                key if is_tracking(key) => {}
                other => return Err(ApiError::bad(other, "unknown parameter")),
            }
        }
        let q = q.ok_or_else(|| ApiError::bad("q", "required"))?;
        Ok(Self { q, lang, limit })
    }
}

/// A day as `YYYY-MM-DD`.
fn day(name: &str, value: &str) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::bad(name, format!("{value:?} is not a day as YYYY-MM-DD")))
}

/// A day as `YYYY-MM-DD`, or a year as `YYYY`: its first day when `first`, else its last.
fn day_or_year(name: &str, value: &str, first: bool) -> Result<chrono::NaiveDate, ApiError> {
    if value.len() == 4
        && let Ok(year) = value.parse::<i32>()
        && let Some(d) = chrono::NaiveDate::from_ymd_opt(
            year,
            if first { 1 } else { 12 },
            if first { 1 } else { 31 },
        )
    {
        return Ok(d);
    }
    day(name, value).map_err(|_| {
        ApiError::bad(
            name,
            format!("{value:?} is not a day as YYYY-MM-DD or a year as YYYY"),
        )
    })
}

/// The start of a day, UTC, in Unix seconds.
fn midnight(day: chrono::NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

fn number(name: &str, value: &str, min: usize, max: usize) -> Result<usize, ApiError> {
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad(
            name,
            format!("{value:?} is not an integer from {min} to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_repeat_and_bad_values_name_their_parameter() {
        let p = SearchParams::parse("q=bad&municipality=1280&municipality=1281&theme=x")
            .expect("valid");
        assert_eq!(p.filters.len(), 3);
        for (query, parameter) in [
            ("per_page=101", "per_page"),
            ("page=0", "page"),
            ("sort=x", "sort"),
            ("lang=de", "lang"),
            ("foo=1", "foo"),
            ("page=abc", "page"),
            ("page=600&per_page=100", "page"),
        ] {
            match SearchParams::parse(query) {
                Err(ApiError::BadParameter { parameter: p, .. }) => {
                    assert_eq!(p, parameter, "{query}")
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}
