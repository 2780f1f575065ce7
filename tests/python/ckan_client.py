"""Reads a running samla with ckanapi, the CKAN project's own Python client.

    python3 ckan_client.py BASE_URL

Prints JSON of what the client saw, for the Rust test to check against samla's own API.
"""

import json
import sys

import ckanapi


def main():
    ckan = ckanapi.RemoteCKAN(sys.argv[1], user_agent="samla-interface-test")
    found = ckan.action.package_search(
        q="badplatser",
        fq="organization:malmo-stad",
        rows=5,
        **{"facet.field": ["organization", "res_format"]},
    )
    everything = ckan.action.package_search(q="badplatser", rows=0, **{"facet.field": ["organization"]})
    first = found["results"][0]
    shown = ckan.action.package_show(id=first["id"])
    try:
        ckan.action.package_show(id="no-such-dataset")
        missing = "found"
    except ckanapi.NotFound as e:
        missing = "NotFound"
    try:
        ckan.action.package_search(rows="many")
        invalid = "accepted"
    except ckanapi.ValidationError as e:
        invalid = "ValidationError"
    paged = ckan.action.package_search(q="badplatser", rows=2, start=2)
    json.dump(
        {
            "count": found["count"],
            "all_count": everything["count"],
            "organizations_facet": everything["search_facets"]["organization"]["items"],
            "result_orgs": sorted({r["organization"]["name"] for r in found["results"]}),
            "first": {
                "id": first["id"],
                "title": first["title"],
                "resources": len(first["resources"]),
            },
            "shown": {
                "id": shown["id"],
                "title": shown["title"],
                "resources": [r["url"] for r in shown["resources"]],
                "organization": shown["organization"]["title"],
            },
            "missing": missing,
            "invalid": invalid,
            "paged": [r["id"] for r in paged["results"]],
            "organization_list": ckan.action.organization_list(),
            "tags": len(ckan.action.tag_list()),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
