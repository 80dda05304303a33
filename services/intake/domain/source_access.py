"""Who may use a source's topics on a broker that enforces ACLs: the one definition of a source's grants."""

import re
from dataclasses import dataclass
from typing import Literal

from shared.topics import SOURCE_NAME_PATTERN, incoming_topic, receipts_topic

Operation = Literal["Read", "Write"]
Resource = Literal["topic", "group"]
Pattern = Literal["literal", "prefixed"]


class InvalidSourceName(ValueError):
    """A source name that cannot be the last part of a topic name."""


@dataclass(frozen=True, slots=True)
class Grant:
    """One ALLOW ACL, in the terms of kafka-acls.sh and deploy/kafka/acls.txt."""

    principal: str
    operation: Operation
    resource: Resource
    pattern: Pattern
    name: str

    def line(self) -> str:
        """The grant as acls.txt writes one: principal operation resource pattern name."""
        return f"{self.principal} {self.operation} {self.resource} {self.pattern} {self.name}"


def check_source_name(name: str) -> str:
    """The name, if it can name a source's topics; raises ``InvalidSourceName`` otherwise."""
    if not re.fullmatch(SOURCE_NAME_PATTERN, name):
        raise InvalidSourceName(f"source name {name!r}: 1 to 64 of a-z 0-9 - _, starting with a letter or digit")
    return name


def source_principal(name: str) -> str:
    """The SCRAM user a source logs in as."""
    return f"source-{check_source_name(name)}"


def source_grants(name: str) -> list[Grant]:
    """What a source may do: write its own incoming topic, read its own receipts in groups named after itself.

    Literal topic names, so that ``hr`` cannot write ``needs.incoming.v1.hr-system``. Intake needs
    nothing per source: its standing grant (deploy/kafka/acls.txt) reads every incoming topic by
    prefix, the ones added later included.
    """
    principal = source_principal(name)
    return [
        Grant(principal, "Write", "topic", "literal", incoming_topic(name)),
        Grant(principal, "Read", "topic", "literal", receipts_topic(name)),
        Grant(principal, "Read", "group", "prefixed", principal),
    ]
