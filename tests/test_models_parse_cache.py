"""What sqlglot says of each model is remembered between processes (`models/parse_cache.py`):
the tables it reads, and an incremental model's SQL narrowed to its changed keys.

Each test starts with this process's memory of the file dropped and the file in a folder of
its own, so "a new process" is this one with nothing remembered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot

from simplymeet.models import incremental, parse_cache, test_models, translate
from simplymeet.models.project import load_project, tables_read_of
from tests.synced_template import demo_copy


@pytest.fixture(autouse=True)
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private cache folder, and nothing of the file remembered before or after the test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(parse_cache.CACHE_DIR_ENV, str(folder))
    _as_a_new_process()
    yield folder
    _as_a_new_process()


def _as_a_new_process() -> None:
    parse_cache.forget()
    tables_read_of.cache_clear()


def _project(folder: Path, **models: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, sql in models.items():
        (folder / f"{name}.sql").write_text(f"-- materialized: table\n{sql}\n")
    return folder


def _reads(project) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    return {model.name: (model.refs, model.sources) for model in project.models}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL texts sqlglot is asked to parse from now on."""
    seen: list[str] = []
    parse = sqlglot.parse

    def counting(sql: str, *args: object, **kwargs: object) -> object:
        seen.append(sql)
        return parse(sql, *args, **kwargs)

    monkeypatch.setattr(sqlglot, "parse", counting)
    return seen


def test_the_shipped_models_read_from_the_cache_equal_the_ones_parsed():
    parsed = _reads(load_project())
    _as_a_new_process()

    assert _reads(load_project()) == parsed


def test_a_new_process_loads_the_shipped_models_without_parsing_them(parses):
    load_project()
    assert parses, "the first load parses"
    _as_a_new_process()
    parses.clear()

    load_project()

    assert parses == []


def test_an_edited_model_is_parsed_anew(tmp_path):
    sql = _project(tmp_path / "sql", a="select id from raw.events", b="select id from analytics.a")
    load_project(sql)
    _project(sql, b="select id from raw.users")
    _as_a_new_process()

    assert _reads(load_project(sql))["b"] == (frozenset(), frozenset({"users"}))


def test_a_cache_folder_that_cannot_be_made_leaves_loading_as_it_was(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(parse_cache.CACHE_DIR_ENV, str(tmp_path / "a-file" / "cache"))
    sql = _project(tmp_path / "sql", a="select id from raw.events")

    assert _reads(load_project(sql)) == {"a": (frozenset(), frozenset({"events"}))}


def test_a_cache_file_that_is_not_ours_is_ignored_and_replaced(tmp_path, cache_folder):
    cache_folder.mkdir()
    (cache_folder / parse_cache.FILE_NAME).write_text("{not json")
    sql = _project(tmp_path / "sql", a="select id from raw.events")

    assert _reads(load_project(sql)) == {"a": (frozenset(), frozenset({"events"}))}
    assert len(json.loads((cache_folder / parse_cache.FILE_NAME).read_text())["entries"]) == 1


def test_an_entry_of_another_shape_is_not_used(tmp_path, cache_folder, parses):
    sql = _project(tmp_path / "sql", a="select id from raw.events")
    load_project(sql)
    path = cache_folder / parse_cache.FILE_NAME
    document = json.loads(path.read_text())
    document["entries"] = {key: {"raw": "events"} for key in document["entries"]}
    path.write_text(json.dumps(document))
    _as_a_new_process()
    parses.clear()

    assert _reads(load_project(sql)) == {"a": (frozenset(), frozenset({"events"}))}
    assert len(parses) == 1


INCREMENTAL_MODELS = [m for m in load_project().models if m.incremental is not None]


def _changed_keys(model) -> dict[str, list[object]]:
    return {k: ["north", "o'brien"] if k == "account" else [3, 17] for k in model.incremental.key}


@pytest.mark.parametrize("model", INCREMENTAL_MODELS, ids=lambda m: m.name)
def test_narrowed_sql_from_the_cache_equals_the_sql_narrowed_afresh(model) -> None:
    keys = _changed_keys(model)
    incremental.narrowed_sql(model.sql, model.incremental, keys)
    parse_cache.save()
    _as_a_new_process()

    cached = incremental.narrowed_sql(model.sql, model.incremental, keys)

    assert cached == incremental._narrowed(
        model.sql, model.incremental.narrow, model.incremental.key, keys
    )


def test_a_new_process_narrows_a_model_without_parsing_it(parses: list[str]) -> None:
    model = INCREMENTAL_MODELS[0]
    incremental.narrowed_sql(model.sql, model.incremental, _changed_keys(model))
    parse_cache.save()
    _as_a_new_process()
    parses.clear()

    incremental.narrowed_sql(model.sql, model.incremental, {k: [] for k in model.incremental.key})

    assert parses == []


def test_a_cached_entry_without_its_text_is_computed_afresh(cache_folder: Path) -> None:
    parse_cache.derived_text("select 1", "probe", lambda text: text.upper())
    parse_cache.save()
    path = cache_folder / parse_cache.FILE_NAME
    document = json.loads(path.read_text())
    document["entries"] = {key: {"text": []} for key in document["entries"]}
    path.write_text(json.dumps(document))
    _as_a_new_process()

    assert parse_cache.derived_text("select 1", "probe", lambda text: text.upper()) == "SELECT 1"


def test_a_new_process_counts_the_view_tests_without_parsing_them(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, parses: list[str]
) -> None:
    warehouse = demo_copy(tmp_path_factory, tmp_path / "demo.duckdb")
    test_models(str(warehouse))
    _as_a_new_process()
    parses.clear()

    test_models(str(warehouse))

    assert parses == []


def _model_texts() -> list[str]:
    return [model.sql for model in load_project().models]


def test_a_remembered_translation_equals_sqlglot_s_for_every_model():
    schemas = {"raw": "sm_raw", "analytics": "analytics"}
    texts = [sql for sql in _model_texts() if not translate.needs_columns(sql)]
    assert texts
    for sql in texts:
        expected = translate.translate(sql, dialect="postgres", schemas=schemas)
        assert translate.remembered_translation(sql, dialect="postgres", schemas=schemas) == (
            expected
        )


def test_a_translation_made_in_one_process_is_read_by_the_next(parses):
    sql = _model_texts()[0]
    first = translate.remembered_translation(sql, dialect="postgres")
    parse_cache.save()
    _as_a_new_process()
    parses.clear()
    assert translate.remembered_translation(sql, dialect="postgres") == first
    assert parses == []


def test_a_translation_is_remembered_per_dialect_schemas_and_columns(parses):
    sql = "select * exclude (notes) from raw.events"
    columns = {"raw": {"events": {"id": "bigint", "notes": "text"}}}
    translate.remembered_translation(sql, dialect="postgres", columns=columns)
    parses.clear()
    renamed = translate.remembered_translation(
        sql, dialect="postgres", schemas={"raw": "other"}, columns=columns
    )
    assert len(parses) == 1
    assert '"other"."events"' in renamed


def test_a_text_that_does_not_translate_is_not_remembered(parses):
    with pytest.raises(translate.TranslationError):
        translate.remembered_translation("select from from", dialect="postgres")
    parses.clear()
    with pytest.raises(translate.TranslationError):
        translate.remembered_translation("select from from", dialect="postgres")
    assert len(parses) == 1
