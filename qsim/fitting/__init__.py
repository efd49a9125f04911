"""``qsim fit``: a backend's background and outages from what a user can observe (SPEC §21)."""
