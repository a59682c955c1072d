"""``confide``: the command-line client of the gateway.

``confide token --user ID --role ROLE [--site SITE ...]`` mints a development
token from the local issuer (``make run`` points the gateway at its JWKS), for
``CONFIDE_TOKEN``. Further commands (audit, licensure, appointments) call the
gateway at ``CONFIDE_URL`` with that token.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from confide_gateway.devtokens import mint

ROLES = ("clinician", "supervisor", "front_desk", "biller", "credentialing_officer", "compliance_officer", "admin",
         "client")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide", description="The Confide command-line client.")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="mint a development token (make run's local issuer)")
    token.add_argument("--user", required=True, help="the user id (the token's subject)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--site", action="append", default=[], help="a site the user works at (repeatable)")
    token.add_argument("--minutes", type=int, default=60, help="how long the token is valid (default 60)")
    token.add_argument("--state", type=Path, default=Path(".run"), help="where the dev issuer's key lives")
    args = parser.parse_args(argv)
    if args.command == "token":
        if not 1 <= args.minutes <= 24 * 60:
            parser.error("--minutes must be between 1 and 1440")
        print(mint(args.state, args.user, args.role, args.site, args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
