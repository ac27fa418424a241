"""The job names of the previous release, kept for one release: remove in the next.

Until this release a run's jobs were queued as ``jobs.runs.create_files`` and
``jobs.runs.transfer``; they are now ``jobs.build.create_files`` and
``jobs.transfer.transfer``. RQ stores a job's function by dotted name, so jobs queued
before an upgrade (a build waiting behind others, a transfer waiting for a free worker)
still name this module: with it, an upgraded worker runs them at once, instead of
failing them with an import error and leaving them to the tick's lost-job sweep.
Nothing in this codebase imports it.
"""

from __future__ import annotations

from jobs.build import create_files
from jobs.transfer import transfer

__all__ = ["create_files", "transfer"]
