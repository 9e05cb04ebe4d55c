"""The market's files: market.csv, mac.csv and the two plots, written the same way twice."""
from __future__ import annotations

import pandas as pd

from gridcarbon.output.market import market_tables, write_market


def test_market_files_are_written_and_byte_identical(enhanced, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_market(tmp_path / folder, market_tables(enhanced), name="yrd-enhanced", years=[2030, 2035, 2060])
    files = ["market.csv", "mac.csv", "maps/carbon_price.png", "maps/permits.png"]
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    market = pd.read_csv(tmp_path / "a" / "market.csv")
    assert list(market.columns) == ["region", "year", "allowance_t", "emissions_t", "permits_bought_t",
                                    "transfer_payment_yuan", "carbon_price_yuan_per_t"]
    assert len(market) == 4 * 37
    assert (tmp_path / "a" / "maps" / "permits.png").stat().st_size > 10_000


def test_nothing_is_written_without_tables(tmp_path):
    write_market(tmp_path, {}, name="x", years=[2030])
    assert list(tmp_path.iterdir()) == []
