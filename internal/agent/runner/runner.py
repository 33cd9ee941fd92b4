"""Dockyard notebook runner.

Started once per container by the Dockyard agent and kept warm. It reads
requests as JSON lines on fd 3 and writes events and answers as JSON lines on
fd 4, so that a notebook's own print() output cannot corrupt the protocol:
sys.stdout and sys.stderr are replaced by writers that forward each line as a
"log" event of the call in progress.

Usage: python3 runner.py --notebooks DIR --model DIR [--pandas auto|require|never]
"""

import csv
import hashlib
import io
import json
import linecache
import math
import os
import sys
import time
import traceback
import types

PROTO_IN_FD = 3
PROTO_OUT_FD = 4
MAX_LOG_LINE = 8192
READ_AT_ONCE_BYTES = 8 << 20
READ_CHUNK_ROWS = 65536
WRITE_BLOCK_ROWS = 65536


class UserError(Exception):
    """An error whose message is for the user, without a traceback."""


def _jsonable(o):
    for attr in ("item", "tolist"):  # numpy scalars and arrays
        f = getattr(o, attr, None)
        if callable(f):
            try:
                return f()
            except Exception:
                pass
    if hasattr(o, "to_dict"):
        try:
            return o.to_dict()
        except Exception:
            pass
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    return repr(o)


def _safe(o, depth=0, stack=None):
    """Returns o as plain JSON values: keys as strings, NaN and infinities
    as None, other objects converted as _jsonable does, a reference cycle
    or nesting deeper than 200 as a string. json.dumps of the result
    cannot fail."""
    if o is None or isinstance(o, (bool, int, str)):
        return o
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if depth > 200:
        return "<nested too deeply>"
    if stack is None:
        stack = set()
    if isinstance(o, (dict, list, tuple, set, frozenset)):
        if id(o) in stack:
            return "<circular reference>"
        stack.add(id(o))
        try:
            if isinstance(o, dict):
                return {_safe_key(k): _safe(v, depth + 1, stack) for k, v in o.items()}
            return [_safe(v, depth + 1, stack) for v in o]
        finally:
            stack.discard(id(o))
    return _safe(_jsonable(o), depth + 1, stack)


def _safe_key(k):
    if isinstance(k, str):
        return k
    item = getattr(k, "item", None)  # numpy scalars
    if callable(item) and not isinstance(k, (bool, int, float)):
        try:
            k = item()
        except Exception:
            pass
    if isinstance(k, bool) or k is None:
        return json.dumps(k)
    if isinstance(k, float) and not math.isfinite(k):
        return json.dumps(k)
    return str(k)


class Proto:
    def __init__(self):
        self.rin = os.fdopen(PROTO_IN_FD, "rb", buffering=1 << 16)
        self.out_fd = PROTO_OUT_FD
        self.call_id = None

    def send(self, obj):
        try:
            text = json.dumps(obj, default=_jsonable, separators=(",", ":"), allow_nan=False)
        except (ValueError, TypeError, RecursionError):
            # NaN, keys JSON cannot carry (numpy integers, tuples,
            # timestamps), a reference cycle: convert what is there.
            text = json.dumps(_safe(obj), separators=(",", ":"), allow_nan=False)
        data = (text + "\n").encode("utf-8")
        while data:
            n = os.write(self.out_fd, data)
            data = data[n:]

    def log(self, stream, line):
        if len(line) > MAX_LOG_LINE:
            line = line[:MAX_LOG_LINE] + "...(truncated)"
        self.send({"id": self.call_id, "type": "log", "stream": stream, "line": line})

    def step(self, name):
        self.send({"id": self.call_id, "type": "progress", "step": name})


