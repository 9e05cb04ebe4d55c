"""Differences between finished runs: a table and per-year difference rasters and maps.

Each run is compared with the first (the reference): ``comparison.csv`` holds region,
sector, year and the gridded totals of every run plus their differences (t CO2/yr);
``<year>/<run>_minus_<ref>.tif`` and ``maps/<run>_minus_<ref>_<year>.png`` show where the
gross totals differ cell by cell.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gridcarbon.core.errors import InputError
from gridcarbon.output import maps
from gridcarbon.output.atomic import atomic_dir
from gridcarbon.output.layers import write_styled_cog

if TYPE_CHECKING:  # results are made above this layer; comparing only reads them
    from gridcarbon.result import RunResult


def compare_runs(runs: Sequence[RunResult], out: Path) -> Path:
    """Write the comparison of finished ``runs`` (e.g. :func:`~gridcarbon.load_run` of run
    folders; the first is the reference) to ``out`` atomically."""
    if len(runs) < 2:
        raise InputError("compare needs at least two run folders")
    ref = runs[0]
    names = [f"{r.scenario.name}" if list(map(lambda x: x.scenario.name, runs)).count(r.scenario.name) == 1
             else Path(r.out_dir).parent.name + "-" + r.scenario.name for r in runs]
    # the same folder given twice (or two same-named runs under same-named parents): number them
    names = [f"{n}-{i + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)]
    for r, name in zip(runs[1:], names[1:]):
        if r.grid.shape != ref.grid.shape or r.grid.bounds != ref.grid.bounds:
            raise InputError(f"{name} is on a different grid than {names[0]}", source=str(r.out_dir),
                             hint="compare runs of the same region set and resolution")
    key = ["region", "sector", "year"]
    table = None
    for r, name in zip(runs, names):
        part = r.totals[key + ["gridded_t"]].rename(columns={"gridded_t": f"{name}_t"})
        table = part if table is None else table.merge(part, on=key, how="outer")
    for name in names[1:]:
        table[f"{name}_minus_{names[0]}_t"] = table[f"{name}_t"] - table[f"{names[0]}_t"]
    years = sorted(set(ref.emissions.year.values.tolist()).intersection(
        *[set(r.emissions.year.values.tolist()) for r in runs[1:]]))
    exported = [y for y in years if (Path(ref.out_dir) / str(y)).is_dir()]
    outlines = maps.outline_path(ref.boundaries, ref.grid)
    with atomic_dir(out) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False, float_format="%.3f")
        for r, name in zip(runs[1:], names[1:]):
            for year in exported:
                diff = r.total(year).values - ref.total(year).values
                label = f"{name}_minus_{names[0]}"
                write_styled_cog(tmp / str(year) / f"{label}.tif", diff, ref.grid, kind="diverging", label=label,
                                 description=f"Gross emissions {year}: {name} - {names[0]}, t CO2/yr/cell",
                                 tags={"year": year, "run": name, "reference": names[0]})
                maps.render_change(tmp / "maps" / f"{label}_{year}.png", ref.total(year).values,
                                   r.total(year).values, ref.grid, outlines=outlines,
                                   title=f"{name} - {names[0]}, gross CO2 {year}")
    return out
