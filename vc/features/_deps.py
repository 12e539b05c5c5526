"""pyworld, imported without the warning it triggers.

pyworld 0.3.5 imports the deprecated ``pkg_resources`` (which is why setup.py keeps
setuptools < 81); the resulting UserWarning, printed by every process and worker, says nothing
a user can act on. Import pyworld from here.
"""
import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import pyworld

__all__ = ["pyworld"]
