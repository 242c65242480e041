"""The users a Dockerfile creates (and those its base image has), and the uid a USER value means.

`useradd -m -u 1000 user`, `adduser --uid 1000 ...`, `useradd -m app` (the next free uid from
1000: 1001 on an image whose uid 1000 is taken, as on node or ubuntu 24.04), `groupadd`; each
user's home (`-d`, else /home/NAME with `-m`). Read from the RUNs of the final stage and the
stages it builds on.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from hfspace.space import images
from hfspace.space.dockerfile import Dockerfile, Instruction
from hfspace.space.words import option, split

USER_PROGRAMS = ("useradd", "adduser")
GROUP_PROGRAMS = ("groupadd", "addgroup")


def run_segments(ins: Instruction) -> Iterator[list[str]]:
    """The simple commands of a RUN (`a && b; c | d` is four), each as its words, `sudo`/`exec` dropped."""
    for text in [ins.rest, *ins.heredocs]:
        for segment in re.split(r"&&|\|\||;|\||\n", text):
            words = split(segment) or segment.split()
            while words and words[0] in ("sudo", "exec"):
                words.pop(0)
            if words:
                yield words


@dataclass(frozen=True)
class Account:
    name: str
    uid: int | None
    home: str | None
    at: Instruction | None  # the RUN that made it (None: the base image's)


@dataclass
class Accounts:
    users: dict[str, Account] = field(default_factory=dict)
    commands: list[tuple[Instruction, str, list[str]]] = field(default_factory=list)  # (RUN, program, words)

    def uid_of(self, user: str | None) -> int | None:
        """The uid a USER value (`1000`, `user`, `user:group`, `root`) means, when it can be told."""
        if not user:
            return None
        name = user.split(":")[0]
        if name.isdigit():
            return int(name)
        if name == "root":
            return 0
        account = self.users.get(name)
        return account.uid if account else None

    def by_uid(self, uid: int) -> Account | None:
        return next((account for account in self.users.values() if account.uid == uid), None)


def accounts(dockerfile: Dockerfile) -> Accounts:
    found = Accounts()
    known = images.known(dockerfile.config.image)
    if known is not None and known.uid_1000:
        found.users[known.uid_1000] = Account(known.uid_1000, 1000, f"/home/{known.uid_1000}", None)
    for ins in dockerfile.final_chain():
        if ins.name != "RUN":
            continue
        for words in run_segments(ins):
            program = posixpath.basename(words[0])
            if program not in USER_PROGRAMS + GROUP_PROGRAMS:
                continue
            found.commands.append((ins, program, words[1:]))
            if program in USER_PROGRAMS:
                _add_user(found, ins, program, words[1:])
    return found


def _add_user(found: Accounts, ins: Instruction, program: str, words: list[str]) -> None:
    positional = [w for i, w in enumerate(words) if not w.startswith("-") and not _takes_value(words, i)]
    if not positional:
        return
    name = positional[-1]
    uid_text = option(words, ("-u", "--uid"))
    if uid_text is not None:
        uid = int(uid_text) if uid_text.isdigit() else None
    else:
        taken = {account.uid for account in found.users.values()}
        system = "-r" in words or "--system" in words or "-S" in words
        uid = None if system else next(n for n in range(1000, 60000) if n not in taken)
    home = option(words, ("-d", "--home-dir", "--home"))
    creates_home = program == "adduser" or "-m" in words or "--create-home" in words
    if home is None and creates_home:
        home = f"/home/{name}"
    found.users[name] = Account(name, uid, home, ins)


_VALUED = {"-u", "--uid", "-g", "--gid", "-G", "--groups", "-d", "--home-dir", "--home", "-s", "--shell", "-c",
           "--comment", "--gecos", "-k", "--skel", "-e", "-f", "-K", "--ingroup"}  # fmt: skip


def _takes_value(words: list[str], index: int) -> bool:
    """Whether the word at `index` is the value of the option before it (`-u 1000`)."""
    return index > 0 and words[index - 1] in _VALUED
