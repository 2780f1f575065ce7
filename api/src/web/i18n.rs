//! The web UI's words in Swedish and English.

use std::collections::BTreeMap;

/// `(key, sv, en)`.
const WORDS: &[(&str, &str, &str)] = &[
    ("site", "Öppna data i", "Open data in"),
    ("skip", "Hoppa till innehållet", "Skip to content"),
    ("nav", "Huvudmeny", "Main menu"),
    ("search", "Sök", "Search"),
    ("search_label", "Sök datamängder", "Search datasets"),
    (
        "search_placeholder",
        "t.ex. badplatser, laddplatser, detaljplaner",
        "e.g. bathing sites, charging points, zoning plans",
    ),
    ("results", "träffar", "results"),
    (
        "corrected",
        "Inga träffar på det du skrev. Visar resultat för",
        "Nothing found as typed. Showing results for",
    ),
    (
        "no_results",
        "Inga datamängder matchar sökningen.",
        "No datasets match the search.",
    ),
    (
        "request_prompt",
        "Hittar du inte det du behöver? Berätta vilka data du saknar.",
        "Can't find what you need? Tell us which data you are missing.",
    ),
    ("filters", "Filtrera", "Filter"),
    ("clear_filters", "Rensa filter", "Clear filters"),
    ("remove_filter", "Ta bort filtret", "Remove the filter"),
    ("municipality", "Kommun", "Municipality"),
    ("publisher", "Utgivare", "Publisher"),
    ("theme", "Tema", "Theme"),
    ("format", "Format", "Format"),
    ("license", "Licens", "Licence"),
    ("access_rights", "Åtkomst", "Access rights"),
    ("conforms_to", "Specifikation", "Specification"),
    (
        "hvd_category",
        "Värdefulla datamängder",
        "High-value category",
    ),
    ("reuse", "Vidareanvändning", "Reuse"),
    ("open_licence", "Öppen licens", "Open licence"),
    ("free", "Avgift", "Fee"),
    ("fresh", "Aktualitet", "Up to date"),
    ("dates", "Datum", "Dates"),
    ("modified_since", "Ändrad från", "Modified from"),
    ("modified_until", "Ändrad till", "Modified until"),
    ("temporal_from", "Tidsperiod från", "Time period from"),
    ("temporal_to", "Tidsperiod till", "Time period to"),
    ("apply", "Använd", "Apply"),
    ("sort", "Sortering", "Sort"),
    ("sort_relevance", "Relevans", "Relevance"),
    ("sort_modified", "Senast ändrad", "Last modified"),
    ("modified", "Ändrad", "Modified"),
    ("issued", "Publicerad", "Issued"),
    ("pages", "Sidor", "Pages"),
    ("previous", "Föregående", "Previous"),
    ("next", "Nästa", "Next"),
    ("page", "Sida", "Page"),
    ("of", "av", "of"),
    (
        "feed",
        "Prenumerera på sökningen (Atom)",
        "Subscribe to this search (Atom)",
    ),
    ("datasets", "Datamängder", "Datasets"),
    ("dataset", "Datamängd", "Dataset"),
    ("distributions", "Distributioner", "Distributions"),
    ("name", "Namn", "Name"),
    ("download", "Ladda ner", "Download"),
    ("access", "Åtkomst", "Access"),
    ("landing_page", "Webbsida", "Landing page"),
    ("keywords", "Nyckelord", "Keywords"),
    ("frequency", "Uppdateringsfrekvens", "Update frequency"),
    ("contact", "Kontakt", "Contact"),
    ("no_license", "Ingen licens angiven", "No licence given"),
    ("quality", "Kvalitet", "Quality"),
    ("quality_points", "poäng", "points"),
    (
        "fixes",
        "Så blir beskrivningen bättre",
        "How to improve the description",
    ),
    ("no_fixes", "Inget att rätta.", "Nothing to fix."),
    ("gain", "poäng att vinna", "points to gain"),
    ("provenance", "Ursprung", "Provenance"),
    ("source", "Källa", "Source"),
    ("harvested", "Skördad", "Harvested"),
    ("first_seen", "Först sedd", "First seen"),
    ("as_rdf", "Som RDF (Turtle)", "As RDF (Turtle)"),
    (
        "archived",
        "Arkiverad: källan listar den inte längre.",
        "Archived: the source no longer lists it.",
    ),
    ("sources", "Källor", "Sources"),
    (
        "sources_intro",
        "Varje källa skördas enligt sitt schema. Här syns hur senaste skörden gick.",
        "Each source is harvested on its schedule. This is how the last harvest went.",
    ),
    ("organisation", "Organisation", "Organisation"),
    ("protocol", "Protokoll", "Protocol"),
    ("last_run", "Senaste skörd", "Last harvest"),
    ("outcome", "Utfall", "Outcome"),
    ("problems", "Problem", "Problems"),
    ("never_run", "aldrig skördad", "never harvested"),
    ("unverified", "overifierad adress", "unverified address"),
    ("coverage", "Täckning", "Coverage"),
    (
        "coverage_intro",
        "Vilka organisationer publicerar data enligt varje specifikation, kategori eller tema. Ett tomt fält betyder att organisationen inte publicerar något sådant; ett frågetecken att dess katalog inte kunde läsas.",
        "Which organisations publish data for each specification, category or theme. An empty cell means the organisation publishes none; a question mark that its catalog could not be read.",
    ),
    (
        "by_conforms_to",
        "Nationella specifikationer",
        "National specifications",
    ),
    (
        "by_hvd_category",
        "Värdefulla datamängder (HVD)",
        "High-value datasets (HVD)",
    ),
    ("by_theme", "Teman", "Themes"),
    ("none", "inga", "none"),
    (
        "who_publishes",
        "Vilka publicerar data om …?",
        "Who publishes data on …?",
    ),
    (
        "who_publishes_hint",
        "t.ex. laddplatser, badplatser, detaljplaner",
        "e.g. charging points, bathing sites, zoning plans",
    ),
    ("publishes_nothing", "publicerar inget", "publishes nothing"),
    ("unknown", "okänt", "unknown"),
    (
        "reading_never_read",
        "okänt: katalogen har aldrig kunnat läsas",
        "unknown: its catalog has never been read",
    ),
    (
        "reading_failing",
        "okänt: katalogen har inte kunnat läsas sedan",
        "unknown: its catalog has not been read since",
    ),
    (
        "reading_no_source",
        "okänt: ingen katalog är känd",
        "unknown: no catalog is known",
    ),
    ("legend", "Förklaring", "Legend"),
    (
        "hvd",
        "Värdefulla datamängder (HVD)",
        "High-value datasets (HVD)",
    ),
    ("hvd_short", "HVD", "HVD"),
    (
        "hvd_intro",
        "Vilka kategorier av värdefulla datamängder varje organisation publicerar, och hur många av dem som uppfyller kraven i EU:s genomförandeförordning 2023/138:",
        "Which categories of high-value datasets each organisation publishes, and how many of them meet the requirements of EU Implementing Regulation 2023/138:",
    ),
    (
        "hvd_licence",
        "en licens som är minst lika öppen som CC BY 4.0 (CC BY 4.0 eller CC0);",
        "a licence at least as open as CC BY 4.0 (CC BY 4.0 or CC0);",
    ),
    (
        "hvd_access",
        "åtkomst genom ett API eller som nedladdning i sin helhet;",
        "access through an API or as a bulk download;",
    ),
    (
        "hvd_legislation",
        "förordningen angiven som tillämplig lagstiftning (dcatap:applicableLegislation).",
        "the regulation named as applicable legislation (dcatap:applicableLegislation).",
    ),
    (
        "hvd_caption",
        "Datamängder som uppfyller kraven / alla, per kategori",
        "Datasets meeting the requirements / all, by category",
    ),
    ("hvd_meeting", "Uppfyller kraven", "Meet the requirements"),
    ("hvd_lacking", "Saknar", "Lacking"),
    ("hvd_no_licence", "öppen licens", "open licence"),
    ("hvd_no_access", "API eller nedladdning", "API or download"),
    (
        "hvd_no_legislation",
        "hänvisning till förordningen",
        "reference to the regulation",
    ),
    (
        "hvd_legend_count",
        "uppfyller kraven / datamängder i kategorin; grön: alla, gul: några, röd: inga",
        "meet the requirements / datasets in the category; green: all, yellow: some, red: none",
    ),
    (
        "legend_count",
        "antal datamängder; färgen är den bästa kvalitetsnivån bland dem",
        "datasets; the colour is the best quality band among them",
    ),
    (
        "legend_none",
        "publicerar inget här (alla dess källor lästes)",
        "publishes nothing here (all its sources were read)",
    ),
    (
        "legend_unknown",
        "okänt: någon av dess källor har inte kunnat läsas",
        "unknown: one of its sources could not be read",
    ),
    ("matching", "Datamängder om", "Datasets on"),
    ("publishers_of", "publicerar", "publish"),
    ("download_csv", "Ladda ner som CSV", "Download as CSV"),
    ("chart", "Diagram", "Chart"),
    (
        "quality_intro",
        "Kvalitet enligt EU:s metadatakvalitetsmått (MQA): medelpoäng per organisation.",
        "Quality by the EU metadata quality assessment (MQA): mean score per organisation.",
    ),
    ("mean", "Medel", "Mean"),
    ("band", "Nivå", "Band"),
    ("band_excellent", "utmärkt", "excellent"),
    ("band_good", "bra", "good"),
    ("band_enough", "tillräcklig", "sufficient"),
    ("band_bad", "bristfällig", "bad"),
    ("top_fixes", "Viktigaste förbättringar", "Top fixes"),
    ("demand", "Efterfrågan", "Demand"),
    (
        "demand_intro",
        "Vad företag och andra söker efter, vad de inte hittar och vilka data de ber om.",
        "What businesses and others search for, what they do not find and which data they ask for.",
    ),
    ("searches", "Sökningar", "Searches"),
    ("zero_result", "Utan träff", "Zero results"),
    ("top_queries", "Vanligaste sökningarna", "Top searches"),
    (
        "zero_result_groups",
        "Sökningar utan träff",
        "Searches without results",
    ),
    ("query", "Sökning", "Query"),
    ("requests", "Önskemål om data", "Data requests"),
    (
        "demand_supply",
        "Efterfrågan mot utbud",
        "Demand against supply",
    ),
    ("request", "Önska data", "Request data"),
    (
        "request_intro",
        "Saknar du data från en kommun eller regionen? Beskriv vad du behöver. Kontaktuppgiften visas aldrig i rapporterna.",
        "Missing data from a municipality or the region? Describe what you need. Your contact details are never shown in reports.",
    ),
    ("what", "Vilka data behöver du?", "Which data do you need?"),
    ("whole_region", "Hela regionen", "The whole region"),
    (
        "specification",
        "Nationell specifikation (valfritt)",
        "National specification (optional)",
    ),
    ("theme_optional", "Tema (valfritt)", "Theme (optional)"),
    (
        "organisation_type",
        "Vilken sorts organisation är du?",
        "What kind of organisation are you?",
    ),
    ("org_company", "Företag", "Company"),
    ("org_cluster", "Klusterorganisation", "Cluster organisation"),
    ("org_public_sector", "Offentlig sektor", "Public sector"),
    ("org_research", "Forskning", "Research"),
    ("org_other", "Annat", "Other"),
    ("reason_bad_url", "ogiltig adress", "bad URL"),
    (
        "reason_client_error",
        "begäran kunde inte göras",
        "request could not be made",
    ),
    ("reason_timeout", "svarade inte i tid", "no answer in time"),
    (
        "reason_request_failed",
        "anslutningen misslyckades",
        "connection failed",
    ),
    (
        "reason_http_status",
        "felkod från servern",
        "error status from the server",
    ),
    (
        "reason_body_too_large",
        "svaret var för stort",
        "answer too large",
    ),
    (
        "reason_host_not_allowed",
        "länk till en annan värd",
        "link to another host",
    ),
    (
        "reason_address_refused",
        "otillåten adress",
        "address refused",
    ),
    ("reason_page_limit", "för många sidor", "too many pages"),
    (
        "reason_run_timeout",
        "skördningen tog för lång tid",
        "harvest took too long",
    ),
    ("reason_cancelled", "avbruten", "cancelled"),
    (
        "reason_hydra_loop",
        "sidorna länkar i cirkel",
        "pages link in a loop",
    ),
    ("reason_empty_response", "tomt svar", "empty answer"),
    (
        "reason_inconsistent_count",
        "antalet stämmer inte",
        "the count does not match",
    ),
    (
        "reason_no_metadata",
        "poster utan metadata",
        "entries without metadata",
    ),
    ("reason_malformed_rdf", "felaktig RDF", "malformed RDF"),
    (
        "reason_malformed_statement",
        "felaktigt påstående i RDF",
        "malformed RDF statement",
    ),
    (
        "reason_invalid_utf8",
        "ogiltiga tecken (UTF-8)",
        "invalid characters (UTF-8)",
    ),
    (
        "reason_entity_expansion",
        "otillåtna XML-entiteter",
        "refused XML entities",
    ),
    ("reason_too_deep", "för djup nästling", "nested too deep"),
    (
        "reason_page_too_large",
        "sidan är för stor",
        "page too large",
    ),
    ("reason_literal_too_long", "för lång text", "text too long"),
    ("reason_iri_too_long", "för lång adress", "address too long"),
    (
        "reason_dataset_too_large",
        "datamängdens beskrivning är för stor",
        "dataset description too large",
    ),
    (
        "reason_list_too_long",
        "för många värden",
        "too many values",
    ),
    (
        "reason_control_characters",
        "styrtecken i text",
        "control characters in text",
    ),
    (
        "reason_has_part_cycle",
        "delkataloger i cirkel",
        "sub-catalogues in a loop",
    ),
    (
        "reason_no_progress",
        "sidorna ger inget nytt",
        "pages bring nothing new",
    ),
    (
        "reason_fewer_datasets",
        "färre datamängder än förut",
        "fewer datasets than before",
    ),
    ("reason_malformed_json", "felaktig JSON", "malformed JSON"),
    ("reason_ckan_error", "fel från CKAN", "error from CKAN"),
    (
        "reason_invalid_json_ld",
        "felaktig JSON-LD",
        "invalid JSON-LD",
    ),
    ("reason_invalid_iri", "ogiltig IRI", "invalid IRI"),
    (
        "reason_invalid_language_tag",
        "ogiltig språkkod",
        "invalid language tag",
    ),
    ("reason_duplicate_dataset", "dubblett", "duplicate dataset"),
    (
        "reason_blank_node_dataset",
        "datamängd utan adress",
        "dataset without an address",
    ),
    (
        "reason_missing_publisher",
        "utgivare saknas",
        "publisher missing",
    ),
    ("reason_invalid_date", "ogiltigt datum", "invalid date"),
    ("reason_missing_title", "titel saknas", "title missing"),
    (
        "reason_formula_like_title",
        "titel som liknar en kalkylformel",
        "title like a spreadsheet formula",
    ),
    ("reason_internal_error", "internt fel", "internal error"),
    (
        "reason_failed",
        "skördningen misslyckades",
        "the harvest failed",
    ),
    (
        "reason_timed_out",
        "stoppad vid tidsgränsen",
        "stopped at the time limit",
    ),
    ("reason_unknown", "okänt problem", "unknown problem"),
    ("outcome_running", "pågår", "running"),
    ("outcome_success", "lyckad", "succeeded"),
    ("outcome_unchanged", "oförändrad", "unchanged"),
    ("outcome_partial", "delvis läst", "partly read"),
    ("outcome_failed", "misslyckad", "failed"),
    ("outcome_cancelled", "avbruten", "cancelled"),
    ("outcome_timed_out", "tog för lång tid", "took too long"),
    (
        "outcome_interrupted",
        "avbröts när samla stannade",
        "interrupted when samla stopped",
    ),
    ("protocol_dcat", "DCAT-AP", "DCAT-AP"),
    ("protocol_ckan", "CKAN", "CKAN"),
    ("protocol_entryscape", "EntryScape", "EntryScape"),
    (
        "contact_optional",
        "E-post eller telefon (valfritt)",
        "Email or phone (optional)",
    ),
    ("watch_search", "Bevaka sökningen", "Watch this search"),
    (
        "watch_intro",
        "Få besked när nya eller ändrade dataset matchar sökningen.",
        "Be told when new or changed datasets match this search.",
    ),
    ("watch_email", "E-postadress", "E-mail address"),
    (
        "watch_webhook",
        "eller webhook-URL (signerad JSON)",
        "or webhook URL (signed JSON)",
    ),
    ("watch_save", "Bevaka", "Watch"),
    ("alert_title", "Bevakning", "Saved search"),
    (
        "alert_pending",
        "Vi har skickat ett mejl med en länk som bekräftar bevakningen.",
        "We sent a mail with a link that confirms the saved search.",
    ),
    (
        "alert_active",
        "Bevakningen är aktiv.",
        "The saved search is active.",
    ),
    (
        "alert_keep_link",
        "Spara länken som avslutar bevakningen:",
        "Keep the link that ends the saved search:",
    ),
    (
        "alert_secret",
        "Nyckeln som signerar anropen (visas bara nu):",
        "The key that signs the calls (shown only now):",
    ),
    (
        "alert_confirmed",
        "Tack! Bevakningen är bekräftad och aktiv.",
        "Thank you! The saved search is confirmed and active.",
    ),
    (
        "alert_unsubscribe_ask",
        "Vill du avsluta bevakningen av sökningen",
        "End the saved search for",
    ),
    (
        "alert_unsubscribe",
        "Avsluta bevakningen",
        "End the saved search",
    ),
    (
        "alert_ended",
        "Bevakningen är avslutad.",
        "The saved search has ended.",
    ),
    ("alert_search", "Sökning", "Search"),
    ("change_new", "nytt", "new"),
    ("change_changed", "ändrat", "changed"),
    (
        "mail_confirm_subject",
        "Bekräfta din bevakning",
        "Confirm your saved search",
    ),
    (
        "mail_confirm_text",
        "Någon, förhoppningsvis du, vill att samla mejlar den här adressen när nya eller ändrade dataset matchar sökningen nedan. Bekräfta med länken:",
        "Someone, you we hope, asked samla to mail this address when new or changed datasets match the search below. Confirm with this link:",
    ),
    (
        "mail_ignore",
        "Var det inte du behöver du inte göra något: utan bekräftelse skickas inget mer.",
        "If it was not you, do nothing: without confirmation nothing more is sent.",
    ),
    (
        "mail_alert_subject",
        "nya eller ändrade dataset",
        "new or changed datasets",
    ),
    ("mail_more", "och fler", "and more"),
    ("mail_see_all", "Hela sökningen", "The whole search"),
    (
        "mail_unsubscribe",
        "Avsluta bevakningen",
        "End this saved search",
    ),
    (
        "notice_subject",
        "Skörden av er katalog",
        "The harvest of your catalog",
    ),
    (
        "notice_intro",
        "Det här har samla sett i er katalog sedan förra meddelandet.",
        "This is what samla has seen in your catalog since the last notice.",
    ),
    ("notice_new_problems", "Nya problem", "New problems"),
    (
        "notice_all_problems",
        "Problem vid senaste skörden",
        "Problems in the last harvest",
    ),
    ("notice_broken", "Trasiga länkar", "Broken links"),
    (
        "notice_overdue",
        "Ej uppdaterade i tid",
        "Not updated on time",
    ),
    ("notice_days", "dagar sent", "days late"),
    ("notice_sample", "Exempel", "Example"),
    ("notice_nothing", "Inget att åtgärda.", "Nothing to fix."),
    (
        "notice_last_sent",
        "Senaste meddelande skickat",
        "Last notice sent",
    ),
    (
        "notice_none_sent",
        "Inget meddelande skickat ännu.",
        "No notice sent yet.",
    ),
    ("notice_to", "till", "to"),
    ("notice_digest", "Att åtgärda", "To fix"),
    ("status_ok", "fungerar", "working"),
    ("status_failing", "fungerar inte", "failing"),
    ("status_never_run", "aldrig skördad", "never harvested"),
    (
        "last_success",
        "Senaste lyckade skörd",
        "Last successful harvest",
    ),
    (
        "failure_streak",
        "misslyckade skördar i rad",
        "failed harvests in a row",
    ),
    (
        "organisation_page",
        "Organisationens sida",
        "The organisation's page",
    ),
    (
        "hint_http_status",
        "Kontrollera att katalogens adress svarar; en flyttad katalog behöver en ny adress i samla.",
        "Check that the catalog's address answers; a moved catalog needs its new address in samla.",
    ),
    (
        "hint_invalid_date",
        "Skriv datum som ÅÅÅÅ-MM-DD (xsd:date) eller med tid (xsd:dateTime).",
        "Write dates as YYYY-MM-DD (xsd:date) or with a time (xsd:dateTime).",
    ),
    (
        "hint_missing_title",
        "Ge varje dataset en titel (dcterms:title), helst på svenska och engelska.",
        "Give every dataset a title (dcterms:title), in Swedish and English if you can.",
    ),
    (
        "hint_missing_publisher",
        "Ange utgivare (dcterms:publisher) för varje dataset.",
        "Name a publisher (dcterms:publisher) for every dataset.",
    ),
    (
        "hint_timeout",
        "Katalogen svarade för långsamt; dela upp den i sidor eller snabba upp servern.",
        "The catalog answered too slowly; page it or speed the server up.",
    ),
    (
        "hint_client_error",
        "Katalogens adress svarar med ett klientfel (4xx): kontrollera att adressen i samla stämmer och att katalogen är publik.",
        "The catalog's address answers with a client error (4xx): check that samla has the right address and that the catalog is public.",
    ),
    (
        "hint_request_failed",
        "Servern gick inte att nå: kontrollera DNS, certifikat och brandvägg för katalogens värd.",
        "The server could not be reached: check DNS, certificates and the firewall of the catalog's host.",
    ),
    (
        "hint_body_too_large",
        "Svaret är större än samla tar emot: dela upp katalogen i sidor (Hydra) eller underkataloger.",
        "The answer is larger than samla accepts: page the catalog (Hydra) or split it into sub-catalogues.",
    ),
    (
        "hint_page_limit",
        "Katalogen har fler sidor än samla läser: använd större sidor eller underkataloger.",
        "The catalog has more pages than samla reads: use larger pages or sub-catalogues.",
    ),
    (
        "hint_empty_response",
        "Katalogen svarade utan innehåll: kontrollera att exporten fungerar.",
        "The catalog answered with nothing: check that its export works.",
    ),
    (
        "hint_malformed_json",
        "API:t svarade med trasig JSON: kontrollera plattformens export.",
        "The API answered with broken JSON: check the platform's export.",
    ),
    (
        "hint_invalid_iri",
        "Skriv adresser (IRI:er) utan mellanslag och med schema, till exempel https://.",
        "Write addresses (IRIs) without spaces and with a scheme, such as https://.",
    ),
    (
        "hint_duplicate_dataset",
        "Samma dataset beskrivs flera gånger: ge varje dataset en egen URI och en UUID i dcterms:identifier.",
        "The same dataset is described more than once: give each dataset its own URI and a UUID in dcterms:identifier.",
    ),
    (
        "hint_blank_node_dataset",
        "Ge dataset, distributioner och utgivare egna URI:er i stället för blanka noder; dataportal.se kräver det.",
        "Give datasets, distributions and publishers their own URIs instead of blank nodes; dataportal.se requires it.",
    ),
    (
        "hint_invalid_language_tag",
        "Använd språktaggar som sv och en (BCP 47).",
        "Use language tags such as sv and en (BCP 47).",
    ),
    (
        "hint_invalid_utf8",
        "Spara katalogen som UTF-8.",
        "Save the catalog as UTF-8.",
    ),
    (
        "hint_literal_too_long",
        "En text i katalogen är orimligt lång: kontrollera att inte data hamnat i metadatan.",
        "A text in the catalog is unreasonably long: check that data has not ended up in the metadata.",
    ),
    (
        "hint_formula_like_title",
        "En titel börjar som en kalkylbladsformel (=, +, -, @): skriv om början.",
        "A title starts like a spreadsheet formula (=, +, -, @): reword its start.",
    ),
    (
        "hint_fewer_datasets",
        "Katalogen listar mycket färre dataset än förut: samla arkiverar inget förrän det bekräftas. Kontrollera exporten.",
        "The catalog lists far fewer datasets than before: samla archives nothing until that is confirmed. Check the export.",
    ),
    (
        "hint_control_characters",
        "Ta bort kontrolltecken ur texterna.",
        "Remove control characters from the texts.",
    ),
    (
        "hint_malformed_rdf",
        "Validera katalogen (t.ex. med en RDF-validerare) innan den publiceras.",
        "Validate the catalog (with an RDF validator, say) before it is published.",
    ),
    (
        "national",
        "Regionen på den nationella portalen",
        "The region on the national portal",
    ),
    ("national_short", "Nationellt", "National"),
    (
        "national_intro",
        "Vilka av regionens dataset som nått den nationella dataportalen, vilka som saknas eller visas annorlunda (titel, ändringsdatum, distributioner), och vilka dataset portalen tillskriver regionens organisationer som ingen regional källa listar. Dataset matchas som dataportal.se gör: på en UUID i dcterms:identifier, annars på datasetets URI.",
        "Which of the region's datasets reached the national data portal, which are missing or shown differently (title, modification date, distributions), and which datasets the portal attributes to the region's organisations that no regional source lists. Datasets are matched as dataportal.se matches them: by a UUID in dcterms:identifier, else by the dataset's URI.",
    ),
    (
        "national_not_read",
        "Den nationella portalen har inte skördats ännu: inget är känt om vad som nått den.",
        "The national portal has not been harvested yet: nothing is known of what reached it.",
    ),
    ("national_read", "Skördad", "Harvested"),
    ("national_regional", "I regionen", "In the region"),
    ("national_same", "Likadana nationellt", "Same nationally"),
    (
        "national_different",
        "Annorlunda nationellt",
        "Different nationally",
    ),
    (
        "national_missing",
        "Saknas nationellt",
        "Missing nationally",
    ),
    ("national_only", "Bara nationellt", "Only nationally"),
    ("national_differs_title", "titel", "title"),
    (
        "national_differs_modified",
        "ändringsdatum",
        "modification date",
    ),
    (
        "national_differs_distributions",
        "distributioner",
        "distributions",
    ),
    ("national_here", "här", "here"),
    ("national_there", "nationellt", "nationally"),
    (
        "national_more_in_csv",
        "Fler finns i CSV-filen.",
        "More are in the CSV file.",
    ),
    ("status_new", "ny", "new"),
    ("status_acknowledged", "mottagen", "acknowledged"),
    ("status_planned", "planerad", "planned"),
    ("status_published", "publicerad", "published"),
    ("status_declined", "avböjd", "declined"),
    ("request_status", "Status", "Status"),
    ("request_answer", "Svar", "Answer"),
    ("request_saved", "Svaret är sparat.", "The answer is saved."),
    (
        "request_proposals",
        "Dataset som kan svara",
        "Datasets that may answer it",
    ),
    (
        "request_proposals_intro",
        "samla föreslår dataset som skördats sedan önskemålet kom och som matchar dess ord och kommun.",
        "samla proposes datasets harvested since the request came that match its words and municipality.",
    ),
    (
        "request_answer_it",
        "Svara (för organisationen)",
        "Answer (for the organisation)",
    ),
    ("request_dataset_id", "Datasetets id", "The dataset's id"),
    (
        "request_token",
        "Organisationens nyckel",
        "The organisation's token",
    ),
    ("request_mail_subject", "Ditt önskemål", "Your request"),
    (
        "request_mail_intro",
        "Ditt önskemål om data har fått en ny status.",
        "Your request for data has a new status.",
    ),
    ("request_follow", "Följ önskemålet", "Follow the request"),
    ("requests_answered", "besvarade", "answered"),
    (
        "median_days_to_answer",
        "mediantid till svar (dagar)",
        "median time to answer (days)",
    ),
    ("freshness", "Aktualitet", "Freshness"),
    (
        "freshness_intro",
        "Uppdateras dataseten så ofta som de själva anger (dcterms:accrualPeriodicity)? Organisationer med flest försenade dataset först.",
        "Are the datasets updated as often as they say (dcterms:accrualPeriodicity)? Organisations with the most overdue datasets first.",
    ),
    ("fresh_on_time", "I tid", "On time"),
    ("fresh_overdue", "Försenade", "Overdue"),
    ("fresh_unknown", "Går inte att avgöra", "Cannot be told"),
    (
        "fresh_most_overdue",
        "Mest försenat (dagar)",
        "Most overdue (days)",
    ),
    ("run_history", "Skördehistorik", "Harvest history"),
    ("run_finished", "Klar", "Finished"),
    ("run_new", "Nya", "New"),
    ("run_changed", "Ändrade", "Changed"),
    ("run_unchanged", "Oförändrade", "Unchanged"),
    ("run_archived", "Arkiverade", "Archived"),
    (
        "coverage_history",
        "Täckning över tid",
        "Coverage over time",
    ),
    (
        "coverage_history_intro",
        "En ögonblicksbild om dagen: hur många organisationer som publicerar, hur många som inte gått att läsa, och hur många celler i täckningsmatrisen som är fyllda.",
        "One snapshot a day: how many organisations publish, how many could not be read, and how many cells of the coverage matrix are filled.",
    ),
    ("history_region", "Regionen", "The region"),
    (
        "history_unread",
        "Okända (källor ej lästa)",
        "Unknown (sources not read)",
    ),
    (
        "history_publishing",
        "Organisationer som publicerar",
        "Organisations publishing",
    ),
    (
        "history_organisations",
        "Dataset per organisation",
        "Datasets per organisation",
    ),
    (
        "history_specifications",
        "Organisationer som publicerar enligt varje specifikation",
        "Organisations publishing to each specification",
    ),
    ("day", "Dag", "Day"),
    ("demand_trend", "Veckotrend", "Weekly trend"),
    (
        "demand_counting",
        "En sökning räknas en gång per besökare och dag (besökaren sparas bara som en kod som byts varje dygn). Sökningar utan bokstäver och från besökare med fler än 60 sökningar om dagen räknas men visas inte i listorna.",
        "A search counts once per visitor and day (a visitor is kept only as a code that changes daily). Searches without a letter, and those of visitors searching more than 60 times a day, are counted but not listed.",
    ),
    ("demand_repeats", "upprepningar", "repeats"),
    ("demand_noise", "utanför listorna", "left out of the lists"),
    ("week", "Vecka", "Week"),
    (
        "organisation_quality",
        "Kvalitet och vad som kan förbättras",
        "Quality and what to improve",
    ),
    (
        "organisation_coverage",
        "Publicerar enligt specifikationer",
        "Publishes to specifications",
    ),
    (
        "organisation_requests",
        "Önskemål om data",
        "Requests for data",
    ),
    ("send", "Skicka", "Send"),
    (
        "thanks",
        "Tack! Ditt önskemål är registrerat.",
        "Thank you! Your request is registered.",
    ),
    ("request_number", "Önskemål nummer", "Request number"),
    ("error", "Något blev fel", "Something went wrong"),
    ("language", "In English", "På svenska"),
    ("api", "API och data", "API and data"),
];

