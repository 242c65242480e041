"""The Space card: README.md's YAML front matter, its values and the line of each key."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

DEFAULT_APP_PORT = 7860
DEFAULT_STARTUP_TIMEOUT = 30 * 60.0  # seconds: the platform's default startup_duration_timeout
SDKS = ("gradio", "docker", "static")
# The hardware flavours and what each gives a Space: (vCPUs, memory in GB), from the Hub's
# "Using GPU Spaces" page; None where the page gives no figure.
HARDWARE: dict[str, tuple[int, int] | None] = {
    "cpu-basic": (2, 16), "cpu-upgrade": (8, 32), "t4-small": (4, 15), "t4-medium": (8, 30), "l4x1": (8, 30),
    "l4x4": (48, 186), "l40sx1": (8, 62), "l40sx4": (48, 382), "l40sx8": (192, 1534), "a10g-small": (4, 15),
    "a10g-large": (12, 46), "a10g-largex2": (24, 92), "a10g-largex4": (48, 184), "a100-large": (12, 142),
    "a100x4": None, "a100x8": None,
}  # fmt: skip
DEFAULT_HARDWARE = "cpu-basic"
# A duration as the card writes one: `30m`, `1h`, `90s`, `1h30m`, `1.5h` (Go's syntax, which the
# platform's examples follow, without its sub-second units).
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smh])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass
class Card:
    """The front matter's values, the 1-based line of each top-level key, and its text's lines."""

    data: dict
    lines: dict[str, int]
    first_line: int  # the line of the opening `---`

    def line(self, key: str) -> int:
        return self.lines.get(key, self.first_line)

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    @property
    def sdk(self) -> str | None:
        value = self.data.get("sdk")
        return value if isinstance(value, str) else None

    @property
    def app_port(self) -> int:
        """app_port when it is a valid port, else the platform's default."""
        value = self.data.get("app_port")
        valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
        return value if valid else DEFAULT_APP_PORT

    @property
    def hardware(self) -> str:
        """suggested_hardware when it is a known flavour, else the free CPU tier."""
        value = self.data.get("suggested_hardware")
        return value if isinstance(value, str) and value in HARDWARE else DEFAULT_HARDWARE

    @property
    def startup_timeout(self) -> float:
        """startup_duration_timeout in seconds, or the platform's default (30 minutes)."""
        return parse_duration(self.data.get("startup_duration_timeout")) or DEFAULT_STARTUP_TIMEOUT


@dataclass
class CardError:
    message: str
    line: int = 1
    yaml: bool = False  # the front matter is there but is not a YAML mapping


def parse_duration(text: object, *, bare_seconds: bool = False) -> float | None:
    """`30m`, `1h30m`, `90s` (and, with bare_seconds, `90`) as seconds; None when it is not a
    positive duration. The one reading of durations: the card's, and the command line's."""
    value = str(text).strip() if isinstance(text, str | int | float) and not isinstance(text, bool) else ""
    if bare_seconds and re.fullmatch(r"\d+(?:\.\d+)?", value):
        value += "s"
    if not _DURATION.fullmatch(value):
        return None
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(value))
    return seconds or None


def front_matter(text: str) -> str | None:
    """The YAML between the opening `---` (first line) and the next `---`."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index])
    return None


def read(text: str | None) -> Card | CardError:
    """The card of a README.md's text (None: there is no README.md)."""
    if text is None:
        return CardError("no README.md at the Space root")
    yaml_text = front_matter(text)
    if yaml_text is None:
        return CardError("README.md has no YAML front matter (a block between --- lines at the very top)")
    try:
        node = yaml.compose(yaml_text)
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or exc
        return CardError(f"front matter is not valid YAML: {problem}", 2 + (mark.line if mark else 0), yaml=True)
    if not isinstance(data, dict):
        return CardError("front matter is not a mapping of keys to values", 1, yaml=True)
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = 2 + key_node.start_mark.line
    return Card(data=data, lines=lines, first_line=1)


def holds_card(text: str) -> bool:
    """Whether a README.md's text opens with front matter that names an sdk (a Space card)."""
    yaml_text = front_matter(text)
    return yaml_text is not None and re.search(r"(?m)^sdk\s*:", yaml_text) is not None
