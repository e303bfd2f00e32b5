"""Prometheus metrics of the messaging layer (one process-wide registry, as prometheus-client does; with several
worker processes, prometheus-client's multiprocess mode, see baocao_shared.service.serve: the backlog, which every
worker reads from the one database, is then the largest a live worker saw last)."""

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_SENT = Counter("baocao_outbox_sent_total", "Outbox rows sent to Kafka", ["topic"])
OUTBOX_BACKLOG = Gauge("baocao_outbox_backlog", "Outbox rows not yet sent", multiprocess_mode="livemax")
EVENTS_CONSUMED = Counter("baocao_events_consumed_total", "Records handled by a consumer group", ["group", "outcome"])
DLQ_SENT = Counter("baocao_dlq_sent_total", "Records sent to a dead-letter topic", ["group"])
HANDLER_SECONDS = Histogram("baocao_event_handler_seconds", "Time to apply one event in its transaction", ["group"])
