"""The SQL models: build them into schema `analytics` in dependency order, and test them.

>>> from simplymeet.models import build_models, test_models
>>> build_models("simplymeet.duckdb")  # doctest: +SKIP
>>> test_models("simplymeet.duckdb")  # doctest: +SKIP
[]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simplymeet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from simplymeet.models.datatests import DataTest, TestFailure, load_data_tests, test_models
    from simplymeet.models.errors import (
        MissingModelError,
        ModelBuildError,
        ModelCycleError,
        ModelError,
        ModelProjectError,
    )
    from simplymeet.models.project import Model, Project, load_project
    from simplymeet.models.runner import BuildResult, BuiltModel, build_models

# DuckDB and pandas load on first use of a name, not on import of the package.
_EXPORTS = {
    "DataTest": "simplymeet.models.datatests",
    "TestFailure": "simplymeet.models.datatests",
    "load_data_tests": "simplymeet.models.datatests",
    "test_models": "simplymeet.models.datatests",
    "MissingModelError": "simplymeet.models.errors",
    "ModelBuildError": "simplymeet.models.errors",
    "ModelCycleError": "simplymeet.models.errors",
    "ModelError": "simplymeet.models.errors",
    "ModelProjectError": "simplymeet.models.errors",
    "Model": "simplymeet.models.project",
    "Project": "simplymeet.models.project",
    "load_project": "simplymeet.models.project",
    "BuildResult": "simplymeet.models.runner",
    "BuiltModel": "simplymeet.models.runner",
    "build_models": "simplymeet.models.runner",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BuildResult",
    "BuiltModel",
    "DataTest",
    "MissingModelError",
    "Model",
    "ModelBuildError",
    "ModelCycleError",
    "ModelError",
    "ModelProjectError",
    "Project",
    "TestFailure",
    "build_models",
    "load_data_tests",
    "load_project",
    "test_models",
]
