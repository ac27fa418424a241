"""Failure notices: mail to the sync's failure addresses when a run or a destination
finally fails (after its retries). Without an SMTP server configured the notice is
only logged; either way the audit log records it."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from loyalty.text import CONTROL
from webapp.extensions import db
from webapp.models.runs import SyncInstance, Transfer
from webapp.services import audit, run_status


def notify_failure(instance: SyncInstance, error: str, transfer: Transfer | None = None) -> bool:
    """Send the notice; returns True when a mail was handed to the SMTP server.

    Never raises: it runs inside the build, the transfer and the minute's sweep, and a
    notice that cannot be built or sent must not abort them (issue 17, item 11). Every
    outcome is logged and audited.
    """
    sync = instance.sync
    recipients = [r for r in (sync.notify_emails or []) if isinstance(r, str)]
    subject = f"[Loyalty Sync] {sync.id}: failure notice (run #{instance.id})"
    sent = False
    problem: str | None = None
    try:
        subject, message = _compose(instance, error, transfer, recipients)
        server = current_app.config.get("MAIL_SERVER")
        if recipients and server:
            sent = _send(message, server)
        else:
            current_app.logger.warning(
                "failure notice (no mail %s): %s",
                "server" if recipients else "recipients",
                subject,
            )
    except (OSError, smtplib.SMTPException) as exc:
        problem = f"not sent: {exc}"
        current_app.logger.error("failure notice for run %s not sent: %s", instance.id, exc)
    except Exception as exc:  # a notice that cannot even be built (a stored bad address)
        problem = f"not built: {type(exc).__name__}: {exc}"
        current_app.logger.exception("failure notice for run %s could not be built", instance.id)
    detail = {"to": recipients, "sent": sent, "subject": subject}
    if problem is not None:
        detail["problem"] = problem
    try:
        audit.record(
            "notify.failure",
            obj=transfer or instance,
            sync_id=sync.id,
            detail=detail,
            actor="system",
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("audit of the failure notice for run %s lost", instance.id)
    return sent


def header_safe(text: str) -> str:
    """``text`` on one line: control characters (CR/LF above all) become spaces.

    Names cannot hold them any more (``loyalty.text``), but rows stored before that, and
    error texts from servers, still may; ``EmailMessage`` raises on a CR/LF in a header.
    """
    return " ".join(CONTROL.sub(" ", text).split())


def _compose(
    instance: SyncInstance, error: str, transfer: Transfer | None, recipients: list[str]
) -> tuple[str, EmailMessage]:
    sync = instance.sync
    name = header_safe(sync.name)
    destination = header_safe(transfer.destination_name) if transfer else ""
    what = f"transfer to {destination}" if transfer else "file creation"
    subject = f"[Loyalty Sync] {name}: {what} failed (run #{instance.id})"
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = f"{base}/syncs/{sync.id}/runs/{instance.id}/" + ("transfers" if transfer else "creation")
    lines = [
        f"Sync: {name} (#{sync.id}, {sync.type_key})",
        f"Run: {run_status.run_label(instance)} of this sync, id #{instance.id} ({instance.trigger}, started {instance.run_started_at or instance.created_at:%Y-%m-%d %H:%M:%S %Z})",
        f"Status: {run_status.status_of(instance).label}",
    ]
    if transfer is not None:
        lines.append(f"Destination: {destination} (after {len(transfer.attempts)} attempt(s))")
    lines += [f"Error: {error}", "", f"Details: {link}"]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_SENDER"]
    if recipients:
        message["To"] = ", ".join(header_safe(r) for r in recipients)
    message.set_content("\n".join(lines))
    return subject, message


def _send(message: EmailMessage, server: str) -> bool:
    with smtplib.SMTP(server, int(current_app.config["MAIL_PORT"]), timeout=20) as smtp:
        if current_app.config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if current_app.config.get("MAIL_USERNAME"):
            smtp.login(
                current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"] or ""
            )
        smtp.send_message(message)
    return True


def send_mail(recipients: list[str], subject: str, lines: list[str], *, what: str) -> bool:
    """Mail ``lines`` to ``recipients``; True when the SMTP server took it. Every notice
    (failures, deadlines, expiry warnings) goes through here or ``_send``, so they share one
    SMTP setup; a notice that cannot be sent is logged, never raised (the caller audits it).
    Header values are made single-line, as for failure notices."""
    server = current_app.config.get("MAIL_SERVER")
    if not (recipients and server):
        current_app.logger.warning(
            "%s (no mail %s): %s", what, "server" if recipients else "recipients", subject
        )
        return False
    message = EmailMessage()
    message["Subject"] = header_safe(subject)
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = ", ".join(header_safe(r) for r in recipients)
    message.set_content("\n".join(lines))
    try:
        return _send(message, server)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("%s not sent: %s", what, exc)
        return False