class LineWriter(io.TextIOBase):
    """Forwards whole lines written to it as protocol log events.

    A line longer than MAX_LOG_LINE is sent cut short as soon as it is that
    long, and the rest of it is dropped, so that output without line breaks
    (a progress bar, a huge string) keeps neither memory nor time growing.
    """

    def __init__(self, proto, name):
        self.proto = proto
        self.name = name
        self.parts = []  # the unfinished line
        self.size = 0
        self.dropping = False  # the unfinished line was sent cut short

    def writable(self):
        return True

    def _add(self, s):
        if self.dropping or not s:
            return
        self.parts.append(s)
        self.size += len(s)
        if self.size > MAX_LOG_LINE:
            self.proto.log(self.name, "".join(self.parts))  # log() cuts it
            self.parts, self.size, self.dropping = [], 0, True

    def _end_line(self):
        if not self.dropping:
            self.proto.log(self.name, "".join(self.parts).rstrip("\r"))
        self.parts, self.size, self.dropping = [], 0, False

    def write(self, s):
        if not isinstance(s, str):
            s = str(s)
        if "\n" not in s:
            self._add(s)
            return len(s)
        lines = s.split("\n")
        self._add(lines[0])
        self._end_line()
        for line in lines[1:-1]:
            self.proto.log(self.name, line.rstrip("\r"))
        self._add(lines[-1])
        return len(s)

    def flush(self):
        if self.parts:
            self.proto.log(self.name, "".join(self.parts))
        self.parts, self.size, self.dropping = [], 0, False

    def isatty(self):
        return False


