"""Column types the loyalty models share, sized after the sync layouts.

Kept in one place so that every table agrees on what an external reference, an amount
of money or a number of points is, and so the seed writes the same types the models read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Numeric, String

# Ids that can pass 2**31 (ledger entries, transaction lines, the change log). SQLite only
# makes INTEGER PRIMARY KEY an alias of the rowid, so BIGINT is INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Every external reference the layouts export is String(20) (descriptor, ranking set and
# level, location, product SKU, reward type, question set, interaction type, ...).
ExtRef = String(20)

# Person names and prefixes/suffixes: String(60) in Member Extended and the member syncs.
Name = String(60)

# Money (retail values, basket amounts) and points: two decimals; points can be fractional
# in the product (Reward "Point Value" is Float(21), projections are Decimal).
Money = Numeric(14, 2)
Points = Numeric(14, 2)

# A user or process name as the layouts write it (Interaction "Issue Audit User", Case "User").
Actor = String(120)
