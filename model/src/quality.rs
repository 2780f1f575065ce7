//! Metadata quality: the European MQA indicators (405 points in five dimensions), the four
//! bands, dataportal.se's Swedish deviations as an option, and a fix hint in Swedish and
//! English for every indicator a dataset misses.
//!
//! The indicators read the typed view of a dataset, the state of its links (from the link
//! checker; unchecked links score nothing and give no hint) and the outcome of the DCAT-AP
//! SHACL validation. Distribution-level indicators of interoperability take the dataset's
//! best distribution; those of accessibility and reusability are met when any distribution
//! meets them. A catalogue's score (source, municipality) is the mean of its datasets' points,
//! which is the share of datasets meeting each indicator times its weight.

use crate::labels;
use crate::view::{DatasetView, DistributionView};
use crate::vocab::eu;
use serde::{Deserialize, Serialize};

/// The five MQA dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Can it be found?
    Findability,
    /// Can it be reached?
    Accessibility,
    /// Can it be used by machines?
    Interoperability,
    /// May it be reused, and by whom?
    Reusability,
    /// Is the context known?
    Contextuality,
}

/// What an indicator looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The dataset itself.
    Dataset,
    /// Its distributions.
    Distribution,
}

/// One MQA indicator.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Indicator {
    /// Stable key (`keyword`, `access_url_status`, …).
    pub key: &'static str,
    /// Its dimension.
    pub dimension: Dimension,
    /// Points when met.
    pub points: i32,
    /// Points when missing (negative for format and media type, else 0).
    pub missing: i32,
    /// The property it concerns, as a CURIE.
    pub property: &'static str,
    /// Where the property belongs.
    pub level: Level,
    /// The fix, in Swedish.
    pub hint_sv: &'static str,
    /// The fix, in English.
    pub hint_en: &'static str,
}

#[allow(clippy::too_many_arguments)] // a table row constructor: one argument per column
const fn ind(
    key: &'static str,
    dimension: Dimension,
    points: i32,
    missing: i32,
    property: &'static str,
    level: Level,
    hint_sv: &'static str,
    hint_en: &'static str,
) -> Indicator {
    Indicator {
        key,
        dimension,
        points,
        missing,
        property,
        level,
        hint_sv,
        hint_en,
    }
}

use Dimension::*;
use Level::{Dataset as D, Distribution as Di};

/// The key of the indicator the SHACL verdict decides.
const COMPLIANCE: &str = "dcat_ap_compliance";

