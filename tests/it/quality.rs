//! Metadata quality: exact MQA points on hand-written datasets whose right answer is known
//! for every indicator, and the SHACL validator on the constraints DCAT-AP uses.

use crate::support::directory;
use samla_model::quality::{self, Band, Context, LinkState, Options};
use samla_model::shacl::{Severity, Shapes};
use samla_model::{DatasetRecord, SourceContext, extract_datasets};

const PREFIXES: &str = r#"
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ft: <http://publications.europa.eu/resource/authority/file-type/> .
"#;

/// Meets every indicator.
const COMPLETE: &str = r#"
<https://k.example/d/complete> a dcat:Dataset ;
    dct:title "Badplatser"@sv ; dct:description "Kommunens badplatser."@sv ;
    dcat:keyword "bad"@sv ; dcat:theme <http://publications.europa.eu/resource/authority/data-theme/ENVI> ;
    dct:spatial <http://sws.geonames.org/2692969/> ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2020-01-01"^^xsd:date ] ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/PUBLIC> ;
    dcat:contactPoint [ a vcard:Organization ; vcard:fn "Stadsbyggnadskontoret" ] ;
    dct:publisher <http://dataportal.se/organisation/SE2120001124> ;
    dct:issued "2021-03-01"^^xsd:date ; dct:modified "2024-05-01"^^xsd:date ;
    dcat:distribution <https://k.example/d/complete/csv> .
<http://dataportal.se/organisation/SE2120001124> a foaf:Agent ; foaf:name "Malmö stad"@sv .
<https://k.example/d/complete/csv> a dcat:Distribution ;
    dcat:accessURL <https://k.example/bad> ; dcat:downloadURL <https://k.example/bad.csv> ;
    dct:format ft:CSV ; dcat:mediaType <http://www.iana.org/assignments/media-types/text/csv> ;
    dct:license <http://creativecommons.org/licenses/by/4.0/> ;
    dct:rights <https://k.example/rights> ; dcat:byteSize "2048"^^xsd:nonNegativeInteger .
"#;

/// Title, description and a broken access URL: nothing else.
const BARE: &str = r#"
<https://k.example/d/bare> a dcat:Dataset ;
    dct:title "Protokoll"@sv ; dct:description "Protokoll."@sv ;
    dcat:distribution <https://k.example/d/bare/1> .
<https://k.example/d/bare/1> a dcat:Distribution ; dcat:accessURL <https://k.example/gone> .
"#;

/// Some of everything: a PDF and an XLSX distribution, access rights as free text.
const MIXED: &str = r#"
<https://k.example/d/mixed> a dcat:Dataset ;
    dct:title "Bygglov"@sv ; dct:description "Beviljade bygglov."@sv ;
    dcat:keyword "bygglov"@sv ; dcat:theme <http://publications.europa.eu/resource/authority/data-theme/GOVE> ;
    dct:accessRights "offentlig" ;
    dct:publisher <http://dataportal.se/organisation/SE2120001124> ;
    dct:issued "2022-01-01"^^xsd:date ;
    dcat:distribution <https://k.example/d/mixed/pdf>, <https://k.example/d/mixed/xlsx> .
<http://dataportal.se/organisation/SE2120001124> a foaf:Agent ; foaf:name "Malmö stad"@sv .
<https://k.example/d/mixed/pdf> a dcat:Distribution ;
    dcat:accessURL <https://k.example/bygglov> ; dct:format ft:PDF ;
    dct:license <https://creativecommons.org/licenses/by/4.0> .
<https://k.example/d/mixed/xlsx> a dcat:Distribution ;
    dcat:accessURL <https://k.example/bygglov/xlsx> ; dcat:downloadURL <https://k.example/bygglov.xlsx> ;
    dct:format ft:XLSX ;
    dcat:mediaType <http://www.iana.org/assignments/media-types/application/vnd.openxmlformats-officedocument.spreadsheetml.sheet> .
"#;

fn record(body: &str) -> (DatasetRecord, Vec<oxrdf::Triple>) {
    let text = format!("{PREFIXES}{body}");
    let triples: Vec<oxrdf::Triple> = oxttl::TurtleParser::new()
        .for_slice(text.as_bytes())
        .collect::<Result<_, _>>()
        .expect("fixture parses");
    let dir = directory();
    let ctx = SourceContext {
        source_id: "malmo",
        organisation_code: "1280",
        directory: &dir,
    };
    let mut records = extract_datasets(triples, &ctx).records;
    assert_eq!(records.len(), 1);
    let record = records.remove(0);
    let graph = samla_model::record::parse_canonical(&record.ntriples).expect("canonical");
    (record, graph)
}

