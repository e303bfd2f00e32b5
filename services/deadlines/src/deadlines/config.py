"""Settings of the deadlines service (environment variables with the BAOCAO_ prefix)."""

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "deadlines"
    http_port: int = 8002
    scheduler_enabled: bool = True  # tests that drive the clock call the tick themselves
    scheduler_tick_s: float = 1.0  # real seconds between ticks; at BAOCAO_CLOCK_SPEED=86400 keep it small
    # Which periods open is the plan's business (baocao_shared.periods): every tracked one, from its
    # tracking_from up to now; there is no backfill setting any more.
