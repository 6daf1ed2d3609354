"""Errors of the models runner, each naming the model or file it is about."""

from __future__ import annotations


class ModelError(Exception):
    """Base class: something about the SQL models prevents a build or a test run."""


class WarehouseNotFoundError(ModelError):
    """No DuckDB file where the settings or --db say one is: the user's input, exit 2."""


class MissingCredentialsError(ModelError):
    """The settings name a destination without its credentials: configuration, exit 2."""


class ModelsNotBuiltError(ModelError):
    """The warehouse holds no models to read (a sync with --no-models): the user's next step
    is a build, exit 2, as `alerts check` says it."""


class WarehouseBeforeAccountsError(ModelsNotBuiltError):
    """The raw tables were written by a version before accounts and no sync has migrated them
    yet: the user's next step is a sync, exit 2."""


class ModelProjectError(ModelError):
    """The `sql/` folder is malformed: a bad header, a duplicate name, a bad test declaration."""


class MissingModelError(ModelProjectError):
    """A model references `analytics.<name>` that is neither a model nor a runner-made table."""


class ModelCycleError(ModelProjectError):
    """Models reference each other in a cycle, so no build order exists."""


class ModelBuildError(ModelError):
    """DuckDB rejected a model's SQL while building it; the build was rolled back."""

    def __init__(self, model: str, path: str, cause: Exception) -> None:
        super().__init__(f"model {model} ({path}) failed to build: {cause}")
        self.model = model
        self.path = path
        self.cause = cause