fn links(url: &str) -> LinkState {
    match url {
        "https://k.example/gone" => LinkState::Broken,
        "https://k.example/bygglov/xlsx" | "https://k.example/bygglov.xlsx" => LinkState::Unchecked,
        _ => LinkState::Ok,
    }
}

fn score(body: &str, options: Options) -> (quality::Score, bool) {
    let (record, graph) = record(body);
    let conforms = Shapes::dcat_ap_core().validate(&graph).conforms;
    let cx = Context {
        link: &links,
        conforms: Some(conforms),
        options,
    };
    (quality::score(&record.view, &cx), conforms)
}

fn points(s: &quality::Score) -> Vec<(&'static str, i32)> {
    s.indicators.iter().map(|o| (o.key, o.points)).collect()
}

#[test]
fn a_complete_dataset_scores_every_point() {
    let (s, conforms) = score(COMPLETE, Options::default());
    assert!(conforms);
    assert_eq!(s.points, 405, "{:?}", points(&s));
    assert_eq!(s.band, Band::Excellent);
    assert!(s.hints.is_empty(), "{:?}", s.hints);
    let (sv, _) = score(COMPLETE, Options { swedish: true });
    assert_eq!((sv.points, sv.max), (375, 375));
}

#[test]
fn a_bare_dataset_scores_compliance_only_and_pays_for_missing_format_and_media_type() {
    let (s, conforms) = score(BARE, Options::default());
    assert!(
        conforms,
        "title, description and an access URL are all DCAT-AP asks"
    );
    let expected = [
        ("keyword", 0),
        ("theme", 0),
        ("spatial", 0),
        ("temporal", 0),
        ("access_url_status", 0),
        ("download_url", 0),
        ("download_url_status", 0),
        ("format", -5),
        ("media_type", -5),
        ("format_vocabulary", 0),
        ("non_proprietary", 0),
        ("machine_readable", 0),
        ("dcat_ap_compliance", 30),
        ("licence", 0),
        ("licence_vocabulary", 0),
        ("access_rights", 0),
        ("access_rights_vocabulary", 0),
        ("contact_point", 0),
        ("publisher", 0),
        ("rights", 0),
        ("byte_size", 0),
        ("issued", 0),
        ("modified", 0),
    ];
    assert_eq!(points(&s), expected);
    assert_eq!(s.points, 20);
    assert_eq!(s.band, Band::Bad);
    // With the Swedish deviations compliance is worth nothing.
    let (sv, _) = score(BARE, Options { swedish: true });
    assert_eq!(sv.points, 0, "−10 is floored at 0");

    // Every missed indicator is a concrete fix, in both languages, about the right subject.
    assert_eq!(s.hints.len(), 22);
    assert!(
        s.hints.iter().all(|h| !h.subjects.is_empty()),
        "every hint names its subject: {:?}",
        s.hints
    );
    let licence = s
        .hints
        .iter()
        .find(|h| h.indicator == "licence")
        .expect("licence hint");
    assert_eq!(licence.sv, "Lägg till licens på distributionen");
    assert_eq!(licence.en, "Add a licence to the distribution");
    assert_eq!(licence.property, "dct:license");
    assert_eq!(licence.subjects, ["https://k.example/d/bare/1"]);
    let broken = s
        .hints
        .iter()
        .find(|h| h.indicator == "access_url_status")
        .expect("broken link hint");
    assert_eq!(broken.subjects, ["https://k.example/d/bare/1"]);
    assert_eq!(broken.gain, 50);
    let keyword = s
        .hints
        .iter()
        .find(|h| h.indicator == "keyword")
        .expect("keyword hint");
    assert_eq!(keyword.subjects, ["https://k.example/d/bare"]);
    let format = s
        .hints
        .iter()
        .find(|h| h.indicator == "format")
        .expect("format hint");
    assert_eq!(format.gain, 25, "20 points plus the 5 lost");
    assert_eq!(
        s.hints[0].indicator, "access_url_status",
        "most points first"
    );
}

