"""Files of the materials library, stored outside the database in one folder (NETTVERK_MATERIALS_DIR).

- The type is read from the content, never from the name: PDF, PNG and JPEG by their signature
  (the `filetype` library); OOXML (DOCX, XLSX, PPTX) and ODF (ODT, ODS, ODP) are zip files whose
  members are checked: [Content_Types].xml must give the main part exactly the document's content type,
  or the ODF `mimetype` member must name the type.
- Content that acts on its own is refused (check_content): macros and ActiveX in office files (vbaProject,
  macro-enabled content types, ODF Basic/Scripts), PDFs with JavaScript, launch, form-submit or
  automatic actions, embedded files or rich media (read with pypdf, which decodes object streams,
  every filter and #-escaped names as a viewer does; encrypted PDFs cannot be checked and are refused),
  and polyglots: an allowed file whose first KB also holds HTML or SVG a browser would run.
- A zip is bounded before anything in it is read (members, total unpacked size and packing ratio from the
  central directory) and while reading (at most MAX_MEMBER bytes of a member are ever decompressed):
  a zip bomb costs nothing and is refused, as readers of the file would unpack it.
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
import pypdf
from flask import current_app
from sqlalchemy import event
from sqlmodel import Session

from nettverk.errors import OperationError

CHUNK = 64 * 1024
HEAD = 8192
MAX_MEMBER = 1024 * 1024  # [Content_Types].xml larger than this is not a real office document
# What a zip may unpack to: Word or LibreOffice on a reader's machine unpacks it all. Office XML packs
# about 10:1 and images not at all, so real documents stay far inside these bounds.
MAX_ZIP_MEMBERS = 10_000
MAX_UNPACKED = 256 * 1024 * 1024
MAX_RATIO = 100  # unpacked/packed, for members over MAX_MEMBER
MAX_PDF_OBJECTS = 200_000  # a 50 MB PDF of real pages has far fewer; bounds the time a check takes
SNIFF = 1024  # the head a browser sniffs for HTML (WHATWG mimesniff reads a little more, old IE less)


@dataclass(frozen=True)
class FileKind:
    key: str
    label: str
    mimetype: str
    extensions: tuple[str, ...]  # the first is the one a download gets


KINDS = {
    kind.key: kind
    for kind in (
        FileKind("pdf", "PDF", "application/pdf", (".pdf",)),
        FileKind(
            "docx",
            "Word-dokument",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
        ),
        FileKind(
            "pptx",
            "PowerPoint-presentasjon",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            (".pptx",),
        ),
        FileKind(
            "xlsx", "Excel-regneark", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
        ),
        FileKind("odt", "OpenDocument-tekst", "application/vnd.oasis.opendocument.text", (".odt",)),
        FileKind("odp", "OpenDocument-presentasjon", "application/vnd.oasis.opendocument.presentation", (".odp",)),
        FileKind("ods", "OpenDocument-regneark", "application/vnd.oasis.opendocument.spreadsheet", (".ods",)),
        FileKind("png", "PNG-bilde", "image/png", (".png",)),
        FileKind("jpeg", "JPEG-bilde", "image/jpeg", (".jpg", ".jpeg")),
    )
}
ALLOWED_TEXT = "PDF, Word (DOCX), PowerPoint (PPTX), Excel (XLSX), OpenDocument (ODT, ODP, ODS), PNG og JPEG"
ACCEPT = ",".join(ext for kind in KINDS.values() for ext in kind.extensions)

_SIGNATURES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg"}
# OOXML: the part that makes the package a document of that kind, and its exact main content type.
_OOXML = {
    "docx": ("word/document.xml", b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
_ODF = {KINDS[key].mimetype.encode(): key for key in ("odt", "odp", "ods")}

REFUSED_TYPE = f"Filtypen er ikke tillatt. Last opp {ALLOWED_TEXT}. Typen leses fra innholdet i filen, ikke navnet."
ZIP_BOMB = (
    "Filen pakker seg ut til langt mer enn den er stor, eller har for mange deler, og tas ikke imot. Lagre "
    "dokumentet på nytt og prøv igjen."
)
MACROS = (
    "Dokumentet inneholder makroer eller ActiveX-kontroller, og slike filer tas ikke imot. Lagre det som et "
    "vanlig dokument uten makroer (for eksempel .docx) og prøv igjen."
)
ACTIVE_PDF = (
    "PDF-filen inneholder skript (JavaScript), automatiske handlinger, skjemainnsending, innebygde filer "
    "eller multimedia, og slike filer tas ikke imot. Skriv dokumentet ut som en ny PDF og prøv igjen."
)
ENCRYPTED_PDF = (
    "PDF-filen er kryptert eller passordbeskyttet, så innholdet kan ikke kontrolleres. Last opp en PDF uten passord."
)
BROKEN_PDF = "PDF-filen er skadet og kan ikke kontrolleres. Lagre den på nytt som PDF og prøv igjen."
POLYGLOT = (
    "Filen inneholder også nettsidekode (HTML, skript eller SVG), og slike filer tas ikke imot. Lagre "
    "dokumentet på nytt og prøv igjen."
)


@dataclass
class StoredFile:
    stored_name: str
    original_name: str  # sanitised, with the extension of the detected type
    kind: FileKind
    size: int
    sha256: str


# Types --------------------------------------------------------------------------------------------


def detect(path: Path) -> FileKind | None:
    """The allowed type of the file at `path` from its content, or None; OperationError for a zip bomb
    or an office file with macros."""
    with open(path, "rb") as f:
        head = f.read(HEAD)
    guess = filetype.guess(head)
    if guess is not None and guess.mime in _SIGNATURES:
        return KINDS[_SIGNATURES[guess.mime]]
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    return None


def _refuse(message: str, status: int = 422) -> OperationError:
    return OperationError(message, "file", status)


def _zip_kind(path: Path) -> FileKind | None:
    """The OOXML or ODF type of a zip, None if it is neither; OperationError for a zip bomb or macros."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_bounds(infos)
            members = {info.filename: info for info in infos}
            if len({name.lower() for name in members}) != len(infos):
                return None  # the same name twice: readers differ in which one they take
            mimetype = members.get("mimetype")
            if mimetype is not None and "content.xml" in members:
                if any(name.startswith(("Basic/", "Scripts/")) for name in members):
                    raise _refuse(MACROS)
                return KINDS.get(_ODF.get(_read(archive, mimetype).strip(), ""))
            types = members.get("[Content_Types].xml")
            if types is None:
                return None
            content_types = _read(archive, types)
            if _has_macros(members, content_types):
                raise _refuse(MACROS)
            overrides = _overrides(content_types)
            for key, (part, main_type) in _OOXML.items():
                if part in members and overrides.get("/" + part) == main_type.decode():
                    return KINDS[key]
    except (
        zipfile.BadZipFile,
        OSError,
        RuntimeError,
        NotImplementedError,
        KeyError,
        ValueError,
        UnicodeDecodeError,
        EOFError,
    ):
        # Refused: damaged or encrypted archives, and compression methods zipfile cannot read (it raises
        # NotImplementedError for those).
        return None
    return None


