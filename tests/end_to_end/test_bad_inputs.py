"""Catalogue of bad inputs: every case through the Python API and through the command line.

Each case writes one corrupted file next to valid ones (small factories below) and states
what the user must be told: the exception class, the file, the record or key, and a hint.
API checks call the readers directly. CLI checks run ``gridcarbon validate`` (no model run)
with several bad files per scenario, so they also check that ``validate`` reports every
problem of a scenario at once: every case through the command in-process (typer's runner),
a subset as separate ``python -m gridcarbon.cli`` processes. ``run`` and ``allocate`` are
checked as processes for the one-line ``error:`` contract where the model is involved.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.shutil
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, box

from gridcarbon.config import load_scenario, validate_scenario
from gridcarbon.core.errors import (
    CRSError,
    GeometryError,
    InfeasibleAllocationError,
    InputError,
    RasterInputError,
    ScenarioError,
    SchemaError,
)
from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import read_sources
from gridcarbon.inventory.base import regrid_raster
from gridcarbon.testing import yrd_grid

RES = 10_000  # the resolution `gridcarbon validate` checks rasters at (built-in scenarios)


@pytest.fixture(scope="module")
def regions():
    return load_regions("yrd")


@pytest.fixture(scope="module")
def grid():
    return yrd_grid(RES)


# ------------------------------------------------------------------ valid base data + factories
COLUMNS = ["id", "sector", "emission_t", "lon", "lat"]
POINTS = [  # city centres of the four YRD provinces
    {"id": "p1", "sector": "power", "emission_t": 1000.0, "lon": 121.47, "lat": 31.23},  # Shanghai
    {"id": "p2", "sector": "steel", "emission_t": 2000.0, "lon": 118.80, "lat": 32.06},  # Nanjing
    {"id": "p3", "sector": "forest_sink", "emission_t": -50.0, "lon": 120.15, "lat": 30.27},  # Hangzhou
    {"id": "p4", "sector": "cement", "emission_t": 300.0, "lon": 117.27, "lat": 31.86},  # Hefei
]
LINES = [("l1", "transport_road", 500.0, LineString([(118.80, 32.06), (120.30, 31.57), (121.47, 31.23)])),
         ("l2", "transport_other", 200.0, LineString([(117.27, 31.86), (118.80, 32.06)]))]
AREAS = [("a1", "buildings", 100.0, box(119.0, 31.0, 119.4, 31.4)),
         ("a2", "agriculture", 50.0, box(120.0, 30.5, 120.3, 30.8))]
BOWTIE = Polygon([(119.0, 31.0), (119.5, 31.5), (119.5, 31.0), (119.0, 31.5)])


def points_csv(edit: Callable[[list[dict]], None] | None = None, *, columns=COLUMNS, rows_text: str = ""):
    """Factory: a points CSV (WGS84 lon/lat), ``edit`` changes the rows before writing."""
    def make(path: Path) -> Path:
        rows = [dict(r) for r in POINTS]
        if edit:
            edit(rows)
        lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
        path.write_text("\n".join(lines) + "\n" + rows_text, encoding="utf-8")
        return path
    return make


def setting(row: int, **values):
    def edit(rows):
        rows[row].update(values)
    return edit


def raw_bytes(data: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return make


def vector(records, *, crs="EPSG:4326", geometry: dict[int, object] | None = None):
    """Factory: a GeoPackage of (id, sector, emission_t, geometry) records; ``geometry`` replaces some."""
    def make(path: Path) -> Path:
        geoms = [g for *_, g in records]
        for i, g in (geometry or {}).items():
            geoms[i] = g
        frame = gpd.GeoDataFrame({"id": [r[0] for r in records], "sector": [r[1] for r in records],
                                  "emission_t": [r[2] for r in records]}, geometry=geoms, crs=crs)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)  # on purpose
            frame.to_file(path, driver="GPKG")
        return path
    return make


def raster(*, data=None, crs="EPSG:4326", description="power", transform=None, truncate=False):
    """Factory: a one-band GeoTIFF of t CO2/yr per pixel over 119-120E, 31-32N (west of Lake Tai)."""
    def make(path: Path) -> Path:
        values = np.ones((1, 20, 20)) if data is None else data
        profile = dict(driver="GTiff", width=values.shape[2], height=values.shape[1], count=values.shape[0],
                       dtype="float64", transform=transform or from_origin(119.0, 32.0, 0.05, 0.05))
        if crs:
            profile["crs"] = crs
        plain = path.with_name(path.stem + ".plain.tif") if truncate else path
        with rasterio.open(plain, "w", **profile) as dst:
            dst.write(values)
            dst.set_band_description(1, description)
        if truncate:  # a COG keeps its header first: the file opens, the data is cut
            rasterio.shutil.copy(plain, path, driver="COG")
            plain.unlink()
            data_ = path.read_bytes()
            path.write_bytes(data_[: len(data_) // 2])
        return path
    return make


def beijing_labelled_jiangsu(rows):
    """Rows with a ``region`` column; the Nanjing plant moved to Beijing but still labelled Jiangsu."""
    for row, region in zip(rows, ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"]):
        row["region"] = region
    rows[1].update(lon=116.40, lat=39.90)


def with_nan():
    values = np.ones((1, 20, 20))
    values[0, 3, 4] = np.nan
    return values


# ------------------------------------------------------------------ the catalogue
ANY_TABLE = ("points", "lines", "areas")  # failures found before the geometry type is looked at


@dataclass(frozen=True)
class Case:
    """One bad input file: how to make it and what the user must read."""

    id: str
    kind: str  # points | lines | areas | raster: how the API reads it
    suffix: str
    make: Callable[[Path], Path]
    error: type[InputError]
    record: str | None  # text naming the record (None: the whole file is wrong)
    problem: tuple[str, ...]  # fragments of the problem sentence
    slots: tuple[str, ...] = field(default=())  # scenario inventory keys giving the same report

    @property
    def filename(self) -> str:
        return f"{self.id.replace('_', '-')}{self.suffix}"

    def slots_or_kind(self) -> tuple[str, ...]:
        return self.slots or (self.kind,)


CASES = [
    # -- source tables (CSV)
    Case("missing_column", "points", ".csv", points_csv(columns=["id", "sector", "lon", "lat"]), SchemaError,
         None, ("missing column", "emission_t"), ANY_TABLE),
    Case("non_numeric_emission", "points", ".csv", points_csv(setting(1, emission_t="lots")), SchemaError,
         "record p2", ("emission_t", "not numeric", "lots"), ANY_TABLE),
    Case("nan_emission", "points", ".csv", points_csv(setting(1, emission_t="NaN")), SchemaError,
         "record p2", ("emission_t", "NaN"), ANY_TABLE),
    Case("inf_emission", "points", ".csv", points_csv(setting(1, emission_t="inf")), SchemaError,
         "record p2", ("emission_t", "infinite"), ANY_TABLE),
    Case("blank_emission", "points", ".csv", points_csv(setting(3, emission_t="")), SchemaError,
         "record p4", ("emission_t", "NaN"), ANY_TABLE),
    Case("negative_emission", "points", ".csv", points_csv(setting(1, emission_t=-2000.0)), SchemaError,
         "record p2", ("wrong sign", "steel"), ANY_TABLE),
    Case("positive_sink", "points", ".csv", points_csv(setting(2, emission_t=50.0)), SchemaError,
         "record p3", ("wrong sign", "forest_sink"), ANY_TABLE),
    Case("unknown_sector", "points", ".csv", points_csv(setting(1, sector="steal")), SchemaError,
         "record p2", ("unknown sector", "steal"), ANY_TABLE),
    Case("indirect_sector", "points", ".csv", points_csv(setting(0, sector="indirect")), SchemaError,
         "record p1", ("unknown sector", "indirect"), ANY_TABLE),
    Case("duplicate_ids", "points", ".csv", points_csv(setting(3, id="p2")), SchemaError,
         "record p2", ("duplicate id",), ANY_TABLE),
    Case("empty_id", "points", ".csv", points_csv(setting(2, id="")), SchemaError,
         "record row 3", ("empty id",), ANY_TABLE),
    Case("blank_id", "points", ".csv", points_csv(setting(1, id="   ")), SchemaError,
         "record row 2", ("empty id",), ANY_TABLE),
    Case("swapped_lonlat", "points", ".csv", points_csv(setting(1, lon=32.06, lat=118.80)), GeometryError,
         "record p2", ("out of range", "swapped"), ANY_TABLE),
    Case("latitude_out_of_range", "points", ".csv", points_csv(setting(3, lat=95.0)),
         GeometryError, "record p4", ("out of range", "WGS84"), ANY_TABLE),
    Case("non_numeric_lon", "points", ".csv", points_csv(setting(0, lon="121.47E")), SchemaError,
         "record p1", ("lon", "not numeric", "121.47E"), ANY_TABLE),
    Case("missing_lat", "points", ".csv", points_csv(setting(1, lat="")), GeometryError,
         "record p2", ("lon/lat", "missing"), ANY_TABLE),
    Case("outside_regions_beijing", "points", ".csv", points_csv(setting(1, lon=116.40, lat=39.90)),
         GeometryError, "record p2", ("outside every region",)),
    Case("region_column_far_away", "points", ".csv", points_csv(beijing_labelled_jiangsu, columns=COLUMNS + ["region"]),
         GeometryError, "record p2", ("outside every region",)),
    Case("unknown_region", "points", ".csv",
         points_csv(lambda rows: [r.update(region="Beijing") for r in rows], columns=COLUMNS + ["region"]),
         SchemaError, "record p1", ("unknown region", "Beijing")),
    Case("header_only", "points", ".csv", raw_bytes(b"id,sector,emission_t,lon,lat\n"), SchemaError,
         None, ("no records",), ANY_TABLE),
    Case("zero_bytes", "points", ".csv", raw_bytes(b""), SchemaError, None, ("empty",), ANY_TABLE),
    Case("latin1_csv", "points", ".csv",
         raw_bytes("id,sector,emission_t,lon,lat\nusine-caf\u00e9,power,10,121.47,31.23\n".encode("latin-1")),
         InputError, "record line 2", ("not UTF-8",), ANY_TABLE),
    Case("extra_field", "points", ".csv", points_csv(rows_text="p9,power,1,121.0,31.0,surplus\n"),
         InputError, "line 6", ("Expected 5 fields",), ANY_TABLE),
    Case("extra_field_first_row", "points", ".csv",
         raw_bytes(b"id,sector,emission_t,lon,lat\np1,power,1,121.47,31.23,surplus\n"),
         SchemaError, "record row 1", ("more fields than the header",), ANY_TABLE),
    # -- source tables (GeoPackage and other formats)
    Case("bowtie_polygon", "areas", ".gpkg", vector(AREAS, geometry={1: BOWTIE}), GeometryError,
         "record a2", ("invalid geometry", "Self-intersection")),
    Case("empty_geometry", "lines", ".gpkg", vector(LINES, geometry={1: LineString()}), GeometryError,
         "record l2", ("empty or missing geometry",)),
    Case("point_in_lines", "lines", ".gpkg", vector(LINES, geometry={0: Point(120.0, 31.0)}), GeometryError,
         "record l1", ("Point geometry in a lines table",)),
    Case("layer_without_crs", "lines", ".gpkg", vector(LINES, crs=None), CRSError, None, ("no CRS",),
         ANY_TABLE),
    Case("local_crs_far_away", "lines", ".gpkg",
         vector([(i, s, e, LineString([(0.0, 0.0), (1000.0, 1000.0)])) for i, s, e, _ in LINES], crs="EPSG:32650"),
         GeometryError, "record l1", ("outside every region",)),
    Case("corrupt_gpkg", "lines", ".gpkg", raw_bytes(np.random.default_rng(1).bytes(4096)), InputError,
         None, ("cannot be read",), ANY_TABLE),
    Case("xlsx_table", "points", ".xlsx", raw_bytes(b"PK\x03\x04 not a table gridcarbon reads"), InputError,
         None, ("unsupported format", ".xlsx"), ANY_TABLE),
    # -- rasters
    Case("corrupt_raster", "raster", ".tif", raw_bytes(np.random.default_rng(2).bytes(4096)), RasterInputError,
         None, ("cannot be read as a raster",)),
    Case("truncated_raster", "raster", ".tif", raster(truncate=True), RasterInputError, None,
         ("cannot be read",)),
    Case("raster_without_crs", "raster", ".tif", raster(crs=None), RasterInputError, None, ("no CRS",)),
    Case("raster_band_foo", "raster", ".tif", raster(description="foo"), RasterInputError, "record band 1",
         ("not a gridded sector", "'foo'")),
    Case("raster_nan", "raster", ".tif", raster(data=with_nan()), RasterInputError, "record band 1",
         ("NaN",)),
    Case("raster_outside_regions", "raster", ".tif",
         raster(crs="EPSG:32650", transform=from_origin(0.0, 2000.0, 100.0, 100.0)), RasterInputError, None,
         ("outside every region",)),
]
assert len({c.id for c in CASES}) == len(CASES)


def api_error(case: Case, path: Path, kind: str, regions, grid, *, crs=CHINA_ALBERS) -> InputError:
    """The error the Python API raises for ``case`` read as ``kind``."""
    with pytest.raises(InputError) as info:
        if kind == "raster":
            regrid_raster(path, grid)
        else:
            read_sources(path, kind, regions, crs=crs)
    return info.value


# ------------------------------------------------------------------ API
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_api_names_file_record_and_fix(case, tmp_path, regions, grid):
    path = case.make(tmp_path / case.filename)
    err = api_error(case, path, case.kind, regions, grid)
    assert type(err) is case.error, f"{type(err).__name__}: {err}"
    message = str(err)
    assert "\n" not in message
    assert case.filename in message and case.filename in str(err.source)
    if case.record is not None:
        assert case.record in message
    for fragment in case.problem:
        assert fragment in message, (fragment, message)
    assert err.hint, f"no hint telling what to do: {message}"
    assert err.exit_code == 2


def test_api_missing_file_names_the_path(tmp_path, regions):
    with pytest.raises(InputError, match="file not found") as info:
        read_sources(tmp_path / "plants.csv", "points", regions, crs=CHINA_ALBERS)
    assert "plants.csv" in str(info.value) and info.value.hint


def test_api_raster_band_count_differs_from_sectors(tmp_path, grid):
    path = raster()(tmp_path / "two.tif")
    with pytest.raises(RasterInputError, match="1 bands but 2 sectors") as info:
        regrid_raster(path, grid, band_sectors=["power", "steel"])
    assert "two.tif" in str(info.value) and info.value.hint


@pytest.mark.parametrize("kind", ["points", "lines", "areas", "raster"])
def test_valid_base_files_pass(kind, tmp_path, regions, grid):
    """The factories' base files are valid: every case above fails because of its one change."""
    if kind == "raster":
        layers = regrid_raster(raster()(tmp_path / "ok.tif"), grid)
        assert layers.sum() == pytest.approx(400.0, rel=1e-9)  # 20 x 20 pixels of 1 t, all inside the YRD
        return
    make = {"points": points_csv(), "lines": vector(LINES), "areas": vector(AREAS)}[kind]
    frame = read_sources(make(tmp_path / f"ok.{'csv' if kind == 'points' else 'gpkg'}"), kind, regions,
                         crs=CHINA_ALBERS)
    expected = {"points": POINTS, "lines": LINES, "areas": AREAS}[kind]
    assert len(frame) == len(expected)
    if kind == "points":
        assert dict(zip(frame.id, frame.region)) == {"p1": "Shanghai", "p2": "Jiangsu", "p3": "Zhejiang",
                                                     "p4": "Anhui"}