class Runner:
    def __init__(self, proto, notebooks, model_dir, pandas_mode):
        self.proto = proto
        self.notebooks = notebooks
        self.model_dir = model_dir.rstrip("/") + "/"
        self.pandas_mode = pandas_mode
        self.cache = {}  # name -> (key, digest, module)
        self._pd = None
        self._pd_error = None
        if pandas_mode != "never":
            try:
                import pandas  # noqa: F401  (warm the import once per container)

                self._pd = pandas
            except Exception as e:  # ImportError, or a broken installation
                self._pd_error = "%s: %s" % (type(e).__name__, e)

    # -- pandas -------------------------------------------------------------

    def pandas(self, messages):
        if self._pd is not None:
            return self._pd
        if self.pandas_mode == "require":
            raise UserError(pandas_hint(self._pd_error or "pandas is disabled"))
        if self.pandas_mode == "auto":
            messages.append(
                "pandas is not importable by %s (%s); the notebook got a list of row dicts instead of a DataFrame. "
                "For DataFrames install Debian's python3-pandas and run the agent with --python /usr/bin/python3"
                % (sys.executable, self._pd_error)
            )
        else:
            messages.append("pandas is disabled; the notebook got a list of row dicts")
        return None

    # -- notebooks ----------------------------------------------------------

    def find(self, name):
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise UserError("notebook name %r is invalid: give the notebook's file name without extension" % name)
        for ext in (".ipynb", ".py"):
            path = os.path.join(self.notebooks, name + ext)
            if os.path.isfile(path):
                return path
        raise UserError(
            "notebook %r not found: there is no %s.ipynb or %s.py in %s; push it first (dockyard notebooks push %s.ipynb)"
            % (name, name, name, self.notebooks, name)
        )

    def load(self, name, pinned_file="", pinned_sha=""):
        if pinned_file:
            # A pinned version: always read and hashed, so that a copy
            # changed inside the container is refused rather than run.
            if not name or "/" in name or "\\" in name or name.startswith("."):
                raise UserError("notebook name %r is invalid: give the notebook's file name without extension" % name)
            path = pinned_file
            with open(path, "rb") as f:
                raw = f.read()
            digest = hashlib.sha256(raw).hexdigest()
            if digest != pinned_sha:
                raise UserError(
                    "notebook %r: the copy of version sha256:%s placed in the container has SHA-256 %s; "
                    "it was changed after it was placed, so it was not run" % (name, pinned_sha, digest))
            key = (path, None, None)
            cached = self.cache.get(name)
        else:
            path = self.find(name)
            st = os.stat(path)
            key = (path, st.st_mtime_ns, st.st_size)
            cached = self.cache.get(name)
            if cached and cached[0] == key:
                return cached[2]
            with open(path, "rb") as f:
                raw = f.read()
            digest = hashlib.sha256(raw).hexdigest()
        if cached and cached[1] == digest:
            self.cache[name] = (key, digest, cached[2])
            return cached[2]
        source = notebook_source(path, raw) if path.endswith(".ipynb") else raw.decode("utf-8")
        linecache.cache[path] = (len(source), None, source.splitlines(True), path)
        mod = types.ModuleType(name)
        mod.__file__ = path
        mod.MODEL_DIRECTORY = self.model_dir
        prev = sys.modules.get(name)
        if prev is None or getattr(prev, "__dockyard_notebook__", False):
            sys.modules[name] = mod  # so pickle finds classes the notebook defines
        mod.__dockyard_notebook__ = True
        exec(compile(source, path, "exec"), mod.__dict__)
        self.cache[name] = (key, digest, mod)
        return mod

    def func(self, mod, fname, name, required=True):
        f = getattr(mod, fname, None)
        if callable(f):
            return f
        if required:
            raise UserError(
                "notebook %r (%s) defines no function %s(): add a code cell named mltkc_%s that defines it"
                % (name, os.path.basename(mod.__file__), fname, fname)
            )
        return None

    # -- data ---------------------------------------------------------------

    def read_frame(self, path, messages, rows_hint=0):
        pd = self.pandas(messages)
        if pd is not None:
            if not path or os.path.getsize(path) == 0:
                return pd.DataFrame(), 0
            try:
                df = read_csv_bounded(pd, path, rows_hint)
            except pd.errors.EmptyDataError:  # nothing but blank lines
                return pd.DataFrame(), 0
            except pd.errors.ParserError as e:
                raise UserError("the rows are not valid CSV: %s. Quote values that hold commas or line breaks" % e)
            except UnicodeDecodeError as e:
                raise UserError(not_utf8(e))
            missing = count_missing(df)
            if missing:
                messages.append("%d of %d rows have missing values; they were passed to the notebook as NaN" % (missing, len(df)))
            return df, len(df)
        rows = []
        missing = 0
        if path:
            # utf-8-sig: a byte order mark is not part of the first column's name
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f)
                try:
                    for rec in reader:
                        if None in rec:  # DictReader's key for the fields past the header's
                            raise UserError(
                                "the rows are not valid CSV: line %d has %d fields, more than the %d columns of the header row. "
                                "Quote values that hold commas" % (reader.line_num, len(rec) - 1 + len(rec[None]), len(reader.fieldnames)))
                        row = {k: to_number(v) for k, v in rec.items()}
                        if any(v is None for v in row.values()):
                            missing += 1
                        rows.append(row)
                except UnicodeDecodeError as e:
                    raise UserError(not_utf8(e))
                except csv.Error as e:
                    raise UserError("the rows are not valid CSV: line %d: %s" % (reader.line_num, e))
        if missing:
            messages.append("%d of %d rows have missing values; they were passed to the notebook as None" % (missing, len(rows)))
        return rows, len(rows)

    def write_results(self, obj, path):
        """Writes apply's answer as CSV to path and returns the row count."""
        pd = self._pd
        if obj is None:
            open(path, "w").close()
            return 0
        if pd is not None:
            if isinstance(obj, pd.Series):
                obj = obj.to_frame()
            if not isinstance(obj, pd.DataFrame):
                obj = pd.DataFrame(obj)
            if not write_numeric_csv(obj, path):
                obj.to_csv(path, index=False)
            return len(obj)
        columns, rows = plain_table(obj)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(columns)
            w.writerows(rows)
        return len(rows)

    # -- operations ---------------------------------------------------------

    def handle(self, req):
        op = req.get("op")
        messages = []
        timings = {}
        res = {"id": req.get("id"), "type": "done", "status": "success", "messages": messages, "timings": timings}
        if op == "ping":
            res.update(python=sys.executable, version=sys.version.split()[0], pandas=self._pd is not None)
            return res
        name = req.get("notebook", "")
        mod = self.load(name, req.get("notebook_file", ""), req.get("notebook_sha256", ""))
        mod.MODEL_DIRECTORY = self.model_dir
        meta = req.get("meta") or {}
        save_name = req.get("save_name", "")
        if op == "fit":
            init = self.func(mod, "init", name)
            fit = self.func(mod, "fit", name)
            save = self.func(mod, "save", name, required=False)
            apply = self.func(mod, "apply", name) if req.get("results") else None
            t0 = time.monotonic()
            df, n = self.read_frame(req.get("data"), messages, req.get("rows") or 0)
            res["rows"] = n
            timings["read"] = round(time.monotonic() - t0, 4)
            self.proto.step("init")
            model = init(df, meta)
            self.proto.step("fit")
            info = fit(model, df, meta)
            if info is not None:
                res["fit_info"] = info
            if save is None:
                messages.append("notebook %r defines no save(); no model files were written" % name)
            else:
                self.proto.step("save")
                save(model, save_name)
            if apply is not None:
                self.proto.step("apply")
                out = apply(model, df, meta)
                t0 = time.monotonic()
                res["result_rows"] = self.write_results(out, req["results"])
                timings["write"] = round(time.monotonic() - t0, 4)
        elif op == "apply":
            apply = self.func(mod, "apply", name)
            load = self.func(mod, "load", name, required=False)
            t0 = time.monotonic()
            df, n = self.read_frame(req.get("data"), messages, req.get("rows") or 0)
            res["rows"] = n
            timings["read"] = round(time.monotonic() - t0, 4)
            model = None
            if load is not None:
                self.proto.step("load")
                model = load(save_name)
            self.proto.step("apply")
            out = apply(model, df, meta)
            t0 = time.monotonic()
            res["result_rows"] = self.write_results(out, req["results"])
            timings["write"] = round(time.monotonic() - t0, 4)
        elif op == "summary":
            summary = self.func(mod, "summary", name)
            load = self.func(mod, "load", name, required=False)
            model = None
            if load is not None and save_name:
                try:
                    model = load(save_name)
                except Exception as e:
                    messages.append("load(%r) failed (%s: %s); summary got model=None" % (save_name, type(e).__name__, e))
            res["summary"] = summary(model)
        else:
            raise UserError("unknown operation %r" % op)
        return res


