"""Settings of the intake service (environment variables with the BAOCAO_ prefix)."""

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001
