"""The search box's parse and the part page's year ranges: pure functions."""

from __future__ import annotations

from web.parts import consecutive
from web.search import Query, parse


def test_parse_finds_the_year_the_words_and_an_id() -> None:
    assert parse("2015 civic") == Query(2015, ("civic",), None, "2015 civic")
    assert parse("F-150") == Query(None, ("f150",), None, "F-150")
    assert parse("  123456 ") == Query(None, ("123456",), 123456, "123456")
    assert parse("2015") == Query(2015, (), 2015, "2015")  # a year, and also an id to try
    assert parse("1895 model t") == Query(None, ("1895", "model", "t"), None, "1895 model t")  # before VCdb's years
    assert parse("ABC_123") == Query(None, ("abc", "123"), None, "ABC_123")
    assert parse("   ") == Query(None, (), None, None)


def test_consecutive_years_collapse_into_ranges() -> None:
    assert consecutive([2010, 2011, 2012, 2015]) == [(2010, 2012), (2015, 2015)]
    assert consecutive([1999]) == [(1999, 1999)]
    assert consecutive([]) == []