def _check_bounds(infos: list[zipfile.ZipInfo]) -> None:
    """From the central directory alone, before anything is unpacked."""
    if len(infos) > MAX_ZIP_MEMBERS or sum(info.file_size for info in infos) > MAX_UNPACKED:
        raise _refuse(ZIP_BOMB)
    if any(info.file_size > MAX_MEMBER and info.file_size > MAX_RATIO * max(info.compress_size, 1) for info in infos):
        raise _refuse(ZIP_BOMB)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A small member, never more than MAX_MEMBER bytes unpacked, whatever its directory entry claims."""
    if info.file_size > MAX_MEMBER:
        raise ValueError("member too large")
    with archive.open(info) as member:
        data = member.read(MAX_MEMBER + 1)
    if len(data) > MAX_MEMBER:
        raise ValueError("member too large")
    return data


_MACRO_PART = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml|activeX/)", re.IGNORECASE)
_MACRO_TYPE = re.compile(rb"macroEnabled|vbaProject|vbaData|activeX", re.IGNORECASE)


def _has_macros(members: dict, content_types: bytes) -> bool:
    return bool(_MACRO_TYPE.search(content_types) or any(_MACRO_PART.search(name) for name in members))


_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""(\w+)\s*=\s*(["'])(.*?)\2""", re.DOTALL)


