"""PUBLISH to a FHIR server: `cpg load` reads built artifacts and loads them over the FHIR REST API.

Layout (one responsibility each):
  _target.py   TARGET (guideline id, built folder, Bundle, package .tgz) -> the resources to load
  _plan.py     dependency order (terminology and libraries before definitions) and requests that
               fit the server's limits (--max-entries, --max-bytes)
  _auth.py     credentials (bearer, basic, OAuth2 client credentials) read from env or file; secrets
               are redacted from everything we print
  _http.py     the HTTP client (httpx): bounded exponential backoff on 429/502/503/504 and
               connection errors, honouring Retry-After
  _loader.py   the load itself: exact url|version look-ups, conditional create / PUT, per-resource
               outcomes, resumable and idempotent; and `verify`

Codes SERVER0xx; exit 0 loaded, 1 some resources failed or differ, 2 unusable input or server.
"""

from __future__ import annotations

from generator.server._auth import Credentials, read_credentials
from generator.server._loader import LoadOptions, LoadReport, ResourceResult, load, verify
from generator.server._plan import Plan, plan_requests
from generator.server._target import read_target

__all__ = [
    "Credentials",
    "LoadOptions",
    "LoadReport",
    "Plan",
    "ResourceResult",
    "load",
    "plan_requests",
    "read_credentials",
    "read_target",
    "verify",
]
