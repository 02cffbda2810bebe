"""TARGET -> resources: a guideline id (its built folder under --output), a built folder, a
Bundle or resource JSON file, or a FHIR NPM package (.tgz). Reading goes through the validator's
input layer (one bounded reader for every command); a built folder loads its resources/ (the
bundles and the package there hold the same resources again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, GeneratorError, Severity


def _error(code: str, message: str) -> GeneratorError:
    return GeneratorError([Diagnostic(code, message)], exit_code=2)


def resolve_target(target: str, output: Path) -> Path:
    """The path to read for TARGET (SERVER001 when it names nothing)."""
    path = Path(target)
    if not path.exists() and (output / target).is_dir():
        path = output / target
    if not path.exists():
        raise _error("SERVER001", f"{target}: no built guideline of that id under {output}/, and no such folder, "
                                  "Bundle or package (run `cpg build` first?)")
    if path.is_dir() and (path / "resources").is_dir():
        return path / "resources"
    return path


def read_target(target: str, output: Path) -> list[dict[str, Any]]:
    """The resources to load, each once (identical copies collapse; SERVER002 for conflicting ones)."""
    from generator.validate import load_artifacts

    path = resolve_target(target, output)
    artifacts, diags = load_artifacts(path)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if errors:
        raise GeneratorError(errors, exit_code=2)
    resources: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for artifact in artifacts:
        resource = artifact.resource
        if resource.get("resourceType") == "Bundle":
            continue
        rid = resource.get("id")
        if not isinstance(rid, str):
            raise _error("SERVER002", f"{artifact.source}: {resource.get('resourceType')} without an id cannot be "
                                      "loaded idempotently")
        key = (resource["resourceType"], rid)
        if key in seen:
            if seen[key] != resource:
                raise _error("SERVER002", f"{key[0]}/{rid} appears twice in {target} with different content")
            continue
        seen[key] = resource
        resources.append(resource)
    if not resources:
        raise _error("SERVER002", f"{target}: no FHIR resources to load")
    return resources
