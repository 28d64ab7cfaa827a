"""The explorer benchmark's pure parts: where the dead-letter page's last page is, the faulty
applications spread in the ACES file, the PIES items of its parts, what the typeahead is asked."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from bench import fitment, report
from bench.explorer import dead_letters_last_page, typed_so_far
from simulator import fitment_files
from simulator.fitment_files import Fitment


def test_the_last_dead_letter_page_is_asked_for_as_its_link_asks() -> None:
    get = dead_letters_last_page()
    assert (get.path, get.query, get.htmx) == ("/dead-letters", {"last": "1"}, False)


@pytest.fixture(scope="module")
def built() -> Fitment:
    return fitment_files.build(fitment.dataset(0.01))


def test_faulty_applications_are_spread_among_the_valid_ones_each_under_its_own_part(built: Fitment) -> None:
    templates, _ = fitment.valid_apps(fitment.dataset(0.01), built)
    faulty = fitment.faulty_apps(built)
    assert faulty and all(a.fault for a in faulty)
    valid = list(fitment.many(templates, [1, 2, 3], 95))
    out = list(fitment.mixed(valid, faulty, 12))
    flawed = [i for i, a in enumerate(out) if a.fault]
    assert len(out) == 95 + 12 and len(flawed) == 12
    assert flawed[:9] == [k * (fitment.FAULTY_SPACING + 1) - 1 for k in range(1, 10)]  # after every 10 valid
    assert [a for a in out if not a.fault] == valid
    parts = Counter(a.content.part for a in out)
    assert max(parts.values()) == 1
    assert list(fitment.mixed(valid, faulty, 0)) == valid


def test_pies_items_name_every_kth_part_with_its_part_type_and_brand(built: Fitment) -> None:
    templates, header = fitment.valid_apps(fitment.dataset(0.01), built)
    apps = list(fitment.many(templates, [1, 2, 3], 95))
    items = list(fitment.pies_items(built, apps, header.brand, 10))
    assert [(i.part, i.part_type) for i in items] == [(a.content.part, a.content.part_type) for a in apps[::10]]
    assert {i.brand for i in items} == {header.brand}
    assert not any(i.fault for i in items)


def test_the_typeahead_is_asked_what_was_typed_so_far() -> None:
    s: dict[str, list[Any]] = {"names": [(2015, "Honda", "Civic Hybrid")], "vehicles": [123456],
                               "parts": ["BN0001234"]}
    rng = random.Random(3)
    for _ in range(200):
        q = typed_so_far(rng, s)
        assert len(q) >= 2
        assert any(full.startswith(q) for full in ("2015 Civic", "Honda Civic", "Civic", "123456", "BN0001234"))
    assert all(not typed_so_far(rng, {**s, "parts": []}).startswith("BN") for _ in range(50))


def test_the_report_says_when_the_run_is_not_the_one_the_targets_are_set_at() -> None:
    at = {"scale": 1.0, "parts": {"apps_in_file": 200_000}}
    assert report.explorer_note(at) == ""
    assert "scale 0.05, 5,000" in report.explorer_note({"scale": 0.05, "parts": {"apps_in_file": 5000}})
    assert "scale 1.0, 0" in report.explorer_note({"scale": 1.0, "parts": None})
