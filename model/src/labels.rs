//! Controlled vocabularies: the EU authority-table IRIs samla normalises to, with Swedish and
//! English labels for display. Values follow the DCAT-AP-SE 3.0.1 profile's choices.

use crate::vocab::eu;

/// One controlled value with its display labels.
#[derive(Debug, Clone, Copy)]
pub struct Concept {
    /// The code at the end of the IRI (`ENVI`, `CSV`, …).
    pub code: &'static str,
    /// Swedish label.
    pub sv: &'static str,
    /// English label.
    pub en: &'static str,
}

impl Concept {
    /// The label in the requested language, English for anything but Swedish.
    pub fn label(&self, lang: &str) -> &'static str {
        if lang == "sv" { self.sv } else { self.en }
    }
}

const fn c(code: &'static str, sv: &'static str, en: &'static str) -> Concept {
    Concept { code, sv, en }
}

/// EU data themes.
pub const THEMES: &[Concept] = &[
    c(
        "AGRI",
        "Jordbruk, fiske, skogsbruk och livsmedel",
        "Agriculture, fisheries, forestry and food",
    ),
    c("ECON", "Ekonomi och finans", "Economy and finance"),
    c(
        "EDUC",
        "Utbildning, kultur och sport",
        "Education, culture and sport",
    ),
    c("ENER", "Energi", "Energy"),
    c("ENVI", "Miljö", "Environment"),
    c(
        "GOVE",
        "Regeringen och den offentliga sektorn",
        "Government and public sector",
    ),
    c("HEAL", "Hälsa", "Health"),
    c("INTR", "Internationella frågor", "International issues"),
    c(
        "JUST",
        "Rättvisa, rättsliga system och allmän säkerhet",
        "Justice, legal system and public safety",
    ),
    c("SOCI", "Befolkning och samhälle", "Population and society"),
    c("REGI", "Regioner och städer", "Regions and cities"),
    c("TECH", "Vetenskap och teknik", "Science and technology"),
    c("TRAN", "Transport", "Transport"),
];

/// EU frequencies (the DCAT-AP-SE choices).
pub const FREQUENCIES: &[Concept] = &[
    c("CONT", "kontinuerlig", "continuous"),
    c(
        "UPDATE_CONT",
        "uppdateras kontinuerligt",
        "continuously updated",
    ),
    c("DAILY", "dagligen", "daily"),
    c("WEEKLY", "veckovis", "weekly"),
    c("BIWEEKLY", "varannan vecka", "every two weeks"),
    c("MONTHLY", "månatligen", "monthly"),
    c("QUARTERLY", "kvartalsvis", "quarterly"),
    c("ANNUAL_2", "halvårsvis", "semiannual"),
    c("ANNUAL", "årligen", "annual"),
    c("IRREG", "oregelbundet", "irregular"),
    c("NEVER", "aldrig", "never"),
    c("UNKNOWN", "okänd", "unknown"),
];

/// EU access rights.
pub const ACCESS_RIGHTS: &[Concept] = &[
    c("PUBLIC", "Publik", "Public"),
    c("RESTRICTED", "Begränsad", "Restricted"),
    c("NON_PUBLIC", "Ej offentlig", "Non-public"),
];

/// The top-level HVD categories of the implementing regulation.
pub const HVD_CATEGORIES: &[Concept] = &[
    c("c_ac64a52d", "Geospatiala data", "Geospatial"),
    c(
        "c_dd313021",
        "Jordobservation och miljö",
        "Earth observation and environment",
    ),
    c("c_164e0bf5", "Meteorologiska data", "Meteorological"),
    c("c_e1da4e07", "Statistik", "Statistics"),
    c(
        "c_a9135398",
        "Företag och företagsägande",
        "Companies and company ownership",
    ),
    c("c_b79e35eb", "Rörlighet", "Mobility"),
];

/// A file type of the EU table, with the media types and loose names that mean it.
#[derive(Debug, Clone, Copy)]
pub struct FileType {
    /// Code at the end of the EU IRI.
    pub code: &'static str,
    /// Display label (the same in both languages).
    pub label: &'static str,
    /// IANA media types that mean this file type.
    pub media_types: &'static [&'static str],
    /// Lower-case loose names (CKAN formats, file extensions).
    pub aliases: &'static [&'static str],
}