def read_csv_bounded(pd, path, rows_hint):
    """pandas.read_csv with a bounded transient memory.

    Small files are read at once. Large ones are read in chunks that are
    copied into preallocated column arrays, so the peak is about the final
    DataFrame plus one chunk (read_csv at once peaks near three times the
    DataFrame). Text columns, or a chunk whose column types differ from
    the first (a float or a string in an int column, say), make it read
    the file again with plain read_csv, so the result is always exactly
    read_csv's.
    """
    import numpy as np

    if os.path.getsize(path) < READ_AT_ONCE_BYTES:
        return pd.read_csv(path)
    it = pd.read_csv(path, chunksize=READ_CHUNK_ROWS)
    first = next(it, None)
    if first is None:
        return pd.read_csv(path)
    dtypes = list(first.dtypes)
    if not all(d.kind in "iufb" for d in dtypes):
        del first, it
        return pd.read_csv(path)
    cap = max(rows_hint, len(first))
    cols = [np.empty(cap, dtype=d) for d in dtypes]
    n = 0
    chunk = first
    while chunk is not None:
        if list(chunk.dtypes) != dtypes:
            del cols, chunk, it
            return pd.read_csv(path)
        m = len(chunk)
        if n + m > cap:
            cap = max(cap * 2, n + m)
            cols = [np.resize(a, cap) for a in cols]
        for a, c in zip(cols, chunk.columns):
            a[n:n + m] = chunk[c].to_numpy()
        n += m
        chunk = next(it, None)
    if n < cap:
        cols = [a[:n].copy() if n < cap // 2 else a[:n] for a in cols]
    return pd.DataFrame(dict(zip(first.columns, cols)), copy=False)


def count_missing(df):
    """Counts rows with a missing value, one column at a time (a row mask,
    not a cell mask, in memory)."""
    import numpy as np

    mask = None
    for i in range(len(df.columns)):
        col = df.iloc[:, i]
        if col.dtype.kind in "iub":
            continue  # cannot hold NaN
        m = col.isna().to_numpy()
        mask = m if mask is None else (mask | m)
    return int(mask.sum()) if mask is not None else 0


def write_numeric_csv(df, path):
    """Writes a DataFrame of numbers fast, in blocks; False if it is not one.

    The text matches DataFrame.to_csv(index=False): repr of floats, empty
    for NaN.
    """
    if not all(d.kind in "iub" or d.kind == "f" for d in df.dtypes) or not all(isinstance(c, (str, int)) for c in df.columns):
        return False
    header = [str(c) for c in df.columns]
    if any(("," in h or '"' in h or "\n" in h) for h in header):
        return False

    def strs(a):
        if a.dtype.kind == "f":
            return ["" if v != v else repr(v) for v in a.tolist()]
        return list(map(str, a.tolist()))

    arrays = [df.iloc[:, i].to_numpy() for i in range(len(header))]
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(header) + "\n")
        for start in range(0, len(df), WRITE_BLOCK_ROWS):
            cols = [strs(a[start:start + WRITE_BLOCK_ROWS]) for a in arrays]
            f.write("\n".join(cols[0]) if len(cols) == 1 else "\n".join(map(",".join, zip(*cols))))
            f.write("\n")
    return True


