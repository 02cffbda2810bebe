"""Load resources into a FHIR server, idempotently and resumably, and verify what is there.

Identity. In `transaction` and `batch` modes a canonical resource is identified by url|version
(CRMI): it is created with a conditional create (POST + ifNoneExist url & version) and the server
assigns the id. In `put` mode, and for resources without a url, the identity is the id (PUT
Type/id). Existence is always decided on OUR side with exact comparison: some servers match `uri`
search parameters by substring (Medplum's in-memory repository does), so a search for
`.../PlanDefinition/follow-up` can return `.../PlanDefinition/follow-up-visit`, and a conditional
create can "match" the wrong resource. When that happens the resource is created unconditionally.

Resumable. Before anything is sent, every resource is looked up; what exists is `matched` and not
sent again. Before a failed request is retried (429/5xx/dropped connection), its resources are
looked up again, because a lost answer does not mean a lost write. So a load killed at any point
completes on rerun and duplicates nothing.

Stop on 4xx. A refused resource is `failed` with the server's OperationOutcome; a transaction that
fails as a whole is split in halves until the refused resources are found; requests after the
failing one are not sent (`skipped`), since later resources depend on earlier ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from generator.diagnostics import Diagnostic, GeneratorError, Severity
from generator.jsonfmt import dump_compact
from generator.server._http import RETRY_STATUSES, Backoff, FhirClient, Transient
from generator.server._plan import TooLarge, dependency_order, plan_requests

Mode = Literal["transaction", "batch", "put"]
MODES: tuple[str, ...] = ("transaction", "batch", "put")
STATUSES = ("created", "matched", "updated", "failed", "skipped")
_MAX_CONDITIONAL_ROUNDS = 3
_SEARCH_COUNT = 1000


@dataclass
class ResourceResult:
    """One resource of the load and what became of it."""

    resource: dict[str, Any] = field(repr=False)
    status: str = "pending"  # created | matched | updated | failed | skipped
    server_id: str | None = None
    message: str | None = None
    outcome: dict[str, Any] | None = field(default=None, repr=False)
    existed: bool = False  # put mode: the id existed with other content
    attempted: bool = False  # a write for it was sent at least once
    unconditional: bool = False  # the server's conditional create matched another resource

    @property
    def ref(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"

    @property
    def url(self) -> str | None:
        url = self.resource.get("url")
        return url if isinstance(url, str) else None

    @property
    def version(self) -> str | None:
        version = self.resource.get("version")
        return version if isinstance(version, str) else None

    def by_canonical(self, mode: Mode) -> bool:
        return mode != "put" and self.url is not None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.ref, "url": self.url, "version": self.version, "status": self.status}
        if self.server_id:
            out["serverId"] = self.server_id
        if self.message:
            out["message"] = self.message
        if self.outcome:
            out["outcome"] = self.outcome
        return out


@dataclass
class LoadOptions:
    mode: Mode = "transaction"
    max_entries: int = 8
    max_bytes: int = 1_000_000
    backoff: Backoff = field(default_factory=Backoff)
    progress: Callable[[int, int], None] | None = None  # (resources settled, total)


@dataclass
class LoadReport:
    results: list[ResourceResult]
    requests: int
    seconds: float
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        counts = {s: 0 for s in STATUSES}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "skipped") for r in self.results) or any(
            d.is_error for d in self.diagnostics)


# ---- identity and content -------------------------------------------------------------------------


def _search_path(item: ResourceResult, mode: Mode) -> str:
    kind = item.resource["resourceType"]
    if item.by_canonical(mode):
        return f"{kind}?url={quote(item.url or '', safe=':/')}&_count={_SEARCH_COUNT}"
    return f"{kind}?_id={quote(item.resource['id'], safe='')}"


def _same_identity(item: ResourceResult, candidate: dict[str, Any], mode: Mode) -> bool:
    if candidate.get("resourceType") != item.resource["resourceType"]:
        return False
    if item.by_canonical(mode):
        return candidate.get("url") == item.url and candidate.get("version") == item.version
    return candidate.get("id") == item.resource["id"]


def comparable(resource: dict[str, Any], like: dict[str, Any], keep_id: bool) -> dict[str, Any]:
    """`resource` without what a server adds or assigns: meta keys `like` does not have
    (versionId, lastUpdated, ...) and, unless `keep_id`, the id."""
    out = {k: v for k, v in resource.items() if k != "meta" and (keep_id or k != "id")}
    if "meta" in like and isinstance(resource.get("meta"), dict):
        out["meta"] = {k: v for k, v in resource["meta"].items() if k in like["meta"]}
    return out


def first_difference(ours: Any, theirs: Any, path: str) -> str | None:
    """The FHIRPath-like location of the first difference, or None when equal."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(ours.keys() | theirs.keys()):
            if key not in theirs or key not in ours or ours[key] != theirs[key]:
                found = first_difference(ours.get(key), theirs.get(key), f"{path}.{key}")
                if found:
                    return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path} ({len(ours)} items sent, {len(theirs)} on the server)"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if ours == theirs else path


