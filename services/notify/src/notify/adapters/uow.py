"""notify's unit of work: one transaction over its tables, with the events it publishes in the same commit."""

from __future__ import annotations

from baocao_shared.uow import UnitOfWork
from notify.adapters import orm
from notify.adapters.catalog import Catalogue
from notify.adapters.deliveries import DeliveryRepository
from notify.adapters.documents import Documents
from notify.adapters.inbox import InboxMessages
from notify.adapters.waiting import WaitingNotices


class NotifyUnitOfWork(UnitOfWork):
    source, outbox_table = "/baocao/notify", orm.outbox  # notify keeps no audit trail

    deliveries: DeliveryRepository
    waiting: WaitingNotices
    catalog: Catalogue
    inbox: InboxMessages
    documents: Documents
