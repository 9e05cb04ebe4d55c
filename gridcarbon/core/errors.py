"""One exception tree for gridcarbon; the CLI turns each into a one-line message.

Exit codes: :class:`InputError` and its children exit 2 (the user can fix the input),
any other :class:`GridcarbonError` exits 1 (an internal failure worth reporting).
"""
from __future__ import annotations


class GridcarbonError(Exception):
    """Base class of every error gridcarbon raises on purpose."""

    exit_code = 1


class InputError(GridcarbonError, ValueError):
    """A file, record or setting given by the user is wrong.

    ``source`` names the file (or scenario key), ``record`` the row id or key path,
    ``hint`` tells what to do. ``str(err)`` is a single line holding all of them.
    """

    exit_code = 2

    def __init__(self, problem: str, *, source: str | None = None, record: object = None,
                 hint: str | None = None):
        self.problem, self.source, self.record, self.hint = problem, source, record, hint
        parts = []
        if source:
            parts.append(str(source))
        if record is not None:
            parts.append(f"record {record}")
        head = ": ".join([", ".join(parts), problem]) if parts else problem
        super().__init__(head + (f" ({hint})" if hint else ""))


class SchemaError(InputError):
    """A table lacks a column, has a wrong type or an unknown category."""


class GeometryError(InputError):
    """Invalid, empty, mixed or misplaced geometry."""


class CRSError(InputError):
    """Missing or unusable coordinate reference system."""


class RasterInputError(InputError):
    """A raster cannot be read or does not fit the grid."""


class ScenarioError(InputError):
    """A scenario file is malformed or inconsistent."""


class InfeasibleAllocationError(InputError):
    """The pathway cannot be met under the scenario's constraints.

    ``conflicts`` lists one human sentence per conflicting constraint family.
    """

    def __init__(self, conflicts: list[str], *, source: str | None = None):
        self.conflicts = list(conflicts)
        super().__init__("infeasible targets: " + "; ".join(self.conflicts), source=source,
                         hint="relax the pathway, the floors or raise removal capacities")


class MassBalanceError(GridcarbonError):
    """A conservation check failed: gridded sums differ from the totals they must match."""


class OutputError(GridcarbonError):
    """The output folder cannot be written (locked, read-only, full disk)."""

    exit_code = 2
