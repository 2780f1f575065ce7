"""Runs schemathesis against a live samla's /openapi.json: no 5xx, and every response as the
schema says (status, content type, body).

    python3 api_fuzz.py BASE_URL

Exits non-zero when schemathesis finds a failure.
"""

import sys

from schemathesis.cli import schemathesis

base = sys.argv[1]
sys.argv = [
    "schemathesis",
    "run",
    f"{base}/openapi.json",
    "--url",
    base,
    "--checks",
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
    "--max-examples",
    "40",
    "--seed",
    "20261122",
    "--no-color",
]
sys.exit(schemathesis())
