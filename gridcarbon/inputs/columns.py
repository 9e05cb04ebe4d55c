"""The one column check for input tables: name the missing columns and what was expected."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gridcarbon.core.errors import SchemaError


def require_columns(table: pd.DataFrame, columns: Sequence[str], *, source: str | None,
                    hint: str | None = None) -> None:
    """Raise :class:`SchemaError` naming the ``columns`` that ``table`` lacks.

    The message reads ``missing column(s) a, b``; ``hint`` (default: ``expected`` and the
    full list) tells the user how to fix it.
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SchemaError(f"missing column(s) {', '.join(missing)}", source=source,
                          hint=hint if hint is not None else f"expected {', '.join(columns)}")
