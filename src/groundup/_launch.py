"""What ``mpiexec`` told this process: how many processes it started, which one this is, and
how many share this machine, read from the launcher's environment.

No MPI and no NumPy are imported, so the ``groundup`` command can ask before NumPy loads
(its BLAS reads its thread count then), and a single process never imports mpi4py.
MPICH, Intel MPI and Slurm set ``PMI_SIZE`` / ``PMI_RANK``; Open MPI sets
``OMPI_COMM_WORLD_SIZE`` / ``OMPI_COMM_WORLD_RANK``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def _first_int(environ: Mapping[str, str], names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = environ.get(name, "")
        if value.isdigit():
            return int(value)
    return default


def launched_size(environ: Mapping[str, str] = os.environ) -> int:
    """How many processes ``mpiexec`` started; 1 outside it."""
    return max(1, _first_int(environ, ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"), 1))


def launched_rank(environ: Mapping[str, str] = os.environ) -> int:
    """This process's rank; 0 outside ``mpiexec``."""
    return _first_int(environ, ("PMI_RANK", "OMPI_COMM_WORLD_RANK"), 0)


def local_size(environ: Mapping[str, str] = os.environ) -> int:
    """How many of the processes run on this machine; 1 outside ``mpiexec``."""
    return max(1, _first_int(environ, ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"), 1))
