"""gridcarbon: CHRED-style CO2 emission rasters for China's carbon-peak and neutrality pathways.

Data flow: inventory -> allocation <-> evolution (coupling) -> export (docs/architecture.md).
The notebook API:

>>> import gridcarbon
>>> result = gridcarbon.run("yrd-enhanced")            # doctest: +SKIP
>>> result.total(2060).sum()                           # doctest: +SKIP
"""
from importlib import import_module
from importlib.metadata import version as _version

from gridcarbon.core.jitcache import ensure_cache_dir
from gridcarbon.core.options import get_option, set_options

ensure_cache_dir()  # before any kernel is compiled: numba needs a writable cache folder

__version__ = _version("gridcarbon")
__all__ = ["RunResult", "allocate", "allocate_scenario", "build_yrd_baseline", "ensemble", "get_option",
           "list_scenarios", "load_run", "load_scenario", "run", "set_options", "validate", "validate_scenario"]

#: where each lazily imported public name lives (importing gridcarbon stays cheap for the CLI's --help)
_LAZY = {
    "run": "gridcarbon.job", "validate": "gridcarbon.job",
    "RunResult": "gridcarbon.result", "load_run": "gridcarbon.result",
    "ensemble": "gridcarbon.ensembles",
    "load_scenario": "gridcarbon.config", "validate_scenario": "gridcarbon.config",
    "list_scenarios": "gridcarbon.config",
    "allocate": "gridcarbon.allocation", "allocate_scenario": "gridcarbon.allocation",
    "build_yrd_baseline": "gridcarbon.inventory.builtin",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gridcarbon' has no attribute {name!r}")
