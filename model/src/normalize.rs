//! Normalisation of single values to the forms DCAT-AP-SE and dataportal.se expect:
//! canonical licence IRIs, EU authority-table IRIs, language tags and dates.

use crate::labels::{self, FileType};
use crate::vocab::eu;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::LazyLock;

/// `sv-SE`, `SV`, `sv_se` → `sv`: the primary language subtag, lower case.
pub fn language_tag(tag: &str) -> String {
    let primary = tag.split(['-', '_']).next().unwrap_or(tag);
    primary.to_ascii_lowercase()
}

/// Lower case, `https` → `http`, no `www.`, no trailing slash: the key IRIs are compared by.
pub(crate) fn iri_key(value: &str) -> String {
    let v = value.trim();
    let mut key = String::with_capacity(v.len());
    match strip_prefix_ignore_case(v, "https://").or_else(|| strip_prefix_ignore_case(v, "http://"))
    {
        Some(rest) => {
            key.push_str("http://");
            key.push_str(strip_prefix_ignore_case(rest, "www.").unwrap_or(rest));
        }
        None => key.push_str(v),
    }
    key.make_ascii_lowercase();
    key.truncate(key.trim_end_matches('/').len());
    key
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    value
        .get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &value[prefix.len()..])
}

/// The canonical IRI of a licence given as an IRI variant, a CKAN `license_id` or a name.
///
/// `https://creativecommons.org/licenses/by/4.0`, `cc-by-4.0` and `CC BY 4.0` all give
/// `http://creativecommons.org/licenses/by/4.0/`.
pub fn licence(value: &str) -> Option<&'static str> {
    if let Some(known) = labels::licence(value) {
        return Some(known.iri);
    }
    static KEYS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
        let mut keys = HashMap::new();
        for l in labels::LICENCES {
            keys.entry(iri_key(l.iri)).or_insert(l.iri);
        }
        for l in labels::LICENCES {
            for alias in l.aliases {
                keys.entry((*alias).to_string()).or_insert(l.iri);
            }
        }
        keys
    });
    let key = iri_key(value);
    let key = key
        .strip_suffix("/legalcode")
        .or_else(|| key.rsplit_once("/deed.").map(|(head, _)| head))
        .unwrap_or(&key);
    KEYS.get(key).copied()
}

/// The canonical IRI in an EU authority table given an IRI variant or a bare code.
fn authority(
    value: &str,
    base: &str,
    codes: impl Iterator<Item = &'static str> + Clone,
) -> Option<String> {
    // Most catalogs publish the canonical IRI itself: recognised without building a key.
    if let Some(code) = value.strip_prefix(base)
        && codes.clone().any(|c| c == code)
    {
        return Some(value.to_string());
    }
    let key = iri_key(value);
    let base_key = iri_key(base);
    let code = match key.strip_prefix(&base_key) {
        Some(rest) => rest.trim_start_matches('/').to_string(),
        None if !key.contains('/') => key.clone(),
        None => return None,
    };
    codes
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(&code))
        .map(|c| format!("{base}{c}"))
}

/// The EU data-theme IRI for a theme IRI variant or code (`ENVI`, `https://…/data-theme/envi`).
pub fn theme(value: &str) -> Option<String> {
    authority(value, eu::DATA_THEME, labels::THEMES.iter().map(|c| c.code))
}

/// The EU frequency IRI for a frequency IRI variant or code.
pub fn frequency(value: &str) -> Option<String> {
    authority(
        value,
        eu::FREQUENCY,
        labels::FREQUENCIES.iter().map(|c| c.code),
    )
}

/// The EU access-right IRI for an access-rights IRI variant or code.
pub fn access_right(value: &str) -> Option<String> {
    authority(
        value,
        eu::ACCESS_RIGHT,
        labels::ACCESS_RIGHTS.iter().map(|c| c.code),
    )
}

/// The HVD category IRI for an IRI variant.
pub fn hvd_category(value: &str) -> Option<String> {
    let key = iri_key(value);
    key.starts_with(&iri_key(eu::HVD)).then_some(())?;
    authority(
        value,
        eu::HVD,
        labels::HVD_CATEGORIES.iter().map(|c| c.code),
    )
}

/// The EU file type meant by a format value: an EU IRI, an IANA media-type IRI, a media type,
/// or a loose name such as `CSV` or `.geojson`.
pub fn file_type(value: &str) -> Option<&'static FileType> {
    if let Some(known) = labels::file_type(value) {
        return Some(known);
    }
    let key = iri_key(value);
    if let Some(code) = key.strip_prefix(&iri_key(eu::FILE_TYPE)) {
        let code = code.trim_start_matches('/');
        return labels::FILE_TYPES
            .iter()
            .find(|f| f.code.eq_ignore_ascii_case(code));
    }
    let media = key
        .strip_prefix("http://iana.org/assignments/media-types/")
        .unwrap_or(&key);
    let media = media.split(';').next().unwrap_or(media).trim();
    labels::FILE_TYPES
        .iter()
        .find(|f| f.media_types.contains(&media) || f.aliases.contains(&media))
}

/// The EU file-type IRI for a format value, when samla recognises it.
pub fn file_type_iri(value: &str) -> Option<String> {
    file_type(value).map(|f| format!("{}{}", eu::FILE_TYPE, f.code))
}

/// Parses the date forms seen in catalogs: `xsd:date`, `xsd:dateTime` with or without a zone,
/// and a bare year. Dates without a zone are taken as UTC midnight.
pub fn date(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    plain_date(v).or_else(|| formatted_date(v))
}