const fn f(
    code: &'static str,
    label: &'static str,
    media_types: &'static [&'static str],
    aliases: &'static [&'static str],
) -> FileType {
    FileType {
        code,
        label,
        media_types,
        aliases,
    }
}

/// EU file types seen in Swedish municipal catalogs.
pub const FILE_TYPES: &[FileType] = &[
    f("CSV", "CSV", &["text/csv"], &["csv", ".csv"]),
    f("JSON", "JSON", &["application/json"], &["json", ".json"]),
    f(
        "GEOJSON",
        "GeoJSON",
        &["application/geo+json", "application/vnd.geo+json"],
        &["geojson", ".geojson"],
    ),
    f(
        "XML",
        "XML",
        &["application/xml", "text/xml"],
        &["xml", ".xml"],
    ),
    f(
        "XLSX",
        "Excel XLSX",
        &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        &["xlsx", ".xlsx", "excel"],
    ),
    f(
        "XLS",
        "Excel XLS",
        &["application/vnd.ms-excel"],
        &["xls", ".xls"],
    ),
    f(
        "ODS",
        "ODS",
        &["application/vnd.oasis.opendocument.spreadsheet"],
        &["ods"],
    ),
    f("PDF", "PDF", &["application/pdf"], &["pdf", ".pdf"]),
    f("HTML", "HTML", &["text/html"], &["html", "htm", "webbsida"]),
    f("TXT", "Text", &["text/plain"], &["txt", "text"]),
    f(
        "RDF_XML",
        "RDF/XML",
        &["application/rdf+xml"],
        &["rdf", "rdf/xml", "rdf+xml"],
    ),
    f("RDF_TURTLE", "Turtle", &["text/turtle"], &["ttl", "turtle"]),
    f(
        "RDF_N_TRIPLES",
        "N-Triples",
        &["application/n-triples"],
        &["nt", "n-triples", "ntriples"],
    ),
    f(
        "JSON_LD",
        "JSON-LD",
        &["application/ld+json"],
        &["jsonld", "json-ld"],
    ),
    f("ZIP", "ZIP", &["application/zip"], &["zip"]),
    f(
        "SHP",
        "Shapefile",
        &["application/x-shapefile"],
        &["shp", "shape", "shapefile", "esri shapefile"],
    ),
    f("GML", "GML", &["application/gml+xml"], &["gml"]),
    f(
        "KML",
        "KML",
        &["application/vnd.google-earth.kml+xml"],
        &["kml"],
    ),
    f("WMS_SRVC", "WMS", &[], &["wms"]),
    f("WFS_SRVC", "WFS", &[], &["wfs"]),
    f("GTFS", "GTFS", &[], &["gtfs"]),
];

/// A licence samla knows, with its canonical IRI.
#[derive(Debug, Clone, Copy)]
pub struct Licence {
    /// The canonical IRI (http, trailing slash).
    pub iri: &'static str,
    /// Display label.
    pub label: &'static str,
    /// Lower-case loose names (CKAN `license_id`s, SPDX ids, common spellings).
    pub aliases: &'static [&'static str],
    /// What it lets a reuser do.
    pub terms: Terms,
}

/// What a licence lets a reuser do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terms {
    /// Any use, commercial too, and adapted works (an open licence by the Open Definition).
    Open,
    /// Commercial use, but no adapted works (CC BY-ND).
    Commercial,
    /// No commercial use (the CC NC licences).
    NonCommercial,
}

impl Licence {
    /// Whether it allows commercial use.
    pub fn commercial(&self) -> bool {
        self.terms != Terms::NonCommercial
    }

    /// Whether it is an open licence (the Open Definition: any use, adaptations too).
    pub fn open(&self) -> bool {
        self.terms == Terms::Open
    }
}

const fn l(
    iri: &'static str,
    label: &'static str,
    aliases: &'static [&'static str],
    terms: Terms,
) -> Licence {
    Licence {
        iri,
        label,
        aliases,
        terms,
    }
}

