from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
    new_password_confirm = PasswordField("New password again")