def test_utf8_with_bom_is_accepted(tmp_path, regions):
    path = tmp_path / "bom.csv"
    points_csv()(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert list(read_sources(path, "points", regions, crs=CHINA_ALBERS).id) == ["p1", "p2", "p3", "p4"]


def test_national_raster_keeps_only_the_study_area(tmp_path, grid):
    """A raster of all China on the YRD grid must not pile the nation's emissions into the YRD."""
    path = raster(data=np.ones((1, 40, 60)), transform=from_origin(95.0, 50.0, 1.0, 1.0))(tmp_path / "china.tif")
    layers = regrid_raster(path, grid)
    assert 20 < layers.sum() < 120  # YRD ~35 square degrees plus boundary pixels, of 2400 pixels


# ------------------------------------------------------------------ scenario files (API)
@dataclass(frozen=True)
class ScenarioCase:
    id: str
    text: str
    key: str | None  # key path the report names (None: the whole file)
    problem: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)


SCENARIO_CASES = [
    ScenarioCase("unknown_key", "seeed: 3\n", "seeed", ("unknown key", "did you mean 'seed'")),
    ScenarioCase("wrong_type", "resolution: fine\n", "resolution", ("valid number", "'fine'")),
    ScenarioCase("years_unordered", "years: [2035, 2030]\n", "years", ("sorted",)),
    ScenarioCase("weights_not_one", "principles: {grandfather: 0.5, per_capita: 0.2, ability_to_pay: 0.2,"
                 " efficiency: 0.2}\n", "principles", ("sum to 1", "1.1")),
    ScenarioCase("missing_file", "inventory: {points: plants.csv}\n", "inventory.points", ("file not found",)),
    ScenarioCase("traversal", "inventory: {points: ../../etc/passwd}\n", "inventory.points",
                 ("escapes the scenario's folder",)),
    ScenarioCase("absolute_system_path", "inventory: {raster: /etc/passwd}\n", "inventory.raster",
                 ("system location",)),
    ScenarioCase("malformed_yaml", "years: [2030, 2035\nseed: 1\n", None, ("YAML syntax error", "line 3")),
    ScenarioCase("evil_name", "name: ../evil\n", "name", ("should match pattern",)),
    ScenarioCase("unknown_extends", "extends: yrd-enhancd\n", "extends", ("unknown scenario", "yrd-enhanced")),
    ScenarioCase("columns_not_mapping", "inventory: {points: p.csv, columns: [lng, lon]}\n",
                 "inventory.columns", ("valid dictionary",), {"p.csv": b"id\n"}),
]


