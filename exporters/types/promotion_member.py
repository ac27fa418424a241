"""promotion_member — Promotion Member Sync (designed here; see ``exporters.membership``)."""

from __future__ import annotations

from exporters import scopes
from exporters.membership import membership_sync_type
from loyalty.models import Promotion, PromotionMember

SYNC_TYPE = membership_sync_type(
    "Promotion", Promotion, PromotionMember, "promotion_id", scopes.PROMOTION
)
