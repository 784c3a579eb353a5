"""The probe run: when (``scheduler``), what (``planner``), within which limits (``budget``,
``retry``), and the run itself (``runner``) whose results the ``committer`` writes and counts.
"""
