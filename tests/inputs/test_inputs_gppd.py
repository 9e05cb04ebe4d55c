"""The GPPD-style reader on the real WRI plant list (skips where ../shared/data is absent)."""
import numpy as np
import pandas as pd
import pytest

from gridcarbon.core.grid import Grid
from gridcarbon.inputs.regions import load_regions, province_table
from gridcarbon.inputs.sources import read_gppd
from gridcarbon.inventory.base import grid_frame


@pytest.fixture(scope="module")
def coal(shared_data):
    path = shared_data / "gppd_china" / "gppd_v130_china.csv"
    if not path.exists():
        pytest.skip("gppd_china is not present")
    regions = load_regions("china")
    grid = Grid.from_regions(regions, res=10_000)
    plants = read_gppd(path, regions, crs=grid.crs)
    raw = pd.read_csv(path).set_index("gppd_idnr")
    return grid, plants[plants.fuel == "coal"].reset_index(drop=True), raw


def test_coal_fleet_grids_at_10km_conserving_its_total(coal):
    grid, plants, _ = coal
    layers, cov = grid_frame(plants, grid, own_region=True)
    assert len(plants) > 800  # 946 coal plants in GPPD v1.3.0 China, a few offshore of the outline
    total = plants.emission_t.sum()
    assert 3.0e9 < total < 6.0e9  # t CO2/yr: China's coal power emits about 4-5 Gt
    assert layers.sum() == pytest.approx(total, rel=1e-9)
    by_region = pd.Series(grid.region_sums(layers).sum(axis=0), index=list(grid.regions))
    expected = plants.groupby("region").emission_t.sum().reindex(by_region.index).fillna(0.0)
    np.testing.assert_allclose(by_region.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1.0)
    # measured 3.3 %: coastal and border plants whose 10 km cell centre is at sea or across the border
    assert cov.rehomed_share < 0.05


def test_plants_land_in_the_right_provinces(coal):
    """Where the owner or plant name names exactly one province, the join must agree with it."""
    grid, plants, raw = coal
    names = province_table().region.tolist()
    text = (raw.owner.fillna("") + " " + raw.name.fillna("")).reindex(plants["id"]).to_numpy()
    named = [[n for n in names if n in t] for t in text]
    checked = [(p, n[0]) for p, n in zip(plants.region, named) if len(n) == 1]
    assert len(checked) > 100
    agree = np.mean([p == n for p, n in checked])
    assert agree > 0.9, agree  # owners occasionally run plants in a neighbouring province
    capacity = plants.groupby("region").capacity.sum().sort_values(ascending=False)
    assert {"Shandong", "Inner Mongolia", "Jiangsu"} <= set(capacity.index[:6])  # the largest coal fleets