def not_utf8(e):
    return ("the rows are not UTF-8 text (%s in %r): send the CSV encoded as UTF-8"
            % (e.reason, bytes(e.object[max(0, e.start - 8):e.start + 1])))


def pandas_hint(err):
    return (
        "pandas is not importable by the interpreter %s (%s). Install Debian's python3-pandas "
        "(apt-get install python3-pandas) and run the agent with --python /usr/bin/python3"
        % (sys.executable, err)
    )


def to_number(v):
    if v is None or v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return v


def plain_table(obj):
    if isinstance(obj, dict):
        columns = [str(k) for k in obj]
        cols = [v if isinstance(v, (list, tuple)) else [v] for v in obj.values()]
        n = max((len(c) for c in cols), default=0)
        return columns, [[c[i] if i < len(c) else "" for c in cols] for i in range(n)]
    obj = list(obj)
    if obj and isinstance(obj[0], dict):
        columns = []
        for row in obj:
            for k in row:
                if k not in columns:
                    columns.append(k)
        return [str(c) for c in columns], [[fmt(r.get(c)) for c in columns] for r in obj]
    if obj and isinstance(obj[0], (list, tuple)):
        return [str(i) for i in range(len(obj[0]))], [[fmt(v) for v in r] for r in obj]
    return ["0"], [[fmt(v)] for v in obj]


def fmt(v):
    return "" if v is None else v


def notebook_source(path, raw):
    try:
        nb = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise UserError("notebook %s is not valid JSON: %s" % (os.path.basename(path), e))
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or "name" not in (cell.get("metadata") or {}):
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(src)
        lines = []
        for line in src.split("\n"):
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):  # IPython magics and shell escapes
                line = line[: len(line) - len(stripped)] + "pass  # removed: " + stripped
            lines.append(line)
        parts.append("# cell %s\n%s\n" % (cell["metadata"]["name"], "\n".join(lines)))
    if not parts:
        raise UserError(
            "notebook %s has no code cell with a 'name' in its metadata: name the cells mltkc_import, mltkc_init, "
            "mltkc_fit, mltkc_apply, mltkc_save, mltkc_load and mltkc_summary" % os.path.basename(path)
        )
    return "\n".join(parts)


def format_error(e):
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(e), e, tb))
    if isinstance(e, ModuleNotFoundError):
        text += "\nThe interpreter %s has no module %r. Install its Debian package (for example python3-%s) " \
                "and run the agent with --python /usr/bin/python3." % (sys.executable, e.name, e.name)
    return text


def main(argv):
    opts = {"--notebooks": ".", "--model": "model", "--pandas": "auto"}
    it = iter(argv)
    for a in it:
        if a in opts:
            opts[a] = next(it)
    proto = Proto()
    sys.stdout = LineWriter(proto, "stdout")
    sys.stderr = LineWriter(proto, "stderr")
    notebooks = os.path.abspath(opts["--notebooks"])
    os.makedirs(notebooks, exist_ok=True)
    os.chdir(notebooks)
    if notebooks not in sys.path:
        sys.path.insert(0, notebooks)
    runner = Runner(proto, notebooks, os.path.abspath(opts["--model"]), opts["--pandas"])
    proto.send({"type": "ready", "python": sys.executable, "version": sys.version.split()[0],
                "pandas": runner._pd is not None})
    for line in proto.rin:
        try:
            req = json.loads(line)
        except ValueError as e:
            proto.send({"type": "done", "status": "error", "message": "bad request line: %s" % e})
            continue
        proto.call_id = req.get("id")
        try:
            res = runner.handle(req)
        except UserError as e:
            res = {"id": req.get("id"), "type": "done", "status": "error", "message": str(e)}
        except BaseException as e:  # the notebook's exception, with its traceback
            if isinstance(e, KeyboardInterrupt):
                raise
            res = {"id": req.get("id"), "type": "done", "status": "error", "message": format_error(e)}
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            proto.send(res)
        except Exception as e:  # an answer that cannot be sent must not end the runner
            proto.send({"id": req.get("id"), "type": "done", "status": "error",
                        "message": "the %s answer could not be sent (%s: %s); return plain lists, dicts, strings and numbers"
                        % (req.get("op"), type(e).__name__, e)})
        proto.call_id = None


if __name__ == "__main__":
    main(sys.argv[1:])
