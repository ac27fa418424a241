"""campaign_member: the designed layout (header, rows, name, splitting, who is in)."""

from __future__ import annotations

from tests.integration.exporters.membership_sync_tests import CAMPAIGN, MembershipSyncTests


class TestCampaignMember(MembershipSyncTests):
    kind = CAMPAIGN
