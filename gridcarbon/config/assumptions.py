"""Scale factors on named model constants: the ``assumptions`` section of a scenario.

Each field multiplies one module constant labelled ``ASSUMPTION`` where its rule uses it (1 =
the constant as its module states it), so an ensemble member or a sensitivity run changes the
constant through its scenario, never by patching a module. The ranges an ensemble samples are
in ``gridcarbon/data/assumption_ranges.csv`` (:mod:`gridcarbon.ensembles.ranges`).
"""
from __future__ import annotations

from pydantic import Field

from gridcarbon.config.sections import StrictModel


class Assumptions(StrictModel):
    """Multipliers (dimensionless, > 0) on named constants; every default is 1."""

    #: x ``evolution.relocation.RELOCATION_CAP_SHARE`` (share of a sector's fleet relocated a year)
    relocation_rate: float = Field(default=1.0, gt=0)
    #: x ``evolution.points.RETIRE_AGE_SCALE`` (years; larger: age weighs less in retirement order)
    retire_age_scale: float = Field(default=1.0, gt=0)
    #: x peak uptake of new stands (``data/forest_uptake.csv``, t CO2/ha/yr)
    forest_uptake: float = Field(default=1.0, gt=0)
    #: x ``evolution.forest.AFFOREST_SHARE`` (share of open land that may be afforested), capped at 1
    afforest_share: float = Field(default=1.0, gt=0)
    #: x abatement costs of every marginal-abatement segment (``data/mac_curves.csv``, yuan/t)
    mac_cost: float = Field(default=1.0, gt=0)
    #: x ``allocation.power_data.DEMAND_GDP_ELASTICITY`` (electricity demand growth with GDP)
    demand_elasticity: float = Field(default=1.0, gt=0)
    #: x ``allocation.supply.AUTONOMOUS_INTENSITY_DECLINE`` (business-as-usual efficiency gain, 1/yr)
    intensity_decline: float = Field(default=1.0, gt=0)
