"""Gridding benchmark: gridcarbon's exact kernels against the usual reference tools.

Same synthetic inputs, same run, on the YRD grid at 10 km and 1 km:

* 100 000 points, clustered around real YRD city centres;
* 20 000 lines of 10 vertices (random walks of 0.3-2.5 km steps, like road links);
* 2 000 polygons (star-shaped, median radius 3 km, 0.5-15 km).

Every source carries a log-normal emission (t CO2/yr). Methods, each producing a
(y, x) raster of t CO2/yr/cell:

``gridcarbon``
    public API: ``point/line/polygon_coverage`` + ``Coverage.spread`` (shapely
    coordinate extraction, numba kernel, re-homing of pieces that land outside every
    region, accumulation). Sources have no region of their own (``region_pos`` -1), as
    lines and polygons in ``inventory.grid_frame``.
``gridcarbon_kernel``
    the numba kernels + ``kernels.accumulate`` alone, on coordinates already in cell
    units (no re-homing): the cost of the exact geometry itself.
``rasterize``
    ``rasterio.features.rasterize``: points burnt with ``merge_alg=add``; lines burnt
    per feature with ``all_touched=True`` and the value divided equally among the
    touched cells; polygons burnt per feature (cells whose centre is inside) with the
    value divided equally among them. A per-feature loop, because only it tells how
    many cells each feature touched. Not exact: a line's cells get equal shares whatever
    length falls in them, and a polygon smaller than a cell can hold no cell centre and
    is lost.
``rasterize_single_call``
    one ``rasterize`` call burning each feature's full value into every cell it touches
    (``merge_alg=add``): the speed floor of rasterize; it does not conserve mass.
``exactextract``
    ``exactextract.exact_extract(..., ["cell_id", "coverage"])``: exact cell coverage
    (area fractions for polygons, lengths for lines), shares = coverage / its sum per
    feature. The exact reference for polygons (and lines).
``emiproc``
    ``emiproc.regrid.calculate_weights_mapping(..., loop_over_inv_objects=True)`` +
    ``weights_remap`` against the grid's cells as shapely boxes (built once, untimed),
    for points and polygons, when emiproc is installed (it is not a dependency).

Figures: seconds = best of 3 after one warm-up (which compiles the numba kernels),
wall and CPU (a reference taking more than 30 s a run is run fewer times, and emiproc,
having nothing to compile, gets no warm-up: ``runs`` and ``warmup`` say); ratio = gridcarbon / reference (wall, best); 1-minute load average before
and after each timing. Accuracy: mass conservation error |sum(grid) - sum(values)| /
sum(values) of each method on all inputs; and, on a 200-feature sample of lines and of
polygons, the *misplaced fraction* of each method: half the L1 distance between the
method's per-cell shares of a feature and the true length / area shares computed with
shapely (feature intersected with every cell of its bounding box), mean and max over
the sample. For points, the L1 distance of each raster from gridcarbon's.

Run: ``python benchmarks/bench_gridding.py [--size full|tiny] [--no-emiproc]``;
results in ``benchmarks/results/bench_gridding.json``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features
from rasterio.enums import MergeAlg

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import (  # noqa: E402
    RESULTS_DIR,
    best_of,
    clustered_xy,
    emissions,
    inner_bbox,
    load_1min,
    machine,
    ratio,
    write_record,
    yrd_grid,
)

from gridcarbon.core import kernels  # noqa: E402
from gridcarbon.core.gridding import line_coverage, point_coverage, polygon_coverage  # noqa: E402

RESULTS = RESULTS_DIR / "bench_gridding.json"
SIZES = {
    "full": {"points": 100_000, "lines": 20_000, "vertices": 10, "polygons": 2_000, "sample": 200,
             "res_m": [10_000.0, 1_000.0], "repeat": 3, "warmup": 1},
    "tiny": {"points": 2_000, "lines": 200, "vertices": 10, "polygons": 40, "sample": 10,
             "res_m": [10_000.0], "repeat": 1, "warmup": 0},
}
SLOW_S = 30.0  # a reference whose warm-up or a timed run takes longer than this is not run again


# ------------------------------------------------------------------ inputs
def make_inputs(spec: dict, seed: int = 0) -> dict[str, tuple[gpd.GeoSeries, np.ndarray]]:
    """Deterministic points, lines and polygons inside the YRD grids (grid CRS, m)."""
    rng = np.random.default_rng(seed)
    grids = [yrd_grid(r) for r in spec["res_m"]]
    crs = grids[0].crs
    bbox = inner_bbox(30_000.0, *grids)  # every feature lies well inside every grid

    pts = clustered_xy(rng, spec["points"], bbox)
    points = gpd.GeoSeries(shapely.points(pts), crs=crs)

    n, k = spec["lines"], spec["vertices"]
    start = clustered_xy(rng, n, inner_bbox(60_000.0, *grids))  # 9 steps <= 22.5 km
    heading = rng.uniform(0, 2 * np.pi, n)[:, None] + np.cumsum(rng.normal(0, 0.35, (n, k - 1)), axis=1)
    step = rng.uniform(300.0, 2_500.0, (n, k - 1))
    xy = np.zeros((n, k, 2))
    xy[:, 1:, 0] = np.cumsum(step * np.cos(heading), axis=1)
    xy[:, 1:, 1] = np.cumsum(step * np.sin(heading), axis=1)
    xy += start[:, None, :]
    lines = gpd.GeoSeries(shapely.linestrings(xy), crs=crs)

    m, nv = spec["polygons"], 12
    centre = clustered_xy(rng, m, inner_bbox(60_000.0, *grids))
    radius = np.clip(rng.lognormal(np.log(3_000.0), 0.6, m), 500.0, 15_000.0)
    angle = np.sort(rng.uniform(0, 2 * np.pi, (m, nv)), axis=1)
    rad = radius[:, None] * rng.uniform(0.6, 1.0, (m, nv))
    ring = np.stack([centre[:, :1] + rad * np.cos(angle), centre[:, 1:] + rad * np.sin(angle)], axis=-1)
    polygons = gpd.GeoSeries(shapely.polygons(shapely.linearrings(ring)), crs=crs)
    polygons = gpd.GeoSeries(shapely.make_valid(polygons.values), crs=crs)  # star rings are simple

    return {"points": (points, emissions(rng, len(points))),
            "lines": (lines, emissions(rng, len(lines))),
            "polygons": (polygons, emissions(rng, len(polygons)))}


# ------------------------------------------------------------------ methods -> pieces
# Every method gives pieces (src, cell, share): feature src puts share of its value in
# flat cell `cell` (row * nx + col). `to_raster` accumulates them.
def to_raster(src, cell, share, values, grid) -> np.ndarray:
    ny, nx = grid.shape
    keep = cell >= 0
    return np.bincount(cell[keep], weights=values[src[keep]] * share[keep], minlength=ny * nx).reshape(ny, nx)


def _normalise(src, amount, n):
    tot = np.bincount(src, weights=amount, minlength=n)
    return amount / np.where(tot[src] > 0, tot[src], 1.0)


def kernel_inputs(kind: str, geoms: gpd.GeoSeries, grid) -> tuple:
    """Coordinates in cell units etc., prepared as gridding.py does (outside the timing)."""
    x0, ytop, res = grid.bounds[0], grid.bounds[3], grid.res
    if kind == "points":
        c = shapely.get_coordinates(geoms.values)
        return ((c[:, 0] - x0) / res, (ytop - c[:, 1]) / res)
    if kind == "lines":
        parts, index = shapely.get_parts(geoms.values, return_index=True)
        coords, vidx = shapely.get_coordinates(parts, return_index=True)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(vidx, minlength=len(parts)))])
        return (np.ascontiguousarray((coords[:, 0] - x0) / res), np.ascontiguousarray((ytop - coords[:, 1]) / res),
                offsets, index)
    polys, pidx = shapely.get_parts(geoms.values, return_index=True)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    first = np.r_[True, ridx[1:] != ridx[:-1]]
    coords, vidx = shapely.get_coordinates(rings, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(vidx, minlength=len(rings)))])
    b = shapely.bounds(rings)
    span = ((np.ceil((b[:, 2] - x0) / res) - np.floor((b[:, 0] - x0) / res))
            * (np.ceil((ytop - b[:, 1]) / res) - np.floor((ytop - b[:, 3]) / res)))
    return (np.ascontiguousarray((coords[:, 0] - x0) / res), np.ascontiguousarray((ytop - coords[:, 1]) / res),
            offsets, pidx[ridx].astype(np.int64), np.where(first, 1.0, -1.0), int(span.sum()) + len(rings))


def kernel_pieces(kind: str, prep: tuple, grid, n: int):
    """gridcarbon's numba kernels alone (no re-homing)."""
    ny, nx = grid.shape
    if kind == "points":
        u, v = prep
        col, row = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
        cell = np.where((row >= 0) & (row < ny) & (col >= 0) & (col < nx), row * nx + col, -1)
        return np.arange(n), cell, np.ones(n)
    if kind == "lines":
        u, v, offsets, index = prep
        src, cell, length, _, _ = kernels.line_pieces(u, v, offsets, ny, nx, grid.res)
        src = index[src]
        return src, cell, _normalise(src, length, n)
    u, v, offsets, ring_src, ring_sign, capacity = prep
    src, cell, area, _, _ = kernels.polygon_pieces(u, v, offsets, ring_src, ring_sign, ny, nx, grid.res, capacity)
    return src, cell, _normalise(src, area, n)


