"""Experiment: what permit trade does in yrd-enhanced (the README's "Allocation: allowances, trade and prices").

Allocates the built-in yrd-enhanced alone (``job.allocate_only``: built-in inventory, base-year
land capacities) with trade (the default) and with ``allocation.trade: false``, and prints the
total discounted cost of both, the carbon price, the permits each province buys or sells and
the provinces' own prices without trade in 2030, 2035 and 2060, and the lowest price after
the 2027 peak.

Run: ``PYTHONPATH=. python benchmarks/exp_market_trade.py`` (about 40 s).
"""
from __future__ import annotations

import time

from gridcarbon.config import load_scenario
from gridcarbon.job import allocate_only

YEARS = (2030, 2035, 2060)


def main() -> None:
    sc = load_scenario("yrd-enhanced")
    t0 = time.perf_counter()
    trade = allocate_only(sc)
    t1 = time.perf_counter()
    alone = allocate_only(sc.with_overrides(allocation={"trade": False}))
    print(f"total cost, trade {trade.objective / 1e9:.1f} bn yuan, no trade {alone.objective / 1e9:.1f} bn yuan, "
          f"saving {(alone.objective - trade.objective) / 1e9:.1f} bn yuan (present value 2024); "
          f"allocate_only {t1 - t0:.1f} s")
    for year in YEARS:
        part = trade.market[trade.market.year == year].set_index("region")
        own = alone.market[alone.market.year == year].set_index("region")
        print(year, "price", round(float(part.carbon_price_yuan_per_t.iloc[0]), 1),
              "permits Mt", (part.permits_bought_t / 1e6).round(1).to_dict(),
              "no-trade prices", own.carbon_price_yuan_per_t.round(1).to_dict())
    price = trade.carbon_price()
    print("lowest price 2028-2060", round(float(price.loc[2028:].min()), 1))


if __name__ == "__main__":
    main()
