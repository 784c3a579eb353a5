"""What the agent shows: the counters (``counters``), the Prometheus collectors (``exporter``,
``stats_metrics``) and the HTTP surface (``web``, ``status_page``, ``webauth``).
"""