/// Licences seen in Swedish public-sector catalogs.
pub const LICENCES: &[Licence] = &[
    l(
        "http://creativecommons.org/licenses/by/4.0/",
        "CC BY 4.0",
        &[
            "cc-by",
            "cc-by-4.0",
            "cc by 4.0",
            "cc by",
            "cc-by 4.0",
            "ccby",
            "ccby4.0",
        ],
        Terms::Open,
    ),
    l(
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "CC0 1.0",
        &["cc0", "cc0-1.0", "cc-zero", "cc0 1.0", "odc-pddl"],
        Terms::Open,
    ),
    l(
        "http://creativecommons.org/licenses/by-sa/4.0/",
        "CC BY-SA 4.0",
        &["cc-by-sa", "cc-by-sa-4.0", "cc by-sa 4.0"],
        Terms::Open,
    ),
    l(
        "http://creativecommons.org/licenses/by-nc/4.0/",
        "CC BY-NC 4.0",
        &["cc-nc", "cc-by-nc", "cc-by-nc-4.0"],
        Terms::NonCommercial,
    ),
    l(
        "http://creativecommons.org/licenses/by-nd/4.0/",
        "CC BY-ND 4.0",
        &["cc-by-nd", "cc-by-nd-4.0"],
        Terms::Commercial,
    ),
    l(
        "http://creativecommons.org/licenses/by-nc-sa/4.0/",
        "CC BY-NC-SA 4.0",
        &["cc-by-nc-sa", "cc-by-nc-sa-4.0"],
        Terms::NonCommercial,
    ),
    l(
        "http://creativecommons.org/licenses/by-nc-nd/4.0/",
        "CC BY-NC-ND 4.0",
        &["cc-by-nc-nd", "cc-by-nc-nd-4.0"],
        Terms::NonCommercial,
    ),
];

fn code_of<'a>(iri: &'a str, base: &str) -> Option<&'a str> {
    iri.strip_prefix(base)
}

/// The concept behind an EU theme IRI.
pub fn theme(iri: &str) -> Option<&'static Concept> {
    code_of(iri, eu::DATA_THEME).and_then(|code| THEMES.iter().find(|t| t.code == code))
}

/// The concept behind an EU frequency IRI.
pub fn frequency(iri: &str) -> Option<&'static Concept> {
    code_of(iri, eu::FREQUENCY).and_then(|code| FREQUENCIES.iter().find(|t| t.code == code))
}

/// The concept behind an EU access-right IRI.
pub fn access_right(iri: &str) -> Option<&'static Concept> {
    code_of(iri, eu::ACCESS_RIGHT).and_then(|code| ACCESS_RIGHTS.iter().find(|t| t.code == code))
}

/// The concept behind an HVD category IRI.
pub fn hvd_category(iri: &str) -> Option<&'static Concept> {
    code_of(iri, eu::HVD).and_then(|code| HVD_CATEGORIES.iter().find(|t| t.code == code))
}

/// The file type behind an EU file-type IRI.
pub fn file_type(iri: &str) -> Option<&'static FileType> {
    code_of(iri, eu::FILE_TYPE).and_then(|code| FILE_TYPES.iter().find(|t| t.code == code))
}

/// The licence behind a canonical licence IRI.
pub fn licence(iri: &str) -> Option<&'static Licence> {
    LICENCES.iter().find(|l| l.iri == iri)
}

/// A display label for any controlled IRI samla knows, in `lang`; `None` for unknown values.
pub fn label_for(iri: &str, lang: &str) -> Option<&'static str> {
    theme(iri)
        .or_else(|| frequency(iri))
        .or_else(|| access_right(iri))
        .or_else(|| hvd_category(iri))
        .map(|c| c.label(lang))
        .or_else(|| file_type(iri).map(|f| f.label))
        .or_else(|| licence(iri).map(|l| l.label))
}

/// The HVD regulation (Commission Implementing Regulation (EU) 2023/138), as
/// `dcatap:applicableLegislation` names it.
pub const HVD_REGULATION: &str = "http://data.europa.eu/eli/reg_impl/2023/138/oj";

