"""Statistics over ledger aggregates: intervals, frontier, gradient, leakage, consistency, paired tests,
detectors (their protocol, design and persistence) and the engine that feeds them."""
