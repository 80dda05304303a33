"""Check that this interpreter holds exactly the packages the given lock files pin, at their versions.

Usage: python deploy/locked_set.py [--remove-unlocked] LOCK...
The project itself (pyproject.toml's name) is not in any lock, so it is left out of the comparison.
--remove-unlocked first uninstalls what no lock names, as pip-sync would: `pip install -r` only adds.
"""

import argparse
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(paths: list[Path]) -> dict[str, str]:
    """Every `name==version` pin of the lock files."""
    pins: dict[str, str] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = PIN.match(line)
            if match:
                pins[normalise(match["name"])] = match["version"]
    return pins


def installed() -> dict[str, str]:
    """Every distribution this interpreter can import, but the project itself."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    found = {normalise(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()}
    found.pop(normalise(project), None)
    return found


def differences(pins: dict[str, str], present: dict[str, str]) -> list[str]:
    """One line per package that is missing, unlocked or at another version; none when they agree."""
    problems = [f"missing: {name}=={version}" for name, version in pins.items() if name not in present]
    problems += [f"not in the lock: {name}=={version}" for name, version in present.items() if name not in pins]
    problems += [
        f"{name} is {present[name]}, the lock pins {version}"
        for name, version in pins.items()
        if name in present and present[name] != version
    ]
    return sorted(problems)


def main() -> int:
    """Print each difference between the interpreter and the locks; exit 1 if there is any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="+", type=Path)
    parser.add_argument("--remove-unlocked", action="store_true", help="uninstall what no lock names first")
    args = parser.parse_args()
    pins = locked(args.locks)
    if args.remove_unlocked:
        unlocked = sorted(set(installed()) - set(pins))
        if unlocked:
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", *unlocked], check=True)
    problems = differences(pins, installed())
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