def kernel_raster(kind, prep, values, grid):
    src, cell, share = kernel_pieces(kind, prep, grid, len(values))
    ny, nx = grid.shape
    return kernels.accumulate(np.zeros(src.size, np.int64), cell, values[src] * share, 1, ny * nx).reshape(ny, nx)


def gridcarbon_raster(kind, geoms, values, grid):
    fn = {"points": point_coverage, "lines": line_coverage, "polygons": polygon_coverage}[kind]
    cov = fn(geoms, grid, np.full(len(geoms), -1, np.int64))
    return cov.spread(values, grid)[0]


def _windows(geoms: gpd.GeoSeries, grid):
    """Per-feature pixel window (row0, row1, col0, col1) of its bounding box, clipped to the grid."""
    ny, nx = grid.shape
    x0, ytop, res = grid.bounds[0], grid.bounds[3], grid.res
    b = shapely.bounds(geoms.values)
    c0 = np.clip(np.floor((b[:, 0] - x0) / res), 0, nx).astype(np.int64)
    c1 = np.clip(np.floor((b[:, 2] - x0) / res) + 1, 0, nx).astype(np.int64)
    r0 = np.clip(np.floor((ytop - b[:, 3]) / res), 0, ny).astype(np.int64)
    r1 = np.clip(np.floor((ytop - b[:, 1]) / res) + 1, 0, ny).astype(np.int64)
    return r0, r1, c0, c1