/// The indicators, in the order of the MQA methodology.
pub const INDICATORS: &[Indicator] = &[
    ind(
        "keyword",
        Findability,
        30,
        0,
        "dcat:keyword",
        D,
        "Lägg till nyckelord på datamängden",
        "Add keywords to the dataset",
    ),
    ind(
        "theme",
        Findability,
        30,
        0,
        "dcat:theme",
        D,
        "Ange ett tema (EU:s datatema) för datamängden",
        "Add a theme (EU data theme) to the dataset",
    ),
    ind(
        "spatial",
        Findability,
        20,
        0,
        "dct:spatial",
        D,
        "Ange geografiskt område för datamängden",
        "Add the spatial coverage of the dataset",
    ),
    ind(
        "temporal",
        Findability,
        20,
        0,
        "dct:temporal",
        D,
        "Ange tidsperiod för datamängden",
        "Add the temporal coverage of the dataset",
    ),
    ind(
        "access_url_status",
        Accessibility,
        50,
        0,
        "dcat:accessURL",
        Di,
        "Rätta distributionens åtkomstadress: den svarar inte",
        "Fix the distribution's access URL: it does not answer",
    ),
    ind(
        "download_url",
        Accessibility,
        20,
        0,
        "dcat:downloadURL",
        Di,
        "Lägg till en nedladdningsadress på distributionen",
        "Add a download URL to the distribution",
    ),
    ind(
        "download_url_status",
        Accessibility,
        30,
        0,
        "dcat:downloadURL",
        Di,
        "Rätta distributionens nedladdningsadress: den svarar inte",
        "Fix the distribution's download URL: it does not answer",
    ),
    ind(
        "format",
        Interoperability,
        20,
        -5,
        "dct:format",
        Di,
        "Ange filformat på distributionen",
        "Add a file format to the distribution",
    ),
    ind(
        "media_type",
        Interoperability,
        10,
        -5,
        "dcat:mediaType",
        Di,
        "Ange medietyp på distributionen",
        "Add a media type to the distribution",
    ),
    ind(
        "format_vocabulary",
        Interoperability,
        10,
        0,
        "dct:format",
        Di,
        "Ange filformatet med EU:s filtypslista eller en IANA-medietyp",
        "Give the format from the EU file-type table or as an IANA media type",
    ),
    ind(
        "non_proprietary",
        Interoperability,
        20,
        0,
        "dct:format",
        Di,
        "Publicera distributionen i ett öppet format (t.ex. CSV, JSON)",
        "Publish the distribution in a non-proprietary format (e.g. CSV, JSON)",
    ),
    ind(
        "machine_readable",
        Interoperability,
        20,
        0,
        "dct:format",
        Di,
        "Publicera distributionen i ett maskinläsbart format (t.ex. CSV, JSON, XML)",
        "Publish the distribution in a machine-readable format (e.g. CSV, JSON, XML)",
    ),
    ind(
        COMPLIANCE,
        Interoperability,
        30,
        0,
        "sh:conforms",
        D,
        "Rätta det som bryter mot DCAT-AP (se valideringen)",
        "Fix what violates DCAT-AP (see the validation)",
    ),
    ind(
        "licence",
        Reusability,
        20,
        0,
        "dct:license",
        Di,
        "Lägg till licens på distributionen",
        "Add a licence to the distribution",
    ),
    ind(
        "licence_vocabulary",
        Reusability,
        10,
        0,
        "dct:license",
        Di,
        "Ange licensen som en känd licens-IRI (t.ex. CC BY 4.0)",
        "Give the licence as a known licence IRI (e.g. CC BY 4.0)",
    ),
    ind(
        "access_rights",
        Reusability,
        10,
        0,
        "dct:accessRights",
        D,
        "Ange åtkomsträttigheter för datamängden",
        "Add access rights to the dataset",
    ),
    ind(
        "access_rights_vocabulary",
        Reusability,
        5,
        0,
        "dct:accessRights",
        D,
        "Ange åtkomsträttigheter från EU:s lista (PUBLIC, RESTRICTED, NON_PUBLIC)",
        "Give access rights from the EU table (PUBLIC, RESTRICTED, NON_PUBLIC)",
    ),
    ind(
        "contact_point",
        Reusability,
        20,
        0,
        "dcat:contactPoint",
        D,
        "Lägg till en kontaktpunkt för datamängden",
        "Add a contact point to the dataset",
    ),
    ind(
        "publisher",
        Reusability,
        10,
        0,
        "dct:publisher",
        D,
        "Ange utgivare för datamängden",
        "Add a publisher to the dataset",
    ),
    ind(
        "rights",
        Contextuality,
        5,
        0,
        "dct:rights",
        Di,
        "Ange rättigheter (dct:rights) på distributionen",
        "Add a rights statement to the distribution",
    ),
    ind(
        "byte_size",
        Contextuality,
        5,
        0,
        "dcat:byteSize",
        Di,
        "Ange filstorlek på distributionen",
        "Add the byte size of the distribution",
    ),
    ind(
        "issued",
        Contextuality,
        5,
        0,
        "dct:issued",
        D,
        "Ange när datamängden publicerades",
        "Add the date the dataset was issued",
    ),
    ind(
        "modified",
        Contextuality,
        5,
        0,
        "dct:modified",
        D,
        "Ange när datamängden senast ändrades",
        "Add the date the dataset was last modified",
    ),
];

/// The indicator with `key`.
pub fn indicator(key: &str) -> Option<&'static Indicator> {
    INDICATORS.iter().find(|i| i.key == key)
}

/// How the score is computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// dataportal.se's deviations: DCAT-AP compliance gives no points, and a media type given
    /// as the format counts as a format.
    pub swedish: bool,
}

impl Options {
    /// The points an indicator is worth under these options.
    pub fn points(&self, indicator: &Indicator) -> i32 {
        if self.swedish && indicator.key == COMPLIANCE {
            0
        } else {
            indicator.points
        }
    }

    /// The most points a dataset can have.
    pub fn max_points(&self) -> i32 {
        INDICATORS.iter().map(|i| self.points(i)).sum()
    }
}

