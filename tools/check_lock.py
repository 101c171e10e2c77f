"""Check that the dependency locks match pyproject.toml and that this venv holds only the lock.

Run by `make test` with the venv's Python. It fails when:
- a dependency pyproject.toml asks for (runtime, dev extra, or build-system) is missing from the
  lock or locked at a version the specifier refuses (run `make lock`);
- a lock entry is not pinned with `==` or carries no hash;
- the runtime lock and the dev lock disagree on a version;
- this environment holds a distribution the dev lock does not list, at another version, or
  lacks one it lists (a `pip install` by hand, or a venv from before the lock: `make clean`).
"""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
DEV_LOCK = ROOT / "requirements" / "dev-lock.txt"
PROJECT = "steadfast"
# Installed into every venv by Python's own ensurepip, not by us.
NOT_LOCKED = {"pip"}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>[^\s;]+)")


def read_lock(path: Path) -> tuple[dict[str, str], list[str]]:
    """{canonical name: version} of a hashed requirements file, and what is wrong with it."""
    logical = re.sub(r"\\\n", " ", path.read_text()).splitlines()
    pins: dict[str, str] = {}
    problems = []
    for line in logical:
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if not match:
            problems.append(f"{path.name}: not pinned with ==: {line[:80]}")
            continue
        name = canonicalize_name(match["name"])
        if "--hash=sha256:" not in line:
            problems.append(f"{path.name}: {name} has no hash")
        pins[name] = match["version"]
    return pins, problems


def unlocked(requirements: list[str], pins: dict[str, str], lock_name: str) -> list[str]:
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is in pyproject.toml but not in {lock_name}")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{requirement} in pyproject.toml, but {lock_name} has {pins[name]}")
    return problems


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def environment_problems(pins: dict[str, str]) -> list[str]:
    have = installed()
    problems = []
    for name, version in sorted(have.items()):
        if name in NOT_LOCKED or name == PROJECT:
            continue
        if name not in pins:
            problems.append(f"{name}=={version} is installed but not in the lock")
        elif pins[name] != version:
            problems.append(f"{name}=={version} is installed but the lock has {pins[name]}")
    problems += [f"{name}=={pins[name]} is locked but not installed" for name in pins.keys() - have]
    return problems


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = project["project"]["dependencies"]
    dev = project["project"]["optional-dependencies"]["dev"]
    build = project["build-system"]["requires"]

    pins, problems = read_lock(LOCK)
    dev_pins, dev_problems = read_lock(DEV_LOCK)
    problems += dev_problems
    problems += unlocked(runtime + build, pins, LOCK.name)
    problems += unlocked(runtime + dev + build, dev_pins, DEV_LOCK.name)
    problems += [
        f"{name} is {version} in {LOCK.name} but {dev_pins.get(name)} in {DEV_LOCK.name}"
        for name, version in pins.items()
        if dev_pins.get(name) != version
    ]
    if "--no-environment" not in sys.argv:
        problems += environment_problems(dev_pins)

    if problems:
        print("Dependency lock check failed:", *problems, sep="\n  ", file=sys.stderr)
        print(
            "Added a dependency to pyproject.toml? Run `make lock`. Installed something by hand?"
            " Remove it, or start again with `rm -rf .venv && make install-dev`.",
            file=sys.stderr,
        )
        return 1
    print(f"Lock check: {len(pins)} runtime and {len(dev_pins)} dev packages locked with hashes;")
    print("pyproject.toml matches the lock and this environment holds exactly the dev lock.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
