"""Weights files whose .npy headers claim shapes their data does not hold (tests of the header limits)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np


def npz_claiming(path: Path, members: dict) -> None:
    """A .npz whose members' headers claim these {name: shape}, with 64 bytes of data each."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, shape in members.items():
            member = io.BytesIO()
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
            archive.writestr(name + ".npy", member.getvalue() + b"\0" * 64)
