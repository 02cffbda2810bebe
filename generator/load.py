"""LOAD phase: import the definition packages and collect their Guideline objects.

Each direct sub-folder of `definitions/` that is a Python package and exposes a module-level
`guideline` is one guideline. Import errors are reported at the author's file and line.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from generator.argcheck import check_argument_types
from generator.diagnostics import DiagnosticBag, SourceLocation
from generator.model.guideline import Guideline
from generator.model.logic import Feature
from generator.model.recommendation import Recommendation


@dataclass
class LoadedGuideline:
    guideline: Guideline
    package_dir: Path
    defined_recommendations: list[Recommendation] = field(default_factory=list)  # built while importing
    defined_features: list[Feature] = field(default_factory=list)  # built while importing (raw CQL names them)


def load_definitions(definitions_dir: Path, bag: DiagnosticBag) -> list[LoadedGuideline]:
    if not definitions_dir.is_dir():
        bag.error("LOAD001", f"definitions folder not found: {definitions_dir}")
        return []
    loaded: list[LoadedGuideline] = []
    for package_dir in sorted(p for p in definitions_dir.iterdir() if (p / "__init__.py").is_file()):
        guideline = _import_guideline(package_dir, bag)
        if guideline is not None and check_argument_types(guideline, bag):
            recommendations, features = _defined_objects(package_dir)
            loaded.append(LoadedGuideline(guideline, package_dir, recommendations, features))
    if not loaded and not bag.has_errors:
        bag.error("LOAD002", f"no guideline packages (with a module-level `guideline`) in {definitions_dir}")
    return loaded


def _module_name(package_dir: Path) -> str:
    """A private module name so two definitions folders never share sys.modules entries."""
    return f"_cpg_definitions_{abs(hash(str(package_dir.resolve())))}_{package_dir.name}"


def _defined_objects(package_dir: Path) -> tuple[list[Recommendation], list[Feature]]:
    """Recommendations and features the package's modules hold at module level (directly or in a list,
    tuple or dict): RULE015 reports recommendations placed in no strategy, raw CQL may name the features."""
    prefix = _module_name(package_dir)
    recommendations: dict[int, Recommendation] = {}
    features: dict[int, Feature] = {}
    for name, module in sorted(sys.modules.items()):
        if name != prefix and not name.startswith(prefix + "."):
            continue
        for value in list(vars(module).values()):
            items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else (value,)
            for item in items:
                if isinstance(item, Recommendation):
                    recommendations.setdefault(id(item), item)
                elif isinstance(item, Feature):
                    features.setdefault(id(item), item)
    return list(recommendations.values()), list(features.values())


def _import_guideline(package_dir: Path, bag: DiagnosticBag) -> Guideline | None:
    module_name = _module_name(package_dir)
    for name in [m for m in sys.modules if m == module_name or m.startswith(module_name + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        module_name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any author error becomes a located diagnostic
        location = _innermost_author_frame(exc, package_dir)
        code = getattr(exc, "code", None)
        if isinstance(code, str) and isinstance(getattr(exc, "message", None), str):  # a coded model error
            bag.error(code, exc.message, location=getattr(exc, "location", None) or location)  # type: ignore[attr-defined]
            return None
        bag.error("LOAD003", f"importing {package_dir.name} failed: {type(exc).__name__}: {exc}", location=location)
        return None
    guideline = getattr(module, "guideline", None)
    if not isinstance(guideline, Guideline):
        bag.error(
            "LOAD004",
            "the package must define a module-level `guideline = Guideline(...)`",
            location=SourceLocation.relative(package_dir / "__init__.py", 1),
        )
        return None
    return guideline


def _innermost_author_frame(exc: BaseException, package_dir: Path) -> SourceLocation | None:
    if isinstance(exc, SyntaxError) and exc.filename:
        return SourceLocation.relative(exc.filename, exc.lineno or 1)
    root = str(package_dir.resolve())
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if str(Path(frame.filename).resolve()).startswith(root):
            found = SourceLocation.relative(frame.filename, frame.lineno or 1)
    return found