def difference(item: ResourceResult, found: dict[str, Any], mode: Mode) -> str | None:
    keep_id = not item.by_canonical(mode)
    ours = comparable(item.resource, item.resource, keep_id)
    theirs = comparable(found, item.resource, keep_id)
    return first_difference(ours, theirs, item.resource["resourceType"])


def _entry(item: ResourceResult, mode: Mode) -> dict[str, Any]:
    kind = item.resource["resourceType"]
    if not item.by_canonical(mode):
        return {"resource": item.resource, "request": {"method": "PUT", "url": f"{kind}/{item.resource['id']}"}}
    body = {k: v for k, v in item.resource.items() if k != "id"}  # the server assigns ids on create
    request: dict[str, str] = {"method": "POST", "url": kind}
    if not item.unconditional:
        condition = f"url={quote(item.url or '', safe=':/')}"
        if item.version is not None:
            condition += f"&version={quote(item.version, safe='')}"
        request["ifNoneExist"] = condition
    return {"resource": body, "request": request}


def _status(entry: dict[str, Any]) -> int:
    text = str(entry.get("response", {}).get("status", "0")).strip()
    head = text.split(" ", 1)[0]
    return int(head) if head.isdigit() else 0


def _location_id(entry: dict[str, Any]) -> str | None:
    location = entry.get("response", {}).get("location")
    if not isinstance(location, str):
        return None
    parts = location.split("/_history/", 1)[0].rstrip("/").split("/")
    return parts[-1] if parts else None


# ---- the loader -----------------------------------------------------------------------------------


