"""The loader's fast decode path accepts exactly what the record model accepts, with the same row;
everything else goes to the model and gets its verdict."""

from __future__ import annotations

import importlib
import json

import pytest

from consumers.decode import RowDecoder, model_for
from schemas.catalog import REFERENCE_DATABASES, load_catalog
from schemas.generated import padb_models, pcdb_models, qdb_models, vcdb_models
from simulator.dataset import Dataset, DatasetConfig
from streams.dead_letters import Failure

MODELS = {"vcdb": vcdb_models.MODELS, "pcdb": pcdb_models.MODELS, "padb": padb_models.MODELS,
          "qdb": qdb_models.MODELS}
DATASET = Dataset(DatasetConfig(scale=0.01))


def _decoder(db: str, table: str) -> RowDecoder:
    return RowDecoder(load_catalog(db).tables[table], MODELS[db][table])


@pytest.mark.parametrize("db", REFERENCE_DATABASES)
def test_fast_path_rows_equal_the_models_rows_for_every_table(db: str) -> None:
    fast_hits = 0
    for table in DATASET.api_tables(db):
        dec = _decoder(db, table.name)
        n = min(DATASET.rows(db, table.name).count(1), 200)
        for record in DATASET.records(db, table.name, list(range(n)), 1):
            raw = json.dumps(record).encode()
            fast = dec.fast(raw)
            slow = dec.slow(raw)
            assert not isinstance(slow, Failure), (table.name, record, slow)
            if fast is not None:
                fast_hits += 1
                assert fast == slow, (table.name, record)
    assert fast_hits > 0, "the simulator's well-formed records should take the fast path"


VEHICLE = {"VehicleID": 1, "BaseVehicleID": 2, "SubModelID": 3, "RegionID": 4, "PublicationStageID": 4,
           "EffectiveDateTime": "2026-01-13T01:53:17.383Z", "EndDateTime": None}


def test_well_formed_record_takes_the_fast_path_with_utc_naive_times() -> None:
    row = _decoder("vcdb", "Vehicle").fast(json.dumps(VEHICLE).encode())
    assert row is not None
    # Source, PublicationStageSource, PublicationStageDate and CultureID are not sent: NULL.
    assert row[:8] == (1, 2, 3, 4, None, 4, None, None)
    assert row[-2].isoformat() == "2026-01-13T01:53:17.383000" and row[-2].tzinfo is None
    assert row[-1] is None


@pytest.mark.parametrize("change", [
    {"BaseVehicleID": "2"},  # a number as a string
    {"SUBMODELID": 3, "SubModelID": None},  # another casing (and the exact name null)
    {"EndDateTime": "11/15/2024 00:50:19"},  # a US date
    {"EndDateTime": ""},  # an empty string meaning NULL
    {"VehicleID": 2**31},  # out of PostgreSQL's integer range
    {"VehicleID": True},  # a bool is not an int here
])
def test_quirks_go_to_the_model_and_get_its_verdict(change: dict[str, object]) -> None:
    dec = _decoder("vcdb", "Vehicle")
    record = {**VEHICLE, **change}
    raw = json.dumps(record).encode()
    assert dec.fast(raw) is None
    assert dec.decode(raw) == dec.slow(raw)


def test_missing_field_and_bad_values_are_validation_failures_naming_the_field() -> None:
    dec = _decoder("vcdb", "Vehicle")
    bad = dec.decode(json.dumps({**VEHICLE, "RegionID": "north"}).encode())
    assert isinstance(bad, Failure) and bad.reason == "validation" and "region_id" in bad.message
    missing = dec.decode(json.dumps({k: v for k, v in VEHICLE.items() if k != "VehicleID"}).encode())
    assert isinstance(missing, Failure) and "vehicle_id" in missing.message
    not_json = dec.decode(b"{not json")
    assert isinstance(not_json, Failure) and not_json.exception_class == "JSONDecodeError"


def test_text_longer_than_its_column_is_the_models_failure() -> None:
    dec = _decoder("vcdb", "Make")
    ok = {"MakeID": 1, "MakeName": "Acura", "CultureID": "en-US", "EffectiveDateTime": "2026-01-31T00:00:00",
          "EndDateTime": None}
    assert dec.fast(json.dumps(ok).encode()) is not None
    long = {**ok, "MakeName": "x" * 500}
    assert dec.fast(json.dumps(long).encode()) is None
    assert isinstance(dec.decode(json.dumps(long).encode()), Failure)


@pytest.mark.parametrize("db", [*REFERENCE_DATABASES, "aces", "pies"])
def test_the_lazily_imported_model_of_every_loaded_table_is_its_generated_one(db: str) -> None:
    module = importlib.import_module(f"schemas.generated.{db}_models")
    for table in load_catalog(db).loaded_tables():
        assert RowDecoder(table).model is module.MODELS[table.name] is model_for(table)
