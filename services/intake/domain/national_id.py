"""The Thai national ID: 13 digits, the last a check digit."""


def has_valid_check_digit(national_id: str) -> bool:
    """True when the 13th digit matches the weighted sum of the first twelve."""
    if len(national_id) != 13 or not national_id.isascii() or not national_id.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(national_id[:12], range(13, 1, -1), strict=True))
    return (11 - total % 11) % 10 == int(national_id[12])