def rasterize_pieces(geoms: gpd.GeoSeries, grid, *, all_touched: bool):
    """Per-feature rasterize of its window; the feature's value split equally over its cells."""
    nx = grid.shape[1]
    x0, ytop, res = grid.bounds[0], grid.bounds[3], grid.res
    r0, r1, c0, c1 = _windows(geoms, grid)
    srcs, cells, shares = [], [], []
    for i, geom in enumerate(geoms.values):
        h, w = r1[i] - r0[i], c1[i] - c0[i]
        if h <= 0 or w <= 0:
            continue
        window = Affine(res, 0.0, x0 + c0[i] * res, 0.0, -res, ytop - r0[i] * res)
        mask = features.rasterize([(geom, 1)], out_shape=(h, w), fill=0, dtype="uint8", all_touched=all_touched,
                                  transform=window)
        rr, cc = np.nonzero(mask)
        if rr.size == 0:  # no cell centre inside: the feature is lost
            continue
        srcs.append(np.full(rr.size, i))
        cells.append((rr + r0[i]) * nx + cc + c0[i])
        shares.append(np.full(rr.size, 1.0 / rr.size))
    if not srcs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(srcs), np.concatenate(cells), np.concatenate(shares)


def rasterize_raster(kind, geoms, values, grid):
    if kind == "points":
        return features.rasterize(zip(geoms.values, values), out_shape=grid.shape, transform=grid.transform,
                                  fill=0.0, dtype="float64", merge_alg=MergeAlg.add)
    src, cell, share = rasterize_pieces(geoms, grid, all_touched=(kind == "lines"))
    return to_raster(src, cell, share, values, grid)


