"""Bulk loads of loyalty data (issue 12): CSV and NDJSON files applied as upserts.

No Flask here: the CLI (``webapp.cli.loyalty``) and, later, the web page call
``run_load`` with a SQLAlchemy session. ``declarations`` says what each kind's rows look
like (the loader validates against it and ``scripts/gen_loading_docs.py`` documents it),
``readers`` streams rows out of a file, ``kinds`` applies one row through the domain
services, and ``loader`` runs a whole file in batches.
"""

from __future__ import annotations

from loyalty.loading.declarations import Field, Kind, RowError
from loyalty.loading.kinds import KINDS, get_kind
from loyalty.loading.loader import LoadRefused, LoadResult, run_load

__all__ = [
    "KINDS",
    "Field",
    "Kind",
    "LoadRefused",
    "LoadResult",
    "RowError",
    "get_kind",
    "run_load",
]
