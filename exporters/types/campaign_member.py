"""campaign_member — Campaign Member Sync (designed here; see ``exporters.membership``)."""

from __future__ import annotations

from exporters import scopes
from exporters.membership import membership_sync_type
from loyalty.models import Campaign, CampaignMember

SYNC_TYPE = membership_sync_type(
    "Campaign", Campaign, CampaignMember, "campaign_id", scopes.CAMPAIGN
)