def rasterize_single_call(kind, geoms, values, grid):
    return features.rasterize(zip(geoms.values, values), out_shape=grid.shape, transform=grid.transform,
                              fill=0.0, dtype="float64", merge_alg=MergeAlg.add, all_touched=(kind == "lines"))


def exactextract_available() -> tuple[bool, str]:
    try:
        import exactextract  # noqa: F401
    except ImportError as err:
        return False, f"exactextract is not installed ({err}); pip install exactextract"
    from importlib.metadata import version

    return True, version("exactextract")


def exactextract_pieces(geoms: gpd.GeoSeries, grid):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    rast = NumPyRasterSource(np.zeros(grid.shape, np.float32), *grid.bounds, srs_wkt=grid.crs.to_wkt())
    frame = gpd.GeoDataFrame({"fid": np.arange(len(geoms))}, geometry=geoms.values, crs=geoms.crs)
    df = exact_extract(rast, frame, ["cell_id", "coverage"], include_cols=["fid"], output="pandas")
    lens = df["cell_id"].map(len).to_numpy()
    src = np.repeat(df["fid"].to_numpy(np.int64), lens)
    cell = np.concatenate(df["cell_id"].to_list()).astype(np.int64) if len(df) else np.zeros(0, np.int64)
    cov = np.concatenate(df["coverage"].to_list()).astype(float) if len(df) else np.zeros(0)
    return src, cell, _normalise(src, cov, len(geoms))


def exactextract_raster(kind, geoms, values, grid):
    return to_raster(*exactextract_pieces(geoms, grid), values, grid)


def emiproc_status(enabled: bool) -> dict:
    if not enabled:
        return {"available": False, "reason": "disabled (--no-emiproc or tiny size)"}
    try:
        from emiproc.regrid import calculate_weights_mapping  # noqa: F401
    except ImportError as err:
        return {"available": False,
                "reason": f"emiproc is not installed in this environment ({err}); it is optional: "
                          "pip install emiproc (not a gridcarbon dependency)"}
    except Exception as err:  # broken install: say why rather than fail the benchmark
        return {"available": False, "reason": f"emiproc failed to import: {type(err).__name__}: {err}"}
    from importlib.metadata import version

    return {"available": True, "version": version("emiproc"),
            "api": "emiproc.regrid.calculate_weights_mapping(loop_over_inv_objects=True) + weights_remap"}


def grid_cells(grid) -> gpd.GeoSeries:
    """The grid's cells as shapely boxes, row-major from the top row (emiproc's output shapes)."""
    ny, nx = grid.shape
    col, row = np.meshgrid(np.arange(nx), np.arange(ny))
    x0, ytop, res = grid.bounds[0], grid.bounds[3], grid.res
    boxes = shapely.box(x0 + col * res, ytop - (row + 1) * res, x0 + (col + 1) * res, ytop - row * res)
    return gpd.GeoSeries(boxes.ravel(), crs=grid.crs)


def emiproc_raster(geoms, values, grid, cells):
    from emiproc.regrid import calculate_weights_mapping, weights_remap

    w = calculate_weights_mapping(gpd.GeoSeries(geoms.values, crs=geoms.crs), cells, loop_over_inv_objects=True)
    return weights_remap(w, values, grid.shape)


