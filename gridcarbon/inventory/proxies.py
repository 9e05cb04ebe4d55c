"""Spatial proxies of area sectors.

The built-in baseline spreads ``other_industry`` over :func:`activity_proxy`
(:mod:`gridcarbon.inventory.builtin`); the evolution keeps that base-year stock and adds
industrial land where built-up land grows (:mod:`gridcarbon.evolution.patterns`,
docs/architecture.md, "Evolution").
"""
from __future__ import annotations

import numpy as np

#: offset (built-up fraction, 0..1) added to a cell's built-up fraction in the small-industry
#: activity proxy ``gdp x (ACTIVITY_OFFSET + built_up)``. ASSUMPTION: small industry follows
#: GDP, denser where land is built up, but a cell with no built-up land still keeps some
#: (village and rural workshops): a fully rural cell weighs 0.3 / 1.3 (about a quarter) of a
#: fully built one of the same GDP. No dataset gives the split.
ACTIVITY_OFFSET = 0.3


def activity_proxy(gdp: np.ndarray, built_up: np.ndarray) -> np.ndarray:
    """Small-industry activity per cell, ``gdp x (ACTIVITY_OFFSET + built_up)`` (y, x).

    ``gdp`` in yuan / yr per cell, ``built_up`` a fraction 0..1; the result is in yuan / yr
    (a relative weight: only its shares within a region are used). Bit for bit
    ``gdp * (ACTIVITY_OFFSET + built_up)``; computed in place in one new array when the
    dtypes allow (a 1 km national layer is 0.2 GB).
    """
    proxy = ACTIVITY_OFFSET + np.asarray(built_up)
    if proxy.dtype != np.result_type(proxy, gdp):
        return gdp * proxy
    proxy *= gdp
    return proxy
