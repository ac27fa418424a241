from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField

from webapp.models.users import Role

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]


class CreateUserForm(FlaskForm):
    email = EmailField("Email")
    name = StringField("Name")
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)
    password = PasswordField("Password (empty: generate one)")


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")
    password = PasswordField("New password (empty: keep)")
