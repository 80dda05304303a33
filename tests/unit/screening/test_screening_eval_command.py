"""`needs-router eval`: per-site figures, another model file, and the unchanged JSON last line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli import main
from services.screening.domain.classifier import Classifier
from services.screening.domain.evaluation import evaluate_by_source, load_labelled_records, source_site
from services.screening.domain.model import DEFAULT_MODEL_PATH

pytestmark = pytest.mark.unit

_LINES = [
    {"text": "ตกงานมาสามเดือน อยากหางาน", "labels": ["jobs"], "source": "https://www.pantip.com/topic/1"},
    {"text": "นายจ้างค้างจ่ายค่าจ้างสองเดือน", "labels": ["unfair_labour"], "source": "https://m.pantip.com/topic/2"},
    {"text": "อยากสมัครประกันสังคมมาตรา 40", "labels": ["ss40"], "source": "https://www.sso.go.th/faq"},
    {"text": "ถนนเข้าหมู่บ้านเป็นหลุมเป็นบ่อ", "labels": ["other"]},
]
_JSON_KEYS = {"per_type", "macro_f1", "micro_f1", "exact_match", "per_second", "items", "classifier_version"}


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in _LINES), encoding="utf-8")
    return path


def test_sites_are_registered_domains() -> None:
    assert source_site("https://www.pantip.com/topic/1") == "pantip.com"
    assert source_site("https://th.phongnhaexplorer.com/a") == "phongnhaexplorer.com"
    assert source_site("https://sisaket.mol.go.th/news") == "mol.go.th"
    assert source_site("http://103.107.52.9/index.php") == "103.107.52.9"


def test_records_keep_their_source_and_lines_without_one_are_fine(tmp_path: Path) -> None:
    records = load_labelled_records(_file(tmp_path))
    assert [record.site for record in records] == ["pantip.com", "pantip.com", "sso.go.th", "(no source)"]


def test_a_source_that_is_not_text_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "หางาน", "labels": ["jobs"], "source": 7}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: 'source'"):
        load_labelled_records(path)


def test_by_source_scores_each_site(classifier: Classifier, tmp_path: Path) -> None:
    results = evaluate_by_source(classifier, load_labelled_records(_file(tmp_path)))
    assert list(results) == ["pantip.com", "(no source)", "sso.go.th"]
    assert results["pantip.com"]["items"] == 2
    assert results["pantip.com"]["exact_match"] == 1.0


def test_eval_by_source_prints_sites_and_keeps_the_json_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(_file(tmp_path)), "--by-source"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("site")
    assert lines[1].split()[:2] == ["pantip.com", "2"]
    result = json.loads(lines[-1])
    assert set(result) == _JSON_KEYS
    assert result["items"] == 4


def test_eval_scores_another_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(_file(tmp_path)), "--model", str(DEFAULT_MODEL_PATH)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["classifier_version"] == Classifier.load().version
    broken = tmp_path / "broken.json"
    broken.write_text("{}", encoding="utf-8")
    assert main(["eval", str(_file(tmp_path)), "--model", str(broken)]) == 2
    assert "format" in capsys.readouterr().err


def test_train_without_the_training_extra_says_so_in_one_line(tmp_path: Path) -> None:
    # sklearn set to None in sys.modules makes its import fail, as when the extra is not installed.
    code = "import sys; sys.modules['sklearn'] = None; from services.cli import main; sys.exit(main(['train']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "training extra is not installed" in done.stderr


def test_train_names_a_missing_corrections_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--corrections", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err
