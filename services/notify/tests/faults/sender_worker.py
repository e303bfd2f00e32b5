"""notify's sender loop alone, as its own process, for the crash tests (they SIGKILL it and start it again).

python sender_worker.py DB_URL SMTP_PORT CONCURRENCY
"""

import asyncio
import sys
from types import SimpleNamespace

from baocao_shared.db import make_engine, make_sessionmaker
from baocao_shared.logging import configure_logging
from notify.config import Settings
from notify.sender import run_sender


async def main(db_url: str, smtp_port: str, concurrency: str) -> None:
    configure_logging("notify-sender")
    settings = Settings(
        database_url=db_url,
        smtp_port=int(smtp_port),
        sender_concurrency=int(concurrency),
        sender_tick_s=0.05,
        env="test",
    )
    engine = make_engine(db_url)
    # run_sender reads only these two from the service runtime.
    await run_sender(SimpleNamespace(settings=settings, sessionmaker=make_sessionmaker(engine)))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
