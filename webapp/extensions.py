"""Flask extensions, created unbound so that `create_app` can bind them to any app.

Nothing here touches an application at import time: tests build many apps in one
process, and workers import this module before they create theirs.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from loyalty.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
