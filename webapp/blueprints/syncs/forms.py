from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField

from webapp.models.syncs import Compression, Encryption

ZONES = sorted(available_timezones())


class CreateSyncForm(FlaskForm):
    type_key = SelectField("Sync type")
    name = StringField("Name")
    scope_id = SelectField("Scope", validate_choice=False)


class SettingsForm(FlaskForm):
    execution_time = StringField("Execution time (HH:MM, 24 h)")
    timezone = SelectField("Timezone", choices=[SelectChoice(z, z) for z in ZONES])
    compression = SelectField(
        "Compression",
        choices=[
            SelectChoice(Compression.NONE.value, "None"),
            SelectChoice(Compression.GZIP.value, "gzip (.gz)"),
            SelectChoice(Compression.ZIP.value, "zip (.zip)"),
        ],
    )
    encryption = SelectField(
        "Encryption",
        choices=[
            SelectChoice(Encryption.NONE.value, "None"),
            SelectChoice(Encryption.PGP.value, "PGP (.pgp)"),
        ],
    )
    pgp_armor = BooleanField("ASCII-armored PGP output (binary otherwise)")
    notify_emails = TextAreaField("Failure notice addresses (one per line or comma-separated)")
    delivery_deadline = StringField("Delivered to every destination by (HH:MM, optional)")
    retention_days = StringField("Keep stored files for (days)")
    retention_runs = StringField("…and always keep the files of the last (runs)")


class RecipientKeyForm(FlaskForm):
    public_key = TextAreaField("Paste an ASCII-armored public key")
    key_file = FileField("…or upload a key file")
