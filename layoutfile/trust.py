"""Whether a reader may open the images' folder a layout file records (`params.source`).

A layout file names its images' root, and a file from elsewhere could name any folder the user can read
(`"source": "/home/me/private"`): `embed poster` would then draw those images, the gallery's hover would
point at them. So the recorded root is used only when it is trusted:

- it lies inside the layout file's own folder (symlinks resolved): a layout shared together with its
  images, or written into the images folder; or
- this user's embed recorded it: embed signs the source string it writes with a key only this user
  account holds (HMAC-SHA256 of the string; the key is `$XDG_CONFIG_HOME/tsne-gallery/source.key`, by
  default `~/.config/tsne-gallery/source.key`, 32 random bytes made on the first build, mode 0600) and
  stores the signature as `params.source_signature`; it matches.

Anything else (another user's or machine's layout, a hand-edited source, a layout written before
signatures) needs the user to name the folder: `embed poster --source DIR`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

SIGNATURE_KEY = "source_signature"   # in params, beside "source"
KEY_BYTES = 32


def key_file() -> Path:
    """Where this user's signing key is (or would be)."""
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "tsne-gallery" / "source.key"


def _read_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) == KEY_BYTES else None


def _make_key(path: Path) -> bytes | None:
    """This user's key, made if there is none (two builds at once agree on one: the first link wins)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(os.urandom(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(tmp, path)   # never replaces a key another build made meanwhile
        except FileExistsError:
            pass
    except OSError:
        pass
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return _read_key(path)


def _signature(key: bytes, source: str) -> str:
    return hmac.new(key, os.fsencode(source), hashlib.sha256).hexdigest()[:32]


def sign_source(source: str) -> str | None:
    """The signature embed records beside the source string `source`; None when no key can be read or made
    (e.g. a read-only home: readers then need --source)."""
    key = _read_key(key_file()) or _make_key(key_file())
    return None if key is None else _signature(key, source)


def trusted_source(doc: dict, layout_path: str | os.PathLike) -> Path | None:
    """The images' root of a layout read by `read_layout` (params.source, absolute) if a reader may open it
    (see the module docstring), else None."""
    params = doc.get("params", {})
    source = params.get("source")
    if not isinstance(source, str):
        return None
    folder = Path(layout_path).resolve().parent
    if Path(os.path.realpath(source)).is_relative_to(folder):
        return Path(source)
    signature, key = params.get(SIGNATURE_KEY), _read_key(key_file())
    if not isinstance(signature, str) or key is None:
        return None
    recorded = (source, Path(os.path.relpath(source, folder)).as_posix())   # absolute, or relative as embed writes
    if any(hmac.compare_digest(_signature(key, text), signature) for text in recorded):
        return Path(source)
    return None