# ------------------------------------------------------------------ accuracy
def true_pieces(kind: str, geoms: gpd.GeoSeries, grid):
    """Reference shares: each feature intersected with every cell of its window by shapely."""
    nx = grid.shape[1]
    x0, ytop, res = grid.bounds[0], grid.bounds[3], grid.res
    r0, r1, c0, c1 = _windows(geoms, grid)
    measure = shapely.length if kind == "lines" else shapely.area
    srcs, cells, shares = [], [], []
    for i, geom in enumerate(geoms.values):
        rr, cc = np.meshgrid(np.arange(r0[i], r1[i]), np.arange(c0[i], c1[i]), indexing="ij")
        rr, cc = rr.ravel(), cc.ravel()
        boxes = shapely.box(x0 + cc * res, ytop - (rr + 1) * res, x0 + (cc + 1) * res, ytop - rr * res)
        amount = measure(shapely.intersection(geom, boxes))
        keep = amount > 0
        srcs.append(np.full(keep.sum(), i))
        cells.append(rr[keep] * nx + cc[keep])
        shares.append(amount[keep] / measure(geom))
    return np.concatenate(srcs), np.concatenate(cells), np.concatenate(shares)


def misplaced(truth, pieces, n: int) -> np.ndarray:
    """Per feature: half the L1 distance between its true and its method's cell shares."""
    (ts, tc, tw), (ms, mc, mw) = truth, pieces
    src = np.concatenate([ts, ms])
    cell = np.concatenate([tc, mc])
    diff = np.concatenate([tw, -mw])
    stride = int(max(tc.max(initial=0), mc.max(initial=0))) + 2  # cell -1 (off grid) -> 0
    uniq, inv = np.unique(src * stride + (cell + 1), return_inverse=True)
    d = np.bincount(inv, weights=diff)  # true - method share, per (feature, cell)
    return 0.5 * np.bincount(uniq // stride, weights=np.abs(d), minlength=n)


def _summary(err: np.ndarray) -> dict:
    return {"mean": float(f"{err.mean():.3g}"), "max": float(f"{err.max():.3g}")}


def accuracy_sample(kind, geoms, grid, sample: int, seed: int, have_exactextract: bool) -> dict:
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(geoms), size=min(sample, len(geoms)), replace=False))
    sub = gpd.GeoSeries(geoms.values[pick], crs=geoms.crs)
    truth = true_pieces(kind, sub, grid)
    n = len(sub)
    out = {"n_features": n, "metric": "misplaced fraction of a feature's value vs shapely length/area shares",
           "gridcarbon_kernel": _summary(misplaced(truth, kernel_pieces(kind, kernel_inputs(kind, sub, grid), grid, n), n)),
           "rasterize": _summary(misplaced(truth, rasterize_pieces(sub, grid, all_touched=(kind == "lines")), n))}
    if have_exactextract:
        out["exactextract"] = _summary(misplaced(truth, exactextract_pieces(sub, grid), n))
    return out


# ------------------------------------------------------------------ driver
def mass_error(raster: np.ndarray, values: np.ndarray) -> float:
    return float(f"{abs(raster.sum() - values.sum()) / values.sum():.3g}")


def run_case(kind, geoms, values, grid, spec, *, have_ee, emiproc, cells, seed) -> dict:
    rep, warm = spec["repeat"], spec["warmup"]
    methods, rasters = {}, {}

    def timed(name, fn, slow=None, warmup=warm):
        raster, rec = best_of(fn, repeat=rep, warmup=warmup, slow_s=slow)
        rec["mass_error"] = mass_error(raster, values)
        methods[name], rasters[name] = rec, raster

    timed("gridcarbon", lambda: gridcarbon_raster(kind, geoms, values, grid))
    prep = kernel_inputs(kind, geoms, grid)
    timed("gridcarbon_kernel", lambda: kernel_raster(kind, prep, values, grid))
    timed("rasterize", lambda: rasterize_raster(kind, geoms, values, grid), SLOW_S)
    if kind != "points":
        timed("rasterize_single_call", lambda: rasterize_single_call(kind, geoms, values, grid))
        if have_ee:
            timed("exactextract", lambda: exactextract_raster(kind, geoms, values, grid), SLOW_S)
    if emiproc["available"] and kind in ("points", "polygons"):
        # pure Python/pandas/shapely, nothing to compile: no warm-up; one run when slow
        timed("emiproc", lambda: emiproc_raster(geoms, values, grid, cells), SLOW_S, warmup=0)

    gc = methods["gridcarbon"]["best_s"]
    ratios = {f"gridcarbon/{k}": ratio(gc, m["best_s"]) for k, m in methods.items() if k != "gridcarbon"}
    ratios.update({f"gridcarbon_cpu/{k}_cpu": ratio(methods["gridcarbon"]["cpu_best_s"], m["cpu_best_s"])
                   for k, m in methods.items() if k != "gridcarbon"})
    ref = rasters["gridcarbon_kernel"]
    l1 = {k: float(f"{np.abs(r - ref).sum() / values.sum():.3g}") for k, r in rasters.items()}
    case = {"kind": kind, "res_m": grid.res, "grid_shape": list(grid.shape), "n_features": len(geoms),
            "methods": methods, "ratios": ratios, "l1_vs_gridcarbon_kernel": l1,
            "load_1min": load_1min()}
    if kind != "points":
        case["accuracy"] = accuracy_sample(kind, geoms, grid, spec["sample"], seed, have_ee)
    return case


