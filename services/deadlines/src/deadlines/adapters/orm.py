"""Tables of the deadlines database."""

from baocao_shared.db import new_metadata
from baocao_shared.messaging.tables import inbox_table, outbox_table

metadata = new_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
