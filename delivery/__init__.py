"""Delivery: package a run's original files and put them on the receivers' servers.

A pure library: plain values in, plain values out; it knows nothing of Flask, the
database or the job queue. :mod:`delivery.packaging` compresses and encrypts,
:mod:`delivery.transports` uploads over SFTP, FTPS or to a local folder, and
:mod:`delivery.errors` says what went wrong in words a user can act on.
"""
