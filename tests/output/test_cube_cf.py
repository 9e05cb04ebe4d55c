"""The default run's ``cube.nc`` through the IOOS compliance checker's CF-1.8 and ACDD-1.3 suites.

The checker works offline: it ships the CF standard-name table (version 93). Its CF suite
raises inside ``check_coordinate_variables_strict_monotonicity`` on the string-valued
``sector`` coordinate (it subtracts values); that check is reported as a checker exception,
not a finding, and is the only one allowed.
"""
from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from compliance_checker.runner import CheckSuite

from gridcarbon.output.metadata import REFERENCES

pytestmark = pytest.mark.slow

#: checker exceptions tolerated (see the module docstring)
KNOWN_CHECKER_EXCEPTIONS = {"check_coordinate_variables_strict_monotonicity"}
#: ACDD attributes left out on purpose: a creation date would change the bytes of every run
#: (outputs are byte-deterministic); contributors and e-mail are not known to the model
ACDD_OMITTED = ("date_created", "date_modified", "date_issued", "date_metadata_modified")


def run_checks(path: Path, checkers: list[str]) -> dict[str, tuple[list, dict]]:
    suite = CheckSuite()
    suite.load_all_available_checkers()
    return suite.run_all(suite.load_dataset(str(path)), checkers, skip_checks=[])


def failures(results) -> list[tuple[int, str, list[str]]]:
    """(weight, check name, messages) of every result that did not score full points."""
    out = []
    for r in results:
        ok = r.value if isinstance(r.value, bool) else r.value[0] >= r.value[1]
        if not ok:
            out.append((r.weight, r.name, r.msgs))
    return out


@pytest.fixture(scope="module")
def cube(default_run) -> Path:
    return Path(default_run.out_dir) / "cube.nc"


@pytest.fixture(scope="module")
def checked(cube):
    return run_checks(cube, ["cf:1.8", "acdd:1.3"])


def test_cf_checker_finds_no_errors(checked):
    results, exceptions = checked["cf:1.8"]
    assert len(results) > 20  # the suite ran
    assert failures(results) == []
    assert set(exceptions) <= KNOWN_CHECKER_EXCEPTIONS


def test_acdd_highly_recommended_global_attributes_pass(checked):
    results, exceptions = checked["acdd:1.3"]
    assert not exceptions
    high = [f for f in failures(results) if f[0] == 3]
    # the one high-priority finding: no CF standard name for a per-cell mass (see metadata.COMMENT)
    assert [(name, [m for m in msgs if "standard_name" not in m]) for _, name, msgs in high] == \
        [('variable "emission" missing the following attributes:', [])]
    dates = [f for f in failures(results) if f[1].startswith("date_")]
    assert {name.removesuffix("_is_iso") for _, name, _ in dates} == set(ACDD_OMITTED)


def test_bounds_grid_mapping_names_and_attributes(cube, default_run):
    grid = default_run.grid
    with netCDF4.Dataset(cube) as nc:
        for axis, centres in (("x", grid.x), ("y", grid.y)):
            bounds = nc[f"{axis}_bnds"][:]
            assert nc[axis].bounds == f"{axis}_bnds"
            np.testing.assert_allclose(bounds.mean(axis=1), centres)
            np.testing.assert_allclose(np.abs(np.diff(bounds, axis=1)), grid.res)
        emission = nc["emission"]
        assert emission.grid_mapping == "crs" and nc["crs"].grid_mapping_name == "albers_conical_equal_area"
        assert emission.units == "t yr-1" and emission.long_name and emission.cell_methods == "area: sum"
        assert nc["x"].standard_name == "projection_x_coordinate"
        attrs = nc.__dict__
    for key in ("title", "summary", "source", "history", "license", "references", "keywords", "id"):
        assert attrs[key], key
    assert "ACDD-1.3" in attrs["Conventions"] and "CF-1.8" in attrs["Conventions"]
    assert all(ref in attrs["references"] for ref in REFERENCES)
    assert "yrd-enhanced" in attrs["title"] and "CC BY 4.0" in attrs["license"]
    assert attrs["time_coverage_start"] == "2024-01-01" and attrs["time_coverage_end"] == "2060-12-31"
    assert 114 < attrs["geospatial_lon_min"] < attrs["geospatial_lon_max"] < 124


def test_the_checker_reports_a_broken_cube(cube, tmp_path):
    """The same checks fail on a copy whose grid mapping and units are broken."""
    broken = tmp_path / "broken.nc"
    broken.write_bytes(cube.read_bytes())
    with netCDF4.Dataset(broken, "a") as nc:
        nc["emission"].units = "tonnes of CO2 per cell"
        nc["emission"].grid_mapping = "nowhere"
    results, _ = run_checks(broken, ["cf:1.8"])["cf:1.8"]
    found = " ".join(" ".join(msgs) for _, _, msgs in failures(results))
    assert "nowhere" in found and "units" in found
