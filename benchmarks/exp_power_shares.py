"""Experiment: what the yrd-enhanced non-fossil share of primary energy depends on (README,
"Power system and energy figures").

Allocates the built-in yrd-enhanced alone (``job.allocate_only``: built-in inventory, base-year
land capacities) with the shipped power-system figures, then with the yearly build rates of
solar and wind halved (``build_gw_per_year_per_100twh`` of ``power/technologies.csv``: with the
sourced technical potentials of ``power/potentials.csv`` it is the rates that bind), then
without new capture plants (their build rate 0), then with import lines growing to 3x instead
of 2x the 2024 flow by 2060 (``allocation/power_inputs.py``), and prints the study area's
non-fossil share of primary energy (%, ``energy_summary.csv`` method) in 2024, 2030, 2035 and
2060. Nothing here changes a shipped figure.

Run: ``PYTHONPATH=. python benchmarks/exp_power_shares.py`` (about 3 minutes).
"""
from __future__ import annotations

from gridcarbon.allocation import power_data, power_inputs
from gridcarbon.config import load_scenario
from gridcarbon.job import allocate_only
from gridcarbon.output.energy import energy_tables

YEARS = (2024, 2030, 2035, 2060)
RATE = "build_gw_per_year_per_100twh"


def shares(label: str) -> None:
    sc = load_scenario("yrd-enhanced")
    tables = energy_tables(allocate_only(sc), sc.evolution.capture_rate)
    total = tables["energy_summary"].query("region == 'total'").set_index("year")["non_fossil_share_primary"]
    print(label, {y: round(100 * float(total[y]), 1) for y in YEARS}, flush=True)


def with_rates(label: str, scale: dict[str, float]) -> None:
    """Shares with the build rates of the technologies in ``scale`` multiplied by their factor."""
    shipped = power_data.technologies()
    changed = shipped.copy()
    for g, factor in scale.items():
        changed.loc[g, RATE] *= factor
    power_inputs.technologies = lambda: changed
    try:
        shares(label)
    finally:
        power_inputs.technologies = power_data.technologies


def main() -> None:
    shares("shipped figures")
    with_rates("solar and wind build rates x0.5", {"solar": 0.5, "onshore_wind": 0.5, "offshore_wind": 0.5})
    with_rates("no new capture plants", {"coal_ccs": 0.0, "gas_ccs": 0.0})
    lines = power_inputs.IMPORT_GROWTH_2060
    power_inputs.IMPORT_GROWTH_2060 = 3.0
    shares("import lines 3x by 2060")
    power_inputs.IMPORT_GROWTH_2060 = lines


if __name__ == "__main__":
    main()
