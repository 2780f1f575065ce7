//! Normalisation of single values to the forms DCAT-AP-SE and dataportal.se expect:
//! canonical licence IRIs, EU authority-table IRIs, language tags and dates.

use crate::labels::{self, FileType};
use crate::vocab::eu;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// `sv-SE`, `SV`, `sv_se` → `sv`: the primary language subtag, lower case.
pub fn language_tag(tag: &str) -> String {
    let primary = tag.split(['-', '_']).next().unwrap_or(tag);
    primary.to_ascii_lowercase()
}

/// Lower case, `https` → `http`, no `www.`, no trailing slash: the key IRIs are compared by.
fn iri_key(value: &str) -> String {
    let v = value.trim().to_ascii_lowercase();
    let v = v
        .strip_prefix("https://")
        .map(|r| format!("http://{r}"))
        .unwrap_or(v);
    let v = v.replacen("http://www.", "http://", 1);
    v.trim_end_matches('/').to_string()
}

/// The canonical IRI of a licence given as an IRI variant, a CKAN `license_id` or a name.
///
/// `https://creativecommons.org/licenses/by/4.0`, `cc-by-4.0` and `CC BY 4.0` all give
/// `http://creativecommons.org/licenses/by/4.0/`.
pub fn licence(value: &str) -> Option<&'static str> {
    let key = iri_key(value);
    let key = key
        .strip_suffix("/legalcode")
        .or_else(|| key.rsplit_once("/deed.").map(|(head, _)| head))
        .unwrap_or(&key);
    labels::LICENCES
        .iter()
        .find(|l| iri_key(l.iri) == key || l.aliases.contains(&key))
        .map(|l| l.iri)
}

/// The canonical IRI in an EU authority table given an IRI variant or a bare code.
fn authority(value: &str, base: &str, codes: impl Iterator<Item = &'static str>) -> Option<String> {
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

/// Folds text for matching names: lower case, å/ä → a, ö → o, é → e.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'å' | 'ä' | 'á' | 'à' => 'a',
            'ö' | 'ø' | 'ó' => 'o',
            'é' | 'è' | 'ë' => 'e',
            'ü' => 'u',
            other => other,
        })
        .collect()
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
    fn folding_makes_malmo_match_malmö() {
        assert_eq!(fold("Malmö Stad"), "malmo stad");
        assert_eq!(fold("Hässleholm"), "hassleholm");
    }
}
