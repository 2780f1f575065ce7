"""A mail server for the tests, on loopback: every message it receives is written to a
directory as JSON, one file each (renamed into place when whole): its recipients, and its
subject and plain-text body decoded as a mail reader shows them. Prints `ready PORT` once it
listens; stops when its standard input closes.

    python3 smtp_sink.py OUT_DIR
"""

import email
import email.policy
import itertools
import json
import pathlib
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = pathlib.Path(out)
        self.numbers = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        n = next(self.numbers)
        part = self.out / f".{n:04}.part"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        part.write_text(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "content_type": message.get_content_type(),
            "body": body.get_content() if body is not None else "",
        }))
        part.rename(self.out / f"{n:04}.json")
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    controller = Controller(Sink(sys.argv[1]), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
