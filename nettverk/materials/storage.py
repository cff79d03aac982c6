"""Files of the materials library, stored outside the database in one folder (NETTVERK_MATERIALS_DIR).

- The type is read from the content, never from the name: PDF, PNG and JPEG by their signature
  (the `filetype` library); OOXML (DOCX, XLSX, PPTX) and ODF (ODT, ODS, ODP) are zip files whose
  members are checked: [Content_Types].xml with the document's main content type (so macro files
  such as .docm are refused), or the ODF `mimetype` member. Nothing in a zip is decompressed except
  those small members, so a zip bomb costs nothing.
- The size limit is enforced while the upload is copied, before anything is kept.
- A file is written under a temporary name in the same folder and moved into place with os.replace,
  so workers sharing the folder (several hosts on one network share) never see half a file, and the
  stored name is random (never derived from the uploaded name).
- A stored file belongs to the database transaction that stores its row: if that transaction rolls
  back (a refused form, an error, a failed commit), the file is removed again, so a refused upload
  leaves nothing on disk. Files of deleted versions are removed only after the commit.
"""

import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from sqlalchemy import event
from sqlmodel import Session

from nettverk.errors import OperationError

CHUNK = 64 * 1024
HEAD = 8192
MAX_MEMBER = 1024 * 1024  # [Content_Types].xml larger than this is not a real office document


@dataclass(frozen=True)
class FileKind:
    key: str
    label: str
    mimetype: str
    extensions: tuple[str, ...]  # the first is the one a download gets


KINDS = {kind.key: kind for kind in (
    FileKind("pdf", "PDF", "application/pdf", (".pdf",)),
    FileKind("docx", "Word-dokument", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             (".docx",)),
    FileKind("pptx", "PowerPoint-presentasjon",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)),
    FileKind("xlsx", "Excel-regneark", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             (".xlsx",)),
    FileKind("odt", "OpenDocument-tekst", "application/vnd.oasis.opendocument.text", (".odt",)),
    FileKind("odp", "OpenDocument-presentasjon", "application/vnd.oasis.opendocument.presentation", (".odp",)),
    FileKind("ods", "OpenDocument-regneark", "application/vnd.oasis.opendocument.spreadsheet", (".ods",)),
    FileKind("png", "PNG-bilde", "image/png", (".png",)),
    FileKind("jpeg", "JPEG-bilde", "image/jpeg", (".jpg", ".jpeg")),
)}
ALLOWED_TEXT = "PDF, Word (DOCX), PowerPoint (PPTX), Excel (XLSX), OpenDocument (ODT, ODP, ODS), PNG og JPEG"
ACCEPT = ",".join(ext for kind in KINDS.values() for ext in kind.extensions)

_SIGNATURES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg"}
# OOXML: the part that makes the package a document of that kind, and its exact main content type.
_OOXML = {
    "docx": ("word/document.xml", b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}
_ODF = {KINDS[key].mimetype.encode(): key for key in ("odt", "odp", "ods")}

REFUSED_TYPE = f"Filtypen er ikke tillatt. Last opp {ALLOWED_TEXT}. Typen leses fra innholdet i filen, ikke navnet."


@dataclass
class StoredFile:
    stored_name: str
    original_name: str  # sanitised, with the extension of the detected type
    kind: FileKind
    size: int
    sha256: str


# Types --------------------------------------------------------------------------------------------

def detect(path: Path) -> FileKind | None:
    """The allowed type of the file at `path` from its content, or None."""
    with open(path, "rb") as f:
        head = f.read(HEAD)
    guess = filetype.guess(head)
    if guess is not None and guess.mime in _SIGNATURES:
        return KINDS[_SIGNATURES[guess.mime]]
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    return None


def _zip_kind(path: Path) -> FileKind | None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            mimetype = members.get("mimetype")
            if mimetype is not None and mimetype.file_size <= 100 and "content.xml" in members:
                return KINDS.get(_ODF.get(archive.read(mimetype).strip(), ""))
            types = members.get("[Content_Types].xml")
            if types is None or types.file_size > MAX_MEMBER:
                return None
            content_types = archive.read(types)
            for key, (part, main_type) in _OOXML.items():
                if part in members and main_type in content_types:
                    return KINDS[key]
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, KeyError, ValueError):
        # Refused: damaged or encrypted archives, and compression methods zipfile cannot read (it raises
        # NotImplementedError for those).
        return None
    return None


