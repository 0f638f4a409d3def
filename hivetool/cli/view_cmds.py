"""hivetool view: browse a target in a local, read-only web viewer (:mod:`hivetool.viewer`)."""
from __future__ import annotations

import os
import sys

import click

from ..errors import HiveIOError
from .targets import user_option

EXIT_INTERRUPTED = 130


@click.command()
@click.argument("target", metavar="TARGET")
@click.option("--compare", "other", metavar="OTHER",
              help="Also show what changed from OTHER (before) to TARGET (after), as `hivetool diff OTHER TARGET`: "
              "a hive file, or an image for an image.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, metavar="N",
              help="Port on 127.0.0.1 (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Only print the URL; do not open a browser.")
@click.option("--replay-logs", is_flag=True,
              help="Start with dirty hives read through their transaction logs (the page toggles this).")
@user_option
def view(target: str, other: str | None, port: int, no_browser: bool, replay_logs: bool, user: str | None) -> None:
    """Browse TARGET (a hive, an image folder or FILE.wim:INDEX) in a local web viewer: key
    tree, values with hex, pasted paths, search, timeline, deleted items, and with --compare a
    diff. It reads only TARGET (and OTHER), listens on 127.0.0.1 only, and answers only requests
    that carry the random token of the URL it prints first, on a line of its own. Ctrl-C stops
    it (exit 130), as SIGTERM does. Interactive: there is no --json."""
    from ..viewer.api import ViewerApi
    from ..viewer.server import ViewerServer
    from ..viewer.sources import COMPARE, MAIN, Source, Sources

    if other is not None:
        from ..errors import UsageError
        from ..image.spec import HIVE, parse_target

        if (parse_target(target).kind == HIVE) != (parse_target(other).kind == HIVE):
            raise UsageError("--compare: compare a hive file with a hive file, or an image with an image")
    sources = Sources(Source(MAIN, target, user), Source(COMPARE, other, user) if other else None)
    try:
        # Open everything now: a target that cannot be read fails here, with its exit code,
        # not later in a page.
        for role in sources.roles():
            for problem in sources.get(role).open_all(replay_logs):
                click.echo(f"hivetool: warning: {problem} (the image's other hives are shown)", err=True)
        try:
            server = ViewerServer(ViewerApi(sources, replay_logs), port)
        except OSError as err:
            raise HiveIOError(f"cannot listen on 127.0.0.1:{port}: {err.strerror or err}") from None
    except BaseException:
        sources.close()
        raise
    try:
        # The URL first, alone on its line and flushed: scripts read it from a pipe.
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        click.echo(f"hivetool: viewing {target}" + (f" (compared with {other})" if other else "")
                   + "; Ctrl-C stops the viewer", err=True)
        _stop_on_sigterm()
        if not no_browser:
            _open_browser(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("hivetool: viewer stopped", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    finally:
        server.server_close()
        sources.close()


def _stop_on_sigterm() -> None:
    """A script that started the viewer ends it with SIGTERM: stop as cleanly as on Ctrl-C."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _open_browser(url: str) -> None:
    """The desktop's browser. Without a display (a server, an SSH session) Python would start a
    text browser in this terminal, which takes it over: say where to go instead."""
    import webbrowser

    desktop = sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not desktop or not webbrowser.open(url):
        click.echo("hivetool: no browser to open here; open the URL above in one", err=True)
