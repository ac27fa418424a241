from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField

from webapp.models.syncs import Compression, Encryption


class CreateSyncForm(FlaskForm):
    type_key = SelectField("Sync type")
    name = StringField("Name")
    scope_id = SelectField("Scope", validate_choice=False)


class SettingsForm(FlaskForm):
    execution_time = StringField("Execution time (HH:MM, 24 h)")
    # Checked by the service (timezones.check_choosable), whose message names the value.
    timezone = SelectField("Timezone", validate_choice=False)
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


def zone_choices(selected: str | None) -> dict[str, list[SelectChoice]]:
    """The timezone select's groups (common zones first); a submitted or stored value that
    is not offered is kept as the first option, so the select shows what was sent."""
    from webapp.services import timezones

    groups = {
        label: [SelectChoice(z, z) for z in zones] for label, zones in timezones.grouped_choices()
    }
    if selected and selected not in timezones.canonical_zones():
        groups = {"As submitted": [SelectChoice(selected, selected)], **groups}
    return groups


class RecipientKeyForm(FlaskForm):
    public_key = TextAreaField("Paste an ASCII-armored public key")
    key_file = FileField("…or upload a key file")
