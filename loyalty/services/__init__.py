"""Domain services: every change to the loyalty program's data goes through these functions.

Each function takes the caller's ``Session`` first, validates its input and raises
``loyalty.errors.ValidationError`` *before* writing anything, then writes the
change together with its change-log rows and flushes. The caller commits (or rolls back):
a change and its change-log rows always share one transaction, which is what makes the
incremental exports exact.

They use no Flask state (no ``db.session``, no request), so the web app, the CLI, the
demo activity and test threads with their own sessions all call them the same way.
Times: every function takes ``at`` (aware datetime, default now) so that imports and the
demo can backdate changes; the change log's ``occurred_at`` is that time.
"""
