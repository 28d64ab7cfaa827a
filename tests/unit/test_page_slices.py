"""Records cut verbatim from a page body: the fast cut for flat records, the scanner for the
rest, the stdlib's json for what only it accepts; and what is not an array of records."""

from __future__ import annotations

import json

import orjson
import pytest

from producers.api import page_body
from producers.api.page_body import BodyError, cut_records, scan_objects, split_page


def test_flat_records_are_cut_as_sent_numbers_keep_their_spelling() -> None:
    body = b'[{"A":1.50,"B":1e3,"C":-0.0,"D":"x"} ,\n\t{"A":10,"B":null,"C":true,"D":[1,2]}\r\n]'
    records, raw = split_page(body)
    assert records == [{"A": 1.5, "B": 1000.0, "C": -0.0, "D": "x"}, {"A": 10, "B": None, "C": True, "D": [1, 2]}]
    assert raw == [b'{"A":1.50,"B":1e3,"C":-0.0,"D":"x"}', b'{"A":10,"B":null,"C":true,"D":[1,2]}']


def test_whitespace_around_and_inside_records_is_kept() -> None:
    body = b' \n[\n  { "MakeID" : 1 ,\n "MakeName" : "Ford" },\n  {"MakeID":2}\n]\n'
    assert split_page(body)[1] == [b'{ "MakeID" : 1 ,\n "MakeName" : "Ford" }', b'{"MakeID":2}']


def test_unicode_is_kept_as_sent_raw_or_escaped() -> None:
    body = '[{"N":"Citroën \\u00e9 \\ud83d\\ude97 日本"}]'.encode()
    records, raw = split_page(body)
    assert records == [{"N": "Citroën é \U0001F697 日本"}]
    assert raw == [body[1:-1]]


def test_strings_with_braces_and_escaped_quotes_take_the_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = [{"N": 'a}b{c"d\\'}, {"N": "}"}, {"N": '\\"}"'}, {"N": "plain"}]
    body = json.dumps(recs).encode()
    assert body.count(b"{") != len(recs)  # not the fast cut
    scanned: list[bytes] = []
    real = page_body.scan_objects

    def spy(b: bytes) -> list[bytes]:
        scanned.extend(real(b))
        return scanned

    monkeypatch.setattr(page_body, "scan_objects", spy)
    records, raw = split_page(body)
    assert records == recs and raw == scanned
    assert [json.loads(r) for r in raw] == recs
    assert raw[0] == json.dumps(recs[0]).encode()


def test_nested_objects_take_the_scanner() -> None:
    body = b'[{"A":{"B":{"C":"}"}},"D":[{"E":1}]},{"F":2.50}]'
    assert split_page(body)[1] == [b'{"A":{"B":{"C":"}"}},"D":[{"E":1}]}', b'{"F":2.50}']


def test_fast_cut_and_scanner_agree_on_flat_records() -> None:
    recs = [{"VehicleID": i, "Name": f"V {i}", "End": None, "Price": i / 4} for i in range(500)]
    body = orjson.dumps(recs)
    fast = cut_records(body, len(recs))
    assert fast == scan_objects(body) == [orjson.dumps(r) for r in recs]


def test_cuts_that_disagree_with_the_count_are_refused() -> None:
    assert cut_records(b'[{"A":1},{"B":2}]', 3) is None
    assert cut_records(b"[]", 0) == []


def test_what_only_the_stdlib_accepts_is_parsed_and_re_encoded_as_before() -> None:
    body = b'[{"A": NaN, "B": 123456789012345678901234567890}]'
    records, raw = split_page(body)
    assert records[0]["B"] == 123456789012345678901234567890  # an int, not orjson's float
    assert raw == [json.dumps(records[0], separators=(",", ":"), ensure_ascii=False).encode()]
    assert split_page(b"\xef\xbb\xbf[{\"A\":1}]")[1] == [b'{"A":1}']  # a byte-order mark


def test_integers_past_64_bits_keep_their_digits_in_the_bytes() -> None:
    body = b'[{"ID":123456789012345678901234567890}]'
    records, raw = split_page(body)
    assert raw == [body[1:-1]] and isinstance(records[0]["ID"], float)  # the key encoder reads raw


def test_an_empty_array_has_no_records() -> None:
    assert split_page(b" [ ] ") == ([], [])


@pytest.mark.parametrize(("body", "message"), [
    (b'[{"BaseVehicleID": 1}, {"Base', "body is not valid JSON"),
    (b'{"data": []}', "body is a JSON dict, not an array of records"),
    (b"<html>oops</html>", "body is not valid JSON"),
    (b"[1, 2]", "body is a JSON list, not an array of records"),
    (b"", "body is empty"),
    (b"  ", "body is empty"),
    (b"\xff\xfe[", "body is not valid JSON"),
])
def test_not_an_array_of_records(body: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        split_page(body)
