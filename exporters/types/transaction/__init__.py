"""transaction — Transaction Sync.

Mostly undocumented by the product: its page was captured up to the first field of the
first file (App Transaction Id). What was captured is binding: the file kinds, the
options, the four name patterns and field 1. Everything else (the fields of all eight
file kinds, how the kinds are told apart by name, the header) is designed here in the
style of the documented layouts and marked so in the registry and the docs.

Incremental: each run reads the change log window since the last created files (kind
``transaction``: POST, CNCL, PEXP, BONS, PRMO, CUST) and writes one file per chosen file
kind, all from that one window and one read snapshot.

A package, because eight file kinds make a large declaration and eight SELECTs, and each
reads best alone:

- ``layout``: the file kinds, their names and the options (what a run writes);
- ``columns``: the fields of each kind (what the layout page and the docs show);
- ``queries``: one SELECT per kind over the run's change window (how the rows are read);
- ``export``: the run itself and ``SYNC_TYPE``, the declaration the registry imports.
"""

from exporters.types.transaction.export import SYNC_TYPE

__all__ = ["SYNC_TYPE"]
