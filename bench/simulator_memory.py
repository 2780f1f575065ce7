#!/usr/bin/env python3
"""Peak memory of `samla simulate` while every page of the simulated region is read.

    python3 bench/simulator_memory.py SAMLA_BINARY DATASETS [READERS]

Starts `samla simulate --datasets DATASETS` on a free loopback port, reads every page of
every source as a harvest would (DCAT pages and the sub-catalogue; CKAN package_search pages
and its fingerprint; EntryStore search pages, oldest first, and its fingerprint), READERS
sources at a time (16 by default, the harvest's concurrency), and prints the simulator's
peak resident memory (VmHWM), the bytes served and the time taken. Standard library only.
"""

import concurrent.futures
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TYPES = [
    "http://www.w3.org/ns/dcat#Dataset",
    "http://www.w3.org/ns/dcat#DatasetSeries",
    "http://www.w3.org/ns/dcat#Distribution",
    "http://www.w3.org/ns/dcat#DataService",
    "http://xmlns.com/foaf/0.1/Agent",
    "http://xmlns.com/foaf/0.1/Organization",
    "http://www.w3.org/2006/vcard/ns#Kind",
    "http://www.w3.org/2006/vcard/ns#Individual",
    "http://www.w3.org/2006/vcard/ns#Organization",
]
QUERY = (
    "rdfType:("
    + " OR ".join(t.replace(":", "\\:").replace("/", "\\/") for t in TYPES)
    + ") AND public:true"
)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=300) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def read_source(base, sid, protocol, path):
    served = 0
    if protocol == "dcat":
        for first in (path, f"/{sid}/sub/miljo"):
            page = 1
            while True:
                status, body = get(base + first + ("" if page == 1 else f"?page={page}"))
                if status != 200:
                    break
                served += len(body)
                page += 1
    elif protocol == "ckan":
        url = base + f"/{sid}/api/3/action/package_search?"
        _, body = get(url + urllib.parse.urlencode(dict(q="*:*", rows=1, sort="metadata_modified desc")))
        served += len(body)
        start = 0
        while True:
            q = dict(q="*:*", rows=1000, start=start, sort="id asc")
            _, body = get(url + urllib.parse.urlencode(q))
            served += len(body)
            results = json.loads(body).get("result", {}).get("results", [])
            if not results:
                break
            start += len(results)
    elif protocol == "entryscape":
        url = base + f"/{sid}/store/search?"
        q = dict(type="solr", query=QUERY, limit=1, offset=0, sort="modified desc")
        _, body = get(url + urllib.parse.urlencode(q))
        served += len(body)
        offset = 0
        while True:
            q = dict(type="solr", query=QUERY, limit=100, offset=offset, sort="created asc")
            _, body = get(url + urllib.parse.urlencode(q))
            served += len(body)
            children = json.loads(body)["resource"]["children"]
            if not children:
                break
            offset += len(children)
    return served


def main():
    exe, datasets = sys.argv[1], int(sys.argv[2])
    readers = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.time()
    sim = subprocess.Popen(
        [exe, "simulate", "--port", str(port), "--datasets", str(datasets)],
        stdout=subprocess.PIPE,
        text=True,
    )
    sources = []
    for line in sim.stdout:
        if "curl -X POST" in line:
            break
        m = re.match(r"\s+(\S+)\s+(dcat|ckan|entryscape)\s+(http://\S+)", line)
        if m:
            sid, protocol, url = m.groups()
            sources.append((sid, protocol, url[len(f"http://127.0.0.1:{port}"):]))
    base = f"http://127.0.0.1:{port}"
    try:
        with concurrent.futures.ThreadPoolExecutor(readers) as pool:
            served = sum(pool.map(lambda s: read_source(base, *s), sources))
        status = dict(
            line.split(":", 1) for line in open(f"/proc/{sim.pid}/status").read().splitlines()
        )
        print(
            f"{datasets} datasets, {len(sources)} sources, {readers} at a time: "
            f"peak {status['VmHWM'].strip()}, now {status['VmRSS'].strip()}, "
            f"{served / 1e9:.2f} GB served in {time.time() - started:.0f} s"
        )
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    main()
