"""The argument types and paths of `elig`: limits, output and input files, NAME=VALUE pairs."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from solver.errors import InputError, shorten


def not_negative(kind: type[int] | type[float], zero: str = "") -> Callable[[str], float]:
    """An argparse type: a number that is 0 or more (a negative limit is refused, not taken)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:80]!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{value} is negative" + (f" (0 means {zero})" if zero else ""))
        return value

    return parse


def output_path(text: str, flag: str, *, folder: bool = False) -> Path:
    """An output path checked before any work starts: it can be written (a missing parent
    folder is created later), it is a file or a folder as `flag` needs, its names fit."""
    path, shown = Path(text), shorten(text)
    try:
        if any(len(os.fsencode(part)) > 255 for part in path.parts):
            raise InputError(flag, f"{shown}: a name in this path is longer than 255 bytes")
        if path.is_dir() != folder and path.exists():
            wanted = "a folder" if folder else "a file"
            raise InputError(flag, f"{shown} is a {'file' if folder else 'folder'}", allowed=wanted)
        if path.exists() and not os.access(path, os.W_OK):
            raise InputError(flag, f"{shown} cannot be written (no permission)")
        parent = path if folder else path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise InputError(flag, f"{shorten(str(parent))} is a file, so {shown} cannot be created under it")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(flag, f"{shorten(str(parent))} cannot be written (no permission)")
    except OSError as e:
        raise InputError(flag, f"{shown}: {e.strerror or e}") from None
    return path


def write(text_path: str, text: str, flag: str) -> None:
    """A report written to a path checked by output_path (missing parent folders are created)."""
    try:
        Path(text_path).parent.mkdir(parents=True, exist_ok=True)
        Path(text_path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as e:  # the disk is full, the file vanished
        raise InputError(flag, f"{shorten(text_path)}: {e.strerror or e}") from None


def input_file(text: str, flag: str) -> Path:
    """An input file that must exist before any work starts."""
    path = Path(text)
    try:
        ok = path.is_file() and os.access(path, os.R_OK)
    except OSError as e:
        raise InputError(flag, f"{shorten(text)}: {e.strerror or e}") from None
    if not ok:
        raise InputError(flag, f"{shorten(text)}: no such readable file")
    return path


ms, seconds, count = not_negative(int, "no limit"), not_negative(float, "no limit"), not_negative(int)


def options(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep:
            raise InputError("--option", f"'{p}' is not NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def coerce(raw: str) -> object:
    """A command-line value: true/false, a number, a date, or text."""
    if raw in ("true", "false"):
        return raw == "true"
    if raw.lstrip("-").isdigit():
        return int(raw)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return raw
