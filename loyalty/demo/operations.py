"""The kinds of everyday change the activity simulation makes, and how often each happens.

Each operation is a function of the ``Simulator`` and the moment of the change; they are
grouped by subject in ``member_operations``, ``commerce_operations`` and
``engagement_operations``. The weights are relative (a purchase 30, a promo code 1.5). The
order of this table is part of the demo's determinism (the weighted pick walks it in
order), so a new operation goes at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from loyalty.demo import commerce_operations, engagement_operations, member_operations
from loyalty.demo.simulator import Simulator

Operation = Callable[[Simulator, datetime], str | None]

# (name, operation, weight); the name labels refused changes in the activity result.
OPERATIONS: tuple[tuple[str, Operation, float], ...] = (
    ("enrol", member_operations.enrol, 5),
    ("profile", member_operations.profile, 8),
    ("contact", member_operations.contact, 12),
    ("purchase", commerce_operations.purchase, 30),
    ("cancel", commerce_operations.cancel, 2),
    ("promo", commerce_operations.promo, 1.5),
    ("adjust", commerce_operations.adjust, 2),
    ("reward", commerce_operations.reward, 12),
    ("descriptor", engagement_operations.descriptor, 4),
    ("rerank", engagement_operations.rerank, 4),
    ("answer", engagement_operations.answer, 5),
    ("interaction", engagement_operations.interaction, 8),
    ("case", engagement_operations.case, 3),
    ("household", member_operations.household, 2),
    ("custom", member_operations.custom, 2),
    ("membership", engagement_operations.membership, 2),
    ("delete", member_operations.delete, 0.2),
)
