"""Cities and corridors of the default run: how far area and line sources move, and where road CO2 stays.

For a finished ``yrd-enhanced`` run folder (default: run it into a temporary folder), prints

- the pattern correlation (Pearson, every cell) of 2035 and 2060 with 2024 for buildings,
  other industry, road and other transport;
- the share of road CO2 in the corridor cells: cells where the base-year corridors carry more
  than half of the cell's road CO2 (608 of 3,598 YRD cells at 10 km);
- the share of buildings CO2 in the urban-core cells (built-up >= the scenario's
  ``urban_core_threshold`` in 2024), which lose occupants to the new districts;
- the share of buildings and other-industry CO2 in cells not built up in 2024 (built-up
  fraction < 0.1; the rural-settlement floor of the landscape is ~0.04) and in the cells the
  urban CA grew by at least 0.05 (built-up from the run's own land steps, same seed).

    python benchmarks/exp_cities_corridors.py [RUN_DIR]
"""
from __future__ import annotations

import sys
import tempfile

import numpy as np

import gridcarbon
from gridcarbon.evolution.land import land_steps
from gridcarbon.job import prepare

#: built-up fraction (0..1) below which a cell counts as not built up
UNBUILT = 0.1
#: built-up gain (fraction) that marks a cell the urban CA grew
GROWN = 0.05


def main(folder: str | None = None) -> None:
    run = gridcarbon.load_run(folder) if folder else gridcarbon.run("yrd-enhanced", out=tempfile.mkdtemp())
    ctx = prepare(run.scenario).context
    grid, inv = ctx.grid, ctx.inv
    zero = np.zeros((len(ctx.years), 12, len(grid.regions)))  # the CA does not read the totals
    built = {y: b.copy() for _, y, _, b, _ in land_steps(ctx, zero) if y in (2024, 2035, 2060)}
    em = run.emissions["emission"]

    def layer(s, y):
        return em.sel(sector=s, year=y).values.astype(float)

    print("built-up 2060 / 2024 per region:", (grid.region_sums(built[2060]) / grid.region_sums(built[2024])).round(3))
    for s in ("buildings", "other_industry", "transport_road", "transport_other"):
        r = {y: round(float(np.corrcoef(layer(s, 2024).ravel(), layer(s, y).ravel())[0, 1]), 4) for y in (2035, 2060)}
        print(f"r with 2024, {s}: {r}")
    road_lines = inv.lines.sector.eq("transport_road").to_numpy()
    corridor = inv.line_coverage.spread(np.where(road_lines, inv.lines.emission_t.to_numpy(), 0.0), grid)[0]
    cells = grid.inside & (corridor > 0.5 * inv.layer("transport_road"))
    share = {y: round(float(layer("transport_road", y)[cells].sum() / layer("transport_road", y).sum()), 3)
             for y in (2024, 2030, 2035, 2060)}
    print(f"road CO2 share in the {int(cells.sum())} corridor cells: {share}")
    core = grid.inside & (built[2024] >= run.scenario.evolution.urban_core_threshold)
    print(f"buildings CO2 share in the {int(core.sum())} urban-core cells: "
          f"{ {y: round(float(layer('buildings', y)[core].sum() / layer('buildings', y).sum()), 4) for y in (2024, 2035, 2060)} }")
    unbuilt = grid.inside & (built[2024] < UNBUILT)
    for s in ("buildings", "other_industry"):
        for y in (2035, 2060):
            grown = grid.inside & (built[y] - built[2024] >= GROWN)
            print(f"{s} {y}: share in cells not built up in 2024 "
                  f"{layer(s, y)[unbuilt].sum() / layer(s, y).sum():.4f} (2024: "
                  f"{layer(s, 2024)[unbuilt].sum() / layer(s, 2024).sum():.4f}); in the {int(grown.sum())} cells "
                  f"the CA grew {layer(s, y)[grown].sum() / layer(s, y).sum():.4f} (2024: "
                  f"{layer(s, 2024)[grown].sum() / layer(s, 2024).sum():.4f})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
