"""Transaction and collection Bundles of a guideline, laid out as CRMI packaging asks.

Entries come in packaging order (manifest, artifacts with the pathway first, then
dependencies). Each entry's fullUrl is the resource's canonical url. Conditional create
(POST + ifNoneExist on url and version) is the default so loading twice is harmless;
`mode="update"` gives PUT <Type>/<id> for servers where the ids are ours to choose.
"""

from __future__ import annotations

import re
from typing import Any, Literal

RequestMode = Literal["create", "update"]


def bundle_timestamp(date: str) -> str | None:
    """Bundle.timestamp (an instant) from the guideline date, never from the clock."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        return f"{date}T00:00:00Z"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", date):
        return date
    return None


def _full_url(resource: dict[str, Any]) -> str:
    return str(resource.get("url") or f"{resource['resourceType']}/{resource['id']}")


def _request(resource: dict[str, Any], mode: RequestMode) -> dict[str, str]:
    kind, ident = resource["resourceType"], resource["id"]
    if mode == "update" or not resource.get("url"):
        return {"method": "PUT", "url": f"{kind}/{ident}"}
    condition = f"url={resource['url']}"
    if resource.get("version"):
        condition += f"&version={resource['version']}"
    return {"method": "POST", "url": kind, "ifNoneExist": condition}


def _bundle(bundle_id: str, kind: str, date: str) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": bundle_id, "type": kind}
    timestamp = bundle_timestamp(date)
    if timestamp:
        bundle["timestamp"] = timestamp
    return bundle


def transaction_bundle(bundle_id: str, ordered: list[dict[str, Any]], date: str,
                       mode: RequestMode = "create") -> dict[str, Any]:
    """A transaction Bundle of `ordered` (already in packaging order)."""
    bundle = _bundle(bundle_id, "transaction", date)
    bundle["entry"] = [
        {"fullUrl": _full_url(r), "resource": r, "request": _request(r, mode)} for r in ordered
    ]
    return bundle


def collection_bundle(bundle_id: str, ordered: list[dict[str, Any]], date: str) -> dict[str, Any]:
    """The same resources as a collection (for tools that load, not transact)."""
    bundle = _bundle(bundle_id, "collection", date)
    bundle["entry"] = [{"fullUrl": _full_url(r), "resource": r} for r in ordered]
    return bundle
