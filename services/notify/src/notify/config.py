"""Settings of the notify service (environment variables with the BAOCAO_ prefix)."""

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004
