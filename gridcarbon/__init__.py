"""gridcarbon: CHRED-style CO2 emission rasters for China's carbon-peak and neutrality pathways.

Data flow: inventory -> allocation -> evolution -> coupling -> export. The notebook API:

>>> import gridcarbon
>>> result = gridcarbon.run("yrd-enhanced")            # doctest: +SKIP
>>> result.total(2060).sum()                           # doctest: +SKIP
"""
from importlib.metadata import version as _version

__version__ = _version("gridcarbon")


def __getattr__(name):  # lazy: importing gridcarbon stays cheap for the CLI's --help
    if name in {"run", "load_run", "ensemble", "validate", "RunResult"}:
        from gridcarbon import job

        return getattr(job, name)
    if name in {"load_scenario", "validate_scenario", "list_scenarios"}:
        from gridcarbon.config import scenario

        return getattr(scenario, name)
    if name in {"allocate", "allocate_scenario"}:
        from gridcarbon.allocation import lp as allocation

        return getattr(allocation, name)
    if name == "build_yrd_baseline":
        from gridcarbon.inventory.builtin import build_yrd_baseline

        return build_yrd_baseline
    raise AttributeError(name)
