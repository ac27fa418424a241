"""The Runs page across all syncs, and the Cancel / Retry now actions (issue 14)."""
