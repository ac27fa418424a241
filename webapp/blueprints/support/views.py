"""Support pages: users and their roles, and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask import Response as FlaskResponse
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from webapp.blueprints.support.forms import CreateUserForm, EditUserForm
from webapp.extensions import db
from webapp.forms import apply_errors
from webapp.models.audit import AuditEvent
from webapp.models.syncs import Sync
from webapp.models.users import Role, User
from webapp.request_guards import MAX_PAGE, query_int
from webapp.services import audit_view, users
from webapp.services.permissions import (
    ALL_PERMISSIONS,
    AUDIT_VIEW,
    ROLE_PERMISSIONS,
    USERS_MANAGE,
    permission_required,
)

bp = Blueprint("support", __name__)


@bp.route("/users", methods=["GET", "POST"])
@permission_required(USERS_MANAGE)
def user_list() -> str | Response:
    form = CreateUserForm()
    generated: str | None = None
    if form.validate_on_submit():
        password = form.password.data or users.generate_password()
        try:
            user = users.create_user(
                form.email.data or "",
                form.role.data or "",
                password,
                form.name.data or "",
                actor=current_user._get_current_object(),
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            if not form.password.data:
                generated = password
            flash(f"User {user.email} created.")
            if generated is None:
                return redirect(url_for("support.user_list"))
            form = CreateUserForm(formdata=None)
    all_users = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template(
        "support/users.html",
        form=form,
        users=all_users,
        generated=generated,
        roles=list(Role),
        role_permissions=ROLE_PERMISSIONS,
        permissions=ALL_PERMISSIONS,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(USERS_MANAGE)
def user_edit(user_id: int) -> str | Response:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        actor = current_user._get_current_object()
        try:
            users.set_role(user, form.role.data or "", actor=actor)
            users.set_active(user, bool(form.active.data), actor=actor)
            if form.password.data:
                users.set_password(user, form.password.data, actor=actor)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(f"User {user.email} saved.")
            return redirect(url_for("support.user_list"))
    return render_template("support/user_edit.html", form=form, user=user)


AUDIT_PAGE_SIZE = 50


def _audit_filters() -> audit_view.Filters:
    """The filters of the query string; a bad value is a 400 that names it."""
    try:
        since = audit_view.parse_date(request.args.get("from"), "from")
        until = audit_view.parse_date(request.args.get("to"), "to")
    except ValueError as exc:
        abort(400, str(exc))
    return audit_view.Filters(
        sync_id=query_int("sync", None),
        user_id=query_int("user", None),
        actor=(request.args.get("actor") or "").strip()[: audit_view.MAX_ACTOR_FILTER],
        action=(request.args.get("action") or "").strip()[:120],
        since=since,
        until=until,
    )


@bp.route("/audit")
@permission_required(AUDIT_VIEW)
def audit_log() -> str:
    """The audit log, newest first, filtered by sync, user or actor, action and dates."""
    filters = _audit_filters()
    page = query_int("page", 1, maximum=MAX_PAGE) or 1
    events = db.session.scalars(
        audit_view.query(filters).limit(AUDIT_PAGE_SIZE + 1).offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    has_next = len(events) > AUDIT_PAGE_SIZE
    actions = db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()
    return render_template(
        "support/audit.html",
        events=events[:AUDIT_PAGE_SIZE],
        page=page,
        has_next=has_next,
        syncs=db.session.execute(select(Sync.id, Sync.name).order_by(Sync.name)).all(),
        users=db.session.execute(select(User.id, User.email).order_by(User.email)).all(),
        actions=actions,
        selected={
            "sync": filters.sync_id,
            "user": filters.user_id,
            "action": filters.action,
            "actor": filters.actor,
            "from": filters.since.isoformat() if filters.since else "",
            "to": filters.until.isoformat() if filters.until else "",
        },
        csv_url=url_for("support.audit_csv") + "?" + urlencode(filters.args()),
        changes=audit_view.changes,
        shown=audit_view.shown,
    )


@bp.route("/audit.csv")
@permission_required(AUDIT_VIEW)
def audit_csv() -> FlaskResponse:
    """The filtered log as CSV, streamed (every matching row, not one page)."""
    filters = _audit_filters()
    response = FlaskResponse(
        stream_with_context(audit_view.csv_lines(filters)), mimetype="text/csv"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
