"""Dead letters: list them, and replay them to the queue they came from.

``confide-dlq list`` shows every dead-letter queue with its depth, or the
messages of one; ``confide-dlq replay QUEUE [--id MESSAGE_ID ...]`` sends them
back for another full round of attempts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

import amqp
import requests

from confide_messaging import broker
from confide_messaging.consumer import ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, ORIGIN_HEADER

DEAD_SUFFIX = ".dead"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    type: str | None
    origin_queue: str
    error: str | None
    failed_at: str | None
    attempts: int
    body: bytes

    def summary(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "type": self.type,
            "origin_queue": self.origin_queue,
            "attempts": self.attempts,
            "failed_at": self.failed_at,
            "error": self.error,
        }


def _origin(queue: str) -> str:
    if not queue.endswith(DEAD_SUFFIX):
        raise ValueError(f"{queue} is not a dead-letter queue (it should end in {DEAD_SUFFIX})")
    return queue[: -len(DEAD_SUFFIX)]


def _letter(queue: str, msg: amqp.Message) -> DeadLetter:
    props = msg.properties
    headers = props.get("application_headers") or {}
    return DeadLetter(
        message_id=props.get("message_id"),
        type=props.get("type"),
        origin_queue=headers.get(ORIGIN_HEADER, _origin(queue)),
        error=headers.get(ERROR_HEADER),
        failed_at=headers.get(FAILED_AT_HEADER),
        attempts=int(headers.get(ATTEMPT_HEADER, 1)),
        body=msg.body if isinstance(msg.body, bytes) else msg.body.encode(props.get("content_encoding") or "utf-8"),
    )


def list_dead_letters(amqp_uri: str, queue: str, limit: int = 1000) -> list[DeadLetter]:
    """The messages waiting in ``queue``, left in place."""
    _origin(queue)  # refuses a queue that is not a dead-letter queue: its consumers would see redeliveries
    with broker.connection(amqp_uri) as connection:
        channel = connection.channel()
        letters = []
        try:
            while len(letters) < limit:
                msg = channel.basic_get(queue, no_ack=False)
                if msg is None:
                    break
                letters.append(_letter(queue, msg))
        finally:
            # closing the channel without acking returns them all to the queue
            channel.close()
        return letters


def replay(amqp_uri: str, queue: str, message_ids: set[str] | None = None) -> int:
    """Move dead letters back to the queue they came from with a fresh count of
    attempts; with ``message_ids``, only those. Returns how many were replayed."""
    _origin(queue)
    replayed = 0
    with broker.connection(amqp_uri) as connection:
        channel = connection.channel()
        channel.confirm_select()
        try:
            seen = 0
            depth = channel.queue_declare(queue, passive=True).message_count
            while seen < depth:
                msg = channel.basic_get(queue, no_ack=False)
                if msg is None:
                    break
                seen += 1
                letter = _letter(queue, msg)
                if message_ids is not None and letter.message_id not in message_ids:
                    continue  # left unacked: returned to the queue when the channel closes
                headers = dict(msg.properties.get("application_headers") or {})
                headers.pop(ATTEMPT_HEADER, None)
                headers["x-confide-replayed-from"] = queue
                out = amqp.Message(
                    msg.body,
                    content_type=msg.properties.get("content_type"),
                    content_encoding=msg.properties.get("content_encoding"),
                    delivery_mode=2,
                    application_headers=headers,
                    message_id=letter.message_id,
                    type=letter.type,
                    user_id=connection.userid,  # the operator who replayed it (provenance.OPERATORS)
                )
                # basic_publish_confirm waits for the broker's ack before we ack the dead letter
                channel.basic_publish_confirm(out, exchange="", routing_key=letter.origin_queue)
                channel.basic_ack(msg.delivery_tag)
                replayed += 1
        finally:
            channel.close()
    return replayed


def dead_letter_queues(api_uri: str, vhost: str) -> list[tuple[str, int]]:
    """Every dead-letter queue in ``vhost`` with its depth (RabbitMQ management API)."""
    parsed = urlparse(api_uri)
    base = f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 15672}"
    response = requests.get(
        f"{base}/api/queues/{quote(vhost, safe='')}",
        auth=(parsed.username or "guest", parsed.password or "guest"),
        timeout=10,
        verify=os.environ.get("AMQP_CACERT") or True,  # (https under compose: the stack's CA)
    )
    response.raise_for_status()
    return sorted(
        (q["name"], int(q.get("messages", 0)))
        for q in response.json()
        if q["name"].endswith(DEAD_SUFFIX)
    )


def _vhost(amqp_uri: str) -> str:
    path = urlparse(amqp_uri).path.lstrip("/")
    return path or "/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide-dlq", description=__doc__.splitlines()[0])
    parser.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    parser.add_argument(
        "--api-uri", default=os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="dead-letter queues, or the messages in one")
    ls.add_argument("queue", nargs="?")
    rp = sub.add_parser("replay", help="send dead letters back to their queue")
    rp.add_argument("queue")
    rp.add_argument("--id", action="append", dest="ids", help="only this message id (repeatable)")
    args = parser.parse_args(argv)
    try:
        if args.command == "list" and args.queue is None:
            queues = dead_letter_queues(args.api_uri, _vhost(args.amqp_uri))
            if args.json:
                print(json.dumps([{"queue": q, "messages": n} for q, n in queues]))
            else:
                print(f"{'QUEUE':60} MESSAGES")
                for q, n in queues:
                    print(f"{q:60} {n}")
        elif args.command == "list":
            letters = list_dead_letters(args.amqp_uri, args.queue)
            if args.json:
                print(json.dumps([letter.summary() for letter in letters]))
            else:
                for letter in letters:
                    s = letter.summary()
                    print(f"{s['message_id']}  {s['type']}  attempts={s['attempts']}  "
                          f"failed_at={s['failed_at']}  {s['error']}")
                print(f"{len(letters)} dead letter(s) in {args.queue}")
        else:
            count = replay(args.amqp_uri, args.queue, set(args.ids) if args.ids else None)
            print(json.dumps({"replayed": count}) if args.json else f"replayed {count} message(s) from {args.queue}")
    except (ValueError, amqp.exceptions.NotFound) as exc:
        print(f"confide-dlq: {exc}", file=sys.stderr)
        return 2
    except (OSError, requests.RequestException) as exc:
        print(f"confide-dlq: cannot reach RabbitMQ ({exc}); is it running? try `make run`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
