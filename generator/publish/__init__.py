"""PUBLISH phase: bundles, the FHIR NPM package, narratives and the human site of a guideline.

`publication_files(built)` returns relative path -> bytes for output/<guideline-id>/; the
WRITE phase calls it. Everything is computed from the build alone (no clock, no network),
so two builds give identical bytes. SYNTH narrates the resources it makes; PUBLISH narrates
what it adds (manifest, ImplementationGuide, test cases).

This package must stay importable from SYNTH (which may import `narrative`), so nothing
here imports generator.compile or generator.write at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from generator.jsonfmt import dump_json
from generator.publish.bundles import RequestMode, collection_bundle, transaction_bundle
from generator.publish.manifest import manifest_library, packaging_order
from generator.publish import narrative, site
from generator.publish.narrative import HasLogic, LogicContext, add_narratives
from generator.publish.package import gzipped, implementation_guide, package_id, package_tar
from generator.publish._scenario_results import run_build_scenarios
from generator.publish.site import site_files

if TYPE_CHECKING:
    from generator.apply._scenarios import ScenarioOutcome
    from generator.resolve import ResolvedGuideline


class Built(HasLogic, Protocol):
    """A BuiltGuideline as PUBLISH sees it (a protocol, so SYNTH can import this package)."""

    @property
    def resources(self) -> list[dict[str, Any]]: ...


def published_resources(built: Built) -> list[dict[str, Any]]:
    """Manifest + the build's resources, narrated, in CRMI packaging order."""
    rg: ResolvedGuideline = built.resolved
    components = packaging_order(built.resources, rg)
    manifest = manifest_library(rg, components)
    # SYNTH narrated the components already; only the manifest is new here.
    return [*add_narratives([manifest], built, context=[manifest, *components]), *components]


def scenario_test_cases(built: Built) -> list[dict[str, Any]]:
    """The guideline's scenarios as CRMI test-case Libraries (narrated), for other engines to run."""
    from generator.apply.testcases import test_case_libraries  # apply imports the build: load lazily

    return add_narratives(test_case_libraries(built), built)


@dataclass(frozen=True)
class Review:
    """What the reviewer's site shows beyond the build itself, computed by a caller that can.

    `scenario_outcomes`: the guideline's scenarios run on these resources (`cpg build` runs them
    with one engine for the whole build), or a callable giving them: it is called only when the site
    is rendered, last, so every other file is made while the scenarios still run. When None they are
    run here, on an engine of their own, so every caller publishes the same bytes. `changes`:
    `cpg diff`'s JSON of a previous version against this one, for the site's "Changes since"
    section (`cpg build --changes-since`).
    """

    scenario_outcomes: list[ScenarioOutcome] | Callable[[], list[ScenarioOutcome]] | None = None
    changes: dict[str, Any] | None = None

    def outcomes(self, built: Built) -> list[ScenarioOutcome]:
        """The scenario outcomes the site shows (waited for, or run now)."""
        if self.scenario_outcomes is None:
            return run_build_scenarios(built)
        if callable(self.scenario_outcomes):
            return self.scenario_outcomes()
        return self.scenario_outcomes


def publication_files(built: Built, *, mode: RequestMode = "create", review: Review | None = None) -> dict[str, bytes]:
    """Relative path -> bytes of everything PUBLISH adds under output/<guideline-id>/ (see `Review`)."""
    return dict(iter_publication_files(built, mode=mode, review=review))


def iter_publication_files(built: Built, *, mode: RequestMode = "create",
                           review: Review | None = None) -> Iterator[tuple[str, bytes]]:
    """`publication_files` as they are made, the site last: it is the only part that needs the
    scenario outcomes, so a writer can store the rest while the scenarios still run."""
    rg = built.resolved
    g = rg.guideline
    ordered = published_resources(built)
    manifest = ordered[0]
    guide = add_narratives([implementation_guide(rg, ordered)], built)[0]
    tests = scenario_test_cases(built)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpg-gzip") as compressing:
        # Compressed on a thread (zlib releases the interpreter) while the rest is made and the
        # scenarios finish.
        package = compressing.submit(gzipped, package_tar(rg, ordered, guide, tests))
        yield f"resources/{manifest['resourceType']}-{manifest['id']}.json", dump_json(manifest)
        yield "bundle-transaction.json", dump_json(transaction_bundle(f"{g.id}-transaction", ordered, g.date, mode))
        yield "bundle-collection.json", dump_json(collection_bundle(f"{g.id}-collection", ordered, g.date))
        for test in tests:
            yield f"tests/{test['resourceType']}-{test['id']}.json", dump_json(test)
        outcomes = (review or Review()).outcomes(built)
        yield "package.tgz", package.result()
    yield from site_files(built, ordered, outcomes, changes=review.changes if review is not None else None).items()


def load_templates() -> None:
    """Compile every narrative and site template now instead of at first use: `cpg build` calls
    this while Node translates, so the first guideline's PUBLISH does not pay for it."""
    for environment in (narrative.environment(), site.environment()):
        for name in environment.list_templates(filter_func=lambda name: name.endswith(".j2")):
            environment.get_template(name)


__all__ = ["publication_files", "iter_publication_files", "Review", "load_templates", "published_resources", "add_narratives", "LogicContext", "HasLogic",
           "package_id", "transaction_bundle", "collection_bundle", "manifest_library"]
