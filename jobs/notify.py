"""Failure notices: mail to the sync's failure addresses when a run or a destination
finally fails (after its retries). Without an SMTP server configured the notice is
only logged; either way the audit log records it."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from webapp.extensions import db
from webapp.models.runs import SyncInstance, Transfer
from webapp.services import audit


def notify_failure(instance: SyncInstance, error: str, transfer: Transfer | None = None) -> bool:
    """Send the notice; returns True when a mail was handed to the SMTP server."""
    sync = instance.sync
    recipients = list(sync.notify_emails or [])
    what = f"transfer to {transfer.destination_name}" if transfer else "file creation"
    subject = f"[Loyalty Sync] {sync.name}: {what} failed (run #{instance.id})"
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = f"{base}/syncs/{sync.id}/runs/{instance.id}/" + ("transfers" if transfer else "creation")
    lines = [
        f"Sync: {sync.name} (#{sync.id}, {sync.type_key})",
        f"Run: #{instance.id} ({instance.trigger}, started {instance.run_started_at or instance.created_at:%Y-%m-%d %H:%M:%S %Z})",
    ]
    if transfer is not None:
        lines.append(
            f"Destination: {transfer.destination_name} (after {len(transfer.attempts)} attempt(s))"
        )
    lines += [f"Error: {error}", "", f"Details: {link}"]
    sent = send_mail(recipients, subject, lines, what=f"failure notice for run {instance.id}")
    audit.record(
        "notify.failure",
        obj=transfer or instance,
        sync_id=sync.id,
        detail={"to": recipients, "sent": sent, "subject": subject},
        actor="system",
    )
    db.session.commit()
    return sent


def send_mail(recipients: list[str], subject: str, lines: list[str], *, what: str) -> bool:
    """Mail ``lines`` to ``recipients``; True when the SMTP server took it. Every notice
    (failures, deadlines, expiry warnings) goes through here, so they share one SMTP setup;
    a notice that cannot be sent is logged, never raised (the caller audits it)."""
    server = current_app.config.get("MAIL_SERVER")
    if not (recipients and server):
        current_app.logger.warning(
            "%s (no mail %s): %s", what, "server" if recipients else "recipients", subject
        )
        return False
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = ", ".join(recipients)
    message.set_content("\n".join(lines))
    try:
        with smtplib.SMTP(server, int(current_app.config["MAIL_PORT"]), timeout=20) as smtp:
            if current_app.config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if current_app.config.get("MAIL_USERNAME"):
                smtp.login(
                    current_app.config["MAIL_USERNAME"],
                    current_app.config["MAIL_PASSWORD"] or "",
                )
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("%s not sent: %s", what, exc)
        return False
    return True
