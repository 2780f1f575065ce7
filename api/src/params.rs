//! Search parameters: parsed from the raw query string (filters repeat), validated, each
//! problem named by its parameter.

use crate::ApiError;
use samla_indexer::{Dimension, MAX_PER_PAGE, MAX_QUERY_CHARS, SearchRequest, SortOrder};

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
}

impl SearchParams {
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
            q: None,
            filters: Vec::new(),
            sort: SortOrder::Relevance,
            page: 1,
            per_page: default_per_page,
            lang: "sv".into(),
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_string();
            match key.as_ref() {
                "q" => {
                    if value.chars().count() > MAX_QUERY_CHARS {
                        return Err(ApiError::bad(
                            "q",
                            format!("at most {MAX_QUERY_CHARS} characters"),
                        ));
                    }
                    p.q = Some(value).filter(|v| !v.is_empty());
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
                "lang" => {
                    if !matches!(value.as_str(), "sv" | "en") {
                        return Err(ApiError::bad("lang", format!("{value:?} is not sv or en")));
                    }
                    p.lang = value;
                }
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

    pub fn request(&self) -> SearchRequest {
        SearchRequest {
            q: self.q.clone(),
            filters: self.filters.clone(),
            sort: self.sort,
            offset: (self.page - 1) * self.per_page,
            limit: self.per_page,
        }
    }
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