class Loader:
    def __init__(self, client: FhirClient, options: LoadOptions):
        self.client, self.options, self.mode = client, options, options.mode

    # look-ups ------------------------------------------------------------------------------------

    def _searchset(self, bundle: Any) -> list[dict[str, Any]]:
        """The resources of a searchset Bundle, following `next` links."""
        found: list[dict[str, Any]] = []
        pages = 0
        while isinstance(bundle, dict) and pages < 50:
            found += [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]
            following = next((link.get("url") for link in bundle.get("link", []) if link.get("relation") == "next"),
                             None)
            if not following:
                break
            status, bundle = self.client.send("GET", following)
            pages += 1
            if status != 200:
                raise GeneratorError([Diagnostic("SERVER014", f"the server refused a search page: HTTP {status}")],
                                     exit_code=2)
        return found

    def lookup(self, items: list[ResourceResult]) -> list[list[dict[str, Any]]]:
        """For each item, the resources on the server with exactly its identity."""
        matches: list[list[dict[str, Any]]] = []
        step = max(1, self.options.max_entries)
        for start in range(0, len(items), step):
            part = items[start:start + step]
            matches += self.options.backoff.run(lambda: self._lookup_batch(part), "looking up existing resources")
        return matches

    def _lookup_batch(self, part: list[ResourceResult]) -> list[list[dict[str, Any]]]:
        """One batch of searches (GET entries), one per item; each result filtered exactly."""
        bundle = {"resourceType": "Bundle", "type": "batch",
                  "entry": [{"request": {"method": "GET", "url": _search_path(i, self.mode)}} for i in part]}
        status, body = self.client.send("POST", "", bundle)
        if status != 200 or not isinstance(body, dict) or len(body.get("entry", [])) != len(part):
            raise GeneratorError([Diagnostic("SERVER014", f"the server did not answer a batch of searches "
                                                          f"(HTTP {status}): {_outcome_text(body)}")], exit_code=2)
        matches = []
        for item, entry in zip(part, body["entry"]):
            code = _status(entry)
            if code in RETRY_STATUSES:
                raise Transient(f"search answered {code}")
            if code != 200:
                raise GeneratorError([Diagnostic("SERVER014", f"{item.ref}: the server refused the search "
                                                              f"{_search_path(item, self.mode)} (HTTP {code})")],
                                     exit_code=2)
            matches.append([r for r in self._searchset(entry.get("resource")) if _same_identity(item, r, self.mode)])
        return matches

    def _classify(self, item: ResourceResult, found: list[dict[str, Any]], first: bool) -> None:
        """Settle `item` from what the server has (nothing changes when it has nothing suitable)."""
        if not found:
            return
        current = found[0]
        if item.by_canonical(self.mode):
            item.server_id = current.get("id")
            item.status = "created" if item.attempted else "matched"
            diff = difference(item, current, self.mode)
            if diff and first:
                item.message = f"the server's {item.url}|{item.version} differs at {diff}; not overwritten " \
                               "(same url|version; publish a new version or use --mode put)"
            return
        if item.url is not None and current.get("url") not in (None, item.url):
            item.status = "failed"
            item.message = f"id collision: {item.ref} on the server is {current.get('url')}, not {item.url}; " \
                           "not overwritten"
            return
        if difference(item, current, self.mode) is None:
            item.server_id = current.get("id")
            item.status = ("updated" if item.existed else "created") if item.attempted else "matched"
        elif first:
            item.existed = True

    # writes --------------------------------------------------------------------------------------

    def _fail(self, items: list[ResourceResult], message: str, outcome: Any) -> None:
        for item in items:
            item.status, item.message = "failed", message
            item.outcome = outcome if isinstance(outcome, dict) else None

    def _send(self, items: list[ResourceResult]) -> None:
        """One Bundle request for `items`; splits on 413 (and on a refused transaction to find
        the refused resources); raises Transient for the caller to retry."""
        kind = "transaction" if self.mode == "transaction" else "batch"
        bundle = {"resourceType": "Bundle", "type": kind, "entry": [_entry(i, self.mode) for i in items]}
        for item in items:
            item.attempted = True
        status, body = self.client.send("POST", "", bundle)
        if status == 413 or (status >= 400 and kind == "transaction" and len(items) > 1):
            if len(items) == 1:
                self._fail(items, f"the server refuses a request of {len(dump_compact(bundle))} bytes (HTTP 413)",
                           body)
                return
            half = len(items) // 2
            self._send(items[:half])
            if not any(i.status == "failed" for i in items[:half]):
                self._send(items[half:])
            return
        if status == 412 and len(items) == 1 and not items[0].unconditional and items[0].by_canonical(self.mode):
            # A transaction of one conditional create refused for several matches: the server matched
            # other canonicals by substring (ours was looked up exactly and is absent), as in `_settle`.
            items[0].unconditional = True
            items[0].message = "the server found several matches for the conditional create; created unconditionally"
            self._send(items)
            return
        if status >= 400:
            self._fail(items, f"refused: HTTP {status}: {_outcome_text(body)}", body)
            return
        entries = body.get("entry") if isinstance(body, dict) else None
        if not isinstance(entries, list) or len(entries) != len(items):
            self._fail(items, f"unexpected answer to a {kind} Bundle (HTTP {status})", body)
            return
        transient = None
        for item, entry in zip(items, entries):
            code = _status(entry)
            if code in RETRY_STATUSES:
                transient = Transient(f"entry answered {code}")
            else:
                self._settle(item, entry, code)
        if transient is not None:
            raise transient

    def _settle(self, item: ResourceResult, entry: dict[str, Any], code: int) -> None:
        returned = entry.get("resource") if isinstance(entry.get("resource"), dict) else None
        if code == 201:
            item.status = "updated" if item.existed else "created"
            item.server_id = (returned or {}).get("id") or _location_id(entry)
        elif code == 200 and not item.by_canonical(self.mode):
            item.status = "updated" if item.existed else "created"
            item.server_id = item.resource["id"]
        elif code == 200:  # the conditional create found a match: is it really ours?
            target = returned
            if target is None and _location_id(entry):
                status, target = self.client.send("GET", f"{item.resource['resourceType']}/{_location_id(entry)}")
            if isinstance(target, dict) and _same_identity(item, target, self.mode):
                item.status, item.server_id = "matched", target.get("id")
            else:
                shown = target.get("url") if isinstance(target, dict) else "an unreadable resource"
                item.unconditional = True
                item.message = f"the server's conditional create matched {shown}; created unconditionally"
        elif code == 412:  # several resources match the condition (substring matching of uri)
            item.unconditional = True
            item.message = "the server found several matches for the conditional create; created unconditionally"
        else:
            outcome = entry.get("response", {}).get("outcome")
            self._fail([item], f"refused: HTTP {code}: {_outcome_text(outcome)}", outcome)

    def _load_request(self, items: list[ResourceResult]) -> None:
        first = True

        def attempt() -> None:
            nonlocal first
            todo = [i for i in items if i.status == "pending"]
            if not first and todo:  # a lost answer is not a lost write: look again before resending
                for item, found in zip(todo, self.lookup(todo)):
                    self._classify(item, found, first=False)
            first = False
            for _ in range(_MAX_CONDITIONAL_ROUNDS):
                todo = [i for i in items if i.status == "pending"]
                if not todo:
                    return
                self._send(todo)
                if any(i.status == "failed" for i in items):  # stop on a refusal: nothing more is sent
                    for item in items:
                        if item.status == "pending":
                            item.status, item.message = "skipped", "not sent: a resource of its request was refused"
                    return
            for item in items:
                if item.status == "pending":
                    self._fail([item], item.message or "the server kept matching another resource", None)

        self.options.backoff.run(attempt, f"request of {len(items)} resources")

    def run(self, resources: list[dict[str, Any]]) -> LoadReport:
        started = time.monotonic()
        items = [ResourceResult(r) for r in dependency_order(resources)]
        total = len(items)
        progress = self.options.progress or (lambda done, all_: None)
        found = self.lookup(items)
        for item, matches in zip(items, found):
            self._classify(item, matches, first=True)
        pending = [i for i in items if i.status == "pending"]
        progress(total - len(pending), total)
        entries = [_entry(i, self.mode) for i in pending]
        try:
            plan = plan_requests(entries, self.options.max_entries, self.options.max_bytes)
        except TooLarge as exc:
            raise GeneratorError([Diagnostic("SERVER003", f"{pending[exc.index].ref} needs a request of {exc.size} "
                                                          f"bytes, over --max-bytes {self.options.max_bytes}")],
                                 exit_code=2) from None
        stopped = False
        for request in plan.requests:
            part = [pending[k] for k in request]
            if stopped:
                for item in part:
                    item.status, item.message = "skipped", "not sent: an earlier request failed"
                continue
            self._load_request(part)
            stopped = any(i.status == "failed" for i in part)
            progress(sum(1 for i in items if i.status != "pending"), total)
        diagnostics = [Diagnostic("SERVER020", i.message or "refused", resource=i.ref) for i in items
                       if i.status == "failed"]
        diagnostics += [Diagnostic("SERVER021", i.message, Severity.WARNING, resource=i.ref) for i in items
                        if i.status == "matched" and i.message]
        return LoadReport(items, self.client.requests, time.monotonic() - started, diagnostics)