/// The four MQA bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Below 120 points.
    Bad,
    /// 120 to 220.
    Enough,
    /// 221 to 350.
    Good,
    /// Above 350.
    Excellent,
}

impl Band {
    /// The band of a score.
    pub fn of(points: f64) -> Band {
        if points > 350.0 {
            Band::Excellent
        } else if points >= 221.0 {
            Band::Good
        } else if points >= 120.0 {
            Band::Enough
        } else {
            Band::Bad
        }
    }

    /// Its key.
    pub fn key(self) -> &'static str {
        match self {
            Band::Excellent => "excellent",
            Band::Good => "good",
            Band::Enough => "enough",
            Band::Bad => "bad",
        }
    }

    /// Its label in `lang` (`sv` or `en`).
    pub fn label(self, lang: &str) -> &'static str {
        match (self, lang == "en") {
            (Band::Excellent, false) => "Utmärkt",
            (Band::Good, false) => "Bra",
            (Band::Enough, false) => "Tillräcklig",
            (Band::Bad, false) => "Bristfällig",
            (Band::Excellent, true) => "Excellent",
            (Band::Good, true) => "Good",
            (Band::Enough, true) => "Sufficient",
            (Band::Bad, true) => "Bad",
        }
    }
}

/// What the link checker knows of a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// It answered with 2xx or 3xx.
    Ok,
    /// It answered with an error status or not at all.
    Broken,
    /// Not checked (yet).
    Unchecked,
}

/// Everything outside the graph that the indicators need.
pub struct Context<'a> {
    /// The state of a URL.
    pub link: &'a dyn Fn(&str) -> LinkState,
    /// Whether the dataset's graph conforms to the DCAT-AP shapes (`None`: not validated).
    pub conforms: Option<bool>,
    /// The options.
    pub options: Options,
}

/// One indicator's outcome for a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Indicator key.
    pub key: &'static str,
    /// Met, missed, or not known yet (links not checked, graph not validated).
    pub met: Option<bool>,
    /// Points given.
    pub points: i32,
}

/// A concrete fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    /// The indicator it would meet.
    pub indicator: &'static str,
    /// The property concerned.
    pub property: &'static str,
    /// The subjects concerned (the dataset, or the distributions that miss it).
    pub subjects: Vec<String>,
    /// Points to gain.
    pub gain: i32,
    /// The fix in Swedish.
    pub sv: &'static str,
    /// The fix in English.
    pub en: &'static str,
}

/// A dataset's quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Points.
    pub points: i32,
    /// Out of.
    pub max: i32,
    /// Band.
    pub band: Band,
    /// Points per dimension.
    pub dimensions: Vec<(Dimension, i32)>,
    /// Every indicator's outcome, in [`INDICATORS`] order.
    pub indicators: Vec<Outcome>,
    /// Fixes for the missed indicators, most points first.
    pub hints: Vec<Hint>,
}

impl Score {
    /// The outcome of indicator `key`.
    pub fn outcome(&self, key: &str) -> Option<&Outcome> {
        self.indicators.iter().find(|o| o.key == key)
    }
}

/// Formats EU-listed as non-proprietary.
const NON_PROPRIETARY: &[&str] = &[
    "CSV",
    "JSON",
    "GEOJSON",
    "XML",
    "ODS",
    "PDF",
    "HTML",
    "TXT",
    "RDF_XML",
    "RDF_TURTLE",
    "RDF_N_TRIPLES",
    "JSON_LD",
    "GML",
    "KML",
    "GTFS",
    "ZIP",
    "WMS_SRVC",
    "WFS_SRVC",
];
/// Formats EU-listed as machine-readable.
const MACHINE_READABLE: &[&str] = &[
    "CSV",
    "JSON",
    "GEOJSON",
    "XML",
    "XLSX",
    "XLS",
    "ODS",
    "RDF_XML",
    "RDF_TURTLE",
    "RDF_N_TRIPLES",
    "JSON_LD",
    "SHP",
    "GML",
    "KML",
    "GTFS",
    "WMS_SRVC",
    "WFS_SRVC",
];

/// The EU file-type code of a distribution: its format, else (Swedish deviation, or for the
/// format-dependent indicators) its media type.
fn file_type_code(d: &DistributionView) -> Option<&'static str> {
    let from = |v: &str| crate::normalize::file_type(v).map(|f| f.code);
    d.format
        .as_deref()
        .and_then(from)
        .or_else(|| d.media_type.as_deref().and_then(from))
}

