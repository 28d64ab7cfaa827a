"""The change feed's messages (streams/changes.py): Debezium's envelope, the table topic's key,
and the (release, change id) the relay reads back from a partition's last message."""

from __future__ import annotations

import json

from streams import changes, topics
from streams.envelope import key_text

SOURCE = changes.Source("vcdb", "autocare_vcdb", "base_vehicle", 7, 12, 1796563200000)
ROW = '{"base_vehicle_id":5001,"model_id":1201,"end_date_time":null}'


def test_an_update_carries_both_images_the_op_and_the_source() -> None:
    after = ROW.replace("1201", "1207")
    value = json.loads(changes.value(SOURCE.prefix(False), "u", ROW, after, 90212, 1796563201450))
    assert value["before"] == json.loads(ROW) and value["after"] == json.loads(after)
    assert value["op"] == "u" and value["ts_ms"] == 1796563201450
    assert value["source"] == {"version": changes.VERSION, "connector": "vcdb-stream", "name": "autocare",
                               "ts_ms": 1796563200000, "snapshot": "false", "db": "vcdb",
                               "schema": "autocare_vcdb", "table": "base_vehicle", "release": 7, "run": 12,
                               "change_id": 90212}


def test_an_end_has_no_after_and_a_read_in_place_is_a_snapshot() -> None:
    ended = json.loads(changes.value(SOURCE.prefix(False), "d", ROW, None, 3, 0))
    assert ended["after"] is None and ended["before"]["base_vehicle_id"] == 5001
    read = json.loads(changes.value(SOURCE.prefix(True), "r", None, ROW, 4, 0))
    assert read["before"] is None and read["source"]["snapshot"] == "true"


def test_the_key_is_the_table_topics_key_for_the_row() -> None:
    assert changes.key("[5001]") == key_text([5001]).encode() == b"[5001]"
    assert changes.key('["ab", 2]') == key_text(["ab", 2]).encode()


def test_the_integer_key_fast_path_gives_the_bytes_of_the_general_one() -> None:
    """PostgreSQL's jsonb text of the key (`[1, 23]`) against key_text of the parsed values, for
    the integer keys the fast path takes and the spellings it must leave to the general path."""
    texts = ["[0]", "[-7]", "[1, 23]", "[12345678901234567890]", "[5, -0]", "[1.0]", "[1e3, 2]", '["a, b", 1]',
             '["Mazda\u00e9"]', '["café", 2]', "[1,2]"]
    for text in texts:
        assert changes.key(text) == key_text(json.loads(text)).encode(), text


def test_the_relay_reads_back_release_and_change_id_and_ignores_foreign_messages() -> None:
    assert changes.change_id(changes.value(SOURCE.prefix(False), "c", None, ROW, 77, 0)) == (7, 77)
    assert changes.change_id(b'{"op":"c"}') is None
    assert changes.change_id(b"not json") is None


def test_the_change_topic_is_the_table_topic_with_its_suffix() -> None:
    assert topics.changes_topic("vcdb", "base_vehicle") == "autocare.vcdb.base_vehicle.changes"
    assert topics.changes_topic("fitment", "application") == "autocare.fitment.application.changes"