def write_scenario(folder: Path, case: ScenarioCase) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    path = folder / f"{case.id.replace('_', '-')}.yaml"
    head = "" if case.id == "unknown_extends" else "extends: yrd-enhanced\n"
    path.write_text(head + case.text)
    return path


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda c: c.id)
def test_api_scenario_error_names_file_and_key(case, tmp_path):
    path = write_scenario(tmp_path / "deep" / "er", case)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.source == path.name and err.record == case.key, str(err)
    for fragment in case.problem:
        assert fragment in str(err), (fragment, str(err))
    # `validate` reports the same single problem as ``file: key: problem``
    assert validate_scenario(path) == [": ".join(p for p in (path.name, case.key, err.problem) if p)]


def test_api_scenario_reports_every_problem(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("extends: yrd-enhanced\nseeed: 3\nyears: [2035, 2030]\n")
    problems = validate_scenario(path)
    assert len(problems) == 2
    assert any("seeed" in p for p in problems) and any("years" in p and "sorted" in p for p in problems)
    with pytest.raises(ScenarioError, match="1 more problem"):
        load_scenario(path)


# ------------------------------------------------------------------ infeasible targets (API)
INFEASIBLE = """\
extends: yrd-enhanced
removals:
  capacity:
    Shanghai: {forest_sink: 0.001, beccs: 0}
    Jiangsu: {forest_sink: 0.001, beccs: 0}
    Zhejiang: {forest_sink: 0.001, beccs: 0}
    Anhui: {forest_sink: 0.001, beccs: 0}
"""


def test_api_infeasible_removals_are_named(tmp_path):
    from allocation.allocation_fixtures import (
        regional_baseline_from_calibration,
        yrd_drivers,
    )

    from gridcarbon.allocation import allocate

    path = tmp_path / "tiny-sinks.yaml"
    path.write_text(INFEASIBLE)
    with pytest.raises(InfeasibleAllocationError) as info:
        allocate(load_scenario(path), regional_baseline_from_calibration(), yrd_drivers())
    err = info.value
    assert err.exit_code == 2 and "tiny-sinks.yaml" in str(err)
    assert any("removals" in c for c in err.conflicts), err.conflicts
    assert "0.004 Mt" in str(err)  # 4 x 0.001 Mt: the capacity the scenario set


# ------------------------------------------------------------------ the command line
# Every case goes through the real command (`gridcarbon.cli.app`, typer's runner: argument
# parsing, error formatting, exit codes) in this process; a subset also runs as separate
# processes (`python -m gridcarbon.cli`), which checks the process boundary: exit status and
# what reaches stdout/stderr. Each CLI process pays ~5 s of imports (`validate` imports the
# whole model through gridcarbon.job), so not every case gets its own process.
def pack(cases: list[Case]) -> list[dict[str, Case]]:
    """Cases into scenarios: one bad file per inventory key, fewest scenarios (greedy)."""
    scenarios: list[dict[str, Case]] = []
    for case in sorted(cases, key=lambda c: len(c.slots_or_kind())):
        for sc in scenarios:
            free = [s for s in case.slots_or_kind() if s not in sc]
            if free:
                sc[free[0]] = case
                break
        else:
            scenarios.append({case.slots_or_kind()[0]: case})
    return scenarios


PACKED = pack(CASES)
FULL = next(n for n, sc in enumerate(PACKED) if len(sc) == 4)  # the scenario also run as a process
ENV = {k: v for k, v in os.environ.items() if k != "GRIDCARBON_DEBUG"}


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        """Every non-empty output line (problems of `validate` go to stdout, errors to stderr)."""
        return [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]


def in_process(*args: str) -> Outcome:
    from typer.testing import CliRunner

    from gridcarbon.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return Outcome(result.exit_code, result.stdout, result.stderr)


def in_subprocess(*args: str, cwd: Path) -> Outcome:
    proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=600)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def packed_scenario(root: Path, n: int) -> Path:
    folder = root / f"inv{n}"
    folder.mkdir(exist_ok=True)
    inventory = {slot: case.make(folder / case.filename).name for slot, case in PACKED[n].items()}
    body = "\n".join(f"  {slot}: {name}" for slot, name in inventory.items())
    path = folder / "scenario.yaml"
    path.write_text(f"extends: yrd-enhanced\ninventory:\n{body}\n")
    return path


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """The CLI runs done as separate processes, started together (they mostly wait on imports)."""
    root = tmp_path_factory.mktemp("cli-processes")
    jobs: dict[str, tuple[tuple[str, ...], Path]] = {}
    path = packed_scenario(root, FULL)
    jobs["validate_files"] = (("validate", path.name), path.parent)
    malformed = next(c for c in SCENARIO_CASES if c.id == "malformed_yaml")
    path = write_scenario(root / "malformed", malformed)
    jobs["validate_yaml"] = (("validate", path.name), path.parent)
    bad = root / "run-bad"
    bad.mkdir()
    points_csv(setting(1, id="p1"))(bad / "plants.csv")
    (bad / "user.yaml").write_text("extends: yrd-enhanced\ninventory: {points: plants.csv}\n")
    jobs["run_bad_table"] = (("run", "user.yaml", "--out", str(bad / "out"), "--quiet"), bad)
    inf = root / "infeasible"
    inf.mkdir()
    (inf / "tiny-sinks.yaml").write_text(INFEASIBLE)
    jobs["allocate_infeasible"] = (("allocate", "tiny-sinks.yaml"), inf)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(in_subprocess, *args, cwd=cwd) for name, (args, cwd) in jobs.items()}
        return root, {name: fut.result() for name, fut in futures.items()}


