"""The officers' inbox's settings, from the environment."""

from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from shared.settings import InfrastructureSettings

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class InboxSettings(InfrastructureSettings):
    """Where the inbox listens, the address officers reach it by, and its sessions' limits."""

    inbox_host: str = "127.0.0.1"
    inbox_port: int = Field(default=8090, ge=0, le=65535)
    # The address officers open (behind TLS in a deployment); one-time login links start with it.
    # Unset: the embedded default, http://127.0.0.1:<INBOX_PORT>.
    public_base_url: str = ""
    inbox_group_id: str = "inbox"
    officer_session_hours: float = Field(default=12.0, gt=0)
    # Failed logins allowed per officer name and per address within the window, then refused.
    login_failures_allowed: int = Field(default=5, ge=1)
    login_failure_window_s: float = Field(default=900.0, gt=0)
    # How often the inbox page asks for new cases.
    inbox_refresh_s: float = Field(default=5.0, gt=0)
    # Intake's API and a key it accepts for reveals (an admin key): the inbox lets only the
    # provincial labour office of the need's province reveal, and intake audits each reveal.
    intake_url: str = "http://127.0.0.1:8080"
    inbox_intake_key: SecretStr = SecretStr("")

    def base_url(self) -> str:
        """The address officers open, without a trailing slash."""
        return (self.public_base_url or f"http://127.0.0.1:{self.inbox_port}").rstrip("/")

    def secure_cookies(self) -> bool:
        """Cookies are Secure everywhere but on the embedded default: plain HTTP on the loopback address."""
        address = urlsplit(self.base_url())
        return not (address.scheme == "http" and address.hostname in _LOOPBACK)
