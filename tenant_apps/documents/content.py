"""What a file is, from its bytes (never its name), and images cleaned of their metadata.

Accepted: JPEG, PNG and WebP images; PDF; plain text (UTF-8, or Windows-1252 as
old Notepad writes it); Word (.docx), Excel (.xlsx) and OpenDocument text (.odt).
Everything else is refused, including HTML and scripts saved as text, macro-enabled
Office files, and anything renamed to look like an accepted type. Office and OpenDocument
files (zip archives) are also refused when their directory declares more than
``OFFICE_MAX_UNCOMPRESSED_BYTES`` in all, or a large member compressed more than
``OFFICE_MAX_COMPRESSION_RATIO`` to 1 (a decompression bomb), or when they hold more than
``OFFICE_MAX_MEMBERS`` entries (counted from the end-of-directory record, before the directory
itself is read).
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError, features

ACCEPTED_DESCRIPTION = (
    "JPEG, PNG or WebP images, PDF, plain text, Word (.docx), Excel (.xlsx) or OpenDocument text (.odt)"
)


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str  # with the dot; the stored key's and the download name's
    label: str
    image_format: str | None = None  # Pillow's format name, for images

    @property
    def is_image(self) -> bool:
        return self.image_format is not None


JPEG = Kind("image/jpeg", ".jpg", "JPEG image", "JPEG")
PNG = Kind("image/png", ".png", "PNG image", "PNG")
WEBP = Kind("image/webp", ".webp", "WebP image", "WEBP")
PDF = Kind("application/pdf", ".pdf", "PDF document")
TEXT_UTF8 = Kind("text/plain; charset=utf-8", ".txt", "text file")
TEXT_1252 = Kind("text/plain; charset=windows-1252", ".txt", "text file")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", "Word document")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", "Excel spreadsheet")
ODT = Kind("application/vnd.oasis.opendocument.text", ".odt", "OpenDocument text")

# Extensions a kind's files are known by: a download keeps the uploader's extension only if
# it is one of these, so a text file uploaded as "photo.jpg" downloads as "photo.txt".
KNOWN_EXTENSIONS = {
    JPEG: {".jpg", ".jpeg", ".jpe", ".jfif"},
    PNG: {".png"},
    WEBP: {".webp"},
    PDF: {".pdf"},
    TEXT_UTF8: {".txt", ".text", ".log", ".csv"},
    TEXT_1252: {".txt", ".text", ".log", ".csv"},
    DOCX: {".docx"},
    XLSX: {".xlsx"},
    ODT: {".odt"},
}

# The WHATWG MIME sniffing patterns for HTML, plus XML (SVG is XML and can carry script).
_MARKUP_START = re.compile(
    rb"^<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--|\?xml|svg)"
    rb"(?:[\s>/]|$)",
    re.IGNORECASE,
)
_MARKUP_ANYWHERE = re.compile(rb"<\s*(?:script|iframe|svg|object|embed)\b|javascript:", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _not_accepted() -> ValidationError:
    return refuse(f"This type of file is not accepted. Upload {ACCEPTED_DESCRIPTION}.")


def sniff(data: bytes) -> Kind:
    """The kind of ``data`` from its content; ``ValidationError`` naming the field if not accepted."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        if not features.check("webp"):
            raise _not_accepted()
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return _text(data)


# Office files are zip archives: bounds on what they declare they expand to, checked from the
# archive's directory before anything is decompressed (here, or by the malware scanner).
OFFICE_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # all members together: 4 times the upload limit
OFFICE_MAX_COMPRESSION_RATIO = 100  # uncompressed : compressed, of any one member...
OFFICE_RATIO_APPLIES_FROM_BYTES = 1024 * 1024  # ...that expands to at least this (small XML parts may exceed it)
OFFICE_MAX_MEMBERS = 10_000  # entries in the archive: real documents hold tens to hundreds
# The directory's size in bytes, bounded too: zipfile reads entries until the declared size is used
# up, whatever the count says, so a lying count alone would not bound the work. 512 bytes an entry
# on average is room for names of over 400 characters (an entry's fixed part is 46 bytes).
OFFICE_MAX_DIRECTORY_BYTES = OFFICE_MAX_MEMBERS * 512

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory: signature, disks, counts, size, offset, comment
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # ...its count (8 bytes) at index 7, the directory's size at 8
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"


def _too_many_members() -> ValidationError:
    return refuse(
        f"This Office file holds more than {OFFICE_MAX_MEMBERS:,} parts, as no ordinary document does, "
        "so it is not accepted."
    )


def _office_directory_declared(data: bytes) -> tuple[int, int] | None:
    """The entry count and directory size the archive's end record declares (zip64 too), found as
    zipfile finds it (the last signature within a comment's reach of the end); None without one."""
    start = data.rfind(_EOCD_SIGNATURE, max(0, len(data) - _EOCD.size - 0xFFFF))
    if start < 0 or len(data) - start < _EOCD.size:
        return None
    _, _, _, _, count, size, _, _ = _EOCD.unpack_from(data, start)
    if count == 0xFFFF or size == 0xFFFFFFFF:  # the real values are in the zip64 record before it
        locator, record = start - _ZIP64_LOCATOR.size, start - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
        if record >= 0 and _ZIP64_LOCATOR.unpack_from(data, locator)[0] == _ZIP64_LOCATOR_SIGNATURE:
            fields = _ZIP64_EOCD.unpack_from(data, record)
            if fields[0] == _ZIP64_EOCD_SIGNATURE:
                count, size = fields[7], fields[8]
    return count, size


def _office_directory_bounds(data: bytes) -> None:
    """Refuse an archive whose end record declares too many entries (or too large a directory
    to hold only that many), before zipfile reads the directory into memory."""
    declared = _office_directory_declared(data)
    if declared is not None and (declared[0] > OFFICE_MAX_MEMBERS or declared[1] > OFFICE_MAX_DIRECTORY_BYTES):
        raise _too_many_members()


