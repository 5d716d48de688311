"""Command line: `python -m local_salesforce --port PORT (--fixture FILE | --demo [--size S] [--seed N])`.

Prints exactly one JSON line on stdout once the server accepts connections:
`{"url", "ca_bundle", "state_dir", "credentials"}`; then serves until SIGTERM or SIGINT. Without
`--state-dir` the certificates (and credentials.json) go to a new temporary directory, removed on exit.
Any problem with the input (fixture, options, state directory, port) ends the process with status 2
and one line on stderr naming the file and record, or the option, and what is wrong.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import NoReturn

from local_salesforce.app import OrgApp
from local_salesforce.errors import FixtureError
from local_salesforce.server import OrgServer
from local_salesforce.tls import write_certificates

logger = logging.getLogger("local_salesforce")


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are the one stderr line this command promises, without the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a TCP port from 0 to 65535 (0 picks a free one), got {text!r}"
        )
    return port


def _log_level(text: str) -> str:
    if not isinstance(logging.getLevelName(text.upper()), int):
        raise argparse.ArgumentTypeError(
            f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL (also in LOCAL_SALESFORCE_LOG), got {text!r}"
        )
    return text.upper()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m local_salesforce", description="Serve a local Salesforce org.")
    parser.add_argument("--port", type=_port, required=True, help="TCP port on 127.0.0.1; 0 picks a free one")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--fixture", help="org fixture JSON file (local_salesforce/FIXTURES.md)")
    source.add_argument("--demo", action="store_true", help="generate a demo org with local_salesforce.demo")
    parser.add_argument("--size", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--state-dir", help="where certificates and credentials go (default: a new temp dir)")
    parser.add_argument(
        "--log-level", type=_log_level, default=os.environ.get("LOCAL_SALESFORCE_LOG", "WARNING")
    )
    return parser.parse_args(argv)


def _load_source(args: argparse.Namespace) -> tuple[dict, str, dict | None]:
    """(fixture, source name, demo secrets or None); FixtureError for anything unreadable."""
    if args.demo:
        try:
            from local_salesforce import demo  # imported lazily: only --demo needs the generator
        except ImportError as exc:
            raise FixtureError(f"--demo: the demo generator cannot be imported: {exc}") from exc
        try:
            fixture, secrets = demo.generate(args.size, args.seed)
        except Exception as exc:  # a generator bug must still end in one clear line, not a traceback
            raise FixtureError(f"--demo: generating the {args.size} org failed: {exc!r}") from exc
        return fixture, f"demo({args.size}, seed={args.seed})", secrets
    path = Path(args.fixture)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise FixtureError(
            f"{path}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        ) from exc
    try:
        fixture = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise FixtureError(f"{path}: not valid JSON: nested too deeply") from exc
    return fixture, str(path), None


def _write_credentials(state_dir: Path, secrets: dict | None) -> str | None:
    if secrets is None:
        return None
    path = state_dir / "credentials.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(secrets, handle, indent=2)
    os.chmod(path, 0o600)
    return str(path)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        fixture, source, secrets = _load_source(args)
        org = OrgApp(fixture, source)
    except FixtureError as exc:
        print(f"local_salesforce: bad fixture: {exc}", file=sys.stderr)
        return 2

    made_up = not args.state_dir  # a directory we made up ourselves holds nothing anyone needs afterwards
    try:
        state_dir = Path(tempfile.mkdtemp(prefix="local_salesforce-")) if made_up else Path(args.state_dir)
    except OSError as exc:
        print(
            f"local_salesforce: cannot make a temporary state directory: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    try:
        return _serve(org, args, state_dir, secrets)
    finally:
        if made_up:
            shutil.rmtree(state_dir, ignore_errors=True)


def _serve(org: OrgApp, args: argparse.Namespace, state_dir: Path, secrets: dict | None) -> int:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        ca_path, cert_path, key_path = write_certificates(state_dir)
        credentials = _write_credentials(state_dir, secrets)
    except OSError as exc:
        print(
            f"local_salesforce: --state-dir {state_dir}: cannot write there: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    try:
        server = OrgServer(org, args.port, cert_path, key_path)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            problem = f"port {args.port} is already in use on 127.0.0.1"
        else:
            problem = f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}"
        print(f"local_salesforce: --port {args.port}: {problem}", file=sys.stderr)
        return 2
    org.set_base_url(server.url)

    def stop(signum: int, _frame: object) -> None:
        logger.info("signal %s: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announcement = {
        "url": server.url,
        "ca_bundle": str(ca_path),
        "state_dir": str(state_dir),
        "credentials": credentials,
    }
    sys.stdout.write(json.dumps(announcement) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
