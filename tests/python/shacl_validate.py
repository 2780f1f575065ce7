"""Validates RDF at URLs or paths with pyshacl against SHACL shape files.

    python3 shacl_validate.py --shapes A.ttl [--shapes B.ttl] DATA...

Prints JSON: {"conforms": bool, "violations": [{"focus", "path", "message"}]}, one object for
all the data read together.
"""

import argparse
import json
import sys
import urllib.request

import pyshacl
import rdflib
from rdflib.namespace import SH

FORMATS = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}


def load(graph, where):
    if where.startswith("http://"):
        with urllib.request.urlopen(where, timeout=60) as response:
            media = response.headers.get_content_type()
            graph.parse(data=response.read(), format=FORMATS.get(media, "turtle"))
    else:
        graph.parse(where)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", action="append", required=True)
    parser.add_argument("data", nargs="+")
    args = parser.parse_args()
    shapes = rdflib.Graph()
    for path in args.shapes:
        shapes.parse(path)
    data = rdflib.Graph()
    for where in args.data:
        load(data, where)
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes)
    violations = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        if report.value(result, SH.resultSeverity) != SH.Violation:
            continue
        violations.append(
            {
                "focus": str(report.value(result, SH.focusNode)),
                "path": str(report.value(result, SH.resultPath)),
                "message": str(report.value(result, SH.resultMessage)),
            }
        )
    json.dump({"conforms": bool(conforms), "triples": len(data), "violations": violations}, sys.stdout)


if __name__ == "__main__":
    main()
