"""A safe YAML reader for scenario files: one document, no Python objects, and the line of
every key, so that an error can name the line the user should look at.

It reads what a hostile file can throw at it in bounded time and memory, and turns every
problem into one located ScenarioError (``qsim.input.limits`` has the bounds):

- at most ``MAX_FILE_BYTES`` bytes, of UTF-8 text without control characters (NUL, BEL, ESC,
  ...: YAML refuses them anyway, and a terminal should never see them);
- at most ``MAX_DEPTH`` levels of nesting (PyYAML composes a document recursively: 5,000
  levels would overflow Python's stack), checked as the document is composed;
- at most ``MAX_NODES`` nodes with every alias expanded (an "alias bomb" of twenty lines
  expands to billions), counted as the document is composed, and no alias inside its own
  anchor;
- whole numbers of at most ``MAX_INT_DIGITS`` digits.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path as _FilePath
from typing import Any, BinaryIO, Final

import yaml

from qsim.input.errors import Path, ScenarioError, format_path
from qsim.input.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

__all__ = ["MAX_INT_DIGITS", "read_yaml", "read_yaml_text"]

#: Characters of a whole number in a file (a count or a seed has at most 19 digits).
MAX_INT_DIGITS: Final = 100

# What YAML 1.1 accepts as printable (tab, line breaks, NEL, and the printable planes); the
# rest are control characters, surrogates and non-characters.
_NOT_PRINTABLE: Final = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_C0_NAMES: Final = (
    "NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB "
    "CAN EM SUB ESC FS GS RS US").split()


def _read_text(file: str) -> str:
    return read_bounded_text(file, "scenario file", "YAML")


def read_bounded_text(file: str, what: str, language: str,
                      error: type[ScenarioError] = ScenarioError,
                      shown: str | None = None) -> str:
    """The UTF-8 text of ``file``, at most ``MAX_FILE_BYTES`` of it: every failure is one
    ``error`` naming the file as ``shown`` (default: ``file``) and what it should have been
    (``what``: "scenario file"; ``language``: what its text should be written in)."""
    name = file if shown is None else shown
    with open_regular(file, what, error, name) as fh:
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise error(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > MAX_FILE_BYTES:
        raise error(f"larger than {MAX_FILE_BYTES / 1e6:g} MB: not a {what} "
                    "(qsim reads at most that much)", file=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"not a text file (expected UTF-8 {language})", file=name) from None


def open_regular(file: str | os.PathLike[str], what: str,
                 error: type[ScenarioError] = ScenarioError, shown: str | None = None
                 ) -> BinaryIO:
    """``file`` opened for reading in binary, if it is a regular file: else one ``error``
    naming it (as ``shown``) and what it is. It is opened without blocking and checked before
    any read: opening a FIFO for reading waits for a writer, for ever, and a device's read may
    never end. Every file qsim reads goes through here."""
    name = os.fspath(file) if shown is None else shown
    try:
        fd = os.open(_FilePath(os.fspath(file)), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error("no such file", file=name) from None
    except IsADirectoryError:
        raise error(f"is a directory, not a {what}", file=name) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", file=name) from None
    kind = _not_regular(os.fstat(fd).st_mode)
    if kind:  # a FIFO, a socket or a device: a read could block, or never end
        os.close(fd)
        why = "" if kind == "a directory" else " (qsim reads regular files only)"
        raise error(f"is {kind}, not a {what}{why}", file=name)
    return os.fdopen(fd, "rb")


def _not_regular(mode: int) -> str:
    """What a file of ``mode`` is when it is not a regular file ("" when it is)."""
    if stat.S_ISREG(mode):
        return ""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "something other than a file"


def read_yaml(file: str) -> tuple[object, dict[Path, int]]:
    """Read one YAML document safely from ``file``, with the 1-based line of every key and list
    item by path (``("workloads", 0, "quantum")``), for error messages.

    Every failure (missing file, directory, size, encoding, control character, syntax,
    duplicate key, nesting, aliases) is a ScenarioError.
    """
    return read_yaml_text(_read_text(file), file)


def read_yaml_text(text: str, file: str) -> tuple[object, dict[Path, int]]:
    """:func:`read_yaml` of text already read; ``file`` names it in errors."""
    _refuse_control_characters(text, file)
    try:
        loader = _LineLoader(text, file)
    except yaml.YAMLError as exc:  # the reader's own check; _refuse_... should come first
        raise ScenarioError(f"YAML error: {exc}", file=file) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path, int] = {}
        _record_lines(node, lines, file)
        return loader.construct_document(node), lines
    except yaml.constructor.ConstructorError as exc:  # e.g. !!python/object: refused
        mark = exc.problem_mark
        raise ScenarioError(f"unsupported YAML: {exc.problem}", file=file,
                            line=mark.line + 1 if mark else None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(f"YAML syntax error: {_yaml_problem(exc)}", file=file,
                            line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", file=file) from None
    except RecursionError:  # the limits above should make this unreachable
        raise ScenarioError(f"nested too deeply (qsim reads at most {MAX_DEPTH} levels)",
                            file=file) from None
    finally:
        loader.dispose()


def _refuse_control_characters(text: str, file: str) -> None:
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    char = found.group()
    code = ord(char)
    name = _C0_NAMES[code] if code < 32 else "DEL" if code == 0x7F else None
    what = f"U+{code:04X}" + (f" ({name})" if name else "")
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    raise ScenarioError(f"control character {what} in column {column}: scenario files are "
                        "plain text", file=file, line=line)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    # The composer's problem ("but found another document") only reads with its context.
    if isinstance(exc, yaml.composer.ComposerError) and exc.context and exc.problem:
        return f"{exc.context}, {exc.problem}"
    return str(exc.problem or exc.context)


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader (no arbitrary objects) that bounds what a document may make of itself:
    its depth and its size with aliases expanded, counted as it is composed (see the module
    docstring). Its node tree is what :func:`_record_lines` reads."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self._file = file
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> its nodes, aliases expanded
        self._nodes: list[yaml.Node] = []  # keeps every sized node (and so its id) alive

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._sizes:  # still being composed
                raise ScenarioError(f"the alias *{event.anchor} is inside its own anchor "
                                    f"&{event.anchor}: it would repeat for ever",
                                    file=self._file, line=event.start_mark.line + 1)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep (qsim's limit; "
                                    "each mapping and each list is a level: a {dist: sum} "
                                    "takes two)",
                                    file=self._file, line=self.peek_event().start_mark.line + 1)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:  # (PyYAML composes None only at the end of a stream)
            self._size(node)
        return node

    def _size(self, node: yaml.Node) -> None:
        """Count ``node``'s nodes with aliases expanded (its children are counted already)."""
        sizes = self._sizes
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(sizes[id(child)] for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(sizes[id(k)] + sizes[id(v)] for k, v in node.value)
        else:
            size = 1
        if size > MAX_NODES:
            raise ScenarioError(f"with its aliases (*name) expanded the document holds more "
                                f"than {MAX_NODES:,} values (qsim's limit)", file=self._file,
                                line=node.start_mark.line + 1)
        sizes[id(node)] = size
        self._nodes.append(node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_INT_DIGITS:
            raise ScenarioError(f"a whole number of more than {MAX_INT_DIGITS} digits "
                                "(qsim's limit)", file=self._file,
                                line=node.start_mark.line + 1)
        value: int = super().construct_yaml_int(node)
        return value


_LineLoader.add_constructor("tag:yaml.org,2002:int", _LineLoader.construct_yaml_int)


def _record_lines(root: yaml.Node, lines: dict[Path, int], file: str) -> None:
    """Map each key path to the 1-based line where its key (or list item) starts.

    Duplicate keys, which YAML loaders silently collapse, are reported here. The walk is
    iterative and visits each path once: the composer has bounded the document's size with
    aliases expanded, and refused aliases inside their own anchors.
    """
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        children: list[tuple[yaml.Node, Path]] = []
        if isinstance(node, yaml.MappingNode):
            seen: set[object] = set()
            for key_node, value_node in node.value:
                key: str | None = (key_node.value if isinstance(key_node, yaml.ScalarNode)
                                   else None)
                if key is not None and key in seen and key != "<<":  # "<<": YAML's merge key
                    raise ScenarioError(f"duplicate key {key!r}", file=file,
                                        line=key_node.start_mark.line + 1,
                                        field=format_path((*path, key)))
                seen.add(key)
                step = (*path, "?" if key is None else key)  # "?": a key that is not a scalar
                lines[step] = key_node.start_mark.line + 1
                children.append((value_node, step))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, (*path, i)) for i, item in enumerate(node.value)]
        stack.extend(reversed(children))  # depth first, in the file's order
