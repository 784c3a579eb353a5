"""capmon's Grafana dashboards, built with grafana-foundation-sdk (``python -m dashboards``)."""
