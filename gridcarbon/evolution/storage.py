"""Geological storage sites and their account: every stored tonne has a site, and no site overfills.

Sites: the landscape's storage layer (``storage_mt``, Mt CO2 per cell, Xing et al. 2021's
county storage spread over county land) cut into blocks of :data:`SITE_KM` x
:data:`SITE_KM` per region; a site's capacity is the sum of its cells. Two streams fill them:

- **BECCS** (the allocation's ``beccs`` removal of a region, t CO2/yr): injected into the
  region's sites in proportion to their capacity, the same shape as the ``beccs`` layer
  (storage cells by capacity). The allocation caps a region's yearly BECCS at its storage
  over the run's years (:func:`.land.capacity_table`), so BECCS alone never overfills a site.
- **Fossil capture** (:mod:`.capture`): a CCS plant sends its CO2 to the site of the storage
  cell nearest to it, within ``ccs_reach_km``. Each year it captures only if that site's room
  (capacity less everything injected so far, less the BECCS the allocation will still send
  there in later years) holds its largest possible capture of the year; otherwise capture
  stops at that plant.
- **Power capture** (:mod:`.power_units`: the capture plants of the allocation's power block at
  coal stations): routed (:meth:`Storage.route`) to the sites of the station's region within
  ``ccs_reach_km`` of it, nearest first (pipeline cost grows with distance), each up to its room; what no site
  in reach holds is vented.

Cumulative injection therefore never exceeds a site's capacity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import ndimage

from gridcarbon.core.grid import Grid
from gridcarbon.core.units import T_PER_MT

#: side (km) of the block a storage site covers: ASSUMPTION, ~50 km is the extent of one
#: saline-aquifer storage complex / a county's share of a basin in Xing et al. 2021's
#: county-level assessment, and half the default CO2 pipeline reach
SITE_KM = 50.0


@dataclass(frozen=True)
class Sites:
    """The storage sites of a grid, the same in every year and under every allocation (a run's
    context builds them once: :attr:`~.context.EvolutionContext.storage_sites`).

    ``stored_cells`` the storage cells (flat, ascending) and ``stored_site`` the site of each
    (int32: the few storage cells, not a full layer); ``reach_site`` (flat cells) -> site
    receiving the CO2 of a plant in that cell (-1: no storage within reach; int32, a full layer:
    107 MB for China at 1 km); per site ``capacity_t`` (t) and
    ``region_pos``; ``columns`` and ``res_km`` of the grid (to place flat cells), its number of
    regions and the pipeline ``reach_km``.
    """

    stored_cells: np.ndarray
    stored_site: np.ndarray
    reach_site: np.ndarray
    capacity_t: np.ndarray
    region_pos: np.ndarray
    columns: int
    res_km: float
    n_regions: int
    reach_km: float

    @classmethod
    def of(cls, storage_mt: np.ndarray, grid: Grid, *, reach_km: float) -> Sites:
        """Sites of ``storage_mt`` (Mt CO2, (y, x) or compact on the grid's cell index) on ``grid``,
        plants reaching them within ``reach_km``."""
        storage = grid.cell_index.compacted(storage_mt)
        stored = storage > 0
        k = max(1, round(SITE_KM * 1000.0 / grid.res))
        blocks = _site_blocks(grid.shape, k)
        cells = grid.cell_index.cells[stored]  # blocks and keys of the storage cells only, not of the whole grid
        rows, cols = np.divmod(cells, grid.shape[1])
        key = grid.region_index.ravel()[cells].astype(np.int64) * blocks + (rows // k) * (grid.shape[1] // k + 1) + cols // k
        uniq, inv = np.unique(key, return_inverse=True)
        site = inv.astype(np.int32)
        capacity = np.bincount(inv, weights=storage[stored] * T_PER_MT, minlength=uniq.size)
        site_region = (uniq // blocks).astype(np.int64)
        reach_site = _reach(cells, site, grid, reach_km)
        return cls(cells, site, reach_site, capacity, site_region, grid.shape[1], grid.res / 1000.0, len(grid.regions),
                   reach_km)


@dataclass
class Storage:
    """Storage sites of a grid and their injections through the run's years.

    The sites' ``stored_cells``, ``stored_site``, ``reach_site``, ``capacity_t``, ``region_pos``, ``columns``,
    ``res_km`` and ``reach_km`` are those of :class:`Sites` (the same arrays); ``beccs_t``
    (n_years, n_sites) BECCS injection of each year (t/yr); ``captured_t`` (n_years, n_sites)
    fossil capture booked.
    """

    years: list[int]
    stored_cells: np.ndarray
    stored_site: np.ndarray
    reach_site: np.ndarray
    capacity_t: np.ndarray
    region_pos: np.ndarray
    beccs_t: np.ndarray
    captured_t: np.ndarray
    columns: int
    res_km: float
    reach_km: float
    _near: dict = field(default_factory=dict, repr=False)  # (cell, region) -> sites in reach

    @classmethod
    def build(cls, storage_mt: np.ndarray, grid: Grid, *, reach_km: float, removals: np.ndarray,
              years: list[int]) -> "Storage":
        """Sites of ``storage_mt`` (y, x, Mt CO2) on ``grid``; ``removals`` (n_years, n_regions)
        the allocated BECCS magnitudes (t/yr) of ``years``."""
        return cls.on(Sites.of(storage_mt, grid, reach_km=reach_km), removals=removals, years=years)

    @classmethod
    def on(cls, sites: Sites, *, removals: np.ndarray, years: list[int]) -> "Storage":
        """The account of ``sites``; ``removals`` (n_years, n_regions) the allocated BECCS
        magnitudes (t/yr) of ``years``, injected into a region's sites by capacity."""
        region_cap = np.bincount(sites.region_pos, weights=sites.capacity_t, minlength=sites.n_regions)
        share = sites.capacity_t / np.where(region_cap[sites.region_pos] > 0, region_cap[sites.region_pos], 1.0)
        beccs = np.asarray(removals, float)[:, sites.region_pos] * share[None, :]
        return cls(list(years), sites.stored_cells, sites.stored_site, sites.reach_site, sites.capacity_t, sites.region_pos, beccs,
                   np.zeros_like(beccs), sites.columns, sites.res_km, sites.reach_km)

    def room(self, year: int) -> np.ndarray:
        """What each site can still take from fossil capture in ``year`` (t): capacity less
        fossil capture booked before ``year`` and all the BECCS of the run (past, this year's
        and what the allocation sends in later years)."""
        k = self.years.index(year)
        used = self.captured_t[:k].sum(axis=0) + self.beccs_t.sum(axis=0)
        return np.maximum(self.capacity_t - used, 0.0)

    def book(self, year: int, site: np.ndarray, captured_t: np.ndarray) -> None:
        """Add ``captured_t`` (t) of plants sending to ``site`` to the injections of ``year``."""
        k = self.years.index(year)
        self.captured_t[k] += np.bincount(site, weights=captured_t, minlength=self.capacity_t.size)

    def reachable(self, cells: np.ndarray) -> np.ndarray:
        """Mask of the sites with a storage cell within :attr:`reach_km` of any of the flat ``cells``.

        The distance transform runs on the cells' bounding box widened by the reach (and a cell):
        every cell it measures from lies in it, so its distances are the whole grid's, and no
        storage cell outside is within reach (China at 1 km: a province's box, not 26.8 M cells
        for each of 31 regions)."""
        cells = np.asarray(cells, np.int64)
        if cells.size == 0:
            return np.zeros(self.capacity_t.size, bool)
        rows, cols = np.divmod(cells, self.columns)
        margin = self._reach_cells
        top, left = max(rows.min() - margin, 0), max(cols.min() - margin, 0)
        bottom = min(rows.max() + margin + 1, self.reach_site.size // self.columns)
        right = min(cols.max() + margin + 1, self.columns)
        far = np.ones((bottom - top, right - left), bool)
        far[rows - top, cols - left] = False
        dist = ndimage.distance_transform_edt(far) * self.res_km
        sy, sx = np.divmod(self.stored_cells, self.columns)
        hit = (sy >= top) & (sy < bottom) & (sx >= left) & (sx < right)
        hit[hit] = dist[sy[hit] - top, sx[hit] - left] <= self.reach_km
        return np.isin(np.arange(self.capacity_t.size), self.stored_site[hit])

    def route(self, year: int, cell: np.ndarray, region_pos: np.ndarray, captured_t: np.ndarray) -> np.ndarray:
        """Book ``captured_t`` (t) of sources in flat ``cell``s, in the order given, into the
        sites of their region (``region_pos``) within :attr:`reach_km` (distance to the site's
        nearest storage cell), nearest first, each up to its room after everything booked so
        far; returns the tonnes each source stored (the rest finds no room in reach)."""
        k = self.years.index(year)
        room = self.room(year) - self.captured_t[k]
        booked, out = np.zeros(self.capacity_t.size), np.zeros(len(cell))
        for i, (nearest, _) in enumerate(self._in_reach(cell, region_pos)):
            left = float(captured_t[i])
            for site in nearest:
                take = min(left, max(room[site], 0.0))
                room[site], booked[site], left = room[site] - take, booked[site] + take, left - take
            out[i] = captured_t[i] - left
        self.captured_t[k] += booked
        return out

    def room_in_reach(self, year: int, cell: np.ndarray, region_pos: np.ndarray) -> np.ndarray:
        """Room (t, :meth:`room` less what ``year`` booked so far) of the sites of their region
        within :attr:`reach_km` of each flat ``cell``."""
        room = np.maximum(self.room(year) - self.captured_t[self.years.index(year)], 0.0)
        # once per (cell, region): the units of a station share their cell
        key, back = np.unique(np.stack([np.asarray(cell, np.int64), np.asarray(region_pos, np.int64)]), axis=1,
                              return_inverse=True)
        return np.array([room[sites].sum() for _, sites in self._in_reach(*key)], float)[back.reshape(-1)]

    def _in_reach(self, cell: np.ndarray, region_pos: np.ndarray):
        """Per source, the sites of its region within :attr:`reach_km` of its flat cell (distance
        to the site's nearest storage cell), nearest first (ties by site) and ascending; kept
        per (cell, region) for the run, as sites do not move."""
        for key in zip(np.asarray(cell, np.int64).tolist(), np.asarray(region_pos).tolist()):
            if key not in self._near:
                dist = self._distance(*key)
                nearest = np.argsort(dist, kind="stable")[:int((dist <= self.reach_km).sum())]
                self._near[key] = (nearest, np.sort(nearest))
            yield self._near[key]

    def _distance(self, cell: int, region_pos: int) -> np.ndarray:
        """The km from flat ``cell`` to each site's nearest storage cell; inf for the sites not of
        ``region_pos`` and for those with no storage cell within ``reach_km`` rows of it (farther
        than the reach in any case). Only the region's storage cells in those rows are measured:
        a band of rows at 1 km, not a province's hundreds of thousands of cells."""
        cells, site_of, start = self._by_region
        dist = np.full(self.capacity_t.size, np.inf)
        if region_pos + 1 >= start.size:  # after the last region with a site: none of its own
            return dist
        band = self._reach_cells
        y, x = divmod(cell, self.columns)
        first, last = start[region_pos], start[region_pos + 1]
        lo, hi = first + np.searchsorted(cells[first:last], [(y - band) * self.columns, (y + band + 1) * self.columns])
        sy, sx = np.divmod(cells[lo:hi], self.columns)
        np.minimum.at(dist, site_of[lo:hi], np.hypot(sy - y, sx - x) * self.res_km)
        return dist

    @property
    def _reach_cells(self) -> int:
        """Cells (rows or columns) beyond which a storage cell is farther than :attr:`reach_km`, and a cell more."""
        return int(np.ceil(self.reach_km / self.res_km)) + 1

    @cached_property
    def _by_region(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat storage cells grouped by the region of their site, ascending within a region; the
        site of each; and where each region's cells start (n_regions + 1)."""
        region = self.region_pos[self.stored_site]
        order = np.lexsort((self.stored_cells, region))
        start = np.searchsorted(region[order], np.arange(self.region_pos.max(initial=-1) + 2))
        return self.stored_cells[order], self.stored_site[order], start

    def sites(self) -> pd.DataFrame:
        """``cell`` (flat index) and ``site`` of every storage cell, ascending cells."""
        return pd.DataFrame({"cell": self.stored_cells, "site": self.stored_site.astype(np.int64)})

    def table(self, regions: list[str]) -> pd.DataFrame:
        """site, region, year, beccs_t, captured_t, injected_t, cumulative_t, capacity_t, fill
        (cumulative over capacity) of every site and year (t, t/yr)."""
        injected = self.beccs_t + self.captured_t
        cumulative = np.cumsum(injected, axis=0)
        n_y, n_s = injected.shape
        return pd.DataFrame({
            "site": np.tile(np.arange(n_s), n_y), "region": np.asarray(regions, dtype=object)[np.tile(self.region_pos, n_y)],
            "year": np.repeat(self.years, n_s), "beccs_t": self.beccs_t.ravel(), "captured_t": self.captured_t.ravel(),
            "injected_t": injected.ravel(), "cumulative_t": cumulative.ravel(),
            "capacity_t": np.tile(self.capacity_t, n_y),
            "fill": (cumulative / np.where(self.capacity_t > 0, self.capacity_t, 1.0)[None, :]).ravel()})


def _reach(cells: np.ndarray, sites: np.ndarray, grid: Grid, reach_km: float) -> np.ndarray:
    """Flat cells -> site of the nearest storage cell (flat ``cells`` of ``sites``) within
    ``reach_km`` (-1 beyond reach; int32)."""
    if not cells.size:
        return np.full(grid.shape[0] * grid.shape[1], -1, np.int32)
    site_cell = np.full(grid.shape, -1, np.int32)
    site_cell.flat[cells] = sites
    dist, (iy, ix) = ndimage.distance_transform_edt(site_cell < 0, return_indices=True)
    nearest = site_cell[iy, ix]
    return np.where(dist * grid.res / 1000.0 <= reach_km, nearest, -1).ravel().astype(np.int32, copy=False)


def _site_blocks(shape: tuple[int, int], k: int) -> int:
    """Number of site block ids on a grid of ``shape`` with blocks of ``k`` x ``k`` cells: the id
    ``(row // k) * (nx // k + 1) + col // k`` of the last cell, plus one (ids grow with row and column)."""
    ny, nx = shape
    return ((ny - 1) // k) * (nx // k + 1) + (nx - 1) // k + 1