def _office_bounds(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive whose declared sizes say it is a decompression bomb, or that holds more
    entries than its end record declared (its directory's size was bounded before it was read)."""
    if len(infos) > OFFICE_MAX_MEMBERS:
        raise _too_many_members()
    if sum(info.file_size for info in infos) > OFFICE_MAX_UNCOMPRESSED_BYTES:
        raise refuse(
            f"This Office file would expand to more than {OFFICE_MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB "
            "when opened, so it is not accepted. Save it in smaller files and upload those."
        )
    for info in infos:
        if info.file_size >= OFFICE_RATIO_APPLIES_FROM_BYTES and (
            info.file_size > OFFICE_MAX_COMPRESSION_RATIO * info.compress_size
        ):
            raise refuse(
                f"This Office file holds a part compressed more than {OFFICE_MAX_COMPRESSION_RATIO} to 1, "
                "as no ordinary document is, so it is not accepted."
            )


def _office(data: bytes) -> Kind:
    _office_directory_bounds(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _office_bounds(infos)
            names = {info.filename for info in infos}
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise refuse("Office files with macros are not accepted. Save it without macros and upload it again.")
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
            if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                return XLSX
            first = infos[0] if infos else None
            if (
                first is not None
                and first.filename == "mimetype"
                and first.file_size <= 100
                and archive.read(first).strip() == _ODT_MIMETYPE
            ):
                return ODT
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        pass
    raise _not_accepted()


def _text(data: bytes) -> Kind:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    kind = TEXT_UTF8
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text, kind = body.decode("cp1252"), TEXT_1252
        except UnicodeDecodeError:
            raise _not_accepted() from None
    if _CONTROL.search(text):
        raise _not_accepted()  # binary data, not text
    head = body.lstrip(b" \t\r\n\x0c")[:4096]
    if _MARKUP_START.match(head) or _MARKUP_ANYWHERE.search(body[:65536]):
        raise refuse("Web pages, scripts and markup are not accepted. Save it as PDF or plain text instead.")
    return kind


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int


def image_reencode(data: bytes, kind: Kind, *, max_pixels: int) -> CleanImage:
    """Decode and re-encode an image: orientation applied, every metadata block dropped.

    EXIF (GPS location, camera serial numbers), XMP, ICC profiles, comments and
    text chunks are not copied: only pixels reach storage. Images over
    ``max_pixels`` (or Pillow's own ``Image.MAX_IMAGE_PIXELS``) are refused before
    they are decoded. Animated images keep their first frame.
    """
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    too_big = refuse(f"This image is too large: the limit is {limit // 1_000_000} megapixels. Resize it and try again.")
    unreadable = refuse(f"This file could not be read as a {kind.label}. It may be damaged.")
    try:
        with Image.open(io.BytesIO(data), formats=[kind.image_format]) as opened:
            if opened.width * opened.height > limit:
                raise too_big
            opened.load()
            image = ImageOps.exif_transpose(opened)  # a copy, turned the way the camera meant
    except Image.DecompressionBombError:
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise unreadable from None

    if kind is JPEG:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options = {"quality": 90}
    elif kind is PNG:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        options = {"optimize": False}
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        options = {"quality": 90}
    image.info = {}  # exif, icc_profile, xmp, comment, dpi, text chunks: none is carried over
    out = io.BytesIO()
    image.save(out, format=kind.image_format, **options)
    return CleanImage(data=out.getvalue(), width=image.width, height=image.height)


THUMBNAIL_LONG_SIDE = 160  # pixels: a thumbnail on the timeline


def thumbnail_size(width: int | None, height: int | None, *, long_side: int = THUMBNAIL_LONG_SIDE) -> tuple[int, int]:
    """The size of an image's thumbnail: its long side ``long_side`` (never enlarged), the other in
    proportion, at least 1. What the ``<img>`` reserves and what ``image_thumbnail`` makes."""
    width, height = max(int(width or long_side), 1), max(int(height or long_side), 1)
    scale = min(1.0, long_side / max(width, height))
    return max(round(width * scale), 1), max(round(height * scale), 1)


def image_thumbnail(data: bytes, *, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes:
    """A JPEG of a stored image (already cleaned by ``image_reencode``: no metadata, turned upright),
    ``thumbnail_size`` big. Transparency is laid on white. ``ValueError`` if it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"]) as opened:
            opened.draft("RGB", (long_side * 2, long_side * 2))  # JPEG: decode at a fraction of its size
            image = opened.convert("RGBA") if opened.mode in ("RGBA", "LA", "P", "PA") else opened.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError("not a readable image") from exc
    size = thumbnail_size(image.width, image.height, long_side=long_side)
    image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()


def filename_sanitise(name: str, *, max_length: int = 200) -> str:
    """A display name from what the uploader sent: no path, no control or odd characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch if (ch.isalnum() or ch in " ._-()[],+&'") else "_" for ch in name)
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"_+", "_", name).strip(" .")
    if not name:
        return "document"
    if len(name) > max_length:
        path = PurePosixPath(name)
        suffix = path.suffix[:16]
        name = path.stem[: max_length - len(suffix)] + suffix
    return name


def download_filename(original: str, kind_content_type: str) -> str:
    """The name a download is saved as: the uploader's, with an extension that matches the content."""
    kind = next((k for k in KNOWN_EXTENSIONS if k.content_type == kind_content_type), None)
    if kind is None:
        return original
    path = PurePosixPath(original)
    if path.suffix.lower() in KNOWN_EXTENSIONS[kind]:
        return original
    return f"{path.stem if path.suffix else original}{kind.extension}"
