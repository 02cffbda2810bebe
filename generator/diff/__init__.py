"""DIFF: what changed between two versions of a guideline, and the semantic version bump it needs.

`load_version` reads a side (built folder, package, git revision), `diff_versions` compares
(structure, and behaviour on the scenarios when given an engine), `report` prints it;
`changes_since` is the entry point for a site's "Changes since <version>" section.
"""

from generator.diff.compare import BUMP_RULES, Change, Diff, RecommendationChanges, changes_since, diff_versions
from generator.diff.versions import Version, load_version

__all__ = ["BUMP_RULES", "Change", "Diff", "RecommendationChanges", "Version", "changes_since", "diff_versions",
           "load_version"]