/// Whether `iri` names the HVD regulation (compared as every vocabulary IRI is: scheme,
/// `www.`, case and a trailing slash aside).
pub fn is_hvd_regulation(iri: &str) -> bool {
    crate::normalize::iri_key(iri) == crate::normalize::iri_key(HVD_REGULATION)
}

/// Whether a licence is as open as the HVD regulation asks (CC BY 4.0, or CC0 which asks
/// less).
pub fn hvd_licence(iri: &str) -> bool {
    crate::normalize::licence(iri).is_some_and(|l| {
        [
            "http://creativecommons.org/licenses/by/4.0/",
            "http://creativecommons.org/publicdomain/zero/1.0/",
        ]
        .contains(&l)
    })
}

/// National dataset specifications by slug (as in `https://dataportal.se/specifications/<slug>/`
/// and the older `https://lankadedata.se/spec/<slug>/`), with their Swedish names.
const SPECIFICATIONS: &[(&str, &str)] = &[
    ("badplatser", "Badplatser"),
    ("dcat-ap-se", "DCAT-AP-SE"),
    ("grillplatser", "Grillplatser"),
    ("laddplatser", "Laddplatser"),
    ("lediga-tomter", "Lediga tomter"),
    ("lekplatser", "Lekplatser"),
    ("leverantorsreskontra", "Leverantörsreskontra"),
    ("minaarenden", "Mina ärenden"),
    ("public-toilets", "Offentliga toaletter"),
    ("offentliga-toaletter", "Offentliga toaletter"),
    ("utegym", "Utegym"),
];

/// A specification's name and version for people: `https://dataportal.se/specifications/
/// badplatser/1.0` → `Badplatser 1.0`, `https://lankadedata.se/spec/public-toilets/` →
/// `Offentliga toaletter`; a slug samla does not know is written out (`parkering-och-laddning`
/// → `Parkering och laddning`).
pub fn specification_label(iri: &str) -> String {
    let rest = iri
        .split_once("/specifications/")
        .or_else(|| iri.split_once("/spec/"))
        .map(|(_, rest)| rest)
        .unwrap_or(iri);
    let mut parts = rest.trim_end_matches('/').split('/');
    let slug = parts.next().unwrap_or_default();
    let version: Vec<&str> = parts.filter(|p| !p.is_empty()).collect();
    let name = SPECIFICATIONS
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(slug))
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| {
            let words = slug.replace(['-', '_'], " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        });
    if version.is_empty() {
        name
    } else {
        format!("{name} {}", version.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::specification_label;

    #[test]
    fn hvd_requirements_read_iri_variants() {
        use super::{hvd_licence, is_hvd_regulation};
        assert!(hvd_licence("https://creativecommons.org/licenses/by/4.0"));
        assert!(hvd_licence(
            "http://creativecommons.org/publicdomain/zero/1.0/"
        ));
        assert!(!hvd_licence(
            "http://creativecommons.org/licenses/by-sa/4.0/"
        ));
        assert!(!hvd_licence(
            "http://creativecommons.org/licenses/by-nc/4.0/"
        ));
        assert!(is_hvd_regulation(
            "https://data.europa.eu/eli/reg_impl/2023/138/oj/"
        ));
        assert!(!is_hvd_regulation(
            "http://data.europa.eu/eli/reg/2016/679/oj"
        ));
    }

    #[test]
    fn specifications_are_named_not_slugged() {
        for (iri, label) in [
            (
                "https://dataportal.se/specifications/badplatser/1.0",
                "Badplatser 1.0",
            ),
            (
                "https://lankadedata.se/spec/public-toilets/",
                "Offentliga toaletter",
            ),
            (
                "https://lankadedata.se/spec/leverantorsreskontra/",
                "Leverantörsreskontra",
            ),
            (
                "https://www.dataportal.se/specifications/minaarenden/6.1",
                "Mina ärenden 6.1",
            ),
            (
                "https://dataportal.se/specifications/parkering-och-laddning/2.0",
                "Parkering och laddning 2.0",
            ),
        ] {
            assert_eq!(specification_label(iri), label);
        }
    }
}
