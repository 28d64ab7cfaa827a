"""An XML file read as a stream of complete elements: the one module of producers/ that imports lxml.

The file is handed to lxml as bytes (gzip is recognised by its magic bytes, whatever the name), so
the encoding of the XML declaration is honoured: an ISO-8859-1 file reads as ISO-8859-1.  Only
the `end` events of the elements a format asks for reach Python (lxml filters the others in C);
once the caller is done with one, it is cleared and its preceding siblings are deleted, so the
tree in memory is the element being read and its ancestors, whatever the size of the file.
While it is read, the (decompressed) bytes go through a blake2b digest: the file's identity.

Error tree (every error is about the file, so none is retried: the file must change):

    FileError            the file cannot be loaded as it is
    ├── FileUnreadable   missing or unreadable: nothing starts (usage, exit 2)
    ├── FormatRefused    not a format or version we read: refused before a run starts (exit 2)
    └── ParseError       malformed XML or a corrupt gzip stream, at file:line:column; the run fails
                         after publishing every complete entity before it and stays resumable (exit 1)
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from lxml import etree

Element = etree._Element

GZIP_MAGIC = b"\x1f\x8b"
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
_PEEK_EVENTS = 20_000  # a header is a few dozen elements; past this, the file has none worth reading


class FileError(RuntimeError):
    """The file cannot be loaded as it is."""


class FileUnreadable(FileError):
    pass


class FormatRefused(FileError):
    """Not a file we read (another root, another version); the message names what is read."""


class ParseError(FileError):
    """Malformed XML: where (file, line, column: 1-based, None when unknown) and what lxml says."""

    def __init__(self, file: str, line: int | None, column: int | None, message: str) -> None:
        self.file, self.line, self.column, self.message = file, line, column, message
        where = f"line {line}, column {column}" if line is not None else "position unknown"
        super().__init__(f"{file}: {where}: {message}")


def local_name(tag: object) -> str:
    """`{ns}Item` -> `Item`; comments and processing instructions (no string tag) -> ``""``."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def text_of(elem: Element) -> str | None:
    """The element's text, stripped; None when it has none."""
    t = elem.text
    if t is None:
        return None
    t = t.strip()
    return t or None


def to_xml(elem: Element) -> str:
    """The element as XML text, without its tail (what an unknown element is kept as)."""
    return etree.tostring(elem, encoding="unicode", with_tail=False)


