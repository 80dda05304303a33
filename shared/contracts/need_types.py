"""The vocabulary every service shares: need types and agency codes."""

from enum import StrEnum


class NeedType(StrEnum):
    """A kind of labour need, as named in DOMAIN.md."""

    JOBS = "jobs"
    SKILLS = "skills"
    SS40 = "ss40"
    UNFAIR_LABOUR = "unfair_labour"
    MIGRANT_LABOUR = "migrant_labour"
    DRUGS_WORKPLACE = "drugs_workplace"


class Agency(StrEnum):
    """A provincial office of the Ministry of Labour that receives routed cases."""

    DOE = "doe"
    DSD = "dsd"
    SSO = "sso"
    DLPW = "dlpw"
    MOL = "mol"
