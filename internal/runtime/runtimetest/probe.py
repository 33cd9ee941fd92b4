# A notebook (plain .py module) that probes its container's boundary and
# reports what it could reach, one column per check, on every result row.
# Parameters (fit ... PARAM=VALUE) name host files that must be out of
# reach: db, ca_key, secret_key, other_token, other_key; canary is a value
# of the server's environment that must not appear in the notebook's.
import os


def _open(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return "READ"
    except Exception as e:  # the kind of failure is enough
        return "denied " + type(e).__name__


def _findings(param):
    p = (param or {}).get("options", {}).get("params", {})
    out = {}
    for key in ("db", "ca_key", "secret_key", "other_token", "other_key"):
        if p.get(key):
            out["probe_" + key] = _open(p[key])
    out["probe_parent_environ"] = _open("/proc/%d/environ" % os.getppid())
    out["probe_pid1_environ"] = _open("/proc/1/environ")
    pids = sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
    out["probe_pids"] = " ".join(str(x) for x in pids)
    out["probe_self"] = str(os.getpid())
    canary = p.get("canary", "")
    leaked = canary and any(canary in v for v in os.environ.values())
    out["probe_canary"] = "LEAKED" if leaked else "absent"
    out["probe_env"] = " ".join(sorted(os.environ))
    return out


def init(df, param):
    return _findings(param)


def fit(model, df, param):
    return model


def apply(model, df, param):
    return [dict(model)]
