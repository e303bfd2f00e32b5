"""Settings of the intake service (environment variables with the BAOCAO_ prefix)."""

from pathlib import Path

from pydantic import Field

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001

    # Accounts and tokens
    home: Path = Path(".local")  # BAOCAO_HOME: where development keeps its generated signing key
    jwt_private_key_file: Path | None = None  # Ed25519 PEM; required when BAOCAO_ENV=production
    token_ttl_s: int = 3600 * 8
    # Sign-in throttling (intake.domain.accounts.LoginPolicy), counted in the database across every instance.
    # Per (username, client address): this many wrong passwords, then a wait doubling from login_backoff_base_s
    # after each further one, at most login_backoff_max_s; the pair's failures count for login_memory_s.
    login_free_failures: int = 3
    login_backoff_base_s: int = 5
    login_backoff_max_s: int = 900
    login_memory_s: int = 86400
    login_client_max_failures: int = 30  # per client address within login_client_window_s, whatever the usernames
    login_client_window_s: int = 900
    # The reverse proxies whose X-Forwarded-For names the client (addresses or networks, e.g. ["10.0.0.5"]).
    # Empty: the client is the connection's peer, and X-Forwarded-For is ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    demo_password: str = "baocao-demo"  # BAOCAO_DEMO_PASSWORD; demo accounts are refused in production