fn is_media_type(v: &str) -> bool {
    let v = v
        .strip_prefix("http://www.iana.org/assignments/media-types/")
        .or_else(|| v.strip_prefix("https://www.iana.org/assignments/media-types/"))
        .unwrap_or(v);
    let mut parts = v.splitn(2, '/');
    let (Some(top), Some(sub)) = (parts.next(), parts.next()) else {
        return false;
    };
    matches!(
        top,
        "application" | "text" | "image" | "audio" | "video" | "model" | "font" | "multipart"
    ) && !sub.is_empty()
        && !sub.contains(char::is_whitespace)
}

fn in_vocabulary(d: &DistributionView) -> bool {
    d.format
        .as_deref()
        .is_some_and(|f| f.starts_with(eu::FILE_TYPE))
        || d.media_type.as_deref().is_some_and(is_media_type)
}

/// Interoperability points of one distribution (compliance aside) and which indicators it
/// meets, in the order format, media type, vocabulary, non-proprietary, machine-readable.
fn interoperability(d: &DistributionView, options: Options) -> (i32, [bool; 5]) {
    let code = file_type_code(d);
    let format = d.format.is_some()
        || (options.swedish && d.media_type.as_deref().is_some_and(is_media_type));
    let met = [
        format,
        d.media_type.is_some(),
        in_vocabulary(d),
        code.is_some_and(|c| NON_PROPRIETARY.contains(&c)),
        code.is_some_and(|c| MACHINE_READABLE.contains(&c)),
    ];
    let keys = [
        "format",
        "media_type",
        "format_vocabulary",
        "non_proprietary",
        "machine_readable",
    ];
    let points = keys
        .iter()
        .zip(met)
        .map(|(k, m)| {
            let i = indicator(k).expect("interoperability indicator");
            if m { i.points } else { i.missing }
        })
        .sum();
    (points, met)
}

fn known_licence(iri: &str) -> bool {
    labels::licence(iri).is_some()
        || iri.starts_with("http://publications.europa.eu/resource/authority/licence/")
}

/// Scores one dataset.
pub fn score(view: &DatasetView, cx: &Context<'_>) -> Score {
    let indicators = outcomes(view, cx);
    let mut hints = Vec::new();
    for (i, o) in INDICATORS.iter().zip(&indicators) {
        let worth = cx.options.points(i);
        if o.met == Some(false) && worth > 0 {
            hints.push(Hint {
                indicator: i.key,
                property: i.property,
                subjects: hint_subjects(view, i, cx),
                gain: worth - i.missing,
                sv: i.hint_sv,
                en: i.hint_en,
            });
        }
    }
    hints.sort_by_key(|h| std::cmp::Reverse(h.gain));
    let points = indicators.iter().map(|o| o.points).sum::<i32>().max(0);
    let mut dimensions: Vec<(Dimension, i32)> = Vec::new();
    for (i, o) in INDICATORS.iter().zip(&indicators) {
        match dimensions.last_mut() {
            Some((d, p)) if *d == i.dimension => *p += o.points,
            _ => dimensions.push((i.dimension, o.points)),
        }
    }
    Score {
        points,
        max: cx.options.max_points(),
        band: Band::of(points as f64),
        dimensions,
        indicators,
        hints,
    }
}

/// A dataset's band if its graph conforms to the shapes and if it does not, scored once
/// (`cx.conforms` is not read): what [`score`] gives with each, without its hints.
pub fn bands(view: &DatasetView, cx: &Context<'_>) -> (Band, Band) {
    let cx = Context {
        conforms: None,
        ..*cx
    };
    let indicators = outcomes(view, &cx);
    let rest: i32 = indicators.iter().map(|o| o.points).sum();
    let band = |conforms: bool| {
        let compliance: i32 = INDICATORS
            .iter()
            .filter(|i| i.key == COMPLIANCE)
            .map(|i| {
                if conforms {
                    cx.options.points(i)
                } else {
                    i.missing
                }
            })
            .sum();
        Band::of((rest + compliance).max(0) as f64)
    };
    (band(true), band(false))
}

