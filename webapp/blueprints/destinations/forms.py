from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField, TextAreaField

from webapp.models.syncs import MAX_RETRIES, Marker, Protocol


class DestinationForm(FlaskForm):
    """Fields in the order of the product's how-to (steps 4-10)."""

    name = StringField("Sync Target Name")
    host = StringField("FTP Server Address")
    protocol = SelectField(
        "FTP Server Type", choices=[SelectChoice(p.value, p.label) for p in Protocol]
    )
    directory = StringField("FTP Server Directory (optional)")
    port = StringField("Port (optional)")
    username = StringField("FTP Server User")
    password = PasswordField("FTP Server Password")
    password_confirm = PasswordField("Confirm Password")
    private_key = TextAreaField("SSH private key (optional, sFTP only)")
    retries = SelectField(
        "Retries before failing",
        choices=[SelectChoice(str(i), str(i)) for i in range(MAX_RETRIES + 1)],
        default="0",
    )
    marker = SelectField(
        "Completion marker (uploaded last)",
        choices=[SelectChoice(m.value, m.label) for m in Marker],
        default="none",
    )
    marker_name = StringField("Marker name (optional: {first}, {run}, {sync}, {date})")
