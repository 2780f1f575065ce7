//! Vocabulary constants, one module per namespace, in the style of `oxrdf::vocab`.

macro_rules! terms {
    ($ns:literal; $($name:ident = $local:literal),* $(,)?) => {
        /// The namespace IRI.
        pub const NS: &str = $ns;
        $(
            #[doc = concat!("`", $ns, $local, "`")]
            pub const $name: oxrdf::NamedNodeRef<'static> =
                oxrdf::NamedNodeRef::new_unchecked(concat!($ns, $local));
        )*
    };
}

pub mod rdf {
    terms!("http://www.w3.org/1999/02/22-rdf-syntax-ns#"; TYPE = "type");
}

pub mod dcat {
    terms!("http://www.w3.org/ns/dcat#";
        CATALOG = "Catalog", DATASET = "Dataset", DATASET_SERIES = "DatasetSeries",
        DISTRIBUTION = "Distribution", DATA_SERVICE = "DataService",
        DATASET_PROP = "dataset", DISTRIBUTION_PROP = "distribution", KEYWORD = "keyword",
        THEME = "theme", CONTACT_POINT = "contactPoint", LANDING_PAGE = "landingPage",
        ACCESS_URL = "accessURL", DOWNLOAD_URL = "downloadURL", MEDIA_TYPE = "mediaType",
        BYTE_SIZE = "byteSize", START_DATE = "startDate", END_DATE = "endDate", CATALOG_PROP = "catalog",
        ACCESS_SERVICE = "accessService", ENDPOINT_URL = "endpointURL",
    );
}

pub mod dcterms {
    terms!("http://purl.org/dc/terms/";
        TITLE = "title", DESCRIPTION = "description", IDENTIFIER = "identifier",
        PUBLISHER = "publisher", CREATOR = "creator", LICENSE = "license", RIGHTS = "rights",
        ACCESS_RIGHTS = "accessRights", CONFORMS_TO = "conformsTo", SPATIAL = "spatial",
        TEMPORAL = "temporal", ISSUED = "issued", MODIFIED = "modified",
        ACCRUAL_PERIODICITY = "accrualPeriodicity", FORMAT = "format", LANGUAGE = "language",
        HAS_PART = "hasPart", IS_PART_OF = "isPartOf", TYPE = "type",
    );
}

pub mod foaf {
    terms!("http://xmlns.com/foaf/0.1/"; NAME = "name", AGENT = "Agent", ORGANIZATION = "Organization", PAGE = "page", HOMEPAGE = "homepage", MBOX = "mbox", DOCUMENT = "Document");
}

pub mod vcard {
    terms!("http://www.w3.org/2006/vcard/ns#"; FN = "fn", HAS_EMAIL = "hasEmail", ORGANIZATION_NAME = "organization-name");
}

pub mod dcatap {
    terms!("http://data.europa.eu/r5r/"; HVD_CATEGORY = "hvdCategory", APPLICABLE_LEGISLATION = "applicableLegislation", AVAILABILITY = "availability");
}

pub mod hydra {
    terms!("http://www.w3.org/ns/hydra/core#";
        NEXT = "next", NEXT_PAGE = "nextPage", VIEW = "view", FIRST = "first", PREVIOUS = "previous",
        LAST = "last", TOTAL_ITEMS = "totalItems", ITEMS_PER_PAGE = "itemsPerPage",
        PAGED_COLLECTION = "PagedCollection", PARTIAL_COLLECTION_VIEW = "PartialCollectionView",
    );
}

pub mod schema {
    terms!("http://schema.org/"; START_DATE = "startDate", END_DATE = "endDate", OFFERS = "offers", DESCRIPTION = "description");
}

pub mod xsd {
    terms!("http://www.w3.org/2001/XMLSchema#"; DATE = "date", DATE_TIME = "dateTime", G_YEAR = "gYear", STRING = "string");
}

/// EU authority tables (publications office).
pub mod eu {
    /// Data themes.
    pub const DATA_THEME: &str = "http://publications.europa.eu/resource/authority/data-theme/";
    /// File types.
    pub const FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";
    /// Frequencies.
    pub const FREQUENCY: &str = "http://publications.europa.eu/resource/authority/frequency/";
    /// Access rights.
    pub const ACCESS_RIGHT: &str = "http://publications.europa.eu/resource/authority/access-right/";
    /// Languages.
    pub const LANGUAGE: &str = "http://publications.europa.eu/resource/authority/language/";
    /// HVD categories.
    pub const HVD: &str = "http://data.europa.eu/bna/";
}

/// The publisher IRI pattern dataportal.se uses for Swedish organisations.
pub const DATAPORTAL_ORGANISATION: &str = "http://dataportal.se/organisation/SE";
