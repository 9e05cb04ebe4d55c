"""Top-down allocation: the area's pathway shared among regions and sectors by a linear program.

``docs/architecture.md``, "Allocation" describes the stage. The modules, in the order data
flows through them:

- :mod:`~gridcarbon.allocation.pathway`: milestones -> the annual pathway of the whole area;
- :mod:`~gridcarbon.allocation.nesting`: or the pathway a parent (national) allocation gives;
- :mod:`~gridcarbon.allocation.shares`: burden-sharing principles -> target shares (allowances);
- :mod:`~gridcarbon.allocation.supply`: business-as-usual emissions and regional cost curves;
- :mod:`~gridcarbon.allocation.problem`: scenario, baseline, drivers, capacities -> the problem in Mt;
- :mod:`~gridcarbon.allocation.diagnosis`: conflicts explained in numbers (before and after solving);
- :mod:`~gridcarbon.allocation.model`: the LP formulation (variables, rows, objective);
- :mod:`~gridcarbon.allocation.lp`: solving with HiGHS, warm re-solves (:class:`Resolver`);
- :mod:`~gridcarbon.allocation.result`: :class:`AllocationResult`, the market table, binding
  limits and the mass balance;
- :mod:`~gridcarbon.allocation.quotas`: city and facility quotas below the regions;
- :mod:`~gridcarbon.allocation.api`: :func:`allocate` and :func:`allocate_scenario`.

The drivers and cost-curve readers live in :mod:`gridcarbon.inputs.drivers` and
:mod:`gridcarbon.inputs.mac_curves`.
"""
from gridcarbon.allocation.api import allocate, allocate_scenario
from gridcarbon.allocation.lp import Resolver
from gridcarbon.allocation.pathway import annual_pathway
from gridcarbon.allocation.result import AllocationResult
from gridcarbon.allocation.shares import SHARE_RULES, target_shares

__all__ = ["AllocationResult", "Resolver", "SHARE_RULES", "allocate", "allocate_scenario", "annual_pathway",
           "target_shares"]
