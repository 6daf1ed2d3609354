"""The SQL models: build them into schema `analytics` in dependency order, and test them.

>>> from simplymeet.models import build_models, test_models
>>> build_models("simplymeet.duckdb")  # doctest: +SKIP
>>> test_models("simplymeet.duckdb")  # doctest: +SKIP
[]
"""

from __future__ import annotations

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
