"""Who reacts to what: the one map from event type to use case, for the `consolidation` consumer group."""

from __future__ import annotations

from functools import partial

from baocao_shared.events import topics
from baocao_shared.events.catalog import (
    ACCOUNT_ACCESS_CHANGED,
    PLAN_UPSERTED,
    PROVINCE_UPSERTED,
    REGIME_UPSERTED,
    UNIT_UPSERTED,
)
from baocao_shared.events.deadlines import OBLIGATION_UPDATED, PERIOD_CLOSED
from baocao_shared.events.reports import (
    REPORT_ACCEPTED,
    REPORT_APPROVED,
    REPORT_DOCUMENT_ISSUED,
    REPORT_PUBLISHED,
    REPORT_REOPENED,
    REPORT_RETURNED,
    REPORT_REVERTED,
    REPORT_SECTION_EDITED,
)
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.messaging.handlers import typed_handler
from baocao_shared.runtime import ConsumerSpec
from baocao_shared.token_access import record_access_changed
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.handlers import projection, sections, workflow

GROUP = "consolidation"
handler = partial(typed_handler, uow=ConsolidationUnitOfWork)  # each use case gets a unit of work

HANDLERS = {
    PROVINCE_UPSERTED.type: handler(projection.province_upserted),
    UNIT_UPSERTED.type: handler(projection.unit_upserted, many=projection.units_upserted),
    PLAN_UPSERTED.type: handler(projection.plan_upserted),
    REGIME_UPSERTED.type: handler(projection.regime_upserted),
    ACCOUNT_ACCESS_CHANGED.type: typed_handler(record_access_changed),  # a revoked token stops working here
    SUBMISSION_RECEIVED.type: handler(projection.submission_recorded, many=projection.submissions_recorded),
    SUBMISSION_AMENDED.type: handler(projection.submission_recorded, many=projection.submissions_recorded),
    OBLIGATION_UPDATED.type: handler(projection.obligation_updated, many=projection.obligations_updated),
    PERIOD_CLOSED.type: handler(projection.period_closed),
    REPORT_APPROVED.type: handler(projection.report_status_changed),
    REPORT_REVERTED.type: handler(projection.report_status_changed),
    REPORT_REOPENED.type: handler(projection.report_status_changed),
    REPORT_RETURNED.type: handler(projection.report_returned),
    REPORT_ACCEPTED.type: handler(projection.report_accepted),
    REPORT_PUBLISHED.type: handler(projection.report_published),
    REPORT_SECTION_EDITED.type: handler(sections.apply_section_edit),
    REPORT_DOCUMENT_ISSUED.type: handler(workflow.apply_document),
}

TOPICS = [topics.CATALOG, topics.SUBMISSIONS, topics.DEADLINES, topics.REPORTS]
CONSUMER = ConsumerSpec(group_id=GROUP, topics=TOPICS, handlers=HANDLERS)
