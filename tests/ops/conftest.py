"""One cluster for the tests that kill things (tests/ops): etcd, three Patroni members, the demo
practice and `steadfast serve`, started once (about half a minute) and stopped at the end."""

import shutil
import tempfile
from pathlib import Path

import pytest

from steadfast.testing.failover import Site, cluster_module
from tests.conftest import missing_prerequisite


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--cluster"):
        return  # deselected (tests/conftest.py)
    if missing := cluster_module.prerequisites():
        skip = missing_prerequisite("; ".join(missing))
        for item in items:
            if "cluster" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def site():
    # Not under pytest's tmp_path: the cluster's user (postgres, when root) must reach it.
    root = Path(tempfile.mkdtemp(prefix="steadfast-failover-"))
    site = Site(root, fast=True, patients=200, weeks=4)
    try:
        yield site.start(threads=6)
    finally:
        site.stop(clean=False)  # a throwaway: no need to wait for a clean shutdown
        shutil.rmtree(root, ignore_errors=True)
