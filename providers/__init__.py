"""Providers: one module per vendor plus ``local/`` (offline renderers), behind the protocols in ``base``."""
