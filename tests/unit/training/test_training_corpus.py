"""Splitting the real-text corpus: duplicates, other languages, and a gate of unseen sites."""

import json
from pathlib import Path

import pytest

from shared.contracts.need_types import NeedType
from training.corpus import main, read_raw, split

pytestmark = pytest.mark.unit

_TEXTS = {
    "jobs": "ตกงานมาหลายเดือน อยากหางานทำ",
    "skills": "อยากเรียนฝึกอาชีพช่างไฟ",
    "ss40": "อยากสมัครประกันสังคมมาตรา 40",
    "unfair_labour": "นายจ้างค้างจ่ายค่าจ้างสองเดือน",
    "migrant_labour": "แรงงานต่างด้าวไม่มีใบอนุญาตทำงาน",
    "drugs_workplace": "มีคนงานเสพยาบ้าในโรงงาน",
    "other": "ถนนหน้าบ้านเป็นหลุมเป็นบ่อ",
}


def _raw(tmp_path: Path) -> Path:
    lines = []
    for site in range(30):
        for label, text in _TEXTS.items():
            lines.append(
                {
                    "text": f"{text} ({site})",
                    "labels": [label],
                    "source": f"https://www.site{site}.example/p",
                    "lang": "th",
                }
            )
    lines.append(dict(lines[0]))  # the same snippet collected twice
    lines.append({"text": "ကျွန်တော် အလုပ်ရှင်က လစာမပေးသေးဘူး", "labels": ["unfair_labour"], "source": "https://mm.example/a"})
    lines.append(
        {
            "text": "Khmer page, labelled by its collector",
            "labels": ["other"],
            "source": "https://kh.example/a",
            "lang": "km",
        }
    )
    path = tmp_path / "raw.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def test_split_is_by_site_with_every_type_in_the_gate(tmp_path: Path) -> None:
    result = split(read_raw([_raw(tmp_path)]), gate_min=100, per_type=5)
    assert result.duplicates == 1
    assert sorted(line.lang for line in result.other_languages) == ["km", "my"]
    gate_sites = {line.site for line in result.gate}
    assert gate_sites.isdisjoint(line.site for line in result.train)
    assert len(result.gate) >= 100
    for need_type in NeedType:
        assert sum(1 for line in result.gate if need_type in line.record.labels) >= 5
    assert len(result.gate) + len(result.train) == 30 * len(_TEXTS)
    again = split(read_raw([_raw(tmp_path)]), gate_min=100, per_type=5)
    assert [line.record for line in again.gate] == [line.record for line in result.gate]


def test_split_command_writes_the_three_sets(tmp_path: Path) -> None:
    out = tmp_path / "real"
    raw = str(_raw(tmp_path))
    assert main(["split", raw, "--out-dir", str(out), "--gate-min", "500", "--per-type", "5"]) == 2  # too few sites
    assert main(["split", raw, "--out-dir", str(out), "--gate-min", "100", "--per-type", "5"]) == 0
    names = sorted(path.name for path in out.iterdir())
    assert names == ["gate.jsonl", "other_languages.jsonl", "summary.json", "train.jsonl"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["gate"]["items"] >= 100
    assert sum(summary["gate_items_per_site"].values()) == summary["gate"]["items"]
    gate = [json.loads(line) for line in (out / "gate.jsonl").read_text(encoding="utf-8").splitlines()]
    assert set(gate[0]) == {"text", "labels", "source", "lang"}


def test_a_corpus_line_without_its_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "raw.jsonl"
    path.write_text('{"text": "หางาน", "labels": ["jobs"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"raw\.jsonl:1: 'source'"):
        read_raw([path])


def test_only_lines_a_second_labeller_labelled_alike_are_split(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    lines = [json.loads(line) for line in raw.read_text(encoding="utf-8").splitlines()]
    second = [{"text": line["text"], "labels": line["labels"]} for line in lines]
    for line in second:
        if line["text"] == lines[0]["text"]:  # a jobs snippet (collected twice) the second labeller read otherwise
            line["labels"] = ["skills"]
    second[1]["labels"] = ["unclear"]
    second_path = tmp_path / "second.jsonl"
    second_path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in second), encoding="utf-8")
    out = tmp_path / "real"
    arguments = ["split", str(raw), "--out-dir", str(out), "--gate-min", "100", "--per-type", "5"]
    assert main([*arguments, "--second-labels", str(second_path)]) == 0
    disagreed = [json.loads(line) for line in (out / "disagreed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(line["text"], line["labels"], line["second_labels"]) for line in disagreed] == [
        (lines[0]["text"], ["jobs"], ["skills"]),
        (lines[1]["text"], ["skills"], ["unclear"]),
    ]
    kept = {json.loads(line)["text"] for name in ("train", "gate") for line in (out / f"{name}.jsonl").open()}
    assert lines[0]["text"] not in kept
    assert lines[2]["text"] in kept
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["second_labelling"] == {"lines": 30 * len(_TEXTS), "agreed": 30 * len(_TEXTS) - 2,
                                           "exact_agreement": round(1 - 2 / (30 * len(_TEXTS)), 3)}  # fmt: skip
