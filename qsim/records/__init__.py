"""What a run and a recorded program leave: the run's record log (``log``, one source of truth) and
the ``qsim trace`` file format a ``kind: recorded`` workload replays (``trace_file``)."""
