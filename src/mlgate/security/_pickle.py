"""A static reader of pickle streams: it walks the opcodes, never runs them.

``pickle.load`` is a small stack machine whose instructions may import any module (``GLOBAL``,
``STACK_GLOBAL``, ``INST``) and call any object (``REDUCE``, ``BUILD``, ``INST``, ``OBJ``,
``NEWOBJ``, ``NEWOBJ_EX``). :func:`walk` plays the same machine on *stand-ins*: strings,
numbers and tuples are kept as values (so a module or attribute name that reaches
``STACK_GLOBAL`` through the memo is still resolved), imports become :class:`Global` records and
calls produce opaque :class:`Obj` values. Nothing is imported, nothing is called.

What the walker cannot resolve statically is reported as a :class:`Problem`, never guessed:

- ``computed-global``: ``STACK_GLOBAL`` whose module or name is not a string constant (it was
  built by a call at load time, e.g. ``getattr`` or ``str.join``);
- ``computed-call``: ``REDUCE``/``NEWOBJ``/``OBJ`` whose callee is the *result* of a call
  rather than an imported global (``getattr(os, 'system')(...)`` chains);
- ``extension``: ``EXT1/2/4`` opcodes, which name a global through ``copyreg``'s registry of
  the loading process;
- ``build-on-global``: ``BUILD`` applied to an imported object (it would set attributes on a
  module-level object);
- ``malformed``: unknown opcode, stack or memo misuse, a stream that ends before ``STOP``.

Two globals are vouched for by how they are used, not by name (:data:`CONDITIONAL`):
``builtins.getattr`` called directly on an imported global and a literal attribute name is
resolved to the dotted global it returns (how pickle writes bound and class methods), and
``torch.storage._load_from_bytes`` called directly on a literal blob hands the blob to a hook
that scans it (how a plain pickle of a tensor embeds a ``torch.save`` file). Each stand-in of
such a global must be used, and used only that way, or it stays an ordinary unknown import.

The walker reads from a :class:`Stream`, a buffered reader with an absolute offset (every
record carries the byte offset of its opcode) and an optional byte :class:`Budget` (archives
and compressed streams draw on it, so a decompression bomb stops with :class:`BudgetExceeded`).
Large string and bytes payloads are skipped, not copied, so a pickle holding a 1 GB array costs
a seek.
"""

from __future__ import annotations

import _compat_pickle  # the stdlib's Python 2 name mapping tables: data, no code run
import codecs
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: strings up to this length are kept as values (longer ones are skipped: no module name is that long)
MAX_STR = 1 << 16
#: bytes up to this length are kept as values
MAX_BYTES = 64
#: items kept per list or dict stand-in (only used to read small structures such as a joblib
#: wrapper's state or torch's list of storage keys)
MAX_ITEMS = 1 << 16
#: calls recorded one by one per stream (the count is always complete)
MAX_CALLS = 10_000


class Truncated(Exception):
    """The stream ended in the middle of an opcode or before ``STOP``."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        super().__init__(f"the stream ends at offset {offset} before the pickle is complete")


class Malformed(Exception):
    """The stream is not a pickle ``pickle.load`` would accept."""

    def __init__(self, message: str, offset: int) -> None:
        self.message = message
        self.offset = offset
        super().__init__(f"{message} (offset {offset})")


class LongLine(Malformed):
    """A protocol 0 text argument longer than :data:`MAX_STR`: skipped up to its newline. A
    string that long is kept as an opaque value; anywhere else (a module name, a number) the
    stream is malformed."""


class BudgetExceeded(Exception):
    """More bytes were decompressed or extracted than the scan allows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"more than {limit} bytes unpacked")