def _outcome_text(outcome: Any, limit: int = 400) -> str:
    """The issues of an OperationOutcome as one line (what the server said, per issue)."""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return "no OperationOutcome"
    parts = []
    for issue in outcome.get("issue", []):
        text = issue.get("details", {}).get("text") or issue.get("diagnostics") or issue.get("code", "")
        where = ", ".join(issue.get("expression", []) or [])
        parts.append(f"{text} @ {where}" if where else str(text))
    joined = "; ".join(parts)
    return joined if len(joined) <= limit else joined[:limit] + "..."


def load(client: FhirClient, resources: list[dict[str, Any]], options: LoadOptions) -> LoadReport:
    """Load `resources` (any order) into the server behind `client`."""
    return Loader(client, options).run(resources)


def verify(client: FhirClient, resources: list[dict[str, Any]], options: LoadOptions) -> list[Diagnostic]:
    """Every resource searched on the server (url|version, or id) and compared with what we send."""
    loader = Loader(client, options)
    items = [ResourceResult(r) for r in resources]
    found = loader.lookup(items)
    diags: list[Diagnostic] = []
    for item, matches in zip(items, found):
        identity = f"{item.url}|{item.version}" if item.by_canonical(options.mode) else item.ref
        if not matches:
            diags.append(Diagnostic("SERVER030", f"{identity} is not on the server", resource=item.ref))
            continue
        if len(matches) > 1:
            diags.append(Diagnostic("SERVER032", f"{identity} is on the server {len(matches)} times "
                                                 f"(ids {', '.join(str(m.get('id')) for m in matches)})",
                                    resource=item.ref))
        for match in matches:
            diff = difference(item, match, options.mode)
            if diff:
                diags.append(Diagnostic("SERVER031", f"{identity} on the server (id {match.get('id')}) differs from "
                                                     "what we send", resource=item.ref, path=diff))
    return diags
