"""Statistics over the ledger: intervals, frontier, gradient, leakage, consistency, detectors, metrics."""
