"""Personal data as it may travel on topics: never a national ID in clear."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.text import WithoutNul

PersonName = Annotated[str, Field(min_length=1, max_length=200), WithoutNul]
PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 \-]{6,19}$")]


class Contact(BaseModel):
    """The person's contact on a topic: the national ID only masked, e.g. ``x-xxxx-xxxxx-12-3``."""

    model_config = ConfigDict(frozen=True)

    name: PersonName | None = None
    phone: PhoneNumber | None = None
    national_id_masked: str | None = Field(default=None, max_length=20)


def mask_national_id(national_id: str) -> str:
    """Keep only the last three digits, which staff use to confirm a caller."""
    return f"x-xxxx-xxxxx-{national_id[10:12]}-{national_id[12]}"