/// Each indicator's outcome for a dataset, in the order of [`INDICATORS`].
fn outcomes(view: &DatasetView, cx: &Context<'_>) -> Vec<Outcome> {
    let dists = &view.distributions;
    let best = dists
        .iter()
        .map(|d| (d, interoperability(d, cx.options)))
        .max_by(|(a, (pa, _)), (b, (pb, _))| pa.cmp(pb).then_with(|| b.uri.cmp(&a.uri)));
    let link_met = |urls: &mut dyn Iterator<Item = &String>| -> Option<bool> {
        let states: Vec<LinkState> = urls.map(|u| (cx.link)(u)).collect();
        if states.contains(&LinkState::Ok) {
            Some(true)
        } else if states.contains(&LinkState::Broken) || states.is_empty() {
            Some(false)
        } else {
            None
        }
    };
    let any = |f: &dyn Fn(&DistributionView) -> bool| dists.iter().any(f);
    let licences = || {
        view.license
            .iter()
            .chain(dists.iter().filter_map(|d| d.license.as_ref()))
    };

    let met_of = |key: &str| -> Option<bool> {
        Some(match key {
            "keyword" => !view.keywords.is_empty(),
            "theme" => !view.themes.is_empty(),
            "spatial" => !view.spatial.is_empty(),
            "temporal" => view
                .temporal
                .as_ref()
                .is_some_and(|t| t.start.is_some() || t.end.is_some()),
            "access_url_status" => {
                return link_met(&mut dists.iter().flat_map(|d| d.access_urls.iter()));
            }
            "download_url" => any(&|d| !d.download_urls.is_empty()),
            "download_url_status" => {
                return link_met(&mut dists.iter().flat_map(|d| d.download_urls.iter()));
            }
            "format" | "media_type" | "format_vocabulary" | "non_proprietary"
            | "machine_readable" => {
                let slot = [
                    "format",
                    "media_type",
                    "format_vocabulary",
                    "non_proprietary",
                    "machine_readable",
                ]
                .iter()
                .position(|k| *k == key)
                .expect("listed");
                best.as_ref().is_some_and(|(_, (_, met))| met[slot])
            }
            COMPLIANCE => return cx.conforms,
            "licence" => licences().next().is_some(),
            "licence_vocabulary" => licences().any(|l| known_licence(l)),
            "access_rights" => view.access_rights.is_some(),
            "access_rights_vocabulary" => view
                .access_rights
                .as_deref()
                .is_some_and(|a| labels::access_right(a).is_some()),
            "contact_point" => view
                .contact_point
                .as_ref()
                .is_some_and(|c| c.name.is_some() || c.email.is_some()),
            "publisher" => view.publisher.is_some(),
            "rights" => any(&|d| d.rights.is_some()),
            "byte_size" => any(&|d| d.byte_size.is_some()),
            "issued" => view.issued.is_some(),
            "modified" => view.modified.is_some(),
            _ => false,
        })
    };

    INDICATORS
        .iter()
        .map(|i| {
            let met = met_of(i.key);
            let points = match met {
                Some(true) => cx.options.points(i),
                Some(false) => i.missing,
                None => 0,
            };
            Outcome {
                key: i.key,
                met,
                points,
            }
        })
        .collect()
}

