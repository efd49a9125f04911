"""``python -m qsim`` runs the command line, like the ``qsim`` console script."""

from qsim.present.cli import app

app()
