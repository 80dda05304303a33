"""The CLI's word to an operator: --version, and one line with exit code 2 for a bad file or setting."""

import importlib.abc
import importlib.metadata
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from services.agency_client.render import render_event
from services.cli import main
from services.routing.domain.decide import decide_routes
from services.routing.domain.routing_table import RoutingTable
from shared.contracts.events import CaseEscalated
from shared.contracts.need_types import Agency, NeedType
from shared.thai_time import in_thai_time
from tests.unit.factories import contact, screened

DATA = Path(__file__).resolve().parents[1] / "data"
INFRASTRUCTURE_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "DATABASE_PASSWORD", "TOPIC_PARTITIONS")


@pytest.fixture(autouse=True)
def no_infrastructure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in INFRASTRUCTURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI; it must exit with 2 and say one line on stderr, nothing on stdout."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("needs-router: ")
    return err.strip()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"needs-router {importlib.metadata.version('needs-router')}\n"


def test_eval_names_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    error = one_line_error(capsys, "eval", str(missing))
    assert error == f"needs-router: cannot read {missing}: No such file or directory"


def test_eval_names_a_folder_given_as_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert one_line_error(capsys, "eval", str(tmp_path)) == f"needs-router: cannot read {tmp_path}: Is a directory"


def test_eval_names_a_file_that_is_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"text": "caf\xe9", "labels": ["jobs"]}\n')
    assert one_line_error(capsys, "eval", str(latin)).startswith(f"needs-router: cannot read {latin}: 'utf-8' codec")


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (['{"text": "ตกงาน", "labels": ["jobs"]}', "not json"], ":2: not valid JSON (Expecting value)"),
        (['{"text": "ตกงาน", "labels": ["jobs"]}', "", '{"text": "x"}'], ":3: 'labels' must be a non-empty list"),
        (['{"text": 5, "labels": ["jobs"]}'], ":1: 'text' must be a string"),
        (['{"text": "x", "labels": ["jobz"]}'], ":1: unknown label(s) ['jobz']"),
        (['["text", "labels"]'], ":1: expected a JSON object with 'text' and 'labels'"),
    ],
)
def test_eval_names_the_line_and_field_of_a_bad_jsonl_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lines: list[str], problem: str
) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert one_line_error(capsys, "eval", str(labelled)).startswith(f"needs-router: {labelled}{problem}")


def test_eval_keeps_a_line_separator_inside_a_json_string(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(json.dumps({"text": "หางาน\u2028ตกงาน", "labels": ["jobs"]}, ensure_ascii=False) + "\n")
    assert main(["eval", str(labelled)]) == 0
    assert '"items": 1' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DATABASE_URL": "postgresql://needs@db/needs", "TOPIC_PARTITIONS": "twelve"},
         "needs-router: invalid settings: TOPIC_PARTITIONS: Input should be a valid integer"),
        ({"DATABASE_URL": "postgresql://needs:old@db/needs", "DATABASE_PASSWORD": "n3w-s3cret"},
         "needs-router: invalid settings: DATABASE_PASSWORD is set and DATABASE_URL has a password too: give it once"),
        ({}, "needs-router: DATABASE_URL not set: point it at Kafka / PostgreSQL"),
    ],
)  # fmt: skip
def test_a_bad_or_missing_setting_is_named_before_anything_is_reached(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    error = one_line_error(capsys, "routes", "list")
    assert error.startswith(message)
    assert "s3cret" not in error
    assert "old" not in error


def test_agency_listen_shows_routed_times_in_bangkok_time() -> None:
    table = RoutingTable.from_rows(dict.fromkeys([*NeedType, "manual_screening"], "dlpw"))
    evening_utc = datetime(2026, 12, 4, 20, 30, tzinfo=UTC)
    [case] = decide_routes(screened(NeedType.UNFAIR_LABOUR), table, contact=contact(), now=evening_utc)
    text, _ = render_event(case.model_dump_json().encode())
    assert "ส่งต่อเมื่อ: 2026-12-05 03:30 น. (เวลาไทย)" in text
    assert "UTC" not in text


def test_agency_listen_dates_an_escalation_in_bangkok_time() -> None:
    escalated = CaseEscalated(
        event_id=uuid4(), need_id=uuid4(), agency=Agency.DLPW, province_code="33", overdue="not_accepted",
        routed_at=datetime(2026, 12, 1, 18, 0, tzinfo=UTC), escalated_at=datetime(2026, 12, 4, 18, 0, tzinfo=UTC),
    )  # fmt: skip
    text, _ = render_event(escalated.model_dump_json().encode())
    assert "(ส่งต่อเมื่อ 2026-12-02)" in text


def test_a_time_without_a_zone_is_taken_as_utc() -> None:
    assert in_thai_time(datetime(2026, 12, 4, 20, 30)).isoformat() == "2026-12-05T03:30:00+07:00"


def test_bench_without_the_benchmark_package_says_where_it_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class WithoutBenchmark(importlib.abc.MetaPathFinder):
        """As in the service image, which leaves the benchmark out."""

        def find_spec(self, name: str, *_: object) -> None:
            if name.partition(".")[0] == "benchmark":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    for name in [name for name in sys.modules if name.partition(".")[0] == "benchmark"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [WithoutBenchmark(), *sys.meta_path])
    assert one_line_error(capsys, "bench", "--smoke") == (
        "needs-router: bench runs from a checkout (make install), not from the service image"
    )
