"""One blueprint per area; each package holds its views (``bp``) and its forms."""

from __future__ import annotations

from flask import Flask, Response, request


def register_blueprints(app: Flask) -> None:
    from webapp.blueprints.account.views import bp as account_bp
    from webapp.blueprints.auth.views import bp as auth_bp
    from webapp.blueprints.dashboard.views import bp as dashboard_bp
    from webapp.blueprints.destinations.views import bp as destinations_bp
    from webapp.blueprints.health.views import bp as health_bp
    from webapp.blueprints.runs.views import bp as runs_bp
    from webapp.blueprints.support.views import bp as support_bp
    from webapp.blueprints.syncs.views import bp as syncs_bp
    from webapp.blueprints.tokens.views import bp as tokens_bp
    from webapp.blueprints.webhooks.views import bp as webhooks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(syncs_bp)
    app.register_blueprint(destinations_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(runs_bp)
    app.register_blueprint(support_bp, url_prefix="/support")
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(tokens_bp, url_prefix="/account/tokens")

    from webapp.template_helpers import install_template_helpers

    install_template_helpers(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html" or response.headers.get("HX-Redirect"):
            response.vary.add("HX-Request")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        )
        if request.is_secure and app.config.get("HSTS_SECONDS"):
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={int(app.config['HSTS_SECONDS'])}"
            )
        if request.endpoint != "static":
            # Pages show a user's data (and once, a new user's password): no cache, no
            # back-button copy after logout, no proxy keeps them.
            response.headers["Cache-Control"] = "no-store"
        return response