def check_packed_report(out: Outcome, n: int, folder: Path, regions, grid) -> None:
    slots, lines = PACKED[n], out.lines()
    assert out.code == 2, lines
    assert len(lines) == len(slots), lines  # every problem at once, one line each, nothing else
    for slot, case in slots.items():
        mine = [line for line in lines if case.filename in line]
        assert len(mine) == 1, (case.id, lines)
        line = mine[0]
        if case.record is not None:
            assert case.record in line, (case.id, line)
        for fragment in case.problem:
            assert fragment in line, (case.id, fragment, line)
        # what `validate` prints is what the API raises (file, record, problem and hint)
        err = api_error(case, folder / case.filename, slot, regions, grid, crs="EPSG:4326")
        assert str(err) in line and err.hint in line


@pytest.mark.parametrize("n", range(len(PACKED)), ids=lambda n: "+".join(c.id for c in PACKED[n].values()))
def test_cli_validate_reports_every_bad_file(n, tmp_path, regions, grid):
    path = packed_scenario(tmp_path, n)
    check_packed_report(in_process("validate", path), n, path.parent, regions, grid)


def test_cli_process_validate_reports_every_bad_file(processes, regions, grid):
    root, results = processes
    out = results["validate_files"]
    check_packed_report(out, FULL, root / f"inv{FULL}", regions, grid)
    assert out.stderr == ""  # the report is the command's output


