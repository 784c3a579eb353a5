"""Every bound capmon puts on what an endpoint sends, in one place.

capmon probes endpoints it does not control, so each of them is treated as hostile: whatever comes
back, one attempt costs bounded time and memory and ends as a ``ChatResponse`` whose every field is
bounded, or as a ``ProviderError`` with a reason. ``docs/reliability.md`` lists the attacks these
limits answer and the figures measured with them.
"""

from __future__ import annotations

#: Decoded body size, enforced while decoding: no decompression step may produce more than what is
#: left of it. Larger answers are abandoned as ``too_large`` (the model's text is capped far below).
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Bytes read off the wire (compressed or not). Compressed JSON is smaller than its decoding, so the
#: same figure never refuses an honest answer; it only stops an endpoint streaming forever.
MAX_WIRE_BYTES = MAX_BODY_BYTES
#: Content codings decoded (by capmon, with the output bounded). A response may use at most one
#: (``gzip, gzip`` is refused), and only one of these; anything else is ``encoding``.
#: ``br`` is added when a brotli module that can bound its output is installed (see ``decoding``).
CONTENT_CODINGS = ("gzip", "x-gzip", "deflate")
#: gzip members in one body (concatenated members decode as one body). Servers send one; each costs
#: a fresh decoder, so 2 MiB of 20-byte empty members would be 0.6 s of event-loop time.
MAX_GZIP_MEMBERS = 16
#: Bytes of one server-sent event (its data lines, and a line still unfinished). A streamed chunk
#: holds a token or a few; the bound stops a stream from making one event of the whole body.
MAX_EVENT_BYTES = 256 * 1024
#: Nesting depth of a JSON body (objects and arrays). Real answers nest 5-8 deep.
MAX_JSON_DEPTH = 64
#: Containers and separators (``[``, ``{``, ``,``) outside strings in a JSON body. An answer has a
#: few dozen; the bound keeps what ``json.loads`` builds from 2 MiB to a few MB (``{}`` costs 64
#: bytes of Python objects per 3 bytes of JSON).
MAX_JSON_VALUES = 100_000
#: Length (characters) of every endpoint-supplied string kept besides the text: response model,
#: system fingerprint, finish reason, request id. Longer values are cut, control and format
#: characters removed (they are stored, exported as Prometheus label values and shown in reports).
MAX_META_CHARS = 200
#: Length of each kept attribution header value (same treatment as ``MAX_META_CHARS``).
MAX_HEADER_CHARS = 200
#: Token counts are ints in ``0..MAX_TOKEN_COUNT`` (clamped); anything that is not an int is None.
#: SQLite integers are 64-bit: 10**20 must never reach the store.
MAX_TOKEN_COUNT = 10**9
#: Retry-After beyond this (seconds) is read as this: the retry policy gives up on it anyway.
MAX_RETRY_AFTER_S = 86_400.0
#: Endpoint text quoted in an error message (block reasons, error codes) is cut to this.
MAX_QUOTED_CHARS = 40
