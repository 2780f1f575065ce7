"""Queries a running samla's /sparql with SPARQLWrapper, and reads CONSTRUCT results with rdflib.

    python3 sparql_client.py ENDPOINT

Prints JSON of the answers.
"""

import csv
import io
import json
import sys

from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper

PREFIXES = """
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""


def client(endpoint, query, fmt, method=None):
    s = SPARQLWrapper(endpoint)
    s.setQuery(PREFIXES + query)
    s.setReturnFormat(fmt)
    if method:
        s.setMethod(method)
    return s.query().convert()


def main():
    endpoint = sys.argv[1]
    count = client(endpoint, "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a dcat:Dataset }", JSON)
    per_publisher = client(
        endpoint,
        """SELECT ?name (COUNT(DISTINCT ?d) AS ?n) WHERE {
             ?d a dcat:Dataset ; dcterms:publisher ?p . ?p foaf:name ?name
           } GROUP BY ?name ORDER BY DESC(?n) LIMIT 3""",
        JSON,
        POST,
    )
    xml = client(endpoint, "SELECT ?d WHERE { ?d a dcat:Dataset } LIMIT 5", XML)
    xml_rows = len(xml.getElementsByTagName("result"))
    raw_csv = client(endpoint, "SELECT ?d ?title WHERE { ?d a dcat:Dataset ; dcterms:title ?title } LIMIT 4", CSV)
    csv_rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8"))))
    ask = client(endpoint, 'ASK { ?d dcterms:title "Badplatser" }', JSON)
    graph = client(
        endpoint,
        "CONSTRUCT { ?d dcterms:title ?t } WHERE { ?d a dcat:Dataset ; dcterms:title ?t } LIMIT 7",
        TURTLE,
    )
    import rdflib

    g = rdflib.Graph().parse(data=graph, format="turtle")
    json.dump(
        {
            "datasets": int(count["results"]["bindings"][0]["n"]["value"]),
            "top_publishers": [
                [b["name"]["value"], int(b["n"]["value"])] for b in per_publisher["results"]["bindings"]
            ],
            "xml_rows": xml_rows,
            "csv_header": csv_rows[0],
            "csv_rows": len(csv_rows) - 1,
            "ask": ask["boolean"],
            "construct_triples": len(g),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
