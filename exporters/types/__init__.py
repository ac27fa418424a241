"""One module per sync type; each defines ``SYNC_TYPE`` and is listed in ``exporters._MODULES``."""