class Budget:
    """Bytes that archive members and decompressed streams may still produce."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise BudgetExceeded(self.limit)


class Stream:
    """A forward-only buffered reader over a binary file object, with the absolute offset.

    ``size`` (when the source is a seekable file of known length) lets :meth:`skip` seek over
    payloads instead of reading them. ``budget`` is charged for every byte read from ``raw``.
    """

    CHUNK = 1 << 16

    def __init__(self, raw: Any, *, size: int | None = None, budget: Budget | None = None,
                 offset: int = 0) -> None:
        self.raw = raw
        self.size = size
        self.budget = budget
        self.buf = b""
        self.i = 0
        self.base = offset  # absolute offset of buf[0]
        self.eof = False

    @property
    def pos(self) -> int:
        return self.base + self.i

    def _fill(self, n: int) -> None:
        avail = len(self.buf) - self.i
        if avail >= n or self.eof:
            return
        parts = [self.buf[self.i:]]
        self.base += self.i
        self.i = 0
        need = n - avail
        while need > 0:
            chunk = self.raw.read(max(need, self.CHUNK))
            if not chunk:
                self.eof = True
                break
            if self.budget is not None:
                self.budget.take(len(chunk))
            parts.append(chunk)
            need -= len(chunk)
        self.buf = b"".join(parts)

    def read(self, n: int) -> bytes:
        if len(self.buf) - self.i < n:
            self._fill(n)
            if len(self.buf) - self.i < n:
                raise Truncated(self.base + len(self.buf))
        out = self.buf[self.i:self.i + n]
        self.i += n
        return out

    def byte(self) -> int:
        """The next byte, or -1 at the end of the stream."""
        if self.i >= len(self.buf):
            self._fill(1)
            if self.i >= len(self.buf):
                return -1
        b = self.buf[self.i]
        self.i += 1
        return b

    def readline(self, limit: int = MAX_STR) -> bytes:
        """Up to the next newline (dropped); a missing newline is :class:`Truncated`."""
        start = self.pos
        while True:
            j = self.buf.find(b"\n", self.i)
            if j >= 0:
                line = self.buf[self.i:j]
                self.i = j + 1
                if len(line) > limit:
                    raise LongLine(f"a text argument longer than {limit} bytes", start)
                return line
            have = len(self.buf) - self.i
            if have > limit:
                self.i = len(self.buf)
                while True:
                    self._fill(1)
                    if self.i >= len(self.buf):
                        raise Truncated(self.base + len(self.buf))
                    j = self.buf.find(b"\n", self.i)
                    if j >= 0:
                        self.i = j + 1
                        raise LongLine(f"a text argument longer than {limit} bytes", start)
                    self.i = len(self.buf)
            self._fill(have + 1)
            if len(self.buf) - self.i == have:
                raise Truncated(self.base + len(self.buf))

    def skip(self, n: int) -> None:
        avail = len(self.buf) - self.i
        if n <= avail:
            self.i += n
            return
        n -= avail
        self.base += len(self.buf)
        self.buf, self.i = b"", 0
        if self.size is not None and self.budget is None and not self.eof:
            if self.base + n > self.size:
                raise Truncated(self.size)
            self.raw.seek(n, 1)
            self.base += n
            return
        while n > 0:
            chunk = self.raw.read(min(n, 1 << 20))
            if not chunk:
                self.eof = True
                raise Truncated(self.base)
            if self.budget is not None:
                self.budget.take(len(chunk))
            self.base += len(chunk)
            n -= len(chunk)

    def read_available(self, n: int) -> bytes:
        """Up to ``n`` bytes, fewer only at the end of the stream."""
        self._fill(n)
        out = self.buf[self.i:self.i + n]
        self.i += len(out)
        return out

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self.buf[self.i:self.i + n]

    def at_eof(self) -> bool:
        return not self.peek(1)


# -- stand-ins for the values the real unpickler would build ----------------------------------

class Global:
    """An object the stream imports: ``module``, ``name`` (after Python 2 name mapping)."""

    __slots__ = ("module", "name", "full", "offset", "escaped", "used")

    def __init__(self, module: str, name: str, offset: int) -> None:
        self.module, self.name, self.offset = module, name, offset
        self.full = f"{module}.{name}"
        self.escaped = False  # used other than as the callee of a call
        self.used = False  # the callee of at least one vouched-for call

    def describe(self) -> str:
        return self.full


class Obj:
    """An object the real unpickler would have built: a call's result, a container, a blob."""

    __slots__ = ("kind", "callee", "args", "offset", "state", "items")

    def __init__(self, kind: str, offset: int, callee: Any = None, args: Any = None) -> None:
        self.kind, self.offset, self.callee, self.args = kind, offset, callee, args
        self.state: Any = None
        self.items: Any = None

    def describe(self) -> str:
        if self.kind == "call":
            return f"the object returned by {_describe(self.callee)} (offset {self.offset})"
        return f"a {self.kind} (offset {self.offset})"


class _Mark:
    pass


