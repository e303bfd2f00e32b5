"""Who reacts to what: the one map from event type to use case, for the `consolidation` consumer group."""

from __future__ import annotations

from baocao_shared.events import topics
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.deadlines import OBLIGATION_UPDATED, PERIOD_CLOSED
from baocao_shared.events.reports import REPORT_APPROVED, REPORT_PUBLISHED, REPORT_REOPENED, REPORT_REVERTED
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.messaging.consumer import typed_handler
from baocao_shared.runtime import ConsumerSpec
from consolidation.handlers import projection

GROUP = "consolidation"

HANDLERS = {
    PROVINCE_UPSERTED.type: typed_handler(projection.province_upserted),
    UNIT_UPSERTED.type: typed_handler(projection.unit_upserted, many=projection.units_upserted),
    PLAN_UPSERTED.type: typed_handler(projection.plan_upserted),
    SUBMISSION_RECEIVED.type: typed_handler(projection.submission_recorded, many=projection.submissions_recorded),
    SUBMISSION_AMENDED.type: typed_handler(projection.submission_recorded, many=projection.submissions_recorded),
    OBLIGATION_UPDATED.type: typed_handler(projection.obligation_updated, many=projection.obligations_updated),
    PERIOD_CLOSED.type: typed_handler(projection.period_closed),
    REPORT_APPROVED.type: typed_handler(projection.report_status_changed),
    REPORT_REVERTED.type: typed_handler(projection.report_status_changed),
    REPORT_REOPENED.type: typed_handler(projection.report_status_changed),
    REPORT_PUBLISHED.type: typed_handler(projection.report_published),
}

TOPICS = [topics.CATALOG, topics.SUBMISSIONS, topics.DEADLINES, topics.REPORTS]
CONSUMER = ConsumerSpec(group_id=GROUP, topics=TOPICS, handlers=HANDLERS)
