"""ACES files into records (producers.files.xml_stream + producers.files.aces), and the file run's page
source (producers.files.run) over fakes of the sink and the run state: no socket."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ledger.runs import Run
from producers.api.paging import PageCursor
from producers.files import run as file_run
from producers.files import source as file_source
from producers.files.aces import AcesReader
from producers.files.paging import FileCursor, FilePage
from producers.files.xml_stream import FormatRefused, ParseError, XmlStream
from producers.roots import plan_for
from producers.service import EndpointResult, run_endpoints
from schemas.aces import app_key, fitment_key
from streams import envelope
from streams.records import OutRecord
from tests.support import write_aces_file

FIX = Path(__file__).parent / "fixtures" / "aces"
EFFECTIVE = "2026-03-01T10:00:00"


def read(path: Path, name: str | None = None) -> tuple[list[dict[str, Any]], AcesReader, XmlStream]:
    """Every App record of a file, its reader (stats, file record) and its stream (digest)."""
    name = name or str(path)
    version = file_run.check_file("aces", path, name)
    reader = AcesReader(name, version, EFFECTIVE)
    stream = XmlStream(path, name)
    apps: list[dict[str, Any]] = []
    for elem in stream.elements(reader.wanted, reader.dropped):
        entity = reader.element(elem)
        if entity is not None:
            apps.extend(entity.get("App", []))
    return apps, reader, stream


def by_id(apps: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {a["AppID"]: a for a in apps}


# --- the records ------------------------------------------------------------------------------------------------


def test_every_vehicle_form_reaches_its_columns_without_expansion() -> None:
    apps = by_id(read(FIX / "full_4_2.xml")[0])
    one, two, three, four, five = (apps[i] for i in range(1, 6))
    assert (one["BaseVehicleID"], one["SubModelID"]) == (900001, 900101)
    assert (two["YearFrom"], two["YearTo"], two["MakeID"], two["ModelID"]) == (2015, 2016, 900701, 900801)
    assert "BaseVehicleID" not in two
    assert (three["MakeID"], three["VehicleTypeID"], three["SubModelID"], three["Validate"]) == \
        (900701, 900901, 900102, "no")
    assert four["EquipmentBaseID"] == 901001
    assert (five["MfrID"], five["EquipmentModelID"], five["VehicleTypeID"]) == (901101, 901201, 900902)
    # ProductionYears has no column: kept as delivered, not counted as unknown.
    assert five["UnknownXml"] == '<ProductionYears ProductionStart="2001" ProductionEnd="2003"/>'


def test_attributes_and_the_part_side_reach_their_columns() -> None:
    one = by_id(read(FIX / "full_4_2.xml")[0])[1]
    assert one["EngineBaseID"] == 900201
    assert one["ValvesPerEngineID"] == 900301  # <ValvesPerEngine id>: the column named by schemas.aces
    assert (one["Qty"], one["PartTypeID"], one["MfrLabel"], one["PositionID"], one["PartNumber"]) == \
        (2, 900501, "Brake Rotor", 900601, "R-100")
    assert (one["DisplayOrder"], one["AssetName"], one["AssetItemOrder"], one["AssetItemRef"]) == \
        (1, "diagram-1", 3, "A")
    assert (one["AppID"], one["Action"], one["Ref"], one["Validate"]) == (1, "A", "REF-1", "yes")
    assert (one["EffectiveDateTime"], one["EndDateTime"], one["CultureID"]) == (EFFECTIVE, None, None)
    assert "FileID" not in one  # rows link to their file through the loader's run id


def test_qualifiers_and_notes_are_json_lists_with_only_what_was_delivered() -> None:
    apps = by_id(read(FIX / "full_4_2.xml")[0])
    assert json.loads(apps[1]["Qualifiers"]) == [
        {"id": 900401, "params": [{"value": "1.75", "uom": "in"}], "text": "with 1.75in Widget"},
        {"id": 900402, "params": [], "text": "Greaseable"}]
    assert json.loads(apps[1]["Notes"]) == [{"text": "carbon version", "id": "n1", "lang": "en"},
                                            {"text": "second note"}]
    assert apps[2]["Qualifiers"] is None and apps[2]["Notes"] is None


def test_the_brand_is_the_parts_else_the_headers() -> None:
    apps = by_id(read(FIX / "full_4_2.xml")[0])
    assert (apps[1]["BrandAAIAID"], apps[1]["SubBrandAAIAID"]) == ("ZZXD", "ZZXC")
    assert (apps[2]["BrandAAIAID"], apps[2]["SubBrandAAIAID"]) == ("ZZXB", "ZZXC")


def test_keys_are_schemas_aces_keys_of_the_record_with_its_qualifiers() -> None:
    for app in read(FIX / "full_4_2.xml")[0]:
        plain = {**app, "Qualifiers": json.loads(app["Qualifiers"]) if app["Qualifiers"] else []}
        assert app["AppKey"] == app_key(plain)
        assert app["FitmentKey"] == fitment_key(plain)
    assert len({a["AppKey"] for a in read(FIX / "full_4_2.xml")[0]}) == 6


def test_an_update_delete_meets_the_full_files_app_by_content_and_is_a_soft_delete() -> None:
    full = by_id(read(FIX / "full_4_2.xml")[0])
    update, reader, _ = read(FIX / "update_4_2.xml")
    deleted, added = by_id(update)[1], by_id(update)[2]
    assert deleted["AppKey"] == full[2]["AppKey"]  # other App id, same application
    assert (deleted["Action"], deleted["EndDateTime"], deleted["EffectiveDateTime"]) == ("D", EFFECTIVE, EFFECTIVE)
    assert added["EndDateTime"] is None and added["AppKey"] != full[2]["AppKey"]
    assert added["FitmentKey"] == full[2]["FitmentKey"]  # same fitment, another part: an overlap
    assert reader.stats.deletes == 1


def test_a_delete_in_a_full_file_is_not_published_but_counted_listed_and_warned(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        apps, reader, stream = read(FIX / "full_4_2.xml")
        record = reader.file_record(stream.digest)
    assert 7 not in by_id(apps)
    assert reader.stats.skipped_deletes == [7]
    assert reader.stats.to_json()["skipped_deletes"] == 1
    assert record["AppCount"] == 7  # every App of the file, the skipped delete included
    assert "1 delete(s) in a FULL file not applied (App ids 7)" in caplog.text


def test_unknown_elements_are_kept_as_xml_and_counted_by_name() -> None:
    apps, reader, stream = read(FIX / "full_4_2.xml")
    six = by_id(apps)[6]
    assert six["UnknownXml"] == '<FrobnicatorType id="77"/><VendorExtra><Code>X</Code></VendorExtra>'
    assert six["PartNumber"] == "R-600"
    expected = {"FrobnicatorType": 1, "Promotion": 1, "VendorExtra": 1}  # Promotion: between two Apps
    assert reader.stats.to_json()["unknown_elements"] == expected
    assert json.loads(reader.file_record(stream.digest)["UnknownElements"]) == expected


def test_the_file_record_holds_the_header_the_counts_and_the_footer_as_delivered(
        caplog: pytest.LogCaptureFixture) -> None:
    path = FIX / "full_4_2.xml"
    _, reader, stream = read(path, "full_4_2.xml")
    with caplog.at_level(logging.WARNING):
        rec = reader.file_record(stream.digest)
    import hashlib

    assert rec["FileID"] == hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    assert (rec["FileName"], rec["Version"], rec["SubmissionType"]) == ("full_4_2.xml", "4.2", "FULL")
    assert (rec["ApprovedFor"], rec["PartsApprovedFor"], rec["RegionFor"]) == ("US,CA", "US", "9001,9002")
    assert (rec["BrandAAIAID"], rec["SubBrandAAIAID"], rec["TransferDate"]) == ("ZZXB", "ZZXC", "2026-01-15")
    assert (rec["VcdbVersionDate"], rec["QdbVersionDate"], rec["PcdbVersionDate"]) == \
        ("2026-01-01", "2026-01-02", "2026-01-03")
    assert (rec["AppCount"], rec["AssetCount"], rec["FooterRecordCount"]) == (7, 1, "8")
    assert reader.stats.footer_mismatch and reader.stats.to_json()["footer_mismatch"] is True
    assert "Footer RecordCount says 8, the file has 7 apps" in caplog.text
    assert rec["EffectiveDateTime"] == EFFECTIVE and rec["EndDateTime"] is None


def test_an_iso_8859_1_file_reads_with_its_characters_and_3_1_approved_for_is_a_string() -> None:
    apps, reader, stream = read(FIX / "latin1_3_1.xml")
    assert json.loads(apps[0]["Notes"]) == [{"text": "für Fahrzeuge mit Anhängerkupplung ± 5°"}]
    assert apps[0]["PartNumber"] == "AQ-10é"
    rec = reader.file_record(stream.digest)
    assert (rec["Company"], rec["SenderName"], rec["Version"]) == ("Pièces Étendues S.A.", "Zoë Müller", "3.1")
    assert rec["ApprovedFor"] == "US, CA"
    assert (FIX / "latin1_3_1.xml").read_bytes().count("é".encode("latin-1")) >= 1  # truly not UTF-8


def test_gzip_is_recognised_by_its_magic_bytes_and_hashed_decompressed(tmp_path: Path) -> None:
    plain = FIX / "full_4_2.xml"
    packed = tmp_path / "no-gz-suffix.xml"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a, _, sa = read(plain)
    b, _, sb = read(packed)
    assert a == b
    assert sa.digest == sb.digest


def test_a_namespace_on_aces_is_tolerated(tmp_path: Path) -> None:
    text = (FIX / "full_4_2.xml").read_text().replace('<ACES version="4.2">',
                                                     '<ACES xmlns="urn:example:aces" version="4.2">')
    path = tmp_path / "ns.xml"
    path.write_text(text)
    assert [a["AppKey"] for a in read(path)[0]] == [a["AppKey"] for a in read(FIX / "full_4_2.xml")[0]]


def test_a_value_that_is_not_a_number_is_passed_on_for_the_loader_to_refuse(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text('<ACES version="4.2"><Header><SubmissionType>FULL</SubmissionType></Header>'
                    '<App action="A" id="1"><BaseVehicle id="12x"/><Qty>one</Qty><PartType id="5"/>'
                    "</App></ACES>")
    (app,) = read(path)[0]
    assert (app["BaseVehicleID"], app["Qty"], app["PartNumber"]) == ("12x", "one", None)


# --- refusals and broken files ----------------------------------------------------------------------------------


def test_aces_5_is_refused_naming_its_version_and_those_read() -> None:
    with pytest.raises(FormatRefused) as e:
        file_run.check_file("aces", FIX / "version_5_0.xml", "version_5_0.xml")
    assert "version_5_0.xml: ACES version '5.0' is not read; versions read: 3.0, 3.1, 3.2, 4.0, 4.1, 4.2" \
        in str(e.value)


def test_another_root_or_the_other_format_is_refused() -> None:
    with pytest.raises(FormatRefused, match=r"root element <Catalog> is neither ACES nor PIES"):
        file_run.check_file("aces", FIX / "not_aces.xml", "not_aces.xml")
    pies = FIX.parent / "pies" / "items_7_2.xml"
    with pytest.raises(FormatRefused, match=r"is a PIES file, not ACES: load it with vcdb pies load"):
        file_run.check_file("aces", pies, "items_7_2.xml")


def test_a_missing_file_is_refused_before_anything() -> None:
    from producers.files.xml_stream import FileUnreadable

    with pytest.raises(FileUnreadable, match=r"nope\.xml: cannot open"):
        file_run.check_file("aces", FIX / "nope.xml", "nope.xml")


def test_malformed_xml_names_file_line_column_and_every_complete_app_came_before() -> None:
    path = FIX / "malformed.xml"
    reader = AcesReader("malformed.xml", "4.2", EFFECTIVE)
    seen: list[int] = []
    with pytest.raises(ParseError) as e:
        for elem in XmlStream(path, "malformed.xml").elements(reader.wanted, reader.dropped):
            entity = reader.element(elem)
            if entity:
                seen.extend(a["AppID"] for a in entity["App"])
    assert seen == [1, 2, 3]
    err = e.value
    assert (err.file, err.line, err.column) == ("malformed.xml", 32, 5)
    assert str(err) == "malformed.xml: line 32, column 5: expected '>'"  # what lxml says it expected


def test_a_truncated_gzip_stream_is_a_parse_error(tmp_path: Path) -> None:
    full = write_aces_file(tmp_path / "big.xml", 3000)
    cut = tmp_path / "cut.xml.gz"
    packed = gzip.compress(full.read_bytes())
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ParseError, match="cannot read the file"):
        read(cut)


def test_memory_is_bounded_what_precedes_an_app_is_gone_whatever_the_file_size(tmp_path: Path) -> None:
    widest: dict[int, int] = {}
    for apps in (2000, 8000):
        path = write_aces_file(tmp_path / f"big{apps}.xml", apps)
        reader = AcesReader("big.xml", "4.2", EFFECTIVE)
        for elem in XmlStream(path).elements(reader.wanted, reader.dropped):
            parent = elem.getparent()
            assert parent is not None
            assert parent.index(elem) <= 1  # only the element before it, cleared, is left
            assert all(len(e) == 0 for e in elem.itersiblings(preceding=True))
            widest[apps] = max(widest.get(apps, 0), len(parent))
            reader.element(elem)
        assert reader.stats.apps == apps
    # What lxml has parsed ahead of the event (one read buffer) is all that follows it.
    assert widest[8000] == widest[2000] < 400


# --- the file run's page source, over fakes ---------------------------------------------------------------------


@dataclass
class Sink:
    """The broker, as the service sees it: every record published, in order."""

    log: list[OutRecord] = field(default_factory=list)
    fail_topic: str | None = None

    async def publish(self, records: Sequence[OutRecord]) -> None:
        if self.fail_topic and any(r.topic == self.fail_topic for r in records):
            raise RuntimeError("broker said no")
        self.log.extend(records)
        await asyncio.sleep(0)

    async def partitions(self, topic: str) -> list[int]:
        return [0, 1]

    def data(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in self.log if r.topic == topic and r.key != envelope.EOT_KEY]


@dataclass
class State:
    checkpoints: list[tuple[str, FileCursor, int, bool]] = field(default_factory=list)
    finished: dict[str, str] = field(default_factory=dict)

    async def start_endpoint(self, run_id: int, table: str) -> None:
        pass

    async def checkpoint(self, run_id: int, table: str, *, cursor: FileCursor, records: int,
                         total_count: int | None, total_pages: int | None, retries: int, last: bool) -> None:
        self.checkpoints.append((table, cursor, records, last))

    async def finish_endpoint(self, run_id: int, table: str, status: str, error: str | None = None) -> None:
        self.finished[table] = status


APP_TOPIC, FILE_TOPIC = "autocare.aces.app", "autocare.aces.aces_file"


async def run_file(path: Path, states: dict[str, Any] | None = None, *, page: int = 1000, sink: Sink | None = None,
                   file_id: str | None = None) -> tuple[Sink, State, file_source.FileSource, list[EndpointResult]]:
    """The two phases of producers.files.run._load_one, over the fakes."""
    import datetime as dt

    tables = file_run.endpoint_tables("aces")
    run = Run(1, "aces", "file", None, None, tuple(t.name for t in tables), "running", dt.datetime.now(dt.UTC))
    plan = plan_for(run, tables, states or {})
    reader = AcesReader(path.name, "4.2", EFFECTIVE)
    source = file_source.FileSource(XmlStream(path, path.name), reader, plan, page_entities=page, file_id=file_id)
    sink, state, stop = sink or Sink(), State(), asyncio.Event()
    entity = [e for e in plan.endpoints if e.table.name == "App"]
    file_eps = [e for e in plan.endpoints if e.table.name == "AcesFile"]
    try:
        results = await asyncio.wait_for(run_endpoints(
            dataclasses.replace(plan, endpoints=entity), source, sink, state, concurrency=1, stop=stop), 30)
        if all(r.status in ("done", "skipped") for r in results):
            await source.read_all()
        if all(r.status in ("done", "skipped") for r in results) and source.error is None:
            results += await asyncio.wait_for(run_endpoints(
                dataclasses.replace(plan, endpoints=file_eps), source, sink, state, concurrency=1,
                stop=stop), 30)
    finally:
        await source.aclose()
    return sink, state, source, results


@dataclass
class Progress:
    status: str
    cursor: PageCursor | FileCursor
    pages_published: int
    records_published: int
    total_count: int | None = None


async def test_pages_are_chunks_of_entities_and_the_file_record_goes_after_the_apps_end_of_table(
        tmp_path: Path) -> None:
    path = write_aces_file(tmp_path / "g.xml", 2500)
    sink, state, source, results = await run_file(path)
    assert [r.status for r in results] == ["done", "done"]
    app_checkpoints = [(c, n, last) for t, c, n, last in state.checkpoints if t == "App"]
    assert app_checkpoints == [(FileCursor(1000, 2, "g.xml"), 1000, False), (FileCursor(2000, 3, "g.xml"), 1000, False),
                               (FileCursor(2500, 4, "g.xml"), 500, True)]  # past the end: every App read
    apps = sink.data(APP_TOPIC)
    assert [a["AppID"] for a in apps] == list(range(1, 2501))
    (record,) = sink.data(FILE_TOPIC)
    assert (record["AppCount"], record["FooterRecordCount"], record["FileID"]) == (2500, "2500", source.file_id)
    # Last: after every App record and the App end-of-table records on each partition.
    topics_in_order = [(r.topic, r.key == envelope.EOT_KEY) for r in sink.log]
    first_file = topics_in_order.index((FILE_TOPIC, False))
    assert topics_in_order[first_file - 2:first_file] == [(APP_TOPIC, True), (APP_TOPIC, True)]
    keys = {r.key for r in sink.log if r.topic == APP_TOPIC and r.key != envelope.EOT_KEY}
    assert len(keys) == 2500


async def test_malformed_xml_publishes_the_complete_apps_checkpoints_them_and_fails(tmp_path: Path) -> None:
    path = write_aces_file(tmp_path / "m.xml", 3000, broken_after=1500)
    sink, state, source, results = await run_file(path)
    assert isinstance(source.error, ParseError)
    assert [(r.table, r.status) for r in results] == [("App", "failed")]
    assert "m.xml: line 1505, column 1: " in (results[0].error or "")  # 3 lines of head, 1501 Apps
    assert [a["AppID"] for a in sink.data(APP_TOPIC)] == list(range(1, 1501))
    assert [(c, n, last) for _, c, n, last in state.checkpoints] == [
        (FileCursor(1000, 2, "m.xml"), 1000, False), (FileCursor(1500, 3, "m.xml"), 500, False)]
    assert sink.data(FILE_TOPIC) == []
    assert not any(r.key == envelope.EOT_KEY for r in sink.log)


async def test_a_resume_skips_the_entities_checkpointed_and_numbers_pages_on(tmp_path: Path) -> None:
    path = write_aces_file(tmp_path / "r.xml", 2500)
    states = {"App": Progress("failed", FileCursor(1500, 3, "r.xml"), 2, 1500)}
    sink, _, source, results = await run_file(path, states, page=600)
    assert [r.status for r in results] == ["done", "done"]
    assert source.skipped == {"App": 1500}
    assert [a["AppID"] for a in sink.data(APP_TOPIC)] == list(range(1501, 2501))
    pages = sorted({envelope.header_map(r.headers)[envelope.H_PAGE] for r in sink.log
                    if r.topic == APP_TOPIC and r.key != envelope.EOT_KEY})
    assert pages == [b"3", b"4"]
    eot = [envelope.EndOfTable.decode(r.value) for r in sink.log if r.topic == APP_TOPIC and r.key == envelope.EOT_KEY]
    assert {e.records for e in eot} == {2500}  # the run's count, the earlier attempt's included
    (record,) = sink.data(FILE_TOPIC)
    assert record["AppCount"] == 2500


async def test_a_resume_with_the_apps_done_publishes_only_the_file_record(tmp_path: Path) -> None:
    path = write_aces_file(tmp_path / "d.xml", 1200)
    states = {"App": Progress("done", FileCursor(1200, 3, "d.xml"), 2, 1200)}
    sink, _, _, results = await run_file(path, states)
    assert [r.status for r in results] == ["skipped", "done"]
    assert sink.data(APP_TOPIC) == []
    assert sink.data(FILE_TOPIC)[0]["AppCount"] == 1200


async def test_a_failed_publish_leaves_the_parse_and_the_file_record_alone(tmp_path: Path) -> None:
    path = write_aces_file(tmp_path / "f.xml", 2500)
    sink, _, _, results = await run_file(path, sink=Sink(fail_topic=APP_TOPIC))
    assert [(r.table, r.status) for r in results] == [("App", "failed")]
    assert "broker said no" in (results[0].error or "")
    assert sink.log == []


async def test_a_file_that_changed_since_its_digest_fails_the_run_without_its_file_record(tmp_path: Path) -> None:
    from producers.files.xml_stream import file_digest

    path = write_aces_file(tmp_path / "c.xml", 1500)
    digest = file_digest(path)
    sink, _, source, results = await run_file(path, file_id=digest)
    assert [r.status for r in results] == ["done", "done"] and source.file_id == digest
    write_aces_file(path, 1500, seed=5)  # rewritten after the digest was taken
    sink, _, source, results = await run_file(path, file_id=digest)
    assert isinstance(source.error, file_source.FileChanged)
    assert [(r.table, r.status) for r in results] == [("App", "failed")]
    assert "c.xml changed while it was read" in (results[0].error or "")
    assert sink.data(FILE_TOPIC) == []


def test_a_cursor_that_is_not_a_file_cursor_is_refused() -> None:
    from ledger.errors import RunStateError
    from producers.service import EndpointPlan

    table = file_run.endpoint_tables("aces")[0]
    assert file_source.resume_point(EndpointPlan(table, FileCursor(12, 2, "x"), 1)) == FileCursor(12, 2, "x")
    assert file_source.resume_point(EndpointPlan(table)) is None
    # An API link, or a file run's checkpoint packed into a link as before migration 0011.
    for link in ("https://api.example/page=2", "entities=12;file=x"):
        with pytest.raises(RunStateError, match="not a file cursor"):
            file_source.resume_point(EndpointPlan(table, PageCursor(link, 2), 1))


async def test_a_resume_from_an_old_past_the_end_checkpoint_asks_no_pages(tmp_path: Path) -> None:
    """Before migration 0011 the checkpoint after a file table's last page was a page number
    alone; the table is paged, so its number is all a resume reads."""
    path = write_aces_file(tmp_path / "o.xml", 10)
    states = {"App": Progress("paged", PageCursor(None, 2), 1, 10)}
    sink, _, _, results = await run_file(path, states)
    assert [r.status for r in results] == ["done", "done"]
    assert sink.data(APP_TOPIC) == [] and sink.data(FILE_TOPIC)[0]["AppCount"] == 10


def test_a_file_cursor_is_a_count_and_a_page_number() -> None:
    with pytest.raises(ValueError):
        FileCursor(-1)
    with pytest.raises(ValueError):
        FileCursor(0, 0)
    page = FilePage([], [], FileCursor(10, 2, "f.xml"), None, 15)
    assert (page.number, page.checkpoint) == (2, FileCursor(15, 3, "f.xml"))


def test_the_effective_time_is_the_runs_start_in_utc_to_the_microsecond() -> None:
    import datetime as dt

    start = dt.datetime(2026, 3, 1, 11, 0, 0, 987654, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert file_run.effective_time(start) == "2026-03-01T10:00:00.987654"
    assert file_run.effective_time(start.replace(microsecond=0)) == "2026-03-01T10:00:00.000000"
