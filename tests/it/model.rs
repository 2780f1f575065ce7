//! Identity, skolem IRIs and hashes: stable across runs and independent of triple order.

use crate::support::directory;
use oxrdf::Triple;
use proptest::prelude::*;
use samla_model::{SourceContext, extract_datasets};

const CATALOG: &str = r#"
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
[] a dcat:Catalog ; dcat:dataset _:ds1, <https://k.example/data/2> .
_:ds1 a dcat:Dataset ; dcterms:title "Lekplatser"@sv ;
    dcterms:publisher [ foaf:name "Malmö stad" ] ;
    dcat:distribution [ dcat:accessURL <https://k.example/lek.csv> ; dcterms:format "CSV" ],
                      [ dcat:accessURL <https://k.example/lek.json> ; dcterms:format "JSON" ] .
<https://k.example/data/2> a dcat:Dataset ; dcterms:title "Grillplatser"@sv ; dcterms:identifier "grill" ;
    dcat:distribution [ dcat:accessURL <https://k.example/grill.csv> ; dcterms:license "CC-BY-4.0" ] .
"#;

fn parse(text: &str) -> Vec<Triple> {
    oxttl::TurtleParser::new()
        .for_slice(text.as_bytes())
        .collect::<Result<_, _>>()
        .expect("fixture parses")
}

/// The records and problems of `triples` read as Malmö's source.
fn extract(triples: Vec<Triple>) -> samla_model::Extraction {
    let dir = directory();
    let ctx = SourceContext {
        source_id: "malmo",
        organisation_code: "1280",
        directory: &dir,
    };
    extract_datasets(triples, &ctx)
}

fn ids_and_hashes(triples: Vec<Triple>) -> Vec<(String, String, String)> {
    extract(triples)
        .records
        .into_iter()
        .map(|r| (r.id.0, r.hash, r.ntriples))
        .collect()
}

#[test]
fn skolem_iris_and_hashes_are_the_same_on_every_run() {
    // Each parse mints new blank-node labels; the records must not change.
    let first = ids_and_hashes(parse(CATALOG));
    let second = ids_and_hashes(parse(CATALOG));
    assert_eq!(first, second);
    assert_eq!(first.len(), 2);
    assert!(
        first
            .iter()
            .any(|(id, _, _)| id.starts_with("urn:samla:genid:malmo:")),
        "{first:?}"
    );
    assert!(
        !first.iter().any(|(_, _, nt)| nt.contains("_:")),
        "no blank node is left"
    );
}

#[test]
fn a_skolemised_publisher_with_a_known_orgnr_gets_the_dataportal_iri() {
    let dir = directory();
    let ctx = SourceContext {
        source_id: "malmo",
        organisation_code: "1280",
        directory: &dir,
    };
    let records = extract_datasets(parse(CATALOG), &ctx).records;
    let lek = records
        .iter()
        .find(|r| r.view.title.get("sv").map(String::as_str) == Some("Lekplatser"))
        .expect("lek");
    assert_eq!(
        lek.view.publisher.as_ref().map(|p| p.uri.as_str()),
        Some("http://dataportal.se/organisation/SE2120001124")
    );
    assert_eq!(lek.municipality_code.as_deref(), Some("1280"));
    let grill = records
        .iter()
        .find(|r| r.id.0 == "https://k.example/data/2")
        .expect("grill");
    assert_eq!(
        grill.view.license.as_deref(),
        Some("http://creativecommons.org/licenses/by/4.0/")
    );
}

#[test]
fn a_changed_value_changes_the_hash_of_that_dataset_only() {
    let before = ids_and_hashes(parse(CATALOG));
    let after = ids_and_hashes(parse(
        &CATALOG.replace("Grillplatser", "Grillplatser och vindskydd"),
    ));
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0.clone())
        .collect();
    assert_eq!(changed, vec!["https://k.example/data/2".to_string()]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn records_do_not_depend_on_triple_order(seed in any::<u64>()) {
        let mut triples = parse(CATALOG);
        // A deterministic shuffle from the seed.
        let n = triples.len();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            triples.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(ids_and_hashes(triples), ids_and_hashes(parse(CATALOG)));
    }

    #[test]
    fn normalising_twice_changes_nothing(seed in 0u64..1000) {
        let dir = directory();
        let ctx = SourceContext { source_id: "malmo", organisation_code: "1280", directory: &dir };
        let text = CATALOG.replace("Lekplatser", &format!("Lekplatser {seed}"));
        for record in extract_datasets(parse(&text), &ctx).records {
            let again = extract_datasets(samla_model::record::parse_canonical(&record.ntriples).expect("canonical parses"), &ctx);
            let same = again.records.iter().find(|r| r.iri == record.iri).expect("same dataset");
            prop_assert_eq!(&same.hash, &record.hash);
        }
    }
}

/// Blank titles count as missing, and titles that start like a spreadsheet formula are named,
/// each with the dataset's subject; a plain title is neither.
#[test]
fn blank_and_formula_like_titles_are_problems() {
    let triples = parse(
        r#"
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://k.example/data/blank> a dcat:Dataset ; dcterms:title "   "@sv .
<https://k.example/data/none> a dcat:Dataset .
<https://k.example/data/formula> a dcat:Dataset ; dcterms:title "=HYPERLINK(\"http://x\")"@sv .
<https://k.example/data/plain> a dcat:Dataset ; dcterms:title "Lekplatser"@sv .
"#,
    );
    let extraction = extract(triples);
    assert_eq!(extraction.records.len(), 4);
    let mut problems: Vec<(String, String)> = extraction
        .problems
        .iter()
        .filter(|p| p.reason == "missing_title" || p.reason == "formula_like_title")
        .map(|p| (p.reason.to_string(), p.subject.clone()))
        .collect();
    problems.sort();
    assert_eq!(
        problems,
        [
            (
                "formula_like_title".to_string(),
                "https://k.example/data/formula".to_string()
            ),
            (
                "missing_title".to_string(),
                "https://k.example/data/blank".to_string()
            ),
            (
                "missing_title".to_string(),
                "https://k.example/data/none".to_string()
            ),
        ]
    );
}

/// Control characters are removed and named; a property with more values than the limit
/// keeps the least of them (the same whatever the order of the input) and is named; a dataset
/// whose description is larger than the limit is not taken, and is named.
#[test]
fn control_characters_long_lists_and_huge_datasets_are_problems() {
    use samla_model::record::{MAX_DATASET_TRIPLES, MAX_VALUES_PER_PROPERTY};
    let mut text = String::from(
        r#"
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://k.example/data/ctl> a dcat:Dataset ; dcterms:title "Bad\u0000platser"@sv .
<https://k.example/data/words> a dcat:Dataset ; dcterms:title "Ord"@sv .
<https://k.example/data/huge> a dcat:Dataset ; dcterms:title "Stor"@sv .
"#,
    );
    for i in 0..MAX_VALUES_PER_PROPERTY + 50 {
        text.push_str(&format!(
            "<https://k.example/data/words> dcat:keyword \"ord{i:05}\" .\n"
        ));
    }
    // Many properties of a few values each: no list is too long, the whole is.
    for i in 0..MAX_DATASET_TRIPLES + 1 {
        text.push_str(&format!(
            "<https://k.example/data/huge> <https://k.example/p{i}> \"v\" .\n"
        ));
    }
    let mut triples = parse(&text);
    let extraction = extract(triples.clone());
    let reasons = |e: &samla_model::Extraction| -> Vec<(String, String)> {
        let mut r: Vec<(String, String)> = e
            .problems
            .iter()
            .filter(|p| p.reason != "missing_publisher")
            .map(|p| (p.reason.to_string(), p.subject.clone()))
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        reasons(&extraction),
        [
            (
                "control_characters".to_string(),
                "https://k.example/data/ctl".to_string()
            ),
            (
                "dataset_too_large".to_string(),
                "https://k.example/data/huge".to_string()
            ),
            (
                "list_too_long".to_string(),
                "https://k.example/data/words".to_string()
            ),
        ]
    );
    let ids: Vec<&str> = extraction.records.iter().map(|r| r.iri.as_str()).collect();
    assert_eq!(
        ids,
        ["https://k.example/data/ctl", "https://k.example/data/words"]
    );
    let ctl = &extraction.records[0];
    assert!(
        ctl.ntriples.contains("\"Badplatser\"@sv"),
        "{}",
        ctl.ntriples
    );
    let words = &extraction.records[1];
    assert_eq!(words.view.keywords.len(), MAX_VALUES_PER_PROPERTY);
    assert!(words.ntriples.contains("\"ord00000\""));
    assert!(!words.ntriples.contains("\"ord01049\""));
    // The same records whatever the order of the input.
    triples.reverse();
    let reversed = extract(triples);
    assert_eq!(reversed.records[1].hash, words.hash);
}

/// A licence published under a variant IRI is normalised to the canonical one, and the
/// publisher's description of it goes with it (it would otherwise describe nothing).
#[test]
fn a_normalised_licence_keeps_its_description() {
    let triples = parse(
        r#"
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://k.example/data/1> a dcat:Dataset ; dcterms:title "Lekplatser"@sv ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> .
<https://creativecommons.org/licenses/by/4.0/> a dcterms:LicenseDocument ;
    rdfs:label "Creative Commons Erkännande 4.0"@sv .
"#,
    );
    let record = extract(triples).records.remove(0);
    let licence = record.view.license.clone().expect("licence");
    assert_ne!(licence, "https://creativecommons.org/licenses/by/4.0/");
    assert!(
        record.ntriples.contains(&format!(
            "<{licence}> <http://www.w3.org/2000/01/rdf-schema#label> \"Creative Commons Erkännande 4.0\"@sv"
        )),
        "{}",
        record.ntriples
    );
    assert!(
        !record.ntriples.contains("<https://creativecommons.org/"),
        "{}",
        record.ntriples
    );
}
