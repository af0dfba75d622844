#!/usr/bin/env python3
"""Throwaway renderer for template checks: copies templates/*.yaml into an output
directory, replacing each `# mraa:include <path>` line by the lines of that file
(relative to the repository root) at the same indentation, as `mraa` renders them.

usage: render_for_lint.py [OUT_DIR]   (default: out/templates)
"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
MARK = "# mraa:include "


def render(text):
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(MARK):
            indent = line[: len(line) - len(line.lstrip())]
            src = (ROOT / stripped[len(MARK):].strip()).read_text()
            if len(src) >= 4000:
                sys.exit(f"{stripped}: {len(src)} characters, over the 4000 budget")
            out += [indent + l if l.strip() else "" for l in src.splitlines()]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def main():
    dest = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "out" / "templates")
    dest.mkdir(parents=True, exist_ok=True)
    for tpl in sorted((ROOT / "templates").glob("*.yaml")):
        (dest / tpl.name).write_text(render(tpl.read_text()))
        print(dest / tpl.name)


if __name__ == "__main__":
    main()
