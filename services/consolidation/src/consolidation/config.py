"""Settings of the consolidation service (environment variables with the BAOCAO_ prefix)."""

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "consolidation"
    http_port: int = 8003
