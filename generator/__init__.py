"""CPG generator: compile Python guideline definitions into CPG-on-FHIR artifacts.

Authors import the model from here; tools call `compile_definitions` (the whole pipeline,
in memory) and the CLI writes the result.
"""

from generator.model import *  # noqa: F401,F403 - the authoring surface
from generator.model import __all__ as _model_all

__all__ = list(_model_all)
