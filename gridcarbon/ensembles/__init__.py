"""Ensembles over the model's assumptions, and sensitivity analysis.

- :mod:`~gridcarbon.ensembles.ranges`: the assumption ranges table, Latin-hypercube samples,
  a sample as scenario overrides;
- :mod:`~gridcarbon.ensembles.members`: the study area shared by all members, one member run,
  the named outputs;
- :mod:`~gridcarbon.ensembles.pool`: members here, in processes or on a dask cluster;
- :mod:`~gridcarbon.ensembles.aggregate`: per-cell quantiles block by block, bands of totals;
- :mod:`~gridcarbon.ensembles.runner`: :func:`ensemble` (``gridcarbon run --ensemble N``);
- :mod:`~gridcarbon.ensembles.sensitivity`: Morris screening (``gridcarbon sensitivity``).
"""
from gridcarbon.ensembles.runner import ensemble
from gridcarbon.ensembles.sensitivity import morris_screening, sensitivity

__all__ = ["ensemble", "morris_screening", "sensitivity"]
