"""The loyalty program's data: what every sync exports.

``loyalty.db`` (the declarative ``Base`` and column types), ``loyalty.models`` (the domain
tables), ``loyalty.changefeed`` and ``loyalty.primary`` (the read side exporters use),
``loyalty.services`` (every change goes through them and writes the change log),
``loyalty.demo`` (the demo program generator) and ``loyalty.errors``.

SQLAlchemy only: nothing here imports Flask or another package of the project, so the
exporters, bulk loads and scripts can use the domain without the web application.
"""
