#!/usr/bin/env python3
"""The rdflib peer of samla's harvest benchmark: fetch the same served catalog pages over
loopback HTTP, parse them with rdflib and map every dcat:Dataset to a record (titles,
descriptions, keywords, themes, publisher, licence, distributions), as a Python harvester
built on rdflib would. Prints one JSON line: pages, datasets, seconds (wall) and cpu_seconds.

Usage: rdflib_peer.py URLS_FILE   (one URL per line)
"""
import json
import sys
import time
import urllib.request

import rdflib
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

FORMATS = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}


def lang_map(g, s, p):
    return {(o.language or ""): str(o) for o in g.objects(s, p)}


def map_dataset(g, ds):
    publisher = g.value(ds, DCTERMS.publisher)
    distributions = []
    for d in g.objects(ds, DCAT.distribution):
        distributions.append({
            "uri": str(d),
            "access_urls": [str(u) for u in g.objects(d, DCAT.accessURL)],
            "download_urls": [str(u) for u in g.objects(d, DCAT.downloadURL)],
            "format": str(g.value(d, DCTERMS.format) or ""),
            "media_type": str(g.value(d, DCAT.mediaType) or ""),
            "license": str(g.value(d, DCTERMS.license) or ""),
        })
    return {
        "uri": str(ds),
        "identifier": str(g.value(ds, DCTERMS.identifier) or ds),
        "title": lang_map(g, ds, DCTERMS.title),
        "description": lang_map(g, ds, DCTERMS.description),
        "keywords": [str(k) for k in g.objects(ds, DCAT.keyword)],
        "themes": [str(t) for t in g.objects(ds, DCAT.theme)],
        "publisher": {"uri": str(publisher), "name": lang_map(g, publisher, FOAF.name)} if publisher else None,
        "modified": str(g.value(ds, DCTERMS.modified) or ""),
        "distributions": distributions,
    }


def main():
    urls = [u.strip() for u in open(sys.argv[1]) if u.strip()]
    start, cpu = time.perf_counter(), time.process_time()
    records = 0
    for url in urls:
        with urllib.request.urlopen(url) as response:
            body = response.read()
            ctype = response.headers.get("Content-Type", "text/turtle").split(";")[0].strip()
        g = rdflib.Graph()
        g.parse(data=body, format=FORMATS.get(ctype, "turtle"), publicID=url)
        for ds in g.subjects(RDF.type, DCAT.Dataset):
            map_dataset(g, ds)
            records += 1
    print(json.dumps({
        "pages": len(urls),
        "datasets": records,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }))


if __name__ == "__main__":
    main()
