"""Flask extensions, created unbound so that `create_app` can bind them to any app.

Nothing here touches an application at import time: tests build many apps in one
process, and workers import this module before they create theirs.
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from loyalty.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Rate limits live in the project's Redis (RATELIMIT_STORAGE_URI defaults to REDIS_URL),
# so every gunicorn worker and web host counts together. No default limits: each limited
# route names its own (login, Test connection); a later REST API reuses this limiter.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
