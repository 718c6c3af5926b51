"""A real SMTP server for the mail tests: aiosmtpd (Debian's python3-aiosmtpd) on a free port of
127.0.0.1, delivering every message it accepts into a Maildir, and requiring AUTH (PLAIN or
LOGIN, over the plain connection) with the one user and password the test chose.

Usage: smtpd.py MAILDIR USER PASSWORD
Prints "ready PORT" on stdout once it listens, then serves until it is killed.
"""

import asyncio
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main() -> None:
    maildir, user, password = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
    handler = Mailbox(maildir)

    def authenticator(_server, _session, _envelope, mechanism, auth_data):
        ok = (
            mechanism in ("PLAIN", "LOGIN")
            and isinstance(auth_data, LoginPassword)
            and auth_data.login == user
            and auth_data.password == password
        )
        # handled=False: aiosmtpd then answers a refusal with 535 itself (its default,
        # handled=True, would answer nothing and leave the client waiting).
        return AuthResult(success=ok, handled=False)

    def protocol() -> SMTP:
        return SMTP(
            handler,
            authenticator=authenticator,
            auth_required=True,
            # The test's connection is plain: the credentials cross loopback only.
            auth_require_tls=False,
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(protocol, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main()