/// Who a missed indicator's fix concerns: the dataset, or its distributions that miss it
/// (the dataset when it has none).
fn hint_subjects(view: &DatasetView, i: &Indicator, cx: &Context<'_>) -> Vec<String> {
    if i.level == Level::Dataset || view.distributions.is_empty() {
        return vec![view.uri.clone()];
    }
    let broken = |urls: &[String]| urls.iter().any(|u| (cx.link)(u) == LinkState::Broken);
    let code_in =
        |d: &DistributionView, list: &[&str]| file_type_code(d).is_some_and(|c| list.contains(&c));
    let misses = |d: &DistributionView| match i.key {
        "access_url_status" => broken(&d.access_urls),
        "download_url" => d.download_urls.is_empty(),
        "download_url_status" => broken(&d.download_urls),
        "format" => d.format.is_none(),
        "media_type" => d.media_type.is_none(),
        "format_vocabulary" => !in_vocabulary(d),
        "non_proprietary" => !code_in(d, NON_PROPRIETARY),
        "machine_readable" => !code_in(d, MACHINE_READABLE),
        "licence" => d.license.is_none(),
        "licence_vocabulary" => !d.license.as_deref().is_some_and(known_licence),
        "rights" => d.rights.is_none(),
        "byte_size" => d.byte_size.is_none(),
        _ => true,
    };
    let subjects: Vec<String> = view
        .distributions
        .iter()
        .filter(|d| misses(d))
        .map(|d| d.uri.clone())
        .collect();
    if subjects.is_empty() {
        // Missed for want of any URL to check (no download URL at all): every distribution.
        return view.distributions.iter().map(|d| d.uri.clone()).collect();
    }
    subjects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_points_add_up_to_405_and_375_with_the_swedish_deviations() {
        assert_eq!(Options::default().max_points(), 405);
        assert_eq!(Options { swedish: true }.max_points(), 375);
        let per = |d| {
            INDICATORS
                .iter()
                .filter(|i| i.dimension == d)
                .map(|i| i.points)
                .sum::<i32>()
        };
        assert_eq!(
            [
                Findability,
                Accessibility,
                Interoperability,
                Reusability,
                Contextuality
            ]
            .map(per),
            [100, 100, 110, 75, 20]
        );
    }

    #[test]
    fn bands_follow_the_mqa_thresholds() {
        assert_eq!(Band::of(351.0), Band::Excellent);
        assert_eq!(Band::of(350.0), Band::Good);
        assert_eq!(Band::of(221.0), Band::Good);
        assert_eq!(Band::of(220.0), Band::Enough);
        assert_eq!(Band::of(120.0), Band::Enough);
        assert_eq!(Band::of(119.9), Band::Bad);
    }

    #[test]
    fn both_bands_scored_at_once_are_those_of_two_scores() {
        let mut seen = std::collections::BTreeSet::new();
        // Views from bare to nearly complete, one property more each time, with every kind
        // of link result and both point tables.
        for step in 0..12 {
            let mut v = DatasetView {
                uri: "https://example.org/d".into(),
                ..DatasetView::default()
            };
            let d = DistributionView {
                uri: "https://example.org/d/csv".into(),
                access_urls: vec!["https://example.org/a".into()],
                download_urls: (step > 1)
                    .then(|| "https://example.org/f.csv".to_string())
                    .into_iter()
                    .collect(),
                format: (step > 2).then(|| {
                    "http://publications.europa.eu/resource/authority/file-type/CSV".into()
                }),
                media_type: (step > 3).then(|| "text/csv".into()),
                license: (step > 4)
                    .then(|| "http://creativecommons.org/publicdomain/zero/1.0/".into()),
                ..DistributionView::default()
            };
            if step > 0 {
                v.distributions.push(d);
            }
            if step > 5 {
                v.keywords.push(("sv".into(), "bad".into()));
                v.themes.push(
                    "http://publications.europa.eu/resource/authority/data-theme/ENVI".into(),
                );
            }
            if step > 6 {
                v.spatial.push("https://example.org/place".into());
                v.issued = Some("2024-01-01".into());
                v.modified = Some("2024-02-01".into());
            }
            if step > 7 {
                v.access_rights = Some(
                    "http://publications.europa.eu/resource/authority/access-right/PUBLIC".into(),
                );
                v.contact_point = Some(crate::view::ContactView {
                    email: Some("mailto:a@example.org".into()),
                    ..crate::view::ContactView::default()
                });
            }
            for state in [LinkState::Ok, LinkState::Broken, LinkState::Unchecked] {
                let link = move |_: &str| state;
                for swedish in [false, true] {
                    let options = Options { swedish };
                    let cx = |conforms| Context {
                        link: &link,
                        conforms,
                        options,
                    };
                    let two = (
                        score(&v, &cx(Some(true))).band,
                        score(&v, &cx(Some(false))).band,
                    );
                    assert_eq!(bands(&v, &cx(None)), two, "step {step}");
                    assert_eq!(bands(&v, &cx(Some(false))), two, "conforms is not read");
                    seen.insert(two);
                }
            }
        }
        // The views span the bands, and some have a band that conformance decides.
        assert!(seen.iter().any(|(a, b)| a != b), "{seen:?}");
        assert!(seen.len() >= 4, "{seen:?}");
    }

    #[test]
    fn media_types_are_recognised() {
        assert!(is_media_type("text/csv"));
        assert!(is_media_type(
            "https://www.iana.org/assignments/media-types/application/json"
        ));
        assert!(!is_media_type("CSV"));
        assert!(!is_media_type("Excel fil"));
    }
}
