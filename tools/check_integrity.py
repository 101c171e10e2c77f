"""Check npm tarballs against the sha512 integrity recorded in requirements/npm-integrity.txt.

Usage: check_integrity.py RECORD TARBALL... where each tarball is named as `npm pack` names it
(`<name>-<version>.tgz`). Exits non-zero on a tarball with no record or a different digest.
"""

import base64
import hashlib
import sys
from pathlib import Path


def recorded(record: Path) -> dict[str, str]:
    """{"<name>-<version>.tgz": "sha512-..."} from lines "<name>@<version> sha512-..."."""
    integrity = {}
    for line in record.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, digest = line.split()
            name, version = package.rsplit("@", 1)
            integrity[f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"] = digest
    return integrity


def integrity_of(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def main(record: str, *tarballs: str) -> int:
    expected = recorded(Path(record))
    failed = False
    for tarball in map(Path, tarballs):
        want, have = expected.get(tarball.name), integrity_of(tarball)
        if want != have:
            failed = True
            print(f"{tarball.name}: integrity {have}, recorded {want}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
