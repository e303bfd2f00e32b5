"""Kafka topic names and their settings: one place that says what exists and how it is keyed.

Retention is a decision, not the broker's default (7 days): every topic here carries facts the services rebuild
their state from, so each keeps its records for the archival period, `retention.ms` (default -1: forever; the
catalogue is also compacted, so it keeps at least the latest record of each key). Dead-letter topics keep theirs
for the same period: a dead letter is a fact a service could not apply, and it stays until an operator has
looked at it, however long that takes. Deployments set the period once (BAOCAO_TOPIC_RETENTION_MS); it is
given at creation and reconciled on existing topics at every start (baocao_shared.messaging.topic_config).
"""

from dataclasses import dataclass, field, replace

CATALOG = "baocao.catalog"
SUBMISSIONS = "baocao.submissions"
DEADLINES = "baocao.deadlines"
REPORTS = "baocao.reports"
NOTIFICATIONS = "baocao.notifications"
DLQ_PREFIX = "baocao.dlq."
MAX_RECORD_BYTES = 16 * 1024 * 1024  # the largest record a producer sends (a document with its bytes)
# Dead-letter topics keep the broker default (message.max.bytes 1,048,588 for a whole batch); a copy
# whose value, key and headers pass this leaves its value behind (checked before sending: a broker
# refusal breaks an idempotent producer's sequence and stops the consumer).
DEAD_LETTER_MAX_BYTES = 1_048_576 - 1024  # 1 MiB less the batch and record framing
RETENTION = "retention.ms"
FOREVER = -1  # the default archival period: Kafka's retention.ms=-1, no time limit


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    description: str
    config: dict[str, str] = field(default_factory=dict)


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        CATALOG,
        key="<entity kind>:<entity id>, e.g. unit:30.CA",
        description="Provinces, units, plans, templates and contacts; compacted; intake owns it.",
        config={"cleanup.policy": "compact", "min.compaction.lag.ms": "0", RETENTION: str(FOREVER)},
    ),
    TopicSpec(
        SUBMISSIONS,
        key="<province>.<unit>",
        description="Unit submissions received and amended (intake).",
        config={RETENTION: str(FOREVER)},
    ),
    TopicSpec(
        DEADLINES,
        key="<province>.<unit> for unit notices, <province> for province-wide events",
        description="Reminder due, deadline missed, escalation, nudge, period closed (deadlines).",
        config={RETENTION: str(FOREVER)},
    ),
    TopicSpec(
        REPORTS,
        key="<province>",
        description="The office's section edits, the report approved, reverted, reopened and published, and the "
        "documents frozen at publishing with their bytes (consolidation).",
        # max.message.bytes: a signed PDF of a 2,000-unit province
        config={"max.message.bytes": str(MAX_RECORD_BYTES), RETENTION: str(FOREVER)},
    ),
    TopicSpec(
        NOTIFICATIONS,
        key="<province>",
        description="Notification delivery sent or failed (notify).",
        config={RETENTION: str(FOREVER)},
    ),
)


def dlq_topic(group_id: str) -> str:
    """The dead-letter topic of one consumer group."""
    return f"{DLQ_PREFIX}{group_id}"


def archived(retention_ms: int = FOREVER) -> dict[str, str]:
    """The settings that keep a topic's records for the archival period (`retention_ms`; -1: forever)."""
    if retention_ms < FOREVER or retention_ms == 0:
        raise ValueError(f"retention.ms must be -1 (forever) or a positive number of milliseconds, not {retention_ms}")
    return {RETENTION: str(retention_ms)}


def fact_topics(retention_ms: int = FOREVER) -> tuple[TopicSpec, ...]:
    """TOPICS, each kept for the archival period `retention_ms`."""
    return tuple(replace(spec, config={**spec.config, **archived(retention_ms)}) for spec in TOPICS)


def dead_letter_topic(group_id: str, retention_ms: int = FOREVER) -> TopicSpec:
    """The dead-letter topic of one consumer group, kept for the archival period like the facts."""
    return TopicSpec(
        dlq_topic(group_id),
        key="as on the source topic",
        description=f"dead letters of group {group_id}",
        config=archived(retention_ms),
    )
