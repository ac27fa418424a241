from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

# Bounds of what a login may submit: an e-mail is at most 254 characters (RFC 5321), and
# no password is longer than this. A longer value is refused before hashing or auditing.
MAX_EMAIL_LENGTH = 254
MAX_PASSWORD_LENGTH = 1024


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