MARK = _Mark()


def _describe(value: Any) -> str:
    if isinstance(value, (Global, Obj)):
        return value.describe()
    if isinstance(value, str):
        return repr(value[:60])
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return type(value).__name__


@dataclass
class Problem:
    """Something the walker could not vouch for, at a byte offset."""

    kind: str
    offset: int
    message: str
    symbol: str | None = None


@dataclass
class CallRecord:
    offset: int
    opcode: str
    callee: str


@dataclass
class PickleReport:
    """What one pickle stream (``PROTO`` … ``STOP``) would import and call."""

    start: int
    end: int | None = None
    protocol: int = 0
    globals: dict[str, int] = field(default_factory=dict)  # name -> first offset
    calls: list[CallRecord] = field(default_factory=list)
    call_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    persistent_ids: list[Any] = field(default_factory=list)
    value: Any = None  # the stand-in for the unpickled value (torch legacy reads it)
    #: :data:`CONDITIONAL` globals whose every use was vouched for: a direct call of a loader
    #: on a literal blob that scanned clean, or ``getattr`` on an imported global and a name
    verified: set[str] = field(default_factory=set)

    def merge(self, other: PickleReport) -> None:
        for name, off in other.globals.items():
            self.globals.setdefault(name, off)
        self.calls.extend(other.calls[:max(0, MAX_CALLS - len(self.calls))])
        self.call_count += other.call_count
        self.problems.extend(other.problems)
        self.persistent_ids.extend(other.persistent_ids)
        self.verified |= other.verified


#: hook called on ``BUILD``: ``(stream, obj, report) -> None``; joblib's array wrapper uses it
BuildHook = Callable[[Stream, Obj, PickleReport], None]
#: hook called with an embedded blob handed to a loader: ``(data, offset) -> clean``
EmbeddedHook = Callable[[bytes, int], bool]

#: globals that load a file from bytes given in the stream. A plain ``pickle.dumps`` of a
#: tensor pickles ``torch.storage._load_from_bytes(b"<a torch.save zip>")``. Such a global is
#: allowed only when every use of it is a direct call on a literal blob that itself scans clean.
EMBEDDED_LOADERS = frozenset({"torch.storage._load_from_bytes"})
#: ``getattr(cls, "name")`` is how pickle writes bound and class methods (``ZoneInfo._unpickle``,
#: a frozen distribution's method). A direct call on an imported global and a literal name is
#: resolved to the dotted global ``module.cls.name``, judged like any other; ``getattr`` is
#: allowed only when every use of it is such a call.
ATTRIBUTE_GETTERS = frozenset({"builtins.getattr"})
CONDITIONAL = EMBEDDED_LOADERS | ATTRIBUTE_GETTERS
#: largest embedded blob read into memory to be scanned (larger ones stay findings)
MAX_EMBEDDED = 64 << 20

_OPNAMES = {
    ord("R"): "REDUCE", ord("b"): "BUILD", ord("i"): "INST", ord("o"): "OBJ",
    0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
}


def _u(fmt: str, data: bytes) -> int:
    return struct.unpack(fmt, data)[0]


def _decode_quoted(line: bytes, off: int) -> Any:
    """The argument of protocol 0 ``STRING``: a quoted, backslash-escaped literal."""
    if len(line) >= 2 and line[0] == line[-1] and line[:1] in (b"'", b'"'):
        try:
            raw = codecs.escape_decode(line[1:-1])[0]
        except ValueError:
            raise Malformed("invalid escape in a STRING argument", off) from None
    else:
        raise Malformed("STRING argument is not quoted", off)
    return _ascii(raw)


def _ascii(raw: bytes) -> Any:
    # the default unpickler decodes 8-bit strings as ASCII; anything else is kept as bytes
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return raw


def walk(stream: Stream, *, on_build: BuildHook | None = None,
         on_embedded: EmbeddedHook | None = None) -> PickleReport:
    """Walk one pickle from the stream's position to its ``STOP`` and report.

    Raises :class:`Truncated` or :class:`Malformed` (with what was seen so far on the
    exception's ``report`` attribute) when the stream is not a complete pickle, and
    :class:`BudgetExceeded` from the stream.
    """
    report = PickleReport(start=stream.pos)
    try:
        _run(stream, report, on_build, on_embedded)
    except (Truncated, Malformed) as exc:
        exc.report = report  # type: ignore[attr-defined]
        raise
    return report


