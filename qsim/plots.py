"""``qsim.plots`` is :mod:`qsim.present.plots` (kept so that ``import qsim.plots`` and
``from qsim import plots`` go on working)."""

import sys

from qsim.present import plots

sys.modules[__name__] = plots
