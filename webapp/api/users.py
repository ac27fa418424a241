"""``/users`` and ``/roles`` (support): list, create, change role, disable, reset a
password; through ``webapp.services.users`` like the Users page."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, json, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from loyalty.errors import NotFound
from loyalty.text import parse_id
from webapp.api.auth import acting_user, api_permission
from webapp.api.common import Aware, Strict
from webapp.api.pagination import PageArgs, page, page_schema
from webapp.extensions import db
from webapp.models.users import Role, User
from webapp.services import users
from webapp.services.permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, USERS_MANAGE

bp = Blueprint("api_users", __name__, url_prefix="/api/v1", description="Users and roles")


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.Function(lambda u: str(u.role))
    active = ma.fields.Boolean()
    created_at = Aware()
    last_login_at = Aware(allow_none=True)


class CreatedUserSchema(UserSchema):
    password = ma.fields.String(
        allow_none=True, metadata={"description": "The generated password, shown this once"}
    )


UserPage = page_schema(UserSchema, "UserPage")


class UserCreate(Strict):
    email = ma.fields.String(required=True)
    role = ma.fields.String(
        required=True, metadata={"description": "support, sync_manager or viewer"}
    )
    name = ma.fields.String(load_default="")
    password = ma.fields.String(
        load_only=True, metadata={"description": "Left out: one is generated and returned once"}
    )


class UserPatch(Strict):
    role = ma.fields.String()
    active = ma.fields.Boolean()
    password = ma.fields.String(load_only=True)


class RoleSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    permissions = ma.fields.List(ma.fields.String())


class RoleList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RoleSchema))
    permissions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


def _load(user_id: int) -> User:
    ident = parse_id(user_id)
    user = db.session.get(User, ident) if ident is not None else None
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


@bp.route("/users")
@api_permission(USERS_MANAGE)
@bp.arguments(PageArgs, location="query")
@bp.response(200, UserPage)
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """Every user, by id."""
    query = select(User).order_by(User.id).limit(args["limit"] + 1)
    if args.get("cursor"):
        query = query.where(User.id > args["cursor"])
    rows, next_url = page(db.session.scalars(query).all(), args["limit"])
    return {"items": rows, "next": next_url}


@bp.route("/users", methods=["POST"])
@api_permission(USERS_MANAGE)
@bp.arguments(UserCreate)
@bp.response(201, CreatedUserSchema)
def create_user(body: dict[str, Any]) -> Any:
    """Create a user; without a password one is generated and returned once."""
    password = body.get("password") or users.generate_password()
    user = users.create_user(
        body["email"], body["role"], password, body["name"], actor=acting_user()
    )
    db.session.commit()
    data: dict[str, Any] = UserSchema().dump(user)
    data["password"] = None if body.get("password") else password
    response = Response(json.dumps(data), status=201, mimetype="application/json")
    response.headers["Location"] = url_for("api_users.get_user", user_id=user.id)
    return response


@bp.route("/users/<int:user_id>")
@api_permission(USERS_MANAGE)
@bp.response(200, UserSchema)
def get_user(user_id: int) -> User:
    return _load(user_id)


@bp.route("/users/<int:user_id>", methods=["PATCH"])
@api_permission(USERS_MANAGE)
@bp.arguments(UserPatch)
@bp.response(200, UserSchema)
def update_user(body: dict[str, Any], user_id: int) -> User:
    """Change the role, disable or enable, or reset the password (each ends the user's
    sessions; a disabled user's tokens stop working at once)."""
    user = _load(user_id)
    actor = acting_user()
    if "role" in body:
        users.set_role(user, body["role"], actor=actor)
    if "active" in body:
        users.set_active(user, body["active"], actor=actor)
    if body.get("password") is not None:
        users.set_password(user, body["password"], actor=actor)
    db.session.commit()
    return user


@bp.route("/roles")
@api_permission(USERS_MANAGE)
@bp.response(200, RoleList)
def list_roles() -> dict[str, Any]:
    """The roles and the permissions each grants (the table on the Users page)."""
    return {
        "items": [
            {"key": r.value, "label": r.label, "permissions": sorted(ROLE_PERMISSIONS[r])}
            for r in Role
        ],
        "permissions": ALL_PERMISSIONS,
    }
