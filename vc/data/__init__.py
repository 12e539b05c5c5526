"""Kaldi data dirs and the corpus preparers that create them."""
from vc.data.datadir import DataDir
from vc.data.tables import DataDirError, read_scp, write_scp

__all__ = ["DataDir", "DataDirError", "read_scp", "write_scp"]
