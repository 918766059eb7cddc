"""dancegen: one reference photo + one music file -> a dance video of that person.

Stages, with data flowing one way:
    inputs -> face (identity embedding) / music (beats) -> identity tokens / poses -> pipeline -> video -> metrics

Importing the package loads no model and downloads nothing.
"""

__version__ = "0.1.0"
