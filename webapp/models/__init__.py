"""The sync application's models, and every loyalty table imported beside them so that
Alembic and ``db.create_all`` see one metadata with every table."""

import loyalty.models  # noqa: F401  (the loyalty tables share the metadata)
from webapp.models.audit import AuditEvent
from webapp.models.installation import Installation
from webapp.models.loads import LoadRecord
from webapp.models.maintenance import MaintenanceRun
from webapp.models.notifications import (
    DeadlineCheck,
    ExpiryWarning,
    Webhook,
    WebhookDelivery,
)
from webapp.models.runs import (
    CreationStatus,
    FileRole,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferAttempt,
    TransferStatus,
    Trigger,
)
from webapp.models.syncs import (
    MAX_DESTINATIONS,
    MAX_RETRIES,
    Compression,
    Destination,
    Encryption,
    Protocol,
    RecipientKey,
    Sync,
)
from webapp.models.tokens import ApiToken
from webapp.models.users import Role, User

__all__ = [
    "MAX_DESTINATIONS",
    "MAX_RETRIES",
    "ApiToken",
    "AuditEvent",
    "Compression",
    "CreationStatus",
    "DeadlineCheck",
    "Destination",
    "Encryption",
    "ExpiryWarning",
    "FileRole",
    "Installation",
    "LoadRecord",
    "MaintenanceRun",
    "Protocol",
    "RecipientKey",
    "Role",
    "Sync",
    "SyncFile",
    "SyncInstance",
    "Transfer",
    "TransferAttempt",
    "TransferStatus",
    "Trigger",
    "User",
    "Webhook",
    "WebhookDelivery",
]
