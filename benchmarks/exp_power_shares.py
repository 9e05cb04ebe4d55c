"""Experiment: what the yrd-enhanced non-fossil share of primary energy depends on (README,
"Power system and energy figures").

Allocates the built-in yrd-enhanced alone (``job.allocate_only``: built-in inventory, base-year
land capacities) with the shipped power-system figures, then with the three land-based
renewable potentials of ``allocation/power_fleet.py`` doubled, then with import lines growing to
3x instead of 2x the 2024 flow by 2060 (``allocation/power_inputs.py``), and prints the study
area's non-fossil share of primary energy (%, ``energy_summary.csv`` method) in 2024, 2030, 2035
and 2060. Nothing here changes a shipped figure.

Run: ``PYTHONPATH=. python benchmarks/exp_power_shares.py`` (about 2 minutes).
"""
from __future__ import annotations

from gridcarbon.allocation import power_fleet, power_inputs
from gridcarbon.config import load_scenario
from gridcarbon.job import allocate_only
from gridcarbon.output.energy import energy_tables

YEARS = (2024, 2030, 2035, 2060)
LAND_POTENTIALS = ("SOLAR_GW_PER_KM2", "ROOFTOP_GW_PER_MPERSON", "WIND_GW_PER_KM2")


def shares(label: str) -> None:
    sc = load_scenario("yrd-enhanced")
    tables = energy_tables(allocate_only(sc), sc.evolution.capture_rate)
    total = tables["energy_summary"].query("region == 'total'").set_index("year")["non_fossil_share_primary"]
    print(label, {y: round(100 * float(total[y]), 1) for y in YEARS}, flush=True)


def main() -> None:
    shares("shipped figures")
    shipped = {name: getattr(power_fleet, name) for name in LAND_POTENTIALS}
    for name, value in shipped.items():
        setattr(power_fleet, name, 2 * value)
    shares("land-based potentials x2")
    for name, value in shipped.items():
        setattr(power_fleet, name, value)
    lines = power_inputs.IMPORT_GROWTH_2060
    power_inputs.IMPORT_GROWTH_2060 = 3.0
    shares("import lines 3x by 2060")
    power_inputs.IMPORT_GROWTH_2060 = lines


if __name__ == "__main__":
    main()
