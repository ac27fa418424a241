"""member_extended — Member Extended Sync.

The product documents this layout only partly: the stored copy of its page stops inside
record type 1 (Core Trigger) after field 16. What it documents is binding: no header, a
record type code in column 1, one record per fired trigger, eleven record types in the
documented order, each record carrying the member's *current* values, booleans written
``True``/``False``, gender as a word, delivery methods as 1 (Email) / 2 (Text), and the two
file names. The rest of Core and record types 2-11 are designed here in the same style:
every record starts with its record type and the internal member id, then the values of
what the trigger is about, as they are when the run starts.

A package, because eleven record types make a large declaration and eleven SELECTs,
and each reads best alone:

- ``layout``: the record types and their fields, words, option and file names;
- ``triggers``: whose triggers fired in the run's window (the change-log side);
- ``records``: one SELECT per record type over those rows, one UNION ALL in file order;
- ``export``: the run itself and ``SYNC_TYPE``, the declaration the registry imports.
"""

from exporters.types.member_extended.export import SYNC_TYPE

__all__ = ["SYNC_TYPE"]
