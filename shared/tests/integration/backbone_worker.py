"""A relay or a consumer of the shared messaging layer, run as its own process by the backbone tests.

The tests SIGKILL it at named fault points (BAOCAO_FAULTS) and start it again.
  python backbone_worker.py relay   DB_URL BOOTSTRAP
  python backbone_worker.py consume DB_URL BOOTSTRAP GROUP TOPIC
"""

import asyncio
import sys

from sqlalchemy import Column, DateTime, MetaData, String, Table, Uuid, func

from baocao_shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from baocao_shared.logging import configure_logging
from baocao_shared.messaging.consumer import ConsumerRunner
from baocao_shared.messaging.outbox import OutboxRelay
from baocao_shared.messaging.producer import make_producer
from baocao_shared.messaging.tables import inbox_table, outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
effects = Table(
    "effects",
    metadata,
    Column("event_id", Uuid, nullable=False),  # deliberately not unique: a double effect shows
    Column("applied_by", String(100), nullable=False),
    Column("applied_at", DateTime(timezone=True), server_default=func.now()),
)


async def main(mode: str, db_url: str, bootstrap: str, *rest: str) -> None:
    configure_logging(f"backbone-{mode}")
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    producer = make_producer(bootstrap, client_id=f"backbone-{mode}")
    await producer.start()
    try:
        if mode == "relay":
            relay = OutboxRelay(engine=engine, producer=producer, outbox=outbox, listen_dsn=asyncpg_dsn(db_url))
            await relay.run()
        else:
            group, topic = rest

            async def record_effect(session, event):
                await session.execute(effects.insert().values(event_id=event.id, applied_by=group))

            handlers = {"vn.baocao.submission.received.v1": record_effect}
            runner = ConsumerRunner(
                group_id=group,
                topics=[topic],
                handlers=handlers,
                sessionmaker=make_sessionmaker(engine),
                inbox=inbox,
                bootstrap_servers=bootstrap,
                producer=producer,
            )
            await runner.run()
    finally:
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
