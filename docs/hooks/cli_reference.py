"""MkDocs hook: the command reference, generated from the command line itself.

Where a page holds the line ``<!-- qsim-commands -->``, this puts the help of ``qsim`` and of
each of its commands, exactly as ``qsim COMMAND --help`` prints it (at 100 columns), in the
order ``qsim --help`` lists them. A new command or option is in the docs at the next build;
nothing is copied by hand, so nothing can drift.
"""

from __future__ import annotations

from typing import Any

import typer

MARKER = "<!-- qsim-commands -->"
WIDTH = 100


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())


def reference() -> str:
    """Markdown: a section per command, its help in a text block."""
    from qsim.present.cli import app

    group = typer.main.get_command(app)
    root = group.make_context("qsim", [], resilient_parsing=True, max_content_width=WIDTH,
                              terminal_width=WIDTH)
    parts = [_block("qsim --help", group.get_help(root))]
    for name in group.list_commands(root):  # type: ignore[attr-defined]
        command = group.get_command(root, name)  # type: ignore[attr-defined]
        ctx = command.make_context(name, [], parent=root, resilient_parsing=True,
                                   max_content_width=WIDTH, terminal_width=WIDTH)
        parts.append(f"## qsim {name}\n\n" + _block(f"qsim {name} --help", command.get_help(ctx)))
    return "\n".join(parts)


def _block(command: str, help_text: str) -> str:
    return f"```text\n$ {command}\n{help_text.rstrip()}\n```\n"