/// [`date`] through chrono's format parsers.
fn formatted_date(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(v) {
        return Some(dt.with_timezone(&Utc));
    }
    for pattern in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(v, pattern) {
            return Some(Utc.from_utc_datetime(&dt));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|dt| Utc.from_utc_datetime(&dt));
    }
    if let Ok(d) = NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
        && v.len() == 7
    {
        return d.and_hms_opt(0, 0, 0).map(|dt| Utc.from_utc_datetime(&dt));
    }
    if v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit()) {
        let year: i32 = v.parse().ok()?;
        return NaiveDate::from_ymd_opt(year, 1, 1)?
            .and_hms_opt(0, 0, 0)
            .map(|dt| Utc.from_utc_datetime(&dt));
    }
    None
}

/// The two forms most catalogs use, `2024-05-01` and `2024-05-01T10:00:00`, read without a
/// format parser; `None` for anything else (and for impossible dates), which [`date`] then
/// reads the long way.
fn plain_date(v: &str) -> Option<DateTime<Utc>> {
    let b = v.as_bytes();
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let with_time = b.len() == 19 && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    if !(b.len() == 10 || with_time) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let day = NaiveDate::from_ymd_opt(
        i32::try_from(number(&b[0..4])?).ok()?,
        number(&b[5..7])?,
        number(&b[8..10])?,
    )?;
    let time = if with_time {
        day.and_hms_opt(
            number(&b[11..13])?,
            number(&b[14..16])?,
            number(&b[17..19])?,
        )?
    } else {
        day.and_hms_opt(0, 0, 0)?
    };
    Some(Utc.from_utc_datetime(&time))
}

/// Folds text for matching names: lower case, å/ä → a, ö → o, é → e.
pub fn fold(text: &str) -> String {
    folded_chars(text).collect()
}

/// The characters of [`fold`]`(text)`, one at a time.
pub fn folded_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().flat_map(char::to_lowercase).map(|c| match c {
        'å' | 'ä' | 'á' | 'à' => 'a',
        'ö' | 'ø' | 'ó' => 'o',
        'é' | 'è' | 'ë' => 'e',
        'ü' => 'u',
        other => other,
    })
}

/// Digits of a Swedish organisation number (`212000-1124` → `2120001124`), when it has ten.
pub fn organisation_number(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 10).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_variants_give_the_canonical_iri() {
        let cc_by = "http://creativecommons.org/licenses/by/4.0/";
        for v in [
            "http://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by/4.0",
            "http://creativecommons.org/licenses/by/4.0/legalcode",
            "https://creativecommons.org/licenses/by/4.0/deed.sv",
            "cc-by-4.0",
            "CC-BY",
            "CC BY 4.0",
        ] {
            assert_eq!(licence(v), Some(cc_by), "{v}");
        }
        assert_eq!(
            licence("cc-zero"),
            Some("http://creativecommons.org/publicdomain/zero/1.0/")
        );
        assert_eq!(licence("egen licens"), None);
    }

    #[test]
    fn language_tags_keep_the_primary_subtag() {
        assert_eq!(language_tag("sv-SE"), "sv");
        assert_eq!(language_tag("EN-gb"), "en");
        assert_eq!(language_tag("sv"), "sv");
    }

    #[test]
    fn themes_and_frequencies_map_to_eu_iris() {
        let envi = "http://publications.europa.eu/resource/authority/data-theme/ENVI";
        assert_eq!(
            theme("https://publications.europa.eu/resource/authority/data-theme/envi").as_deref(),
            Some(envi)
        );
        assert_eq!(theme("ENVI").as_deref(), Some(envi));
        assert_eq!(theme("http://example.org/theme/ENVI"), None);
        assert_eq!(
            frequency("https://publications.europa.eu/resource/authority/frequency/ANNUAL")
                .as_deref(),
            Some("http://publications.europa.eu/resource/authority/frequency/ANNUAL")
        );
    }

    #[test]
    fn formats_from_media_types_names_and_iris() {
        for v in [
            "CSV",
            "text/csv",
            "https://www.iana.org/assignments/media-types/text/csv",
            "http://publications.europa.eu/resource/authority/file-type/CSV",
            "text/csv; charset=utf-8",
        ] {
            assert_eq!(file_type(v).map(|f| f.code), Some("CSV"), "{v}");
        }
        assert_eq!(file_type("GeoJSON").map(|f| f.code), Some("GEOJSON"));
        assert!(file_type("application/x-unknown").is_none());
    }

    #[test]
    fn dates_in_the_forms_catalogs_use() {
        assert!(date("2024-05-01").is_some());
        assert!(date("2024-05-01T10:00:00").is_some());
        assert!(date("2024-05-01T10:00:00+02:00").is_some());
        assert!(date("2024-05-01T10:00:00.123Z").is_some());
        assert!(date("2021").is_some());
        assert!(date("1994-12").is_some());
        assert!(date("2021-13-45").is_none());
        assert!(date("igår").is_none());
    }

    #[test]
    fn the_quick_date_reading_agrees_with_the_format_parsers() {
        for v in [
            "2024-05-01",
            "2024-05-01T10:00:00",
            "1999-12-31T23:59:59",
            "2024-02-29",
            "2023-02-29",
            "2024-05-01T24:00:00",
            "2024-05-01T10:00:60",
            "2024-5-01-",
            "20x4-05-01",
            "2024-05-01 10:00:00",
        ] {
            let quick = plain_date(v);
            assert!(quick.is_none() || quick == formatted_date(v), "{v}");
            assert_eq!(date(v), formatted_date(v), "{v}");
        }
        assert!(plain_date("2024-05-01").is_some());
        assert!(plain_date("2024-05-01T10:00:00").is_some());
    }

    #[test]
    fn folding_makes_malmo_match_malmö() {
        assert_eq!(fold("Malmö Stad"), "malmo stad");
        assert_eq!(fold("Hässleholm"), "hassleholm");
    }
}
