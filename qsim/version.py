"""The version of qsim, in a module of its own so that any floor can read it cheaply."""

__version__ = "0.3.0"
