"""The catalogue's pure parts: configuration labels as SQL, part-number normalisation, the grid's
folding and narrowing, and what an application requires of a vehicle."""

from __future__ import annotations

from consumers.fitment import VehicleConfiguration, requirements
from schemas import config_labels, part_numbers
from web.search import prefix_range
from web.vehicles import Choice, GridRow, facets, grid_rows


def test_every_label_is_built_over_the_callers_aliases() -> None:
    source, at = config_labels.from_link("engine")
    assert "engine_block" in source and "fuel_delivery_config" not in source  # only the rows the label reads
    whole, _ = config_labels.from_link("engine", whole=True)
    assert "fuel_delivery_config" in whole
    label = config_labels.label("engine", at)
    assert "coalesce(lbl_blk.liter, lbl_eb.liter)" in label and f"'#' || {at['link']}.engine_config_id" in label
    for system in config_labels.LABELS:
        source, at = config_labels.from_link(system, "x_")
        assert "{" not in source + config_labels.label(system, at), system  # every placeholder filled


def test_part_numbers_lose_case_and_punctuation() -> None:
    assert part_numbers.normalize("qa-brk-100") == part_numbers.normalize("QA BRK/100") == "QABRK100"
    assert part_numbers.normalized("p.part_number") == \
        "upper(regexp_replace(p.part_number, '[^0-9A-Za-z]+', '', 'g'))"
    assert prefix_range("QAB") == ("QAB", "QAC") and prefix_range("Z9") == ("Z9", "Z:")


def _row(vehicle_id: int, submodel: int, engines: list[int], drives: list[int]) -> GridRow:
    return GridRow(vehicle_id=vehicle_id, deleted=False, submodel_id=submodel, submodel=f"s{submodel}",
                   engine=[Choice(id=e, label=f"e{e}") for e in engines], transmission=[], body=[],
                   drive=[Choice(id=d, label=f"d{d}") for d in drives])


def test_links_fold_into_one_row_per_vehicle() -> None:
    # A link delivered twice is one row already (web/vehicles._link_cte; the catalogue's HTTP test drives it).
    links = [{"attribute": "vehicle", "vehicle_id": 1, "id": 11, "label": "Base", "deleted": False},
             {"attribute": "engine", "vehicle_id": 1, "id": 71, "label": "2.0L", "deleted": False},
             {"attribute": "engine", "vehicle_id": 1, "id": 72, "label": "3.0L", "deleted": False},
             {"attribute": "drive", "vehicle_id": 1, "id": 42, "label": "RWD", "deleted": False},
             {"attribute": "vehicle", "vehicle_id": 2, "id": 12, "label": "Sport", "deleted": False},
             {"attribute": "drive", "vehicle_id": 2, "id": 41, "label": "FWD", "deleted": False}]
    one, two = grid_rows(links)
    assert [c.id for c in one.engine] == [71, 72] and [c.id for c in one.drive] == [42]
    assert (two.vehicle_id, two.submodel, [c.id for c in two.drive], two.engine) == (2, "Sport", [41], [])


def test_each_filter_offers_what_the_others_leave_possible() -> None:
    rows = [_row(1, 11, [71], [41]), _row(2, 12, [72], [42]), _row(3, 12, [71], [42])]
    offered = {f.attribute: [(v.id, v.vehicles) for v in f.values] for f in facets(rows, {"submodel": 11})}
    assert offered == {"submodel": [(11, 1), (12, 2)], "engine": [(71, 1)], "drive": [(41, 1)]}
    offered = {f.attribute: [v.id for v in f.values] for f in facets(rows, {"submodel": 12, "engine": 72})}
    assert offered == {"submodel": [12], "engine": [71, 72], "drive": [42]}
    # a value chosen that nothing else allows stays offered (with 0), so it can be undone
    offered = {f.attribute: [(v.id, v.vehicles) for v in f.values] for f in facets(rows, {"submodel": 11, "drive": 42})}
    assert offered["drive"] == [(41, 1), (42, 0)]


def test_an_application_requires_the_vehicles_configurations_that_have_what_it_names() -> None:
    configs = [VehicleConfiguration("engine", 71, "2.0L L4 GAS", {"EngineBase": 31, "FuelType": 51}),
               VehicleConfiguration("engine", 72, "2.0L L4 DIESEL", {"EngineBase": 31, "FuelType": 52}),
               VehicleConfiguration("drive", 41, "FWD", {"DriveType": 41})]
    assert requirements({"EngineBase": 31, "FuelType": 52}, None, configs) == ["engine: 2.0L L4 DIESEL"]
    assert requirements({"EngineBase": 31}, None, configs) == ["engine: 2.0L L4 DIESEL / 2.0L L4 GAS"]
    assert requirements({"SubModel": 11, "DriveType": 41}, "Base", configs) == ["submodel: Base", "drive: FWD"]
    assert requirements({}, None, configs) == []