class _Binary(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


class _Digesting:
    """A binary stream that digests what is read through it."""

    def __init__(self, raw: _Binary) -> None:
        self._raw = raw
        self.hash = hashlib.blake2b(digest_size=16)
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.hash.update(data)
        self.bytes += len(data)
        return data


def _open(path: Path, name: str) -> tuple[IO[bytes], _Binary]:
    """(the file, its decompressed bytes)."""
    try:
        f = path.open("rb")
    except OSError as e:
        raise FileUnreadable(f"{name}: cannot open: {e.strerror or e}") from e
    magic = f.read(2)
    f.seek(0)
    if magic == GZIP_MAGIC:
        return f, gzip.GzipFile(fileobj=f, mode="rb")
    return f, f


def file_digest(path: Path, name: str | None = None) -> str:
    """blake2b-128 of the file's (decompressed) bytes: its FileID, known before it is parsed."""
    name = name or str(path)
    raw, stream = _open(path, name)
    h = hashlib.blake2b(digest_size=16)
    try:
        while chunk := stream.read(1 << 20):
            h.update(chunk)
    except (OSError, EOFError, zlib.error) as e:
        raise ParseError(name, None, None, f"cannot read the file: {e}") from e
    finally:
        stream.close()
        raw.close()
    return h.hexdigest()


@dataclass(frozen=True)
class Peek:
    """The start of a file: its root element and its Header's direct children as text."""

    root: str  # local name
    namespace: str | None
    attrib: Mapping[str, str]
    header: Mapping[str, str] | None = None  # local name -> stripped text; None: no Header up front


def peek(path: Path, name: str | None = None, header: str = "Header") -> Peek:
    """The root and the Header of a file, read without reading the rest (a few kilobytes).

    The Header is the root's child named ``header`` among its first two children (PIES 7.1 may
    put a TestFile before it)."""
    name = name or str(path)
    raw, stream = _open(path, name)
    root: Element | None = None
    head: Element | None = None
    done = False
    children = 0
    try:
        events = etree.iterparse(stream, events=("start", "end"), resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=True)
        for n, (event, elem) in enumerate(events):
            if root is None:
                root = elem
                continue
            if event == "start" and elem.getparent() is root:
                children += 1
                if head is None and local_name(elem.tag) == header:
                    head = elem
                elif children > 2:
                    break
            elif event == "end" and elem is head:
                done = True
                break
            if n > _PEEK_EVENTS:
                break
    except etree.XMLSyntaxError as e:
        raise _parse_error(name, e) from e
    except (OSError, EOFError, zlib.error) as e:
        raise ParseError(name, None, None, f"cannot read the file: {e}") from e
    finally:
        stream.close()
        raw.close()
    if root is None:
        raise ParseError(name, 1, 1, "no root element")
    qname = etree.QName(root)
    fields = None
    if head is not None and done:
        fields = {local_name(c.tag): text_of(c) or "" for c in head if local_name(c.tag)}
    return Peek(qname.localname, qname.namespace, _attrib(root), fields)


class XmlStream:
    """One pass over a file: `elements` yields the elements asked for, each complete.

    ``wanted`` maps a local name to the depths it is wanted at (1: a child of the root); an element
    of that name elsewhere is part of its ancestor and left alone.  ``dropped`` is told the local
    name of every element the stream deletes without having yielded it (a sibling of a wanted
    element, or a child of the root left at the end): how a format hears of elements it does not
    know between its entities.
    """

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = name or str(path)
        self._digest: _Digesting | None = None
        self.root_name: str | None = None
        self.root_attrib: dict[str, str] = {}

    @property
    def digest(self) -> str:
        """blake2b-128 of the bytes read so far (all of them once `elements` is exhausted)."""
        assert self._digest is not None, "digest before the file was read"
        return self._digest.hash.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._digest.bytes if self._digest is not None else 0

    def elements(self, wanted: Mapping[str, frozenset[int]],
                 dropped: Callable[[str], None] | None = None) -> Generator[Element, None, None]:
        raw, stream = _open(self.path, self.name)
        self._digest = source = _Digesting(stream)
        tags = [f"{{*}}{t}" for t in wanted]
        root: Element | None = None
        last_line: int | None = None
        try:
            events: Any = etree.iterparse(source, events=("end",), tag=tags, resolve_entities=False,
                                          no_network=True, load_dtd=False, huge_tree=True, remove_comments=True,
                                          remove_pis=True)
            for _, elem in events:
                if root is None:
                    root = elem.getroottree().getroot()
                    self.root_name = local_name(root.tag)
                    self.root_attrib = _attrib(root)
                parent = elem.getparent()
                depth = 0
                p = parent
                while p is not None:
                    depth += 1
                    p = p.getparent()
                if depth not in wanted.get(local_name(elem.tag), ()):
                    continue
                last_line = elem.sourceline
                yield elem
                # The caller is done with it: free it and everything before it at its level.
                elem.clear(keep_tail=False)
                if parent is not None:
                    while elem.getprevious() is not None:
                        if dropped is not None:
                            gone = local_name(parent[0].tag)
                            if gone and gone not in wanted:
                                dropped(gone)
                        del parent[0]
            if root is None:
                root = events.root
                if root is not None:
                    self.root_name = local_name(root.tag)
                    self.root_attrib = _attrib(root)
            if root is not None and dropped is not None:
                self._drop_rest(root, wanted, dropped)
        except etree.XMLSyntaxError as e:
            raise _parse_error(self.name, e) from e
        except (OSError, EOFError, zlib.error) as e:
            after = f" after line {last_line}" if last_line else ""
            raise ParseError(self.name, None, None,
                             f"cannot read the file{after} ({source.bytes} bytes read): {e}") from e
        finally:
            stream.close()
            raw.close()

    @staticmethod
    def _drop_rest(root: Element, wanted: Mapping[str, frozenset[int]], dropped: Callable[[str], None]) -> None:
        """What is left at the end: children of the root never wanted, and, in a container of
        entities (PIES Items, where the last entity is left), the children that are not entities."""
        for child in root:
            name = local_name(child.tag)
            if not name or name in wanted:
                continue
            dropped(name)
            inner = [local_name(g.tag) for g in child]
            if any(g in wanted for g in inner):
                for g in inner:
                    if g and g not in wanted:
                        dropped(g)


def _attrib(elem: Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in elem.attrib.items()}


def _parse_error(name: str, e: etree.XMLSyntaxError) -> ParseError:
    line, column = e.position if e.position else (e.lineno, None)
    msg = _POSITION_SUFFIX.sub("", e.msg or str(e))  # the position is ours to say
    return ParseError(name, line, column, msg)
