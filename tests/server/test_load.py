"""`cpg load` against a real FHIR server (Medplum's router, in-memory, write-time validation on)."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import CPG, ROOT, SYNTHETIC_N, FhirTestServer, cpg_load

VCF = "vertebral-compression-fracture"
FHIRHELPERS_URL = "http://example.org/fhir/cpg/shared/Library/FHIRHelpers"


def _resources(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((folder / "resources").glob("*.json"))]


def _writes(server: FhirTestServer) -> list[dict[str, Any]]:
    return [r for r in server.stats()["requests"] if r["writes"]]


def _canonicals_on_server(server: FhirTestServer, resources: list[dict[str, Any]]) -> dict[str, int]:
    """How many resources the server holds for each url|version we loaded (exact comparison)."""
    counts: dict[str, int] = {}
    for kind in sorted({r["resourceType"] for r in resources}):
        for found in server.search(f"{kind}?_count=1000"):
            key = f"{found.get('url')}|{found.get('version')}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_load_twice_creates_nothing_new_and_validation_accepts_everything(fhir_server: FhirTestServer,
                                                                          vcf_output: Path) -> None:
    resources = _resources(vcf_output / VCF)
    first = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--format", "json")
    assert first.exit_code == 0, first.stdout + first.stderr
    report = first.json()
    # write-time validation of the server accepted every resource of the guideline
    assert report["totals"] == {"created": len(resources), "matched": 0, "updated": 0, "failed": 0, "skipped": 0}
    assert fhir_server.stats()["resources"] == len(resources)
    writes = len(_writes(fhir_server))

    second = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--format", "json")
    assert second.exit_code == 0
    assert second.json()["totals"]["matched"] == len(resources)
    assert second.json()["totals"]["created"] == 0
    assert len(_writes(fhir_server)) == writes  # the second load sent no write at all
    assert fhir_server.stats()["resources"] == len(resources)
    assert set(_canonicals_on_server(fhir_server, resources).values()) == {1}


def test_server_validation_refusal_is_shown_per_resource(fhir_server: FhirTestServer, vcf_output: Path,
                                                         tmp_path: Path) -> None:
    """The pretty-printed ELM the issue reported (a >1 MB string) is refused with the server's outcome,
    and the load stops: nothing after the refused request is sent."""
    resources = _resources(vcf_output / VCF)
    library = next(r for r in resources if r["resourceType"] == "Library" and r["id"] == "VertebralCompressionFracture")
    elm = json.loads(base64.b64decode(library["content"][1]["data"]))
    padded = json.dumps(elm, indent=8) + " " * (1024 * 1024)
    library["content"][1]["data"] = base64.b64encode(padded.encode()).decode()
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": r} for r in resources]}))
    fhir_server.control(maxBody=16 * 1024 * 1024)
    run = cpg_load(bundle, fhir_server.base, "--max-bytes", "16000000", "--format", "json")
    assert run.exit_code == 1
    by_ref = {r["resource"]: r for r in run.json()["resources"]}
    refused = by_ref["Library/VertebralCompressionFracture"]
    assert refused["status"] == "failed"
    assert refused["outcome"]["resourceType"] == "OperationOutcome"
    assert "1 MB" in refused["message"]
    assert by_ref[f"PlanDefinition/{VCF}"]["status"] == "skipped"
    assert run.json()["totals"]["failed"] == 1


def test_limits_are_respected(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    dry = cpg_load(VCF, "http://127.0.0.1:9/fhir", "--output", str(vcf_output), "--dry-run", "--mode", "batch",
                   "--max-entries", "3", "--max-bytes", "900000", "--format", "json")
    assert dry.exit_code == 0  # a dry run contacts no server (port 9 is closed)
    planned = dry.json()
    assert all(r["entries"] <= 3 and r["bytes"] <= 900000 for r in planned["requests"])
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--mode", "batch",
                   "--max-entries", "3", "--max-bytes", "900000", "--format", "json")
    assert run.exit_code == 0, run.stdout
    writes = _writes(fhir_server)
    # plus one request per resource the server's substring matching sent round again, unconditionally
    resent = [r for r in run.json()["resources"] if "unconditionally" in r.get("message", "")]
    assert len(writes) == planned["requestCount"] + len(resent)
    assert all(w["entries"] <= 3 and w["bytes"] <= 900000 for w in writes)
    assert all(r["entries"] is None or r["entries"] <= 3 for r in fhir_server.stats()["requests"])
    # dependencies before dependants: the shared FHIRHelpers before the logic library before the pathway
    order = [ref for r in planned["requests"] for ref in r["resources"]]
    assert order.index("Library/FHIRHelpers-4.0.1") < order.index("Library/VertebralCompressionFracture") \
        < order.index(f"PlanDefinition/{VCF}")
    assert max(i for i, ref in enumerate(order) if ref.startswith("ValueSet/")) < order.index(
        "Library/VertebralCompressionFracture")


def test_transaction_over_the_servers_entry_limit_is_split(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    """Medplum refuses a transaction of more than 8 conditional creates; the loader halves and completes."""
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--max-entries", "20", "--format", "json")
    assert run.exit_code == 0, run.stdout
    statuses = [r["status"] for r in fhir_server.stats()["requests"] if r["writes"]]
    assert 400 in statuses and statuses[-1] == 200
    assert run.json()["totals"]["created"] == len(_resources(vcf_output / VCF))


def test_a_resource_over_max_bytes_is_unusable_input(vcf_output: Path) -> None:
    run = cpg_load(VCF, "http://127.0.0.1:9/fhir", "--output", str(vcf_output), "--dry-run", "--max-bytes", "50000")
    assert run.exit_code == 2
    assert "SERVER003" in run.stderr


def test_bearer_token_required_and_never_printed(fhir_server: FhirTestServer, vcf_output: Path, tmp_path: Path) -> None:
    token = "tok-" + "s3cr3t" * 6
    fhir_server.control(token=token)
    refused = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output))
    assert refused.exit_code == 2
    assert "SERVER012" in refused.stderr and "401" in refused.stderr
    wrong = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--token-env", "CPG_TOKEN",
                     env={"CPG_TOKEN": token + "x"})
    assert wrong.exit_code == 2
    ok = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--token-env", "CPG_TOKEN", "--verify",
                  env={"CPG_TOKEN": token})
    assert ok.exit_code == 0, ok.stderr
    secret_file = tmp_path / "token"
    secret_file.write_text(token + "\n")
    as_json = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--token-file", str(secret_file),
                       "--format", "json")
    assert as_json.exit_code == 0
    for run in (refused, wrong, ok, as_json):
        assert token not in run.stdout + run.stderr
    assert all(r["status"] in (200, 401) for r in fhir_server.stats()["requests"])


def test_basic_and_oauth_client_credentials(fhir_server: FhirTestServer, vcf_output: Path, tmp_path: Path) -> None:
    secret = "client-secret-" + "x9" * 8
    fhir_server.control(basic="loader:pw-" + secret, client="cpg-loader:" + secret)
    credentials = tmp_path / "basic"
    credentials.write_text("loader:pw-" + secret)
    basic = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--basic-file", str(credentials))
    assert basic.exit_code == 0, basic.stderr
    token_url = fhir_server.base.replace("/fhir", "/oauth2/token")
    oauth = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--oauth-token-url", token_url,
                     "--client-id", "cpg-loader", "--client-secret-env", "CPG_SECRET", "--format", "json",
                     env={"CPG_SECRET": secret})
    assert oauth.exit_code == 0, oauth.stdout
    assert oauth.json()["totals"]["matched"] == len(_resources(vcf_output / VCF))
    fhir_server.control(faults=["ok", "ok", "expire"])  # the access token expires mid-load: a new one is fetched
    again = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--oauth-token-url", token_url,
                     "--client-id", "cpg-loader", "--client-secret-env", "CPG_SECRET", env={"CPG_SECRET": secret})
    assert again.exit_code == 0, again.stderr
    assert [r["status"] for r in fhir_server.stats()["requests"]].count(401) == 1
    refused = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--oauth-token-url", token_url,
                       "--client-id", "cpg-loader", "--client-secret-env", "CPG_SECRET",
                       env={"CPG_SECRET": secret + "-wrong"})
    assert refused.exit_code == 2 and "SERVER013" in refused.stderr
    missing = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--token-env", "CPG_UNSET_VARIABLE")
    assert missing.exit_code == 2 and "SERVER004" in missing.stderr
    for run in (basic, oauth, again, refused, missing):
        assert secret not in run.stdout + run.stderr


def test_faults_are_retried_and_nothing_is_lost_or_duplicated(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    resources = _resources(vcf_output / VCF)
    faults: list[Any] = [{"kind": "429", "retryAfter": 1}, "ok", "503", "ok", "drop", *["ok"] * 16, "drop-after",
                         "502", "ok", "drop-after", "504", "ok", "ok", "drop-after"]
    fhir_server.control(faults=faults)
    started = time.monotonic()
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--mode", "batch", "--verify",
                   "--format", "json")
    assert run.exit_code == 0, run.stdout
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    statuses = [r["status"] for r in fhir_server.stats()["requests"]]
    assert {429, 503, 502, 504, -1, -2} <= set(statuses)  # every fault really happened
    report = run.json()
    assert report["totals"]["created"] == len(resources) and report["verify"] == []
    assert set(_canonicals_on_server(fhir_server, resources).values()) == {1}
    assert fhir_server.stats()["resources"] == len(resources)


def test_retries_are_bounded(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    fhir_server.control(faults=["503"] * 10)
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--retries", "2")
    assert run.exit_code == 2 and "SERVER010" in run.stderr
    unreachable = cpg_load(VCF, "http://127.0.0.1:9/fhir", "--output", str(vcf_output), "--retries", "1")
    assert unreachable.exit_code == 2 and "SERVER010" in unreachable.stderr


def test_killed_load_completes_on_rerun(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    resources = _resources(vcf_output / VCF)
    fhir_server.control(delayMs=40)
    process = subprocess.Popen([*CPG, "load", VCF, "--server", fhir_server.base, "--output", str(vcf_output),
                                "--max-entries", "4"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len([w for w in _writes(fhir_server) if w["status"] == 200]) < 3:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    partial = fhir_server.stats()["resources"]
    assert 0 < partial < len(resources)
    fhir_server.control(delayMs=0)
    rerun = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--verify", "--format", "json")
    assert rerun.exit_code == 0, rerun.stdout
    totals = rerun.json()["totals"]
    assert totals["matched"] >= partial and totals["created"] + totals["matched"] == len(resources)
    assert set(_canonicals_on_server(fhir_server, resources).values()) == {1}


@pytest.mark.parametrize("mode", ["transaction", "put"])
def test_many_guidelines_share_one_server(fhir_server: FhirTestServer, synthetic_output: Path, vcf_output: Path,
                                          mode: str) -> None:
    folders = sorted(p for p in synthetic_output.iterdir() if p.is_dir()) + [vcf_output / VCF]
    assert len(folders) == SYNTHETIC_N + 1
    expected: set[str] = set()
    for folder in folders:
        run = cpg_load(folder, fhir_server.base, "--mode", mode, "--max-entries", "8", "--format", "json")
        assert run.exit_code == 0, run.stdout
        helpers = next(r for r in run.json()["resources"] if r["resource"] == "Library/FHIRHelpers-4.0.1")
        assert helpers["status"] == ("created" if folder == folders[0] else "matched")
        expected |= {f"{r['url']}|{r['version']}" for r in _resources(folder)}
    counts = _canonicals_on_server(fhir_server, [r for f in folders for r in _resources(f)])
    assert set(counts) == expected and set(counts.values()) == {1}  # no collision, no duplicate
    assert [r["url"] for r in fhir_server.search("Library?name=FHIRHelpers")] == [FHIRHELPERS_URL]
    # every guideline's logic library depends on the one shared FHIRHelpers
    for folder in folders:
        logic = [r for r in _resources(folder) if r["resourceType"] == "Library" and r["id"] != "FHIRHelpers-4.0.1"
                 and r.get("content")]
        assert logic and all(f"{FHIRHELPERS_URL}|4.0.1" in [a["resource"] for a in lib["relatedArtifact"]]
                             for lib in logic)


def test_verify_finds_a_resource_changed_on_the_server(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    assert cpg_load(VCF, fhir_server.base, "--output", str(vcf_output)).exit_code == 0
    pathway = next(r for r in _resources(vcf_output / VCF) if r["id"] == VCF and r["resourceType"] == "PlanDefinition")
    fhir_server.control(change={"type": "PlanDefinition", "url": pathway["url"], "title": "Edited on the server"})
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--verify")
    assert run.exit_code == 1
    assert "SERVER031" in run.stderr and "PlanDefinition.title" in run.stderr
    assert "SERVER021" in run.stderr  # the load itself said the server's copy differs and left it


def test_targets_bundle_and_package_load_the_same_resources(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    folder = vcf_output / VCF
    expected = len(_resources(folder))
    bundle = cpg_load(folder / "bundle-transaction.json", fhir_server.base, "--format", "json")
    assert bundle.exit_code == 0 and bundle.json()["totals"]["created"] == expected
    package = cpg_load(folder / "package.tgz", fhir_server.base, "--format", "json")
    assert package.exit_code == 0, package.stdout
    totals = package.json()["totals"]
    assert totals["failed"] == 0 and totals["matched"] >= expected  # every resource of the folder was there
    loaded = [r for r in package.json()["resources"]]
    assert totals["created"] + totals["matched"] == len(loaded)
    # The package's test cases are new; some have urls that are prefixes of others (test-mri-contraindicated,
    # test-mri-contraindicated-persistent-pain...), which the server's substring search conflates: each
    # canonical is still on the server exactly once.
    counts = _canonicals_on_server(fhir_server, [{"resourceType": r["resource"].split("/")[0]} for r in loaded])
    assert all(counts.get(f"{r['url']}|{r['version']}") == 1 for r in loaded if r.get("url")), counts
    missing = cpg_load("no-such-guideline", fhir_server.base, "--output", str(vcf_output))
    assert missing.exit_code == 2 and "SERVER001" in missing.stderr


def test_library_content_elm_is_compact_and_fhirhelpers_identical_across_guidelines(
        vcf_output: Path, synthetic_output: Path) -> None:
    folder = vcf_output / VCF
    library = json.loads((folder / "resources" / "Library-VertebralCompressionFracture.json").read_text())
    elm_text = base64.b64decode(library["content"][1]["data"]).decode()
    assert "\n" not in elm_text and ": " not in elm_text[:200]  # compact JSON
    assert json.loads(elm_text) == json.loads((folder / "elm" / "VertebralCompressionFracture.json").read_text())
    assert (folder / "elm" / "VertebralCompressionFracture.json").read_text().count("\n") > 100  # the readable copy
    helpers = {p.read_bytes() for p in [*synthetic_output.glob("*/resources/Library-FHIRHelpers-4.0.1.json"),
                                        folder / "resources" / "Library-FHIRHelpers-4.0.1.json"]}
    assert len(helpers) == 1  # byte-identical in every guideline: one resource on any server
    assert all(len(p.read_bytes()) < 1024 * 1024 for p in folder.glob("resources/*.json"))


def test_verify_reports_duplicates_and_put_refuses_to_overwrite_another_canonical(
        fhir_server: FhirTestServer, vcf_output: Path, tmp_path: Path) -> None:
    import httpx

    resources = _resources(vcf_output / VCF)
    value_set = next(r for r in resources if r["resourceType"] == "ValueSet")
    copy = {k: v for k, v in value_set.items() if k != "id"}
    assert httpx.post(f"{fhir_server.base}/ValueSet", json=copy).status_code == 201
    assert httpx.post(f"{fhir_server.base}/ValueSet", json=copy).status_code == 201  # a duplicate, made by hand
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--verify")
    assert run.exit_code == 1 and "SERVER032" in run.stderr and value_set["url"] in run.stderr

    fhir_server.control(reset=True)
    squatter = {**value_set, "url": "http://example.org/fhir/someone-else/ValueSet/" + value_set["id"]}
    assert httpx.put(f"{fhir_server.base}/ValueSet/{value_set['id']}", json=squatter).status_code in (200, 201)
    put = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--mode", "put", "--format", "json")
    assert put.exit_code == 1
    result = next(r for r in put.json()["resources"] if r["resource"] == f"ValueSet/{value_set['id']}")
    assert result["status"] == "failed" and "id collision" in result["message"]
    assert fhir_server.search(f"ValueSet?_id={value_set['id']}")[0]["url"] == squatter["url"]  # left alone


def test_a_body_cap_below_max_bytes_is_met_by_splitting(fhir_server: FhirTestServer, vcf_output: Path) -> None:
    fhir_server.control(maxBody=900_000)
    run = cpg_load(VCF, fhir_server.base, "--output", str(vcf_output), "--max-bytes", "4000000", "--mode", "batch",
                   "--format", "json")
    assert run.exit_code == 0, run.stdout
    statuses = [r["status"] for r in fhir_server.stats()["requests"]]
    assert 413 in statuses  # the server's cap was really hit, and the halves went through
    assert run.json()["totals"]["created"] == len(_resources(vcf_output / VCF))
    assert all(r["bytes"] <= 900_000 for r in fhir_server.stats()["requests"] if r["status"] == 200)
