"""Kafka topic names and their settings: one place that says what exists and how it is keyed."""

from dataclasses import dataclass, field

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
        config={"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
    ),
    TopicSpec(
        SUBMISSIONS,
        key="<province>.<unit>",
        description="Unit submissions received and amended (intake).",
    ),
    TopicSpec(
        DEADLINES,
        key="<province>.<unit> for unit notices, <province> for province-wide events",
        description="Reminder due, deadline missed, escalation, nudge, period closed (deadlines).",
    ),
    TopicSpec(
        REPORTS,
        key="<province>",
        description="The office's section edits, the report approved, reverted, reopened and published, and the "
        "documents frozen at publishing with their bytes (consolidation).",
        config={"max.message.bytes": str(MAX_RECORD_BYTES)},  # a signed PDF of a 2,000-unit province
    ),
    TopicSpec(
        NOTIFICATIONS,
        key="<province>",
        description="Notification delivery sent or failed (notify).",
    ),
)


def dlq_topic(group_id: str) -> str:
    """The dead-letter topic of one consumer group."""
    return f"{DLQ_PREFIX}{group_id}"
