"""The ledger: SQLite storage of every probe result and of the statistics' state.

``store`` owns the connection, the writes and row reads; ``queries`` the typed aggregate reads
(and the scored-probe filter); ``schema`` the tables and their versioned migrations; ``results``
the row itself (``ProbeResult``). No SQL is written outside this package.
"""