def _overrides(content_types: bytes) -> dict[str, str]:
    """Part name (lower case, OPC names are case-insensitive) -> its declared content type, exactly."""
    result = {}
    for element in _OVERRIDE.finditer(content_types):
        attributes = {
            name.decode(): value.decode("utf-8").strip() for name, _, value in _ATTRIBUTE.findall(element.group(1))
        }
        if "PartName" in attributes and "ContentType" in attributes:
            result[attributes["PartName"].lower()] = attributes["ContentType"]
    return result


# Active content -----------------------------------------------------------------------------------

# A PDF that acts on its own or carries other files: scripts, programs to launch, forms that send data,
# automatic actions (/AA: on open, close, page view, field focus …), embedded files and rich media (Flash,
# 3D). /OpenAction alone is allowed: producers use it to open at page 1; an action it names is one of these.
_ACTIVE_PDF_NAMES = {
    "/JavaScript",
    "/JS",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/AA",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/RichMedia",
    "/XFA",
    "/GoToE",
}
# Long names checked in the raw bytes too (with #xx escapes undone), for objects a repairing viewer might
# find that are not in the cross-reference table; short names would match random image bytes.
_ACTIVE_PDF_RAW = {"JavaScript", "Launch", "SubmitForm", "ImportData", "EmbeddedFile", "EmbeddedFiles", "RichMedia"}
_RAW_NAME = re.compile(rb"/((?:[A-Za-z]|#[0-9A-Fa-f]{2}){6,16})(?=[\s/\[\]()<>{}%]|\Z)")
_HTML = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed|style|title|meta|"
    rb"table|div|font|h1|br|!--)[\s/>]",
    re.IGNORECASE,
)


def check_content(path: Path, kind: FileKind) -> None:
    """OperationError (at the field) when a file of an allowed type carries active content or is a polyglot."""
    with open(path, "rb") as f:
        head = f.read(SNIFF)
    if _HTML.search(head):
        raise _refuse(POLYGLOT)
    if kind.key == "pdf":
        _check_pdf(path)


def _check_pdf(path: Path) -> None:
    with open(path, "rb") as f:
        raw = f.read()
    for match in _RAW_NAME.finditer(raw):
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name.decode("latin-1") in _ACTIVE_PDF_RAW:
            raise _refuse(ACTIVE_PDF)
    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted:
            raise _refuse(ENCRYPTED_PDF)
        found = _active_pdf_names(reader)
    except OperationError:
        raise
    except Exception as error:  # noqa: BLE001 - hostile input: any failure to parse it is a refusal
        raise _refuse(BROKEN_PDF) from error
    if found:
        raise _refuse(ACTIVE_PDF)


def _active_pdf_names(reader: pypdf.PdfReader) -> bool:
    """Every object the cross-reference tables name (object streams included), walked without recursion."""
    numbers = {(number, generation) for generation, table in reader.xref.items() for number in table}
    numbers |= {(number, 0) for number in reader.xref_objStm}
    if len(numbers) > MAX_PDF_OBJECTS:
        raise ValueError("too many objects")
    stack = [reader.trailer]
    stack += [reader.get_object(pypdf.generic.IndirectObject(n, g, reader)) for n, g in sorted(numbers)]
    while stack:
        item = stack.pop()
        if isinstance(item, pypdf.generic.DictionaryObject):
            if _ACTIVE_PDF_NAMES & set(item):
                return True
            stack.extend(item.values())
        elif isinstance(item, pypdf.generic.ArrayObject):
            stack.extend(item)
        elif isinstance(item, pypdf.generic.NameObject) and item in _ACTIVE_PDF_NAMES:
            return True
    return False


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
        raise OperationError(
            f"Filen heter «{extension}», men innholdet er {kind.label} "
            f"({kind.extensions[0]}). Gi filen riktig navn og prøv igjen.",
            "file",
            422,
        )


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
                    raise OperationError(
                        f"Filen er for stor. Største tillatte størrelse er {limit_text()}.", "file", 413
                    )
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
        check_content(temporary, kind)
        stored_name = f"{secrets.token_hex(16)}{kind.extensions[0]}"
        final = path_of(stored_name)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    session.info.setdefault("materials_new_files", []).append(final)
    return StoredFile(
        stored_name=stored_name,
        original_name=sanitise_name(original_name, kind),
        kind=kind,
        size=size,
        sha256=digest.hexdigest(),
    )


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
