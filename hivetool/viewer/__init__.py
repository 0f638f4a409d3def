"""``hivetool view``: a local, read-only web viewer of the targets named on the command line.

The layers, top to bottom: :mod:`.server` (HTTP, the token, security headers, static files),
:mod:`.api` (one function per JSON endpoint), and the modules that compute what the endpoints
show from the library below: :mod:`.sources` (the targets, as stored and with their logs
replayed), :mod:`.nodes` (keys, children pages, pasted paths), :mod:`.values`, :mod:`.search`,
:mod:`.timeline`, :mod:`.compare` and :mod:`.deleted`. The page itself is plain HTML, CSS and
JavaScript in ``static/``, served as files: no build step and nothing fetched from elsewhere.
"""
