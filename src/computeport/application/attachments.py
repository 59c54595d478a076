"""Attachment storage: content-addressed files under ``Settings.attachments_dir``.

Files are keyed by their SHA-256 (``ab/cd/abcd…``), so identical uploads share one file and the
checksum is the integrity check.  Nothing is half-written: the bytes go to a temporary file in
the same directory tree, the row is flushed, and only then is the file renamed into place
(an atomic rename on one filesystem).  If the transaction later rolls back, the blob left behind
is unreferenced but whole, and a later identical upload reuses it.

Only an allow-list of types is accepted, and the first bytes must match the declared type, so a
renamed executable is refused as well as an unknown content type.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from computeport.application.errors import AttachmentTooLarge, UnsupportedAttachmentType
from computeport.kit.errors import ValidationFailed

_ZIP = b"PK\x03\x04"


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed head is still text.
        return exc.start >= len(head) - 3 and b"\x00" not in head
    return b"\x00" not in head


ALLOWED_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "application/pdf": ("pdf", lambda h: h.startswith(b"%PDF-")),
    "image/png": ("png", lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": ("jpeg", lambda h: h.startswith(b"\xff\xd8\xff")),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "xlsx",
        lambda h: h.startswith(_ZIP),
    ),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "docx",
        lambda h: h.startswith(_ZIP),
    ),
    "text/csv": ("csv", _is_text),
}
"""Content type → (short name, check of the first bytes)."""

CHUNK = 1024 * 1024
SNIFF = 512


@dataclass(frozen=True)
class StagedFile:
    """Bytes written to a temporary file, checked and hashed, not yet in place."""

    temp_path: Path
    final_path: Path
    storage_key: str
    sha256: str
    size_bytes: int
    content_type: str


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def stage(root: Path, stream: BinaryIO, content_type: str, max_bytes: int) -> StagedFile:
    """Check type and size while copying ``stream`` to a temporary file; hash as we go."""
    media = _media_type(content_type)
    if media not in ALLOWED_TYPES:
        allowed = ", ".join(v[0] for v in ALLOWED_TYPES.values())
        raise UnsupportedAttachmentType(
            f"file: content type {media or 'missing'!r} is not accepted (allowed: {allowed})",
            field="file",
        )
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    temp_path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentTooLarge(
                        f"file: larger than the limit of {max_bytes:,} bytes", field="file"
                    )
                if len(head) < SNIFF:
                    head += chunk[: SNIFF - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ValidationFailed("file: is empty", field="file")
        short, matches = ALLOWED_TYPES[media]
        if not matches(head):
            raise ValidationFailed(
                f"file: the content is not a {short} file (it does not start like one)",
                field="file",
            )
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    sha = digest.hexdigest()
    key = f"{sha[:2]}/{sha[2:4]}/{sha}"
    return StagedFile(temp_path, root / key, key, sha, size, media)


def commit(staged: StagedFile) -> None:
    """Move the staged file into place (after the row was flushed)."""
    staged.final_path.parent.mkdir(parents=True, exist_ok=True)
    if staged.final_path.exists():
        staged.temp_path.unlink(missing_ok=True)  # same content already stored
        return
    os.replace(staged.temp_path, staged.final_path)


def discard(staged: StagedFile) -> None:
    with contextlib.suppress(FileNotFoundError):
        staged.temp_path.unlink()


def open_stored(root: Path, storage_key: str) -> Path:
    """The stored file's path (the key is ours, never user input)."""
    return root / storage_key
