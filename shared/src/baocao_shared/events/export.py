"""Export every event's JSON Schema and one AsyncAPI 3.0 document, generated from the registry.

    python -m baocao_shared.events.export          # write shared/schemas/ and shared/asyncapi.yaml
    python -m baocao_shared.events.export --check  # exit 1 when the files drift from the models

A published version's first export is also frozen under schemas/baseline/; later changes to that
version must stay backward compatible with it (no removed or retyped field, no new required one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from baocao_shared.events import EVENTS, topics
from baocao_shared.events.envelope import CloudEvent
from baocao_shared.messaging import headers

SHARED_DIR = Path(__file__).resolve().parents[3]
SCHEMA_DIR = SHARED_DIR / "schemas"
BASELINE_DIR = SCHEMA_DIR / "baseline"
ASYNCAPI_PATH = SHARED_DIR / "asyncapi.yaml"


def event_schema(event_type: str) -> dict[str, Any]:
    """The envelope schema with `data` replaced by the event's own data schema."""
    spec = EVENTS[event_type]
    envelope = CloudEvent.model_json_schema()
    data = spec.model.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**envelope.pop("$defs", {}), **data.pop("$defs", {})}
    envelope["title"] = event_type
    envelope["description"] = spec.description
    envelope["properties"]["type"] = {"const": event_type, "type": "string"}
    envelope["properties"]["data"] = data
    if defs:
        envelope["$defs"] = defs
    envelope["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return envelope


def asyncapi_document() -> dict[str, Any]:
    by_topic: dict[str, list[str]] = {}
    for spec in EVENTS.values():
        by_topic.setdefault(spec.topic, []).append(spec.type)
    channels, operations, messages = {}, {}, {}
    for topic in topics.TOPICS:
        names = sorted(by_topic.get(topic.name, []))
        channel_id = topic.name.replace(".", "_")
        channels[channel_id] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {n.replace(".", "_"): {"$ref": f"#/components/messages/{n.replace('.', '_')}"} for n in names},
            "bindings": {"kafka": {"topicConfiguration": _topic_config(topic)}},
        }
        for name in names:
            spec = EVENTS[name]
            messages[name.replace(".", "_")] = {
                "name": name,
                "title": name,
                "summary": spec.description,
                "contentType": headers.STRUCTURED_JSON,
                "headers": _record_headers(name),
                "payload": {"$ref": f"schemas/{name}.json"},
                "bindings": {"kafka": {"key": {"type": "string", "description": topic.key}}},
            }
        if names:
            operations[f"publish_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"Events on {topic.name}",
            }
    channels["baocao_dlq"] = {
        "address": "baocao.dlq.{group}",
        "description": "Records a consumer group could not apply: the origin's key, value and headers, with dlq.* "
        "error and origin headers added.",
        "parameters": {"group": {"description": "The consumer group id"}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Baocao events",
            "version": "1.0.0",
            "description": "Every topic, record key and event of Baocao. Records follow the CloudEvents 1.0 Kafka "
            "protocol binding in structured content mode: the value is the whole event as JSON (with the extensions "
            "`province` and `correlationid`), the header `content-type` is `application/cloudevents+json`, no header "
            "starts with `ce_`, and the record key is the event type's partition key (a reader of the binding may "
            "map it to `partitionkey`). The header `baocao.type` repeats the event's type for consumers that pick a "
            "parser before reading the value; records relayed before it was added carry `ce_type` instead.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _record_headers(event_type: str) -> dict[str, Any]:
    """The headers every record of `event_type` carries (baocao_shared.messaging.headers)."""
    return {
        "type": "object",
        "required": [headers.CONTENT_TYPE, headers.EVENT_TYPE],
        "properties": {
            headers.CONTENT_TYPE: {
                "type": "string",
                "const": headers.STRUCTURED_JSON,
                "description": "The CloudEvents Kafka binding's structured content mode: the value is the whole "
                "event in the JSON event format.",
            },
            headers.EVENT_TYPE: {
                "type": "string",
                "const": event_type,
                "description": "The event's `type` again, readable without parsing the value; not a CloudEvents "
                "attribute. Records relayed before this header carry `ce_type` instead.",
            },
        },
    }


def _topic_config(topic: topics.TopicSpec) -> dict[str, Any]:
    policy = topic.config.get("cleanup.policy", "delete")
    return {"cleanup.policy": [policy]}


def rendered() -> dict[Path, str]:
    """Every exported file and its exact text."""
    files = {
        SCHEMA_DIR / f"{t}.json": json.dumps(event_schema(t), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for t in sorted(EVENTS)
    }
    files[ASYNCAPI_PATH] = yaml.safe_dump(asyncapi_document(), allow_unicode=True, sort_keys=False, width=100)
    return files


def incompatibilities(baseline: dict[str, Any], current: dict[str, Any], path: str = "") -> list[str]:
    """How `current` breaks readers of events written to `baseline` (empty when compatible)."""
    problems: list[str] = []
    old_props, new_props = baseline.get("properties", {}), current.get("properties", {})
    for name, old in old_props.items():
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
            continue
        new = new_props[name]
        for attr in ("type", "$ref", "const", "format"):
            if old.get(attr) != new.get(attr):
                problems.append(f"{path}{name}: {attr} changed from {old.get(attr)!r} to {new.get(attr)!r}")
        if "properties" in old:
            problems += incompatibilities(old, new, f"{path}{name}.")
    added_required = set(current.get("required", [])) - set(baseline.get("required", []))
    problems += [f"{path}{name}: new required field" for name in sorted(added_required)]
    return problems


def main(argv: list[str]) -> int:
    files = rendered()
    if "--check" in argv:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
        for p in stale:
            print(f"out of date: {p.relative_to(SHARED_DIR.parent)}")
        return 1 if stale else 0
    for event_type in sorted(EVENTS):
        current = event_schema(event_type)
        frozen = BASELINE_DIR / f"{event_type}.json"
        if frozen.exists():
            problems = incompatibilities(json.loads(frozen.read_text()), current)
            if problems:
                print(f"{event_type} is published; make a new version instead of: {problems}", file=sys.stderr)
                return 2
    BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
        if path.parent == SCHEMA_DIR and not (BASELINE_DIR / path.name).exists():
            (BASELINE_DIR / path.name).write_text(text)
    print(f"wrote {len(files)} files under {SHARED_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
