"""Settings of the deadlines service (environment variables with the BAOCAO_ prefix)."""

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "deadlines"
    http_port: int = 8002
