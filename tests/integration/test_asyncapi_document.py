"""The AsyncAPI document as agencies' tools read it: the official parser (@asyncapi/parser, npm)."""

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARSER = ROOT / "tests" / "tools" / "asyncapi"
DOCUMENT = ROOT / "shared" / "contracts" / "schemas" / "asyncapi.json"


def parse(document: Path) -> tuple[int, list[dict[str, object]]]:
    """Run the official parser on ``document``: its exit code and its diagnostics."""
    node = shutil.which("node")
    assert node, "node is needed to run the AsyncAPI parser"
    assert (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make asyncapi-parser` first"
    done = subprocess.run(
        [node, str(PARSER / "validate.mjs"), str(document)], capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_the_published_asyncapi_document_passes_the_official_parser_without_a_remark() -> None:
    code, diagnostics = parse(DOCUMENT)
    assert (code, diagnostics) == (0, [])


def test_the_parser_does_refuse_a_broken_document(tmp_path: Path) -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    del document["channels"]["agencyQueue"]["parameters"]["province_code"]
    broken = tmp_path / "asyncapi.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    code, diagnostics = parse(broken)
    assert code == 1
    assert any("province_code" in str(diagnostic["message"]) for diagnostic in diagnostics), diagnostics
