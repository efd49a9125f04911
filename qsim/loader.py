"""A safe YAML reader for scenario files: one document, no Python objects, and the line of
every key, so that an error can name the line the user should look at."""

from __future__ import annotations

from pathlib import Path as _FilePath

import yaml

from qsim.errors import Path, ScenarioError, format_path

__all__ = ["read_yaml"]


def _read_text(file: str) -> str:
    try:
        return _FilePath(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such file", file=file) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", file=file) from None
    except UnicodeDecodeError:
        raise ScenarioError("not a text file (expected UTF-8 YAML)", file=file) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", file=file) from None


def read_yaml(file: str) -> tuple[object, dict[Path, int]]:
    """Read one YAML document safely from ``file``, with the 1-based line of every key and list
    item by path (``("workloads", 0, "quantum")``), for error messages.

    Every failure (missing file, directory, encoding, syntax, duplicate key) is a ScenarioError.
    """
    loader = _LineLoader(_read_text(file))
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path, int] = {}
        _record_lines(node, (), lines, file)
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
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    # The composer's problem ("but found another document") only reads with its context.
    if isinstance(exc, yaml.composer.ComposerError) and exc.context and exc.problem:
        return f"{exc.context}, {exc.problem}"
    return str(exc.problem or exc.context)


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader (no arbitrary objects) whose node tree :func:`_record_lines` reads."""


def _record_lines(node: yaml.Node, path: Path,
                  lines: dict[Path, int], file: str,
                  active: frozenset[int] = frozenset()) -> None:
    """Map each key path to the 1-based line where its key (or list item) starts.

    Duplicate keys, which YAML loaders silently collapse, are reported here. ``active`` guards
    against recursive aliases.
    """
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in active:
        return
    active = active | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key: str | None = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen and key != "<<":  # "<<" is YAML's merge key
                raise ScenarioError(f"duplicate key {key!r}", file=file,
                                    line=key_node.start_mark.line + 1,
                                    field=format_path((*path, key)))
            seen.add(key)
            step = (*path, "?" if key is None else key)  # "?": a key that is not a scalar
            lines[step] = key_node.start_mark.line + 1
            _record_lines(value_node, step, lines, file, active)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*path, i), lines, file, active)
