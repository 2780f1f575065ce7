//! What businesses ask a regional portal: a realistic list of Swedish searches (with the
//! filters people add) and a few data requests, for the demo to replay through the real
//! search and request endpoints so the demand report has content.

/// A search: query text, filters as (parameter, value), and how many times it is made.
pub struct Search {
    /// The query text (`""` to browse by filters alone).
    pub q: &'static str,
    /// Filters.
    pub filters: &'static [(&'static str, &'static str)],
    /// Times searched.
    pub times: u32,
}

const fn s(
    q: &'static str,
    filters: &'static [(&'static str, &'static str)],
    times: u32,
) -> Search {
    Search { q, filters, times }
}

/// The searches, most frequent first.
pub const SEARCHES: &[Search] = &[
    s("laddstolpar", &[], 14),
    s("laddplatser", &[("municipality", "1280")], 6),
    s("laddinfrastruktur", &[], 4),
    s("badplatser", &[], 9),
    s("badplatser", &[("municipality", "1283")], 3),
    s("bygglov", &[], 7),
    s("detaljplaner", &[], 5),
    s("parkering", &[("municipality", "1280")], 5),
    s("cykelvägar", &[], 4),
    s("trafikflöden", &[], 4),
    s("kollektivtrafik hållplatser", &[], 3),
    s("luftkvalitet", &[], 4),
    s("upphandlingar", &[], 4),
    s("leverantörsreskontra", &[], 3),
    s("förskolor", &[], 3),
    s(
        "befolkning",
        &[(
            "theme",
            "http://publications.europa.eu/resource/authority/data-theme/SOCI",
        )],
        3,
    ),
    s("lediga lokaler", &[], 4),
    s("lediga tomter", &[], 3),
    s("grillplatser", &[], 2),
    s("lekplatser", &[], 2),
    s("offentliga toaletter", &[], 2),
    s("evenemang", &[], 2),
    s(
        "",
        &[(
            "theme",
            "http://publications.europa.eu/resource/authority/data-theme/TRAN",
        )],
        4,
    ),
    s(
        "",
        &[("hvd_category", "http://data.europa.eu/bna/c_b79e35eb")],
        2,
    ),
    s(
        "",
        &[(
            "format",
            "http://publications.europa.eu/resource/authority/file-type/CSV",
        )],
        2,
    ),
    // What the region does not publish (zero results), in the variants people type.
    s("elsparkcyklar", &[], 5),
    s("elsparkcykel", &[], 3),
    s("fiberutbyggnad", &[], 4),
    s("fiber utbyggnad", &[], 2),
    s("solceller tak", &[], 3),
    s("solcellspotential", &[], 2),
    s("drönarzoner", &[], 2),
    s("hotellnätter", &[], 3),
    s("gästnätter", &[], 2),
    s("företagsetableringar", &[], 3),
];

/// A data request as the demo files it (JSON for `POST /api/v1/requests`).
pub const REQUESTS: &[&str] = &[
    r#"{"what": "Laddstolpar för elbilar med effekt och beläggning, i alla kommuner", "theme": "TRAN", "organisation_type": "company", "contact": "data@laddbolaget.example"}"#,
    r#"{"what": "Lediga verksamhetslokaler och tomter för etablering", "municipality": "1283", "theme": "ECON", "organisation_type": "cluster"}"#,
    r#"{"what": "Gästnätter per kommun och månad", "theme": "ECON", "organisation_type": "cluster"}"#,
    r#"{"what": "Fiberutbyggnad: vilka områden har fiber, och när", "municipality": "1293", "organisation_type": "company"}"#,
    r#"{"what": "Badplatser med vattenkvalitet enligt den nationella specifikationen", "specification": "https://dataportal.se/specifications/badplatser/1.0", "organisation_type": "company"}"#,
];
