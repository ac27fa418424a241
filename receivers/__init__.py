"""Demo receivers: small SFTP and FTPS servers that `make run` starts on 127.0.0.1, so a
new user can press Process New Sync and watch files arrive in var/demo-receivers/.

They are for the demo only (one user, a folder on disk, no hardening). Real receivers
are the partners' own servers.
"""
