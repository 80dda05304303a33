"""Intake's settings, from the environment."""

from typing import Self

from pydantic import Field, SecretStr

from shared.settings import InfrastructureSettings, MissingInfrastructure


class IntakeSettings(InfrastructureSettings):
    """Where intake listens and how much it accepts."""

    intake_host: str = "127.0.0.1"
    intake_port: int = Field(default=8080, ge=0, le=65535)
    # Far above any real description (5,000 characters), far below what could hurt the service.
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    # A need not routed this long after it was accepted (or last re-driven) is published again.
    redrive_after_s: float = Field(default=120.0, gt=0)
    redrive_interval_s: float = Field(default=10.0, gt=0)
    # A resolved need keeps the person's name, phone and national ID this long, then they are erased.
    personal_data_retention_days: float = Field(default=365.0, gt=0)
    retention_interval_s: float = Field(default=3600.0, gt=0)
    # Intake forgets the ids of events it projected this long ago. Keep it longer than the pipeline
    # topics keep their records (Kafka's default: 7 days) and their consumer offsets (also 7 days):
    # then only an id whose event can no longer be read again is forgotten.
    projected_event_ids_keep_days: float = Field(default=30.0, gt=0)
    # How often the outbox and overdue-case gauges on /metrics are read from PostgreSQL.
    backlog_metrics_interval_s: float = Field(default=15.0, gt=0)
    # base64 of 32 random bytes (`needs-router keys personal-data-key` makes one); national IDs
    # are encrypted with it, so losing it loses them. While rotating: `new-id:key,old-id:key`,
    # the first seals new values (see `needs-router keys rotate-personal-data`).
    personal_data_key: SecretStr = SecretStr("")
    # Per key: one volunteer app syncs a whole province's backlog after a training day, so the
    # limit is there to stop a runaway client, not to slow a burst.
    rate_limit_per_s: float = Field(default=500.0, gt=0)
    rate_limit_burst: int = Field(default=2000, ge=1)
    # A revoked key keeps working at most this long on a replica that saw it recently.
    api_key_cache_s: float = Field(default=5.0, ge=0)
    # The consumer group reading every source's needs.incoming.v1.<source> topic.
    source_group_id: str = "intake-sources"
    # A source added while intake runs is read within this long (how often the broker's topic list is read again).
    source_discovery_s: float = Field(default=10.0, gt=0)
    # One JSON line per request costs a few per cent at peak; request counts and latencies are in /metrics.
    intake_access_log: bool = False
    # Intake's consumer groups (<prefix>-screenings, -case-updates, -dead-letters) for its own copy of
    # the other services' events; every intake replica shares them.
    intake_group_prefix: str = "intake"
    # How long a call waits for intake's copy to show a case its agency may just have received.
    projection_wait_s: float = Field(default=5.0, ge=0)
    # LINE Messaging API, from the channel's page in the LINE Developers console; never in the
    # repository. With either left empty the LINE channel is off and its webhook answers 401.
    line_channel_secret: SecretStr = SecretStr("")
    line_channel_access_token: SecretStr = SecretStr("")
    line_api_base_url: str = "https://api.line.me"
    # A volunteer app's one-time link code works this long.
    line_link_code_ttl_s: float = Field(default=600.0, gt=0)
    # Kept webhook events are worked on at once; this poll catches those another replica kept.
    line_events_interval_s: float = Field(default=2.0, gt=0)
    line_push_interval_s: float = Field(default=2.0, gt=0)

    def line_enabled(self) -> bool:
        """Both the channel secret and the access token are set."""
        return bool(self.line_channel_secret.get_secret_value() and self.line_channel_access_token.get_secret_value())

    def require(self, *, kafka: bool = True, database: bool = True) -> Self:
        """Also refuse to start without the key that encrypts national IDs, or with half of LINE's settings."""
        super().require(kafka=kafka, database=database)
        if not self.personal_data_key.get_secret_value():
            raise MissingInfrastructure(
                "PERSONAL_DATA_KEY not set: national IDs are stored encrypted with it; "
                "make one with `needs-router keys personal-data-key` and keep it safe"
            )
        if bool(self.line_channel_secret.get_secret_value()) != bool(self.line_channel_access_token.get_secret_value()):
            raise MissingInfrastructure(
                "LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN go together: set both (LINE on) or neither (off)"
            )
        return self
