"""Free text as every contract accepts it."""

from pydantic import AfterValidator


def _without_nul(text: str) -> str:
    # PostgreSQL text cannot hold U+0000, and no person types it: refuse it by name, not with a 500.
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (U+0000)")
    return text


WithoutNul = AfterValidator(_without_nul)