def test_every_case_reaches_the_cli():
    assert sorted(c.id for sc in PACKED for c in sc.values()) == sorted(c.id for c in CASES)
    assert len(PACKED[FULL]) == 4  # points, lines, areas and raster wrong at once


def check_scenario_report(out: Outcome, case: ScenarioCase) -> None:
    lines = out.lines()
    assert out.code == 2 and len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(f"{case.id.replace('_', '-')}.yaml: ")
    if case.key:
        assert f": {case.key}: " in line
    for fragment in case.problem:
        assert fragment in line


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda c: c.id)
def test_cli_validate_scenario_error(case, tmp_path):
    check_scenario_report(in_process("validate", write_scenario(tmp_path, case)), case)


def test_cli_process_validate_scenario_error(processes):
    out = processes[1]["validate_yaml"]
    check_scenario_report(out, next(c for c in SCENARIO_CASES if c.id == "malformed_yaml"))
    assert "Traceback" not in out.stdout + out.stderr


def test_cli_validate_two_problems_two_lines(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("extends: yrd-enhanced\nseeed: 3\nyears: [2035, 2030]\n")
    out = in_process("validate", path)
    lines = out.lines()
    assert out.code == 2 and len(lines) == 2, lines
    assert all(line.startswith("two.yaml: ") for line in lines)


def test_cli_validate_accepts_the_valid_files(tmp_path):
    points_csv()(tmp_path / "plants.csv")
    vector(LINES)(tmp_path / "roads.gpkg")
    vector(AREAS)(tmp_path / "areas.gpkg")
    raster()(tmp_path / "chred.tif")
    path = tmp_path / "ok.yaml"
    path.write_text("extends: yrd-enhanced\ninventory: {points: plants.csv, lines: roads.gpkg,"
                    " areas: areas.gpkg, raster: chred.tif}\n")
    out = in_process("validate", path)
    assert out.code == 0, out.lines()
    assert out.lines() == [f"{path}: ok"]


def one_error_line(out: Outcome) -> str:
    assert out.code == 2, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


def test_cli_run_bad_table_is_one_line(processes):
    root, results = processes
    line = one_error_line(results["run_bad_table"])
    assert "plants.csv" in line and "record p1" in line and "duplicate id" in line and "unique" in line
    assert not (root / "run-bad" / "out" / "user").exists()


def test_cli_allocate_infeasible_names_removals(processes):
    out = processes[1]["allocate_infeasible"]
    line = one_error_line(out)
    assert "tiny-sinks.yaml" in line and "infeasible" in line and "removals" in line
    assert "raise removal capacities" in line  # what to do
    assert out.stdout == ""


def test_catalogue_size():
    assert len(CASES) + len(SCENARIO_CASES) + 1 >= 30  # + the infeasible pathway
