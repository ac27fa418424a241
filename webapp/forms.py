"""Glue between service validation errors and WTForms fields."""

from __future__ import annotations

from flask_wtf import FlaskForm

from loyalty.errors import ValidationError


def apply_errors(
    form: FlaskForm, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show each service error next to its field; errors without a field go to the form."""
    form.form_errors = list(getattr(form, "form_errors", []))
    for key, message in error.errors.items():
        name = (aliases or {}).get(key, key).replace(".", "_")
        field = getattr(form, name, None) if name != "__all__" else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            form.form_errors.append(message)
