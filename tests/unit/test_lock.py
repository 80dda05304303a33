"""The locks in requirements/: complete, hashed, free of index addresses, and what is installed."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
RUNTIME, DEV, BUILD = LOCKS / "runtime.txt", LOCKS / "dev.txt", LOCKS / "build.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) \\$")


def pins(lock: Path) -> dict[str, str]:
    """name -> version for every pin of a lock."""
    return {
        canonicalize_name(match["name"]): match["version"]
        for match in map(PIN.match, lock.read_text().splitlines())
        if match
    }


def pyproject() -> dict[str, object]:
    loaded: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return loaded


@pytest.mark.parametrize("lock", [RUNTIME, DEV, BUILD, LOCKS / "lock-tools.txt"], ids=lambda path: path.name)
def test_a_lock_names_no_index_and_pins_every_package_with_hashes(lock: Path) -> None:
    text = lock.read_text()
    # Package names contain "http" (httpx, ...-proto-http): an address is what must not be there.
    assert "://" not in text
    assert not re.search(r"^\s*(-i|--(?:extra-)?index[-]url|-f|--find-links|--trusted-host)\b", text, re.M)
    lines = text.splitlines()
    requirements = [index for index, line in enumerate(lines) if line and not line.startswith((" ", "#"))]
    assert requirements, f"{lock.name} pins nothing"
    for index in requirements:
        assert PIN.match(lines[index]), f"{lock.name}: {lines[index]!r} is not `name==version \\`"
        assert lines[index + 1].startswith("    --hash=sha256:"), f"{lock.name}: {lines[index]} has no hash"


def test_every_direct_dependency_is_locked_at_the_version_pyproject_pins() -> None:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    wanted = {RUNTIME: project["dependencies"], DEV: [*project["dependencies"]]}
    for extra in project["optional-dependencies"].values():
        wanted[DEV].extend(extra)
    for lock, requirements in wanted.items():
        locked = pins(lock)
        for requirement in map(Requirement, requirements):
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{requirement} is not in {lock.name}: run `make lock`"
            assert requirement.specifier.contains(locked[name]), (
                f"{lock.name} pins {name}=={locked[name]}, pyproject.toml wants {requirement}: run `make lock`"
            )


def test_the_image_runs_the_versions_the_tests_ran() -> None:
    runtime, dev = pins(RUNTIME), pins(DEV)
    assert {name: dev.get(name) for name in runtime} == runtime


def test_the_build_lock_holds_the_build_backend_and_pip() -> None:
    build_system = pyproject()["build-system"]
    assert isinstance(build_system, dict)
    locked = pins(BUILD)
    assert set(locked) == {canonicalize_name(Requirement(line).name) for line in build_system["requires"]} | {"pip"}


def test_this_environment_holds_exactly_the_locked_set() -> None:
    # make install built .venv from the locks; the script compares importlib.metadata with them.
    checked = subprocess.run(
        [sys.executable, str(ROOT / "deploy/locked_set.py"), str(BUILD), str(DEV)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (checked.returncode, checked.stderr) == (0, "")


def test_the_image_installs_the_locked_dependencies_in_a_layer_before_the_code() -> None:
    lines = [line.strip() for line in (ROOT / "deploy/Dockerfile").read_text().splitlines()]
    copies = [index for index, line in enumerate(lines) if line.startswith("COPY ")]
    first_copy = lines[copies[0]]
    assert first_copy.split()[1:-1] == ["requirements/build.txt", "requirements/runtime.txt"]
    dependency_layer = " ".join(lines[copies[0] + 1 : copies[1]])
    assert "--require-hashes --no-deps -r requirements/build.txt" in dependency_layer
    assert "--require-hashes --no-deps -r requirements/runtime.txt" in dependency_layer
    code_layer = " ".join(lines[copies[1] :])
    assert "pip install --no-deps --no-build-isolation ." in code_layer
    assert "requirements/dev.txt" not in "\n".join(lines)


def test_the_build_context_leaves_out_the_virtualenv_git_and_caches() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".git", ".venv", ".venv-*", "**/__pycache__", ".mypy_cache", ".pytest_cache", "tests"} <= ignored
