//! What Swedish municipalities publish: the topics the simulated region draws its datasets from.

/// A kind of dataset.
pub struct Topic {
    /// Slug for IRIs.
    pub slug: &'static str,
    /// Swedish title.
    pub sv: &'static str,
    /// English title.
    pub en: &'static str,
    /// Swedish description.
    pub desc_sv: &'static str,
    /// English description.
    pub desc_en: &'static str,
    /// Swedish keywords.
    pub keywords: &'static [&'static str],
    /// EU theme codes.
    pub themes: &'static [&'static str],
    /// National specification, if any.
    pub spec: Option<&'static str>,
    /// HVD category code, if any.
    pub hvd: Option<&'static str>,
    /// EU frequency code.
    pub frequency: &'static str,
}

const fn t(
    slug: &'static str,
    sv: &'static str,
    en: &'static str,
    desc_sv: &'static str,
    desc_en: &'static str,
    keywords: &'static [&'static str],
    themes: &'static [&'static str],
    spec: Option<&'static str>,
    hvd: Option<&'static str>,
    frequency: &'static str,
) -> Topic {
    Topic { slug, sv, en, desc_sv, desc_en, keywords, themes, spec, hvd, frequency }
}

/// The topics, most common first.
pub const TOPICS: &[Topic] = &[
    t("badplatser", "Badplatser", "Bathing sites", "Kommunens badplatser med läge, faciliteter och tillgänglighet.", "The municipality's bathing sites with location, facilities and accessibility.", &["bad", "badplats", "strand", "friluftsliv"], &["ENVI", "EDUC"], Some("https://dataportal.se/specifications/badplatser/1.0"), None, "ANNUAL"),
    t("offentliga-toaletter", "Offentliga toaletter", "Public toilets", "Offentliga toaletter med öppettider, avgift och tillgänglighetsanpassning.", "Public toilets with opening hours, fee and accessibility.", &["toalett", "tillgänglighet"], &["SOCI", "HEAL"], Some("https://lankadedata.se/spec/public-toilets/"), None, "QUARTERLY"),
    t("laddplatser", "Laddplatser för elbilar", "Charging points for electric vehicles", "Publika laddplatser och laddstolpar för elfordon i kommunen.", "Public charging points for electric vehicles in the municipality.", &["laddstolpar", "elbil", "laddinfrastruktur", "laddning"], &["TRAN", "ENER"], None, Some("c_b79e35eb"), "MONTHLY"),
    t("lekplatser", "Lekplatser", "Playgrounds", "Kommunens lekplatser med utrustning och åldersgrupper.", "The municipality's playgrounds with equipment and age groups.", &["lek", "barn", "park"], &["EDUC", "SOCI"], None, None, "ANNUAL"),
    t("grillplatser", "Grillplatser", "Barbecue sites", "Allmänna grillplatser i parker och naturområden.", "Public barbecue sites in parks and nature areas.", &["grill", "friluftsliv", "park"], &["EDUC", "ENVI"], Some("https://dataportal.se/specifications/grillplatser/1.0"), None, "ANNUAL"),
    t("detaljplaner", "Detaljplaner", "Detailed development plans", "Gällande detaljplaner med planbestämmelser och plangränser.", "Detailed development plans in force with regulations and boundaries.", &["plan", "bygg", "samhällsplanering"], &["GOVE", "REGI"], None, Some("c_ac64a52d"), "WEEKLY"),
    t("skolmat", "Skolmat", "School meals", "Veckans matsedel i kommunens skolor och förskolor.", "This week's menu in the municipality's schools and preschools.", &["skola", "matsedel", "måltider"], &["EDUC", "AGRI"], None, None, "WEEKLY"),
    t("luftkvalitet", "Luftkvalitet", "Air quality", "Mätningar av kvävedioxid och partiklar vid kommunens mätstationer.", "Measurements of nitrogen dioxide and particulates at the municipality's stations.", &["luft", "miljö", "mätning", "partiklar"], &["ENVI", "HEAL"], None, Some("c_dd313021"), "DAILY"),
    t("leverantorsfakturor", "Leverantörsfakturor", "Supplier invoices", "Utbetalningar till leverantörer per månad enligt leverantörsreskontran.", "Payments to suppliers per month from the accounts payable ledger.", &["ekonomi", "inköp", "fakturor"], &["ECON", "GOVE"], Some("https://lankadedata.se/spec/leverantorsreskontra/"), None, "MONTHLY"),
    t("trafikfloden", "Trafikflöden", "Traffic flows", "Fordonsräkningar på kommunens huvudgator per timme.", "Vehicle counts on main streets per hour.", &["trafik", "fordon", "mätning"], &["TRAN"], None, Some("c_b79e35eb"), "DAILY"),
    t("cykelrakning", "Cykelräkning", "Bicycle counts", "Automatiska cykelräknare med antal passager per timme.", "Automatic bicycle counters with passages per hour.", &["cykel", "cykelflöden", "mätning"], &["TRAN"], None, Some("c_b79e35eb"), "DAILY"),
    t("parkering", "Parkeringsplatser", "Parking", "Parkeringsplatser, taxor och beläggning.", "Parking places, fees and occupancy.", &["parkering", "bil", "taxa"], &["TRAN"], None, Some("c_b79e35eb"), "MONTHLY"),
    t("evenemang", "Evenemang", "Events", "Kalender över evenemang i kommunen.", "Calendar of events in the municipality.", &["kultur", "kalender", "evenemang"], &["EDUC"], None, None, "DAILY"),
    t("wifi-platser", "Wifi-platser", "Public wifi hotspots", "Platser med kommunens öppna wifi.", "Places with the municipality's open wifi.", &["wifi", "internet", "uppkoppling"], &["TECH"], None, None, "ANNUAL"),
    t("utegym", "Utegym", "Outdoor gyms", "Utegym och motionsspår med utrustning.", "Outdoor gyms and exercise trails with equipment.", &["motion", "träning", "hälsa"], &["HEAL", "EDUC"], None, None, "ANNUAL"),
    t("befolkning", "Befolkning per stadsdel", "Population by district", "Folkmängd per stadsdel, kön och ålder.", "Population by district, sex and age.", &["statistik", "befolkning", "demografi"], &["SOCI"], None, Some("c_e1da4e07"), "ANNUAL"),
    t("bygglov", "Beviljade bygglov", "Granted building permits", "Beviljade bygglov med fastighet, åtgärd och datum.", "Granted building permits with property, measure and date.", &["bygglov", "bygg", "fastighet"], &["GOVE", "REGI"], None, None, "WEEKLY"),
    t("adresser", "Belägenhetsadresser", "Addresses", "Kommunens belägenhetsadresser med koordinater.", "The municipality's addresses with coordinates.", &["adress", "karta", "geodata"], &["REGI"], None, Some("c_ac64a52d"), "WEEKLY"),
    t("badvattenkvalitet", "Badvattenkvalitet", "Bathing water quality", "Provtagning av badvatten vid kommunens badplatser.", "Bathing water samples at the municipality's bathing sites.", &["badvatten", "bad", "miljö"], &["ENVI", "HEAL"], None, Some("c_dd313021"), "WEEKLY"),
    t("atervinningsstationer", "Återvinningsstationer", "Recycling stations", "Återvinningsstationer och återvinningscentraler.", "Recycling stations and recycling centres.", &["avfall", "återvinning", "miljö"], &["ENVI"], None, None, "QUARTERLY"),
    t("hallplatser", "Hållplatser för kollektivtrafik", "Public transport stops", "Buss- och tåghållplatser med läge och namn.", "Bus and train stops with location and name.", &["kollektivtrafik", "buss", "hållplats"], &["TRAN"], None, Some("c_b79e35eb"), "MONTHLY"),
    t("forskolor", "Förskolor", "Preschools", "Kommunala och fristående förskolor med kontaktuppgifter.", "Public and independent preschools with contact details.", &["förskola", "barn", "utbildning"], &["EDUC"], None, None, "ANNUAL"),
    t("vaderstationer", "Väderobservationer", "Weather observations", "Temperatur, nederbörd och vind från kommunens väderstationer.", "Temperature, precipitation and wind from weather stations.", &["väder", "temperatur", "nederbörd"], &["ENVI"], None, Some("c_164e0bf5"), "CONT"),
    t("budget", "Budget och utfall", "Budget and outcome", "Kommunens budget och utfall per nämnd.", "The municipality's budget and outcome per committee.", &["ekonomi", "budget"], &["ECON", "GOVE"], None, None, "ANNUAL"),
    t("lediga-tomter", "Lediga tomter", "Available plots", "Kommunala tomter till salu för bostäder och verksamheter.", "Municipal plots for sale for housing and businesses.", &["tomt", "mark", "bostad"], &["ECON", "REGI"], None, None, "MONTHLY"),
    t("stadstrad", "Stadsträd", "City trees", "Träd i gatu- och parkmiljö med art och planteringsår.", "Trees in streets and parks with species and planting year.", &["träd", "grönska", "park"], &["ENVI"], None, None, "ANNUAL"),
    t("namndprotokoll", "Nämndprotokoll", "Committee minutes", "Protokoll från kommunens nämnder.", "Minutes from the municipality's committees.", &["protokoll", "politik", "nämnd"], &["GOVE"], None, None, "IRREG"),
    t("foretagsregister", "Företag i kommunen", "Companies in the municipality", "Registrerade företag per bransch och storlek.", "Registered companies by industry and size.", &["företag", "näringsliv", "bransch"], &["ECON"], None, Some("c_a9135398"), "QUARTERLY"),
];

/// District or series names that tell apart datasets of one topic in a large catalog.
pub const VARIANTS: &[&str] = &[
    "Centrum", "Väster", "Söder", "Öster", "Norr", "Hyllie", "Limhamn", "Fosie", "Husie", "Oxie", "Kirseberg",
    "Rosengård", "2019", "2020", "2021", "2022", "2023", "2024", "2025", "historik",
];
