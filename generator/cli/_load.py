"""`cpg load TARGET --server URL`: publish built artifacts to a FHIR server.

Exit codes: 0 everything is on the server; 1 some resources were refused, skipped, or (with
--verify) differ on the server; 2 unusable input, credentials, or a server that cannot be
reached. Secrets are redacted from everything printed (see generator/server/_auth.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from generator.cli._common import reports_errors
from generator.diagnostics import Diagnostic, GeneratorError


def _echo(text: str, *, err: bool = False, fg: str | None = None) -> None:
    from generator.server._auth import redact

    click.secho(redact(text), err=err, fg=fg)


def _diag_json(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {"code": d.code, "severity": d.severity.value, "message": d.message}
    if d.resource:
        out["resource"] = d.resource
    if d.path:
        out["path"] = d.path
    return out


def _print_diagnostics(diags: list[Diagnostic]) -> None:
    for d in diags:
        _echo(str(d), err=True, fg={"error": "red", "warning": "yellow"}.get(d.severity.value))


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rloading: {done}/{total} resources")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _summary_table(totals_by_type: dict[str, dict[str, int]], statuses: tuple[str, ...]) -> str:
    rows = [("TYPE", *(s.upper() for s in statuses))]
    grand = {s: 0 for s in statuses}
    for kind in sorted(totals_by_type):
        counts = totals_by_type[kind]
        rows.append((kind, *(str(counts.get(s, 0)) for s in statuses)))
        for s in statuses:
            grand[s] += counts.get(s, 0)
    rows.append(("total", *(str(grand[s]) for s in statuses)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
                     for r in rows)


@click.command("load")
@click.argument("target")
@click.option("--server", "server", required=True, help="FHIR R4 base URL, e.g. http://localhost:8080/fhir")
@click.option("--mode", type=click.Choice(["transaction", "batch", "put"]), default="transaction", show_default=True,
              help="transaction/batch: CRMI conditional create on url|version; put: PUT Type/id")
@click.option("--max-entries", type=click.IntRange(min=1), default=8, show_default=True,
              help="entries per request (a server's transaction limit)")
@click.option("--max-bytes", type=click.IntRange(min=1024), default=1_000_000, show_default=True,
              help="bytes per request body (a server's body limit)")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="where a guideline id's built folder is looked up")
@click.option("--token-env", metavar="VAR", help="bearer token from this environment variable")
@click.option("--token-file", metavar="FILE", help="bearer token from this file")
@click.option("--basic-env", metavar="VAR", help="basic auth 'user:password' from this environment variable")
@click.option("--basic-file", metavar="FILE", help="basic auth 'user:password' from this file")
@click.option("--oauth-token-url", metavar="URL", help="OAuth2 client credentials: the token endpoint")
@click.option("--client-id", metavar="ID", help="OAuth2 client id")
@click.option("--client-secret-env", metavar="VAR", help="OAuth2 client secret from this environment variable")
@click.option("--client-secret-file", metavar="FILE", help="OAuth2 client secret from this file")
@click.option("--scope", help="OAuth2 scope to request")
@click.option("--retries", type=click.IntRange(0, 20), default=6, show_default=True,
              help="retries of a request on 429/502/503/504 or a lost connection (exponential backoff)")
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True, help="seconds per request")
@click.option("--dry-run", is_flag=True, help="Show what would be sent (requests, entries, bytes); contact no server.")
@click.option("--verify", "do_verify", is_flag=True,
              help="After loading, search every resource on the server and compare it with what was sent.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@reports_errors
def load_command(target: str, server: str, mode: str, max_entries: int, max_bytes: int, output: Path,
                 token_env: str | None, token_file: str | None, basic_env: str | None, basic_file: str | None,
                 oauth_token_url: str | None, client_id: str | None, client_secret_env: str | None,
                 client_secret_file: str | None, scope: str | None, retries: int, timeout: float, dry_run: bool,
                 do_verify: bool, fmt: str) -> None:
    """Load TARGET (guideline id, built folder, Bundle, or package .tgz) into the FHIR server at --server."""
    ctx = click.get_current_context()
    try:
        code = _run(**{k: v for k, v in locals().items() if k != "ctx"})
    except GeneratorError as exc:
        if fmt == "json":
            _echo(json.dumps({"server": server, "diagnostics": [_diag_json(d) for d in exc.diagnostics]}, indent=2))
        else:
            _print_diagnostics(exc.diagnostics)
        code = exc.exit_code
    ctx.exit(code)


def _run(target: str, server: str, mode: str, max_entries: int, max_bytes: int, output: Path,
         token_env: str | None, token_file: str | None, basic_env: str | None, basic_file: str | None,
         oauth_token_url: str | None, client_id: str | None, client_secret_env: str | None,
         client_secret_file: str | None, scope: str | None, retries: int, timeout: float, dry_run: bool,
         do_verify: bool, fmt: str) -> int:
    from generator.server import LoadOptions, load, read_credentials, read_target, verify
    from generator.server._http import Backoff, FhirClient
    from generator.server._loader import STATUSES

    if not server.startswith(("http://", "https://")):
        raise GeneratorError([Diagnostic("SERVER006", f"--server {server!r} is not an http(s) URL")], exit_code=2)
    resources = read_target(target, output)
    options = LoadOptions(mode=mode, max_entries=max_entries, max_bytes=max_bytes,  # type: ignore[arg-type]
                          backoff=Backoff(retries=retries),
                          progress=_progress if sys.stderr.isatty() else None)
    if dry_run:
        return _dry_run(resources, server, options, fmt)
    credentials = read_credentials(token_env=token_env, token_file=token_file, basic_env=basic_env,
                                   basic_file=basic_file, oauth_token_url=oauth_token_url, client_id=client_id,
                                   client_secret_env=client_secret_env, client_secret_file=client_secret_file,
                                   scope=scope, timeout=timeout)
    with FhirClient(server, credentials.auth, timeout=timeout) as client:
        report = load(client, resources, options)
        verify_diags = verify(client, resources, options) if do_verify else []
    by_type: dict[str, dict[str, int]] = {}
    for r in report.results:
        counts = by_type.setdefault(r.resource["resourceType"], {})
        counts[r.status] = counts.get(r.status, 0) + 1
    rate = len(report.results) / report.seconds if report.seconds > 0 else 0.0
    failed = report.failed or any(d.is_error for d in verify_diags)
    if fmt == "json":
        _echo(json.dumps({
            "server": server, "mode": mode, "target": target, "requests": report.requests,
            "seconds": round(report.seconds, 3), "resourcesPerSecond": round(rate, 1),
            "totals": report.totals(), "resources": [r.as_json() for r in report.results],
            "verify": [_diag_json(d) for d in verify_diags] if do_verify else None,
            "diagnostics": [_diag_json(d) for d in report.diagnostics],
        }, indent=2))
    else:
        _print_diagnostics(report.diagnostics + verify_diags)
        _echo(_summary_table(by_type, STATUSES))
        verified = ""
        if do_verify:
            verified = "; verify: " + (f"{sum(d.is_error for d in verify_diags)} differences" if verify_diags
                                       else "every resource on the server matches")
        _echo(f"{len(report.results)} resources, {report.requests} requests, {report.seconds:.1f} s "
              f"({rate:.0f} resources/s) to {server} ({mode}, {credentials.describe()}){verified}")
    return 1 if failed else 0


def _dry_run(resources: list[dict[str, Any]], server: str, options: Any, fmt: str) -> int:
    """What a load of these resources into an empty server would send."""
    from generator.server._loader import ResourceResult, _entry
    from generator.server._plan import TooLarge, dependency_order, plan_requests

    items = [ResourceResult(r) for r in dependency_order(resources)]
    entries = [_entry(i, options.mode) for i in items]
    try:
        plan = plan_requests(entries, options.max_entries, options.max_bytes)
    except TooLarge as exc:
        raise GeneratorError([Diagnostic("SERVER003", f"{items[exc.index].ref} needs a request of {exc.size} bytes, "
                                                      f"over --max-bytes {options.max_bytes}")], exit_code=2) from None
    requests = [{"entries": len(r), "bytes": size, "resources": [items[k].ref for k in r]}
                for r, size in zip(plan.requests, plan.sizes)]
    if fmt == "json":
        _echo(json.dumps({"server": server, "mode": options.mode, "dryRun": True, "resources": len(items),
                          "requestCount": len(requests), "bytes": sum(plan.sizes), "requests": requests}, indent=2))
        return 0
    kind = "batch" if options.mode == "batch" else "transaction" if options.mode == "transaction" else "batch (PUT)"
    for n, request in enumerate(requests, 1):
        _echo(f"request {n}: {kind} of {request['entries']} entries, {request['bytes']} bytes: "
              + ", ".join(request["resources"]))
    _echo(f"dry run: {len(items)} resources in {len(requests)} requests, {sum(plan.sizes)} bytes, to {server} "
          f"(plus look-up searches before loading); nothing sent")
    return 0
