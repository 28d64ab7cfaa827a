"""bench/consumer_read.py's column reading gives what `consumed()` gives, record for record."""

from __future__ import annotations

from bench.consumer_read import Figure, header_columns, medians, pages_of, table
from consumers.records import consumed
from streams import envelope
from streams.records import InRecord


def reference(keys: list[bytes | None], headers: list[list[tuple[str, bytes]] | None]) -> list[tuple[int, ...]]:
    out = []
    for k, h in zip(keys, headers, strict=True):
        c = consumed(InRecord("t", 0, 0, k, b"{}", tuple(h or ())))
        out.append((c.run_id, c.page, c.position, c.eot))
    return out


def columns_of(keys: list[bytes | None], headers: list[list[tuple[str, bytes]] | None]) -> list[tuple[int, ...]]:
    cols = header_columns(keys, headers)
    assert len({len(cols.run_ids), len(cols.pages), len(cols.indexes), len(cols.eot)}) == 1
    return list(zip(cols.run_ids, cols.pages, cols.indexes, cols.eot, strict=True))


def records(layout: str, n: int = 2500) -> tuple[list[bytes | None], list[list[tuple[str, bytes]] | None]]:
    """The bench's own records (pages of 1000, end-of-table records last), interleaved as a fetch may."""
    recs = [r for page in pages_of("t", n, layout) for r in page]
    recs = recs[-2:] + recs[:-2]  # end-of-table records first and last
    return [r.key for r in recs], [list(r.headers) for r in recs]


def test_both_layouts_with_end_of_table_records_read_as_consumed_reads_them() -> None:
    for layout in ("10", "3"):
        keys, headers = records(layout)
        got = columns_of(keys, headers)
        assert got == reference(keys, headers)
        assert sum(e for *_, e in got) == 3 and got[2] == (1, 1, 0, False) and got[-1][3]


def test_a_batch_of_mixed_layouts_is_read_by_name() -> None:
    keys, headers = records("10", 40)
    three_keys, three = records("3", 40)
    keys, headers = keys + three_keys, headers + three
    # same length, names moved: the slots of the first record no longer hold run/page/index
    headers.append([(envelope.H_PAGE, b"7"), (envelope.H_RUN, b"9"), (envelope.H_INDEX, b"x")])
    keys.append(b"[1]")
    assert columns_of(keys, headers) == reference(keys, headers)


def test_missing_empty_and_absent_headers_are_zero_and_a_false_eot_is_data() -> None:
    keys: list[bytes | None] = [b"[1]", b"[2]", None, envelope.EOT_KEY, envelope.EOT_KEY]
    headers: list[list[tuple[str, bytes]] | None] = [
        [(envelope.H_RUN, b""), (envelope.H_PAGE, b"2"), (envelope.H_INDEX, b"zz")],
        None,
        [(envelope.H_RUN, b"3")],
        [(envelope.H_KIND, envelope.KIND_DATA), (envelope.H_RUN, b"4")],  # keyed __eot__ but data
        [(envelope.H_KIND, envelope.KIND_EOT), (envelope.H_RUN, b"5")],
    ]
    assert columns_of(keys, headers) == reference(keys, headers)
    assert columns_of(keys[:1], headers[:1]) == [(0, 2, 0, False)]
    assert columns_of([], []) == []


def test_the_table_shows_each_ways_median_per_layout() -> None:
    figures = [Figure("confluent", "10", 100, us, 1.0) for us in (3.0, 1.0, 2.0)]
    figures.append(Figure("confluent", "3", 100, 0.5, 2.0))
    assert [f.cpu_us for f in medians(figures)] == [2.0, 0.5]
    head, row = table(figures)
    assert "10 headers" in head and "3 headers" in head
    assert row.split()[:2] == ["confluent", "2.00"] and row.split()[3] == "0.50"