def _run(stream: Stream, report: PickleReport, on_build: BuildHook | None,  # noqa: C901
         on_embedded: EmbeddedHook | None) -> None:
    stack: list[Any] = []
    loaders: list[Global] = []  # stand-ins of CONDITIONAL globals
    unverified: set[str] = set()
    metastack: list[list[Any]] = []
    memo: dict[int, Any] = {}
    problems = report.problems
    proto = 0

    def pop(off: int, callee: bool = False) -> Any:
        if not stack:
            raise Malformed("stack underflow", off)
        v = stack.pop()
        if isinstance(v, Global) and not callee:
            v.escaped = True
        return v

    def pop_mark(off: int) -> list[Any]:
        nonlocal stack
        if not metastack:
            raise Malformed("no MARK to pop to", off)
        items = stack
        stack = metastack.pop()
        for v in items:
            if isinstance(v, Global):
                v.escaped = True
        return items

    def add_global(module: str, name: str, off: int) -> Global:
        if proto < 3:  # as pickle.Unpickler.find_class does with fix_imports=True
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return register(Global(module, name, off))

    def register(g: Global) -> Global:
        report.globals.setdefault(g.full, g.offset)
        if g.full in CONDITIONAL:
            loaders.append(g)
        return g

    def call(callee: Any, off: int, opcode: int, args: Any = None) -> Obj:
        opname = _OPNAMES[opcode]
        if isinstance(callee, Global):
            name = callee.full
            if name in EMBEDDED_LOADERS:
                if embedded_clean(args, opcode):
                    callee.used = True
                else:
                    unverified.add(name)
            elif name in ATTRIBUTE_GETTERS:
                if (opcode == 0x52 and isinstance(args, tuple) and len(args) == 2
                        and isinstance(args[0], Global) and isinstance(args[1], str)
                        and args[1].isidentifier()):
                    report.call_count += 1
                    if len(report.calls) < MAX_CALLS:
                        report.calls.append(CallRecord(off, opname, name))
                    target = args[0]
                    callee.used = True
                    return register(Global(target.module, f"{target.name}.{args[1]}", off))
                unverified.add(name)
        else:
            name = f"<{_describe(callee)}>"
            problems.append(Problem(
                "computed-call", off,
                f"{opname} calls {_describe(callee)}, not an imported global: the callee is "
                "computed at load time"))
        report.call_count += 1
        if len(report.calls) < MAX_CALLS:
            report.calls.append(CallRecord(off, opname, name))
        return Obj("call", off, callee, args)

    def memo_get(key: int, off: int) -> Any:
        try:
            return memo[key]
        except KeyError:
            raise Malformed(f"memo key {key} read before it was written", off) from None

    def text(n: int, off: int) -> Any:
        if n > MAX_STR:
            stream.skip(n)
            return Obj("long string", off)
        try:
            return stream.read(n).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise Malformed("invalid UTF-8 in a string", off) from None

    def embedded_clean(args: Any, opcode: int) -> bool:
        if not (on_embedded is not None and opcode == 0x52 and isinstance(args, tuple)
                and len(args) == 1 and isinstance(args[0], Obj) and args[0].kind == "bytes"
                and isinstance(args[0].items, bytes)):
            return False
        data, args[0].items = args[0].items, None  # scanned once, then freed
        return on_embedded(data, args[0].offset)

    def blob(n: int, off: int, kind: str = "bytes") -> Any:
        if n > MAX_BYTES:
            if kind == "bytes" and on_embedded is not None and n <= MAX_EMBEDDED:
                head = stream.peek(4)
                if head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in
                                                   (b"\x02", b"\x03", b"\x04", b"\x05")):
                    start = stream.pos
                    embedded = Obj(kind, start)
                    embedded.items = stream.read(n)
                    return embedded
            stream.skip(n)
            return Obj(kind, off)
        data = stream.read(n)
        return data if kind == "bytes" else Obj(kind, off)

    def add_item(container: Any, key: Any, value: Any) -> None:
        if isinstance(container, Obj) and container.kind in ("list", "dict"):
            if container.items is None:
                container.items = {} if container.kind == "dict" else []
            items = container.items
            if len(items) < MAX_ITEMS:
                if isinstance(items, dict):
                    if isinstance(key, (str, int)):
                        items[key] = value
                else:
                    items.append(value)

    while True:
        off = stream.pos
        op = stream.byte()
        if op < 0:
            raise Truncated(off)
        # -- memo and stack plumbing (the most frequent opcodes first) --
        if op == 0x71:  # BINPUT
            if not stack:
                raise Malformed("BINPUT on an empty stack", off)
            memo[stream.read(1)[0]] = stack[-1]
        elif op == 0x94:  # MEMOIZE
            if not stack:
                raise Malformed("MEMOIZE on an empty stack", off)
            memo[len(memo)] = stack[-1]
        elif op == 0x72:  # LONG_BINPUT
            if not stack:
                raise Malformed("LONG_BINPUT on an empty stack", off)
            memo[_u("<I", stream.read(4))] = stack[-1]
        elif op == 0x70:  # PUT
            line = stream.readline()
            if not stack:
                raise Malformed("PUT on an empty stack", off)
            try:
                memo[int(line)] = stack[-1]
            except ValueError:
                raise Malformed("PUT argument is not an integer", off) from None
        elif op == 0x68:  # BINGET
            stack.append(memo_get(stream.read(1)[0], off))
        elif op == 0x6A:  # LONG_BINGET
            stack.append(memo_get(_u("<I", stream.read(4)), off))
        elif op == 0x67:  # GET
            line = stream.readline()
            try:
                key = int(line)
            except ValueError:
                raise Malformed("GET argument is not an integer", off) from None
            stack.append(memo_get(key, off))
        elif op == 0x28:  # MARK
            metastack.append(stack)
            stack = []
        elif op == 0x30:  # POP
            if stack:
                stack.pop()
            else:
                pop_mark(off)
        elif op == 0x31:  # POP_MARK
            pop_mark(off)
        elif op == 0x32:  # DUP
            if not stack:
                raise Malformed("DUP on an empty stack", off)
            stack.append(stack[-1])
        elif op == 0x95:  # FRAME (framing is transparent to the opcode stream)
            stream.read(8)
        elif op == 0x80:  # PROTO
            proto = stream.read(1)[0]
            if proto > 5:
                raise Malformed(f"unsupported pickle protocol {proto}", off)
            report.protocol = proto
        # -- constants --
        elif op == 0x8C:  # SHORT_BINUNICODE
            stack.append(text(stream.read(1)[0], off))
        elif op == 0x58:  # BINUNICODE
            stack.append(text(_u("<I", stream.read(4)), off))
        elif op == 0x8D:  # BINUNICODE8
            stack.append(text(_u("<Q", stream.read(8)), off))
        elif op == 0x56:  # UNICODE
            try:
                line = stream.readline()
                stack.append(line.decode("raw-unicode-escape"))
            except LongLine:
                stack.append(Obj("long string", off))
            except UnicodeDecodeError:
                raise Malformed("invalid UNICODE argument", off) from None
        elif op == 0x53:  # STRING
            try:
                stack.append(_decode_quoted(stream.readline(), off))
            except LongLine:
                stack.append(Obj("long string", off))
        elif op == 0x55:  # SHORT_BINSTRING
            n = stream.read(1)[0]
            stack.append(_ascii(stream.read(n)))
        elif op == 0x54:  # BINSTRING
            n = struct.unpack("<i", stream.read(4))[0]
            if n < 0:
                raise Malformed("BINSTRING with a negative length", off)
            stack.append(_ascii(stream.read(n)) if n <= MAX_STR else blob(n, off))
        elif op == 0x43:  # SHORT_BINBYTES
            stack.append(blob(stream.read(1)[0], off))
        elif op == 0x42:  # BINBYTES
            stack.append(blob(_u("<I", stream.read(4)), off))
        elif op == 0x8E:  # BINBYTES8
            stack.append(blob(_u("<Q", stream.read(8)), off))
        elif op == 0x96:  # BYTEARRAY8
            stack.append(blob(_u("<Q", stream.read(8)), off, "bytearray"))
        elif op == 0x97:  # NEXT_BUFFER (out-of-band buffer: supplied by the caller of load)
            stack.append(Obj("out-of-band buffer", off))
        elif op == 0x98:  # READONLY_BUFFER
            if not stack:
                raise Malformed("READONLY_BUFFER on an empty stack", off)
        elif op == 0x4B:  # BININT1
            stack.append(stream.read(1)[0])
        elif op == 0x4D:  # BININT2
            stack.append(_u("<H", stream.read(2)))
        elif op == 0x4A:  # BININT
            stack.append(_u("<i", stream.read(4)))
        elif op == 0x8A:  # LONG1
            n = stream.read(1)[0]
            stack.append(int.from_bytes(stream.read(n), "little", signed=True))
        elif op == 0x8B:  # LONG4
            n = struct.unpack("<i", stream.read(4))[0]
            if n < 0:
                raise Malformed("LONG4 with a negative length", off)
            if n > 1 << 12:
                stream.skip(n)
                stack.append(Obj("long integer", off))
            else:
                stack.append(int.from_bytes(stream.read(n), "little", signed=True))
        elif op == 0x49:  # INT
            line = stream.readline()
            if line == b"00":
                stack.append(False)
            elif line == b"01":
                stack.append(True)
            else:
                try:
                    stack.append(int(line, 0))
                except ValueError:
                    raise Malformed("INT argument is not an integer", off) from None
        elif op == 0x4C:  # LONG
            line = stream.readline()
            try:
                stack.append(int(line[:-1] if line.endswith(b"L") else line, 0))
            except ValueError:
                raise Malformed("LONG argument is not an integer", off) from None
        elif op == 0x46:  # FLOAT
            line = stream.readline()
            try:
                stack.append(float(line))
            except ValueError:
                raise Malformed("FLOAT argument is not a number", off) from None
        elif op == 0x47:  # BINFLOAT
            stack.append(struct.unpack(">d", stream.read(8))[0])
        elif op == 0x4E:  # NONE
            stack.append(None)
        elif op == 0x88:  # NEWTRUE
            stack.append(True)
        elif op == 0x89:  # NEWFALSE
            stack.append(False)
        # -- containers --
        elif op == 0x29:  # EMPTY_TUPLE
            stack.append(())
        elif op == 0x85:  # TUPLE1
            stack.append((pop(off),))
        elif op == 0x86:  # TUPLE2
            b = pop(off)
            a = pop(off)
            stack.append((a, b))
        elif op == 0x87:  # TUPLE3
            c = pop(off)
            b = pop(off)
            a = pop(off)
            stack.append((a, b, c))
        elif op == 0x74:  # TUPLE
            items = pop_mark(off)
            stack.append(tuple(items))
        elif op == 0x5D:  # EMPTY_LIST
            stack.append(Obj("list", off))
        elif op == 0x6C:  # LIST
            items = pop_mark(off)
            lst = Obj("list", off)
            lst.items = items[:MAX_ITEMS]
            stack.append(lst)
        elif op == 0x7D:  # EMPTY_DICT
            stack.append(Obj("dict", off))
        elif op == 0x64:  # DICT
            items = pop_mark(off)
            if len(items) % 2:
                raise Malformed("DICT with an odd number of items", off)
            d = Obj("dict", off)
            for k, v in zip(items[::2], items[1::2], strict=True):
                add_item(d, k, v)
            stack.append(d)
        elif op == 0x8F:  # EMPTY_SET
            stack.append(Obj("set", off))
        elif op == 0x91:  # FROZENSET
            pop_mark(off)
            stack.append(Obj("frozenset", off))
        elif op == 0x61:  # APPEND
            v = pop(off)
            if not stack:
                raise Malformed("APPEND on an empty stack", off)
            add_item(stack[-1], None, v)
        elif op == 0x65:  # APPENDS
            items = pop_mark(off)
            if not stack:
                raise Malformed("APPENDS on an empty stack", off)
            for v in items:
                add_item(stack[-1], None, v)
        elif op == 0x73:  # SETITEM
            v = pop(off)
            k = pop(off)
            if not stack:
                raise Malformed("SETITEM on an empty stack", off)
            add_item(stack[-1], k, v)
        elif op == 0x75:  # SETITEMS
            items = pop_mark(off)
            if len(items) % 2:
                raise Malformed("SETITEMS with an odd number of items", off)
            if not stack:
                raise Malformed("SETITEMS on an empty stack", off)
            for k, v in zip(items[::2], items[1::2], strict=True):
                add_item(stack[-1], k, v)
        elif op == 0x90:  # ADDITEMS
            pop_mark(off)
            if not stack:
                raise Malformed("ADDITEMS on an empty stack", off)
        # -- imports --
        elif op == 0x63:  # GLOBAL
            try:
                module = stream.readline().decode("utf-8")
                name = stream.readline().decode("utf-8")
            except UnicodeDecodeError:
                raise Malformed("GLOBAL name is not UTF-8", off) from None
            stack.append(add_global(module, name, off))
        elif op == 0x93:  # STACK_GLOBAL
            name = pop(off)
            module = pop(off)
            if isinstance(module, str) and isinstance(name, str):
                stack.append(add_global(module, name, off))
            else:
                what = _describe(module if not isinstance(module, str) else name)
                problems.append(Problem(
                    "computed-global", off,
                    f"STACK_GLOBAL imports a name that is not a string constant ({what}): "
                    "the import target is computed at load time"))
                stack.append(Obj("computed global", off))
        elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
            n = {0x82: 1, 0x83: 2, 0x84: 4}[op]
            code = int.from_bytes(stream.read(n), "little")
            problems.append(Problem(
                "extension", off,
                f"EXT{n} imports copyreg extension code {code}: which object that is depends on "
                "the loading process's registry, so it cannot be checked"))
            stack.append(Obj(f"extension {code}", off))
        # -- calls --
        elif op == 0x52:  # REDUCE
            args = pop(off)
            func = pop(off, callee=True)
            stack.append(call(func, off, op, args))
        elif op == 0x81:  # NEWOBJ
            args = pop(off)
            cls = pop(off, callee=True)
            stack.append(call(cls, off, op, args))
        elif op == 0x92:  # NEWOBJ_EX
            kwargs = pop(off)
            args = pop(off)
            cls = pop(off, callee=True)
            stack.append(call(cls, off, op, (args, kwargs)))
        elif op == 0x6F:  # OBJ
            items = pop_mark(off)
            if not items:
                raise Malformed("OBJ without a class", off)
            stack.append(call(items[0], off, op, tuple(items[1:])))
        elif op == 0x69:  # INST
            try:
                module = stream.readline().decode("utf-8")
                name = stream.readline().decode("utf-8")
            except UnicodeDecodeError:
                raise Malformed("INST name is not UTF-8", off) from None
            items = pop_mark(off)
            stack.append(call(add_global(module, name, off), off, op, tuple(items)))
        elif op == 0x62:  # BUILD
            state = pop(off)
            if not stack:
                raise Malformed("BUILD on an empty stack", off)
            obj = stack[-1]
            if isinstance(obj, Global):
                problems.append(Problem(
                    "build-on-global", off,
                    f"BUILD sets state on the imported object {obj.full} itself (it would "
                    "overwrite attributes of a module-level object)", obj.full))
            elif isinstance(obj, Obj):
                obj.state = state
                callee = obj.callee.full if isinstance(obj.callee, Global) else f"<{obj.kind}>"
                report.call_count += 1
                if len(report.calls) < MAX_CALLS:
                    report.calls.append(CallRecord(off, "BUILD", f"{callee}.__setstate__"))
                if on_build is not None:
                    on_build(stream, obj, report)
            else:
                raise Malformed(f"BUILD on {_describe(obj)}", off)
        elif op == 0x50:  # PERSID
            try:
                report.persistent_ids.append(_ascii(stream.readline()))
            except LongLine:
                pass
            stack.append(Obj("persistent object", off))
        elif op == 0x51:  # BINPERSID
            pid = pop(off)
            report.persistent_ids.append(pid)
            stack.append(Obj("persistent object", off))
        elif op == 0x2E:  # STOP
            report.value = pop(off)
            report.end = stream.pos
            # vouched for only if every stand-in was called, only called, and every call
            # was vouched for (an unused import is not given the benefit of the doubt)
            for g in loaders:
                if g.used and not g.escaped and g.full not in unverified:
                    report.verified.add(g.full)
            for g in loaders:
                if g.escaped or not g.used or g.full in unverified:
                    report.verified.discard(g.full)
            return
        else:
            raise Malformed(f"unknown opcode 0x{op:02x}", off)


#: first bytes that can open a pickle stream (a PROTO header or a protocol 0/1 opcode that
#: pushes a value); used to decide whether bytes after a ``STOP`` are another pickle
PICKLE_STARTS = frozenset(b"\x80(NIJKLMFGSTUVX]})lcdgh\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x95CB")