# Names --------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .()\-]+", re.UNICODE)


def sanitise_name(name: str, kind: FileKind | None = None) -> str:
    """A file name safe to show and to put in a Content-Disposition header: no folders, no control
    or shell characters, at most 120 characters, with the extension of the detected type."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = _UNSAFE.sub("_", "".join(c for c in stem if unicodedata.category(c)[0] != "C"))
    stem = re.sub(r"\s+", " ", stem).strip(" ._") or "fil"
    stem = stem[:100]
    if kind is not None:
        wanted = f".{extension.lower()}"
        return stem + (wanted if wanted in kind.extensions else kind.extensions[0])
    return stem


def _check_extension(name: str, kind: FileKind) -> None:
    """A name whose extension names another type is a lying extension: refused, not renamed."""
    base = re.split(r"[/\\]", name or "")[-1]
    if "." not in base:
        return
    extension = "." + base.rsplit(".", 1)[1].lower()
    if extension not in kind.extensions:
        raise OperationError(f"Filen heter «{extension}», men innholdet er {kind.label} "
                             f"({kind.extensions[0]}). Gi filen riktig navn og prøv igjen.", "file", 422)


# Storing ------------------------------------------------------------------------------------------

def folder() -> Path:
    return Path(current_app.config["MATERIALS_DIR"])


def path_of(stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}\.[a-z]{3,4}", stored_name):  # never a path from outside
        raise ValueError("invalid stored name")
    return folder() / stored_name[:2] / stored_name


def max_bytes() -> int:
    return int(current_app.config["MATERIALS_MAX_BYTES"])


def limit_text() -> str:
    size = max_bytes()
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} kB"


def store(session: Session, stream: BinaryIO, original_name: str) -> StoredFile:
    """Copy an upload into the library folder: at most the size limit, an allowed type, under a
    random name. Refused -> OperationError and nothing left on disk. The file is removed again if
    the session's transaction rolls back."""
    root = folder()
    root.mkdir(parents=True, exist_ok=True)
    limit = max_bytes()
    digest = hashlib.sha256()
    size = 0
    descriptor, temporary = tempfile.mkstemp(dir=root, prefix=".opplasting-", suffix=".tmp")
    temporary = Path(temporary)
    try:
        with os.fdopen(descriptor, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise OperationError(f"Filen er for stor. Største tillatte størrelse er {limit_text()}.",
                                         "file", 413)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise OperationError("Filen er tom. Velg en fil med innhold.", "file", 422)
        kind = detect(temporary)
        if kind is None:
            raise OperationError(REFUSED_TYPE, "file", 415)
        _check_extension(original_name, kind)
        stored_name = f"{secrets.token_hex(16)}{kind.extensions[0]}"
        final = path_of(stored_name)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    session.info.setdefault("materials_new_files", []).append(final)
    return StoredFile(stored_name=stored_name, original_name=sanitise_name(original_name, kind), kind=kind,
                      size=size, sha256=digest.hexdigest())


def remove_after_commit(session: Session, stored_name: str) -> None:
    """Remove a stored file once the transaction that deleted its row has committed."""
    session.info.setdefault("materials_old_files", []).append(path_of(stored_name))


@event.listens_for(Session, "after_commit")
def _kept(session):
    session.info.pop("materials_new_files", None)
    for path in session.info.pop("materials_old_files", []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _discarded(session, transaction):
    """The outermost transaction ended without a commit (after_commit took its files): remove them."""
    if transaction.parent is not None:
        return
    for path in session.info.pop("materials_new_files", []):
        path.unlink(missing_ok=True)
    session.info.pop("materials_old_files", None)
