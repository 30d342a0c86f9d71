"""The installation's secret keys: one for signing tokens, one for keying pseudonyms.

Each key is 32 random bytes (64 hex characters) in its own file under ``<data_dir>/sleutels/``:
``token.key`` signs access tokens and the web UI's CSRF tokens; ``pseudoniem.key`` keys the
pseudonyms an accountmanager or data scientist sees (:func:`api.services.tokens.pseudonym`). They are kept
apart so that a leaked token key cannot reverse a pseudonym, and rotating one leaves the other be.

* **Created on first need** (the first login, the first list with pseudonyms, or the start of a
  production service), never at import. The directory is ``0700``, each file ``0600``; a file is
  written to a temporary file, fsynced and linked into place, so two processes that start at once
  agree on one key (the second finds the first's file) and a crash leaves no half key.
* **Read on every use, cached per file version** (inode and mtime): ``werkmatch sleutels roteren``
  in another process takes effect in a running service at its next request, without a restart.
* **Rotation** (:func:`rotate`) writes a new random key over the old one (``os.replace``). A new
  token key logs everybody out (every token's signature fails); a new pseudonym key changes every
  pseudonym, so earlier exports can no longer be joined with new ones.

``WERKMATCH_AUTH__SECRET_KEY`` and ``WERKMATCH_AUTH__PSEUDONYM_KEY`` override the files when set (a
deployment with several hosts must share its keys that way); :mod:`api.security` checks them.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import stat
import uuid
from pathlib import Path

from matching.errors import InvalidInputError
from matching.settings import Settings

logger = logging.getLogger(__name__)

KEY_DIR = "sleutels"
TOKEN_KEY = "token.key"
PSEUDONYM_KEY = "pseudoniem.key"
KEY_BYTES = 32  # HS256 and HMAC-SHA256: as long as the hash output (RFC 7518 §3.2)


def key_dir(settings: Settings) -> Path:
    """Where the key files live: ``<data_dir>/sleutels``."""
    return Path(settings.data_dir) / KEY_DIR


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        directory.chmod(0o700)  # mkdir's mode is masked by the umask; an existing one may be wider


def _write(path: Path, replace: bool) -> None:
    """A fresh random key at ``path``: temp file (0600), fsync, then link (first writer wins) or replace."""
    _ensure_dir(path.parent)
    temp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)  # fails when another process created the key first: theirs stays
            except FileExistsError:
                pass
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


@functools.lru_cache(maxsize=16)
def _read(path: str, _inode: int, _mtime_ns: int, _size: int) -> str:
    """The key in ``path``; cached per file version, so a rotated file is read again."""
    return Path(path).read_text(encoding="ascii").strip()


def file_key(settings: Settings, name: str) -> str:
    """The key in ``<data_dir>/sleutels/<name>``, created (random, 0600) when it does not exist yet.

    Args:
        settings: ``data_dir`` and ``environment``.
        name: :data:`TOKEN_KEY` or :data:`PSEUDONYM_KEY`.

    Returns:
        The key, 64 hex characters.

    Raises:
        InvalidInputError: In Dutch, when the file is unreadable, too short, or (in production)
            readable by others than the service's own user.
    """
    path = key_dir(settings) / name
    try:
        info = path.stat()
    except FileNotFoundError:
        _write(path, replace=False)
        logger.warning("created a new random key %s (mode 0600)", path)
        info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        message = (
            f"het sleutelbestand {path} is leesbaar voor anderen; maak het alleen voor de service leesbaar "
            f"met: chmod 600 {path}"
        )
        if settings.environment == "production":
            raise InvalidInputError(message)
        logger.warning("key file %s is readable by group or others; chmod 600 it", path)
    try:
        key = _read(str(path), info.st_ino, info.st_mtime_ns, info.st_size)
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(
            f"het sleutelbestand {path} is niet leesbaar ({type(error).__name__}); maak een nieuwe sleutel met: "
            "werkmatch sleutels roteren"
        ) from None
    if len(key) < 2 * KEY_BYTES:
        raise InvalidInputError(
            f"het sleutelbestand {path} bevat een te korte sleutel ({len(key)} tekens); maak een nieuwe met: "
            "werkmatch sleutels roteren"
        )
    return key


def rotate(settings: Settings, token: bool = True, pseudonym: bool = True) -> list[Path]:
    """Write new random keys over the old ones.

    Args:
        settings: ``data_dir``.
        token: Rotate the token key: every issued token stops working (everybody logs in again).
        pseudonym: Rotate the pseudonym key: every pseudonym changes.

    Returns:
        The key files written.
    """
    names = ([TOKEN_KEY] if token else []) + ([PSEUDONYM_KEY] if pseudonym else [])
    written = []
    for name in names:
        path = key_dir(settings) / name
        _write(path, replace=True)
        logger.warning("rotated key %s", path)
        written.append(path)
    return written
