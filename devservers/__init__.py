"""Servers for development and tests: the demo SFTP and FTPS receivers that `make run`
starts on 127.0.0.1 (files land in var/demo-receivers/), and the private Redis that
`make run` and the tests start when no Redis answers.

They are for the demo and tests only (one user, a folder on disk, no hardening). Real
receivers are the partners' own servers; production runs its own Redis.
"""