/// The words of `lang` (`sv` or `en`) by key.
pub fn words(lang: &str) -> BTreeMap<&'static str, &'static str> {
    WORDS
        .iter()
        .map(|(k, sv, en)| (*k, if lang == "en" { *en } else { *sv }))
        .collect()
}

#[cfg(test)]
mod tests {
    /// Every problem reason, run state and protocol a page shows has words in both
    /// languages: no raw code reaches a page.
    #[test]
    fn every_code_a_page_shows_has_words() {
        let sv = super::words("sv");
        let en = super::words("en");
        let keys = samla_model::run::Reason::ALL
            .iter()
            .map(|r| format!("reason_{r}"))
            .chain(
                samla_model::run::RunState::ALL
                    .iter()
                    .map(|s| format!("outcome_{s}")),
            )
            .chain(["dcat", "ckan", "entryscape"].map(|p| format!("protocol_{p}")));
        for key in keys {
            assert!(
                sv.contains_key(key.as_str()) && en.contains_key(key.as_str()),
                "{key}"
            );
        }
    }

    /// Every fix hint is for a reason samla knows.
    #[test]
    fn every_hint_is_for_a_known_reason() {
        for (k, _, _) in super::WORDS {
            if let Some(reason) = k.strip_prefix("hint_") {
                assert!(
                    samla_model::run::Reason::ALL
                        .iter()
                        .any(|r| r.as_str() == reason),
                    "{k}"
                );
            }
        }
    }

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys = std::collections::HashSet::new();
        for (k, sv, en) in super::WORDS {
            assert!(keys.insert(k), "{k} twice");
            assert!(!sv.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
