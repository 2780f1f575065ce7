//! The organisations of a region, and resolving a publisher to one of them.

use crate::normalize::{fold, organisation_number};
use crate::vocab::DATAPORTAL_ORGANISATION;
use serde::{Deserialize, Serialize};

/// An organisation of the region: a municipality or the region itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Kommunkod (`1280`), or another stable code for a non-municipal organisation.
    pub code: String,
    /// Official name (`Malmö stad`).
    pub name: String,
    /// Short name (`Malmö`).
    pub short_name: String,
    /// Organisation number, ten digits, when known.
    pub orgnr: Option<String>,
    /// Web domain (`malmo.se`), when known.
    pub domain: Option<String>,
}

impl Organisation {
    /// `http://dataportal.se/organisation/SE<orgnr>` when the organisation number is known.
    pub fn dataportal_iri(&self) -> Option<String> {
        self.orgnr
            .as_ref()
            .map(|n| format!("{DATAPORTAL_ORGANISATION}{n}"))
    }

    /// The folded forms its name is written in (`malmo stad`, `malmo`, `malmos kommun`, …).
    pub fn name_forms(&self) -> Vec<String> {
        let short = fold(&self.short_name);
        vec![
            fold(&self.name),
            short.clone(),
            format!("{short} kommun"),
            format!("{short}s kommun"),
            format!("{short} stad"),
            format!("{short}s stad"),
        ]
    }
}

/// A key that sorts names as Swedish does: case folded, Å, Ä and Ö after Z (in that order),
/// É as E and Ü as Y.
pub fn swedish_order(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'å' => '{',
            'ä' | 'æ' => '|',
            'ö' | 'ø' => '}',
            'é' | 'è' => 'e',
            'ü' => 'y',
            c => c,
        })
        .collect()
}

/// The organisations of a region, for resolving publishers to municipalities.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrganisationDirectory {
    organisations: Vec<Organisation>,
}

impl OrganisationDirectory {
    /// A directory of these organisations, kept in the Swedish order of their names.
    pub fn new(mut organisations: Vec<Organisation>) -> Self {
        organisations.sort_by_cached_key(|o| swedish_order(&o.name));
        Self { organisations }
    }

    /// All organisations, in the Swedish order of their names (Å, Ä and Ö after Z).
    pub fn organisations(&self) -> &[Organisation] {
        &self.organisations
    }

    /// The organisation with this code.
    pub fn by_code(&self, code: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.code == code)
    }

    /// The organisation with this code or name, in any case and with or without å, ä, ö
    /// (`1280`, `Malmö`, `malmo`, `Malmö stad`).
    pub fn by_code_or_name(&self, value: &str) -> Option<&Organisation> {
        let value = value.trim();
        self.by_code(value).or_else(|| {
            let folded = fold(value);
            self.organisations
                .iter()
                .find(|o| o.name_forms().contains(&folded))
        })
    }

    /// Resolves a publisher to an organisation of the region: by organisation number in its
    /// IRI, by its web domain, then by name. `None` when nothing matches.
    pub fn resolve_publisher(&self, iri: Option<&str>, names: &[&str]) -> Option<&Organisation> {
        if let Some(iri) = iri {
            if let Some(rest) = iri.strip_prefix(DATAPORTAL_ORGANISATION)
                && let Some(nr) = organisation_number(rest)
                && let Some(org) = self
                    .organisations
                    .iter()
                    .find(|o| o.orgnr.as_deref() == Some(&nr))
            {
                return Some(org);
            }
            if let Some(host) = host_of(iri)
                && let Some(org) = self.organisations.iter().find(|o| {
                    o.domain
                        .as_deref()
                        .is_some_and(|d| host == d || host.ends_with(&format!(".{d}")))
                })
            {
                return Some(org);
            }
        }
        let folded: Vec<String> = names.iter().map(|n| fold(n.trim())).collect();
        self.organisations
            .iter()
            .find(|o| o.name_forms().iter().any(|form| folded.contains(form)))
    }
}

fn host_of(iri: &str) -> Option<&str> {
    let rest = iri.split_once("://")?.1;
    let host = rest.split(['/', '?', '#', ':']).next()?;
    Some(host.strip_prefix("www.").unwrap_or(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> OrganisationDirectory {
        OrganisationDirectory::new(vec![
            Organisation {
                code: "1280".into(),
                name: "Malmö stad".into(),
                short_name: "Malmö".into(),
                orgnr: Some("2120001124".into()),
                domain: Some("malmo.se".into()),
            },
            Organisation {
                code: "1281".into(),
                name: "Lunds kommun".into(),
                short_name: "Lund".into(),
                orgnr: None,
                domain: Some("lund.se".into()),
            },
        ])
    }

    #[test]
    fn resolves_by_orgnr_domain_and_name() {
        let d = directory();
        assert_eq!(
            d.resolve_publisher(Some("http://dataportal.se/organisation/SE2120001124"), &[])
                .map(|o| o.code.as_str()),
            Some("1280")
        );
        assert_eq!(
            d.resolve_publisher(Some("https://www.lund.se/org"), &[])
                .map(|o| o.code.as_str()),
            Some("1281")
        );
        assert_eq!(
            d.resolve_publisher(None, &["Malmo stad"])
                .map(|o| o.code.as_str()),
            Some("1280")
        );
        assert_eq!(
            d.resolve_publisher(None, &["Lunds kommun"])
                .map(|o| o.code.as_str()),
            Some("1281")
        );
        assert_eq!(d.resolve_publisher(None, &["Lundagård AB"]), None);
    }
}

#[cfg(test)]
mod order_tests {
    #[test]
    fn swedish_names_sort_with_a_ring_a_and_o_umlaut_last() {
        let mut names = [
            "Östra Göinge kommun",
            "Ängelholms kommun",
            "Åstorps kommun",
            "Ystads kommun",
            "Malmö stad",
            "Region Skåne",
        ];
        names.sort_by_key(|n| super::swedish_order(n));
        assert_eq!(
            names,
            [
                "Malmö stad",
                "Region Skåne",
                "Ystads kommun",
                "Åstorps kommun",
                "Ängelholms kommun",
                "Östra Göinge kommun",
            ]
        );
    }
}
