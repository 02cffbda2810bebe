"""Layer 8, metadata: identity and lifecycle conventions of CRMI / CQL IG artifacts.

All warnings: they are SHOULDs in the guides (semver versions, one status and one version
across a package, PascalCase names, url = {base}/{resourceType}/{id}), except where a
claimed profile makes an element mandatory, which the profile layer reports as an error.
"""

from __future__ import annotations

import re
from collections import Counter

from generator.diagnostics import Diagnostic
from generator.validate._model import CANONICAL_TYPES, Artifact, ref_of
from generator.validate._rules import diag

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
# R4's own rule for canonical resource names (adf-0, lib-0, pdf-0, vsd-0, ...):
# name.matches('[A-Z]([A-Za-z0-9_]){0,254}'); underscores are allowed.
NAME = re.compile(r"^[A-Z][A-Za-z0-9_]{0,254}$")
# Canonical resources whose version identifies an external product release, not our package.
_EXEMPT_FROM_SET = frozenset({"CodeSystem", "ValueSet"})
# Shared CQL libraries keep the version their include statements demand (FHIRHelpers is 4.0.1 for FHIR R4).
_SHARED_LIBRARIES = frozenset({"FHIRHelpers", "FHIRCommon"})


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    canon = [a.resource for a in artifacts if a.resource["resourceType"] in CANONICAL_TYPES]
    for res in canon:
        ref, rtype = ref_of(res), res["resourceType"]
        missing = [k for k in ("url", "name", "version") if not res.get(k)]
        if missing:
            diags.append(diag("meta.missing-identity", f"{rtype} should have {', '.join(missing)}", resource=ref, path=rtype))
        version = res.get("version")
        if isinstance(version, str) and not SEMVER.match(version) and rtype not in _EXEMPT_FROM_SET:
            diags.append(diag("meta.version-format", f"version {version!r} is not major.minor.patch", resource=ref,
                              path=f"{rtype}.version"))
        name = res.get("name")
        if isinstance(name, str) and not NAME.match(name):
            diags.append(diag("meta.name-format", f"name {name!r} should match R4's [A-Z]([A-Za-z0-9_]){{0,254}} (usable as an identifier)",
                              resource=ref, path=f"{rtype}.name"))
        url, rid = res.get("url"), res.get("id")
        # A shared library's id is name-version (one resource per version on a server), its url ends in the name.
        if isinstance(url, str) and isinstance(rid, str) and not url.endswith(f"/{rtype}/{rid}") \
                and res.get("name") not in _SHARED_LIBRARIES:
            if not url.startswith(("http://hl7.org/fhir/", "http://terminology.hl7.org/")):
                diags.append(diag("meta.url-format", f"url {url} does not end with /{rtype}/{rid}", resource=ref,
                                  path=f"{rtype}.url"))
    own = [r for r in canon if r["resourceType"] not in _EXEMPT_FROM_SET and r.get("name") not in _SHARED_LIBRARIES]
    for key, rule in (("version", "meta.version-mixed"), ("status", "meta.status-mixed")):
        counts = Counter(r.get(key) for r in own if isinstance(r.get(key), str))
        if len(counts) > 1:
            common = counts.most_common(1)[0][0]
            for r in own:
                if isinstance(r.get(key), str) and r[key] != common:
                    diags.append(diag(rule, f"{key} {r[key]!r} differs from the set's {common!r}", resource=ref_of(r),
                                      path=f"{r['resourceType']}.{key}"))
    return diags
