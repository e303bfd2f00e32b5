"""Who reacts to what: the one map from event type to use case, for the `deadlines` consumer group."""

from __future__ import annotations

from baocao_shared.events import topics
from baocao_shared.events.catalog import ACCOUNT_ACCESS_CHANGED, PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.reports import REPORT_PUBLISHED
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.messaging.handlers import typed_handler
from baocao_shared.runtime import ConsumerSpec
from baocao_shared.token_access import record_access_changed
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import catalog, national, submissions

GROUP = "deadlines"


HANDLERS = {
    PROVINCE_UPSERTED.type: typed_handler(catalog.province_upserted, uow=DeadlinesUnitOfWork),
    UNIT_UPSERTED.type: typed_handler(catalog.unit_upserted, uow=DeadlinesUnitOfWork),
    PLAN_UPSERTED.type: typed_handler(catalog.plan_upserted, uow=DeadlinesUnitOfWork),
    ACCOUNT_ACCESS_CHANGED.type: typed_handler(record_access_changed),  # a revoked token stops working here
    # A fetched batch of submissions is applied in one transaction (`many`); a failing one record by record.
    SUBMISSION_RECEIVED.type: typed_handler(
        submissions.submission_recorded, many=submissions.submissions_recorded, uow=DeadlinesUnitOfWork
    ),
    SUBMISSION_AMENDED.type: typed_handler(
        submissions.submission_recorded, many=submissions.submissions_recorded, uow=DeadlinesUnitOfWork
    ),
    # A province's report, first published, is its submission to the national office (the national level).
    REPORT_PUBLISHED.type: typed_handler(national.report_published, uow=DeadlinesUnitOfWork),
}

CONSUMER = ConsumerSpec(group_id=GROUP, topics=[topics.CATALOG, topics.SUBMISSIONS, topics.REPORTS], handlers=HANDLERS)