#[test]
fn a_mixed_dataset_takes_its_best_distribution_and_unchecked_links_score_nothing() {
    let (s, conforms) = score(MIXED, Options::default());
    assert!(
        !conforms,
        "free-text access rights break dct:accessRights' node kind"
    );
    let expected = [
        ("keyword", 30),
        ("theme", 30),
        ("spatial", 0),
        ("temporal", 0),
        ("access_url_status", 50),
        ("download_url", 20),
        ("download_url_status", 0),
        ("format", 20),
        ("media_type", 10),
        ("format_vocabulary", 10),
        ("non_proprietary", 0),
        ("machine_readable", 20),
        ("dcat_ap_compliance", 0),
        ("licence", 20),
        ("licence_vocabulary", 10),
        ("access_rights", 10),
        ("access_rights_vocabulary", 0),
        ("contact_point", 0),
        ("publisher", 10),
        ("rights", 0),
        ("byte_size", 0),
        ("issued", 5),
        ("modified", 0),
    ];
    assert_eq!(points(&s), expected);
    assert_eq!(s.points, 245);
    assert_eq!(s.band, Band::Good);
    let unchecked = s.outcome("download_url_status").expect("outcome");
    assert_eq!(unchecked.met, None, "an unchecked link is not yet known");
    assert!(!s.hints.iter().any(|h| h.indicator == "download_url_status"));
    let open = s
        .hints
        .iter()
        .find(|h| h.indicator == "non_proprietary")
        .expect("hint");
    assert_eq!(open.subjects, ["https://k.example/d/mixed/xlsx"]);
    let dims: Vec<i32> = s.dimensions.iter().map(|(_, p)| *p).collect();
    assert_eq!(dims, [60, 70, 60, 50, 5]);
}

const SHAPES: &str = r#"
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://shapes.example/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:Thing a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:Literal ] ,
                [ sh:path ex:size ; sh:datatype xsd:integer ] ,
                [ sh:path ex:kind ; sh:in ( ex:a ex:b ) ] ,
                [ sh:path ex:code ; sh:pattern "^[0-9]{4}$" ] ,
                [ sh:path ex:part ; sh:class ex:Part ; sh:severity sh:Warning ] ,
                [ sh:path [ sh:inversePath ex:owns ] ; sh:maxCount 1 ] ,
                [ sh:path ex:when ; sh:node ex:Date ] .
ex:Date sh:or ( [ sh:datatype xsd:date ] [ sh:datatype xsd:gYear ] ) .
"#;

fn validate(data: &str) -> samla_model::shacl::ValidationReport {
    let shapes = Shapes::from_turtle(&[SHAPES]).expect("shapes load");
    let text = format!(
        "@prefix ex: <https://shapes.example/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n{data}"
    );
    let triples: Vec<oxrdf::Triple> = oxttl::TurtleParser::new()
        .for_slice(text.as_bytes())
        .collect::<Result<_, _>>()
        .expect("data parses");
    shapes.validate(&triples)
}

