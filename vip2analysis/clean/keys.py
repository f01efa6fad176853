"""The pseudonymisation key: where it comes from, and which keys are refused."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from vip2analysis.config import PACKAGE_DIR
from vip2analysis.contract.cpr import DEMO_KEY, MAX_KEY_BYTES, MIN_KEY_BYTES
from vip2analysis.errors import KeyMissingError

__all__ = [
    "resolve_key",
]


KEY_ENV = "VIP2_PSEUDONYM_KEY"


KEY_FILE_ENV = "VIP2_PSEUDONYM_KEY_FILE"


_NO_KEY_MESSAGE = (
    f"No pseudonymisation key. Set {KEY_ENV} or {KEY_FILE_ENV}, or pass --key-file PATH "
    "(a file outside the repository). Only the bundled synthetic data may use the public "
    "demo key."
)


def resolve_key(
    *,
    key_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    allow_demo: bool = False,
) -> bytes:
    """Find the pseudonymisation key.

    Tried in order: ``key_file``; the environment variable
    ``VIP2_PSEUDONYM_KEY`` (the key itself, as text); the environment
    variable ``VIP2_PSEUDONYM_KEY_FILE`` (a path); :data:`DEMO_KEY` if
    ``allow_demo``. A key file must exist, be non-empty (a trailing newline
    is dropped) and must not lie inside the installed package directory.
    The public demo key is refused unless ``allow_demo``, however supplied.

    Parameters
    ----------
    key_file : str or os.PathLike, optional
        A file holding the key.
    env : Mapping, optional
        The environment to read; ``os.environ`` if None.
    allow_demo : bool, default False
        Fall back to the public demo key (for the bundled synthetic data only).

    Returns
    -------
    bytes
        The key, 16 to 64 bytes.

    Raises
    ------
    KeyMissingError
        If no usable key is found; the message says how to supply one.

    Examples
    --------
    >>> resolve_key(env={"VIP2_PSEUDONYM_KEY": "a long secret of 28 bytes..."})
    b'a long secret of 28 bytes...'
    >>> resolve_key(env={}, allow_demo=True) == DEMO_KEY
    True
    >>> resolve_key(env={})
    Traceback (most recent call last):
    ...
    vip2analysis.errors.KeyMissingError: No pseudonymisation key. Set VIP2_PSEUDONYM_KEY ...
    """
    env = os.environ if env is None else env
    if key_file is not None:
        key, source = _read_key_file(key_file), "key_file"
    elif KEY_ENV in env:
        key, source = _checked_key(env[KEY_ENV].rstrip("\r\n").encode(), KEY_ENV), KEY_ENV
    elif KEY_FILE_ENV in env:
        key, source = _read_key_file(env[KEY_FILE_ENV]), KEY_FILE_ENV
    elif allow_demo:
        return DEMO_KEY
    else:
        raise KeyMissingError(_NO_KEY_MESSAGE)
    return _refuse_demo(key, allow_demo=allow_demo, source=source)


def _read_key_file(path: str | os.PathLike[str]) -> bytes:
    resolved = Path(path).expanduser().resolve()
    if resolved.is_relative_to(PACKAGE_DIR):
        raise KeyMissingError(
            f"Refusing key file {resolved}: it lies inside the package directory "
            f"{PACKAGE_DIR}. Keep the key in a file outside the repository."
        )
    if not resolved.is_file():
        raise KeyMissingError(f"Key file {resolved} does not exist or is not a file.")
    return _checked_key(resolved.read_bytes().rstrip(b"\r\n"), f"key file {resolved}")


def _checked_key(key: bytes, source: str) -> bytes:
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise KeyMissingError(
            f"The key from {source} is {len(key)} bytes; it must be {MIN_KEY_BYTES} to "
            f'{MAX_KEY_BYTES} (a random key: `python -c "import secrets; '
            f'print(secrets.token_hex(32))" > key.txt`).'
        )
    return key


def _refuse_demo(key: bytes, *, allow_demo: bool, source: str) -> bytes:
    if key == DEMO_KEY and not allow_demo:
        raise KeyMissingError(
            f"The key from {source} is the public demo key. Only the bundled synthetic data "
            "may use it; supply a secret key for real data."
        )
    return key
