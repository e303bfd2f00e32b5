"""Event envelope, topics and the registry of every event type (importing this registers them)."""

from baocao_shared.events import catalog, deadlines, notifications, reports, submissions  # noqa: F401  (registers their event types)
from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import EVENTS, EventSpec, make_event, parse_data, spec_for

__all__ = ["EVENTS", "CloudEvent", "EventSpec", "make_event", "parse_data", "spec_for"]