#[test]
fn the_validator_checks_each_constraint_the_dcat_ap_shapes_use() {
    let good = validate(
        r#"ex:t a ex:Thing ; ex:name "T" ; ex:size 3 ; ex:kind ex:a ; ex:code "1280" ;
           ex:part ex:p ; ex:when "2024"^^xsd:gYear . ex:p a ex:SubPart . ex:SubPart <http://www.w3.org/2000/01/rdf-schema#subClassOf> ex:Part .
           ex:o ex:owns ex:t ."#,
    );
    assert!(
        good.conforms && good.results.is_empty(),
        "{:?}",
        good.results
    );

    let bad = validate(
        r#"ex:t a ex:Thing ; ex:name "T", "U" ; ex:size "3" ; ex:kind ex:c ; ex:code "12a0" ;
           ex:part ex:p ; ex:when "last year" .
           ex:o1 ex:owns ex:t . ex:o2 ex:owns ex:t .
           ex:u a ex:Thing ; ex:name ex:iri ."#,
    );
    assert!(!bad.conforms);
    let found: Vec<(&str, &str, Severity)> = bad
        .results
        .iter()
        .map(|r| (r.focus.as_str(), r.constraint, r.severity))
        .collect();
    for expected in [
        ("https://shapes.example/t", "maxCount", Severity::Violation),
        ("https://shapes.example/t", "datatype", Severity::Violation),
        ("https://shapes.example/t", "in", Severity::Violation),
        ("https://shapes.example/t", "pattern", Severity::Violation),
        ("https://shapes.example/t", "class", Severity::Warning),
        ("https://shapes.example/t", "node", Severity::Violation),
        ("https://shapes.example/u", "nodeKind", Severity::Violation),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    let inverse = bad
        .results
        .iter()
        .filter(|r| r.path.as_deref() == Some("^https://shapes.example/owns"))
        .count();
    assert_eq!(inverse, 1, "two owners break the inverse path's maxCount");
    let missing = validate("ex:v a ex:Thing .");
    assert_eq!(missing.results.len(), 1);
    assert_eq!(missing.results[0].constraint, "minCount");

    // A constraint the validator does not implement is named, not passed silently.
    let shapes = Shapes::from_turtle(&[
        "@prefix sh: <http://www.w3.org/ns/shacl#> . <https://s.example/S> sh:targetClass <https://s.example/C> ; sh:sparql [] .",
    ])
    .expect("loads");
    assert!(
        shapes.unsupported.contains("sh:sparql"),
        "{:?}",
        shapes.unsupported
    );
}

/// The reports hold a slimmed view of every dataset; over the simulated region (every defect
/// it writes), it scores, ages and links exactly as the whole view, whatever the links say.
#[test]
fn the_reports_slimmed_views_score_as_the_whole_ones() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let r = runtime.block_on(async {
        let r = crate::support::region(400).await;
        r.harvest().await;
        r
    });
    let shapes = Shapes::dcat_ap_core();
    // Some links broken, some unchecked, the rest answering: by a hash of the URL.
    let link = |url: &str| match url.len() % 3 {
        0 => LinkState::Broken,
        1 => LinkState::Unchecked,
        _ => LinkState::Ok,
    };
    let mut compared = 0;
    r.samla
        .store
        .for_each_dataset(|d| {
            let triples = samla_model::record::parse_canonical(&d.ntriples).expect("stored");
            let whole = d.view_from(&triples);
            let slim = whole.clone().for_reports();
            let conforms = shapes.validate(&triples).conforms;
            for options in [Options::default(), Options { swedish: true }] {
                let cx = Context {
                    link: &link,
                    conforms: Some(conforms),
                    options,
                };
                assert_eq!(
                    quality::score(&whole, &cx),
                    quality::score(&slim, &cx),
                    "{}",
                    d.id
                );
            }
            assert_eq!(whole.modified_at(), slim.modified_at());
            assert_eq!(whole.accrual_periodicity, slim.accrual_periodicity);
            assert_eq!(
                (&whole.themes, &whole.conforms_to, &whole.hvd_categories),
                (&slim.themes, &slim.conforms_to, &slim.hvd_categories)
            );
            assert!(whole.link_urls().eq(slim.link_urls()));
            compared += 1;
        })
        .expect("datasets");
    assert!(compared > 300, "{compared}");
}

/// The reports keep their facts in a file on disk and read them through: each dataset comes
/// back as it was derived, in id order, across the file's blocks.
#[test]
fn the_reports_read_their_facts_back_from_disk_as_derived() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let r = runtime.block_on(async {
        let r = crate::support::region(400).await;
        r.harvest().await;
        r
    });
    let reports = &r.samla.reports;
    let mut derived = Vec::new();
    r.samla
        .store
        .for_each_dataset(|d| derived.extend(reports.facts_of(&d)))
        .expect("datasets");
    let facts = reports.facts().expect("facts");
    let mut read = Vec::new();
    facts.each(|d| read.push(d)).expect("read back");
    assert!(read.len() > 300, "{}", read.len());
    assert_eq!(facts.len(), read.len());
    assert!(read.windows(2).all(|w| w[0].id < w[1].id), "in id order");
    assert_eq!(read, derived);
    // A second reader of the same facts reads them all again.
    let mut again = 0;
    facts.each(|_| again += 1).expect("read again");
    assert_eq!(again, read.len());
    // The file has no name: nothing is left behind in the state directory.
    let dir = r.state.path().join("reports");
    assert_eq!(std::fs::read_dir(dir).expect("reports dir").count(), 0);
}
