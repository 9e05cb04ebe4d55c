"""Shared fixtures: one default run per test session (it takes ~30 s), reused read-only."""
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """The README's main job (yrd-enhanced, 10 km) written to a temporary folder.

    Returns the RunResult; ``result.out_dir`` is the written ``<out>/yrd-enhanced`` folder.
    Tests must not modify the folder: copy it first (``shutil.copytree``) if they need to.
    """
    from gridcarbon.job import run

    return run("yrd-enhanced", out=tmp_path_factory.mktemp("default-run"))


@pytest.fixture(scope="session")
def shared_data():
    """Folder of the optional reference data sets; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA
