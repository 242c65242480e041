"""Dockerfile words as Docker reads them: quotes, escapes and `$VAR` expansion.

A port of the rules of BuildKit's shell lexer (moby/buildkit `frontend/dockerfile/shell`),
which ENV, ARG, LABEL, COPY, ADD, WORKDIR, USER, EXPOSE and FROM go through:

- unquoted, a backslash escapes the next character; single quotes are literal; in double
  quotes `$` expands and a backslash escapes only `"`, `$` and itself;
- `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`,
  `${NAME:?word}`, `${NAME#pattern}`, `${NAME%pattern}` (and `##`, `%%`), `${NAME/from/to}`.

One difference, on purpose: Docker expands a variable it does not know to "", and so do we,
but a variable whose value cannot be known here (a build argument without a default, which a
Space variable may set at build time, or a variable the base image may define) makes the
whole result unknown: `expand` then returns None, so no rule judges a value it cannot see.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

# `env` maps a name to its value, or to None when its value cannot be known here.
Env = Mapping[str, "str | None"]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]")


class _Lexer:
    def __init__(self, text: str, env: Env, missing_known: bool) -> None:
        self.text, self.env, self.missing_known = text, env, missing_known
        self.pos = 0
        self.unknown = False

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def words(self, split: bool, stop: str = "") -> list[str]:
        """The words up to `stop` (consumed) or the end; one word unless `split`."""
        words: list[str] = []
        word: list[str] = []
        started = False
        while self.pos < len(self.text):
            ch = self.peek()
            if stop and ch == stop:
                self.pos += 1
                break
            if split and ch.isspace():
                self.pos += 1
                if started:
                    words.append("".join(word))
                    word, started = [], False
                continue
            started = True
            if ch == "'":
                self.pos += 1
                end = self.text.find("'", self.pos)
                end = len(self.text) if end == -1 else end
                word.append(self.text[self.pos : end])
                self.pos = end + 1
            elif ch == '"':
                self.pos += 1
                word.append(self.double_quoted())
            elif ch == "$":
                self.pos += 1
                word.append(self.dollar())
            elif ch == "\\":
                self.pos += 1
                if self.pos < len(self.text):
                    word.append(self.next())
            else:
                word.append(self.next())
        if started or not split:
            words.append("".join(word))
        return words

    def double_quoted(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.next()
            if ch == '"':
                break
            if ch == "$":
                out.append(self.dollar())
            elif ch == "\\" and self.peek() in ('"', "$", "\\"):
                out.append(self.next())
            else:
                out.append(ch)
        return "".join(out)

    def lookup(self, name: str) -> str | None:
        """The value; "" when unset and that is known, None when it cannot be known."""
        if name in self.env:
            value = self.env[name]
            if value is None:
                self.unknown = True
                return ""
            return value
        if not self.missing_known:
            self.unknown = True
        return ""

    def is_set(self, name: str) -> bool | None:
        if name in self.env:
            return None if self.env[name] is None else True
        return False if self.missing_known else None

    def dollar(self) -> str:
        if self.peek() != "{":
            match = _NAME.match(self.text, self.pos)
            if not match:
                return "$"
            self.pos = match.end()
            return self.lookup(match.group())
        self.pos += 1
        match = _NAME.match(self.text, self.pos)
        if not match:  # `${}` and the like: Docker refuses it; keep the text as it is
            return "${"
        name = match.group()
        self.pos = match.end()
        ch = self.next()
        if ch == "}":
            return self.lookup(name)
        colon = ch == ":"
        if colon:
            ch = self.next()
        if ch in "-+?":
            word = "".join(self.words(split=False, stop="}"))
            state, value = self.is_set(name), self.env.get(name) or ""
            if state is None:
                self.unknown = True
                return ""
            present = state and (bool(value) or not colon)
            if ch == "-":
                return value if present else word
            if ch == "+":
                return word if present else ""
            return value  # `?`: an error when unset; the value otherwise
        if ch in "#%":
            longest = self.peek() == ch
            if longest:
                self.pos += 1
            pattern = "".join(self.words(split=False, stop="}"))
            value = self.lookup(name)
            return _trim(value, pattern, prefix=ch == "#", longest=longest)
        if ch == "/":
            rest = "".join(self.words(split=False, stop="}"))
            pattern, _, replacement = rest.partition("/")
            value = self.lookup(name)
            return _replace(value, pattern, replacement)
        # An unsupported modifier: skip to the closing brace; the value is not ours to guess.
        while self.pos < len(self.text) and self.next() != "}":
            pass
        self.unknown = True
        return ""


def _trim(value: str, pattern: str, *, prefix: bool, longest: bool) -> str:
    cuts = range(len(value) + 1)
    order = reversed(cuts) if longest else cuts
    for cut in order:
        part = value[:cut] if prefix else value[len(value) - cut :]
        if fnmatch.fnmatchcase(part, pattern):
            return value[cut:] if prefix else value[: len(value) - cut]
    return value


def _replace(value: str, pattern: str, replacement: str) -> str:
    for start in range(len(value)):
        for end in range(len(value), start, -1):
            if fnmatch.fnmatchcase(value[start:end], pattern):
                return value[:start] + replacement + value[end:]
    return value


def expand(text: str, env: Env, *, missing_known: bool = True) -> str | None:
    """One word, dequoted and expanded; None when its value cannot be known.

    `missing_known`: a name absent from `env` is known to be unset (""), as in a stage built
    on scratch or on another stage of this Dockerfile; otherwise (a base image that may set
    it) it is unknown.
    """
    lexer = _Lexer(text, env, missing_known)
    value = "".join(lexer.words(split=False))
    return None if lexer.unknown else value


def expand_docker(text: str, env: Env) -> str:
    """One word as Docker makes it, whatever is unknown taken as "" (for running it locally)."""
    return "".join(_Lexer(text, env, True).words(split=False))


def split(text: str, env: Env | None = None, *, missing_known: bool = True) -> list[str] | None:
    """Words split at unquoted whitespace, each dequoted (and expanded when `env` is given)."""
    lexer = _Lexer(text, env if env is not None else _NoExpansion(), missing_known)
    words = lexer.words(split=True)
    return None if lexer.unknown else words


def raw_words(text: str) -> list[str]:
    """Words split at unquoted whitespace with their quotes and `$` kept (Docker's first pass)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    escaped = False
    for ch in text:
        if escaped:
            word.append(ch)
            escaped = False
        elif ch == "\\" and quote != "'":
            word.append(ch)
            escaped = True
        elif quote:
            word.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            word.append(ch)
            quote = ch
        elif ch.isspace():
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    return words


class _NoExpansion(dict):
    """An env under which `$NAME` stays as written (splitting without expanding)."""

    def __contains__(self, name: object) -> bool:
        return True

    def __getitem__(self, name: str) -> str:
        return f"${name}"

    def get(self, name, default=None):
        return f"${name}"


def option(words: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of `names` among the words (`--port 80`, `--port=80`, `-u1000`)."""
    value = None
    for index, word in enumerate(words):
        name, eq, inline = word.partition("=")
        if name in names:
            if eq:
                value = inline
            elif index + 1 < len(words):
                value = words[index + 1]
        elif any(len(n) == 2 and word.startswith(n) and word[2:].isdigit() for n in names):
            value = word[2:]
    return value
