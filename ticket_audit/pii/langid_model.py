"""py3langid's model, read fast: a process start pays for it (issue 19, item 7).

The wheel ships the model as 68 MB of arrays in an xz-compressed npz; decompressing it is
0.35 s of a core each time a process starts. The arrays are therefore kept decompressed in
the user's cache directory (`platformdirs`), one `.npy` file each, in a directory named
after the model file's content, and read from there (memory-mapped: a few milliseconds) by every later
process. The copy is written once, by the first process that needs it, under a temporary
name and renamed into place, so a reader never sees half of it; where it cannot be written
or read, the model is read from the wheel as before.
"""

from __future__ import annotations

import hashlib
import io
import logging
import lzma
import os
import shutil
import tempfile
from array import array
from pathlib import Path

import numpy as np
import platformdirs
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

# The arrays of py3langid's npz layout (`py3langid.modelio.load_model`).
ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
log = logging.getLogger(__name__)


def _stdlib_array(values: np.ndarray) -> array:
    """The unsigned integers as the stdlib array py3langid's DFA walk indexes (faster per
    item than a numpy array); what its private `modelio._to_array` does, not imported."""
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


def _identifier(arrays: dict[str, np.ndarray]) -> LanguageIdentifier:
    """The identifier `LanguageIdentifier.from_model_file` builds from these arrays."""
    return LanguageIdentifier(
        np.asarray(arrays["ptc"]),
        np.asarray(arrays["pc"]),
        arrays["classes"].tolist(),
        _stdlib_array(arrays["nextmove"]),
        arrays["out_feat"].tolist(),
        norm_probs=True,
        tk_row=_stdlib_array(arrays["nextmove_row"]),
    )


def cache_dir(source: Path = MODEL_DIR / MODEL_FILE) -> Path:
    """Where the decompressed copy of `source` is kept, named after its content (5 ms to
    hash): every installation of the same model shares one copy, and another model gets
    its own. (Named after the file's time, each new virtual environment left 66 MB behind.)"""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("ticket-audit")) / f"py3langid-{digest}"


def _decompressed(source: Path) -> dict[str, np.ndarray]:
    """The arrays from the wheel's file, decompressed in one call rather than in 1 MB pieces
    (py3langid's loader): the decompression releases the GIL, and each piece had to take it
    back from the spaCy model loading beside it (0.72 -> 0.50 s on a thread)."""
    raw = lzma.decompress(source.read_bytes())
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        return {name: data[name] for name in ARRAYS}


def _keep(arrays: dict[str, np.ndarray], where: Path) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{where.name}.", dir=where.parent))
    try:
        for name, values in arrays.items():
            np.save(tmp / f"{name}.npy", values, allow_pickle=False)
        os.rename(tmp, where)  # whole or not at all; another process may have won
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _kept(where: Path) -> dict[str, np.ndarray]:
    return {
        name: np.load(where / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS
    }


def read_model(source: Path = MODEL_DIR / MODEL_FILE) -> LanguageIdentifier:
    """py3langid's identifier over all its languages, from the decompressed copy when there
    is one, else from `source` (keeping a copy for the next process)."""
    try:
        where = cache_dir(source)
    except OSError:  # no model file where py3langid says: its own loader will say so
        return LanguageIdentifier.from_model_file(source, norm_probs=True)
    if where.is_dir():
        try:
            return _identifier(_kept(where))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("py3langid copy in %s unreadable (%s); reading the wheel's", where, exc)
    try:
        arrays = _decompressed(source)
    except (KeyError, ValueError):  # a py3langid whose model is laid out otherwise
        return LanguageIdentifier.from_model_file(source, norm_probs=True)
    try:
        _keep(arrays, where)
    except OSError as exc:  # a read-only home: every process decompresses
        log.debug("py3langid copy not kept in %s (%s)", where, exc)
    return _identifier(arrays)