def run(size: str = "full", *, emiproc: bool = True, seed: int = 0, verbose: bool = True) -> dict:
    spec = SIZES[size]
    inputs = make_inputs(spec, seed)
    have_ee, ee_note = exactextract_available()
    em = emiproc_status(emiproc and size != "tiny")
    record = {"benchmark": "gridding", "size": size, "seed": seed, "machine": machine(),
              "inputs": {k: len(g) for k, (g, _) in inputs.items()} | {"line_vertices": spec["vertices"]},
              "timing": f"best of {spec['repeat']} after {spec['warmup']} warm-up, wall and CPU seconds",
              "exactextract": {"available": have_ee, "note": ee_note}, "emiproc": em, "cases": []}
    if verbose:
        print(f"inputs: {record['inputs']}; exactextract: {ee_note}; emiproc: "
              f"{em.get('version') if em['available'] else 'not available: ' + em['reason']}")
    for res in spec["res_m"]:
        grid = yrd_grid(res)
        cells = grid_cells(grid) if em["available"] else None
        for kind, (geoms, values) in inputs.items():
            case = run_case(kind, geoms, values, grid, spec, have_ee=have_ee, emiproc=em, cells=cells, seed=seed)
            record["cases"].append(case)
            if verbose:
                print_case(case)
    record["load_1min_end"] = load_1min()
    return record


def print_case(case: dict) -> None:
    print(f"\n{case['kind']} x {case['n_features']} at {case['res_m'] / 1000:g} km "
          f"(grid {case['grid_shape'][0]}x{case['grid_shape'][1]}):")
    for name, m in case["methods"].items():
        print(f"  {name:22s} best {m['best_s']:9.4f} s  cpu {m['cpu_best_s']:9.4f} s  runs {m['runs']}  "
              f"mass error {m['mass_error']:.3g}  load {m['load_1min'][0]}->{m['load_1min'][1]}")
    for key, value in case["ratios"].items():
        if "_cpu" not in key:
            print(f"  ratio {key:34s} {value}")
    for name, value in case.get("accuracy", {}).items():
        if isinstance(value, dict):
            print(f"  misplaced ({case['accuracy']['n_features']}-feature sample) {name:18s} "
                  f"mean {value['mean']:.3g}  max {value['max']:.3g}")
    print("  L1 vs gridcarbon_kernel raster: " + ", ".join(f"{k} {v:.3g}" for k, v in
                                                          case["l1_vs_gridcarbon_kernel"].items()))


def main(size: str = "full", *, out: Path | None = None, emiproc: bool = True, verbose: bool = True) -> dict:
    """Run the benchmark at ``size`` ("full" or "tiny"), write and return the JSON record."""
    record = run(size, emiproc=emiproc, verbose=verbose)
    path = write_record(record, out or RESULTS)
    if verbose:
        print(f"\nwritten: {path}")
    return record


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--no-emiproc", action="store_true", help="skip emiproc even if installed")
    parser.add_argument("--out", type=Path, default=None, help=f"JSON path (default {RESULTS})")
    args = parser.parse_args()
    main(args.size, out=args.out, emiproc=not args.no_emiproc)


if __name__ == "__main__":
    cli()
