# Dockyard's shipped MLTK algorithms: `| fit StandardScaler x y`,
# `| fit KMeans k=3 a b into m`, ... run this notebook (the notebook
# contract of docs/design.md: init, fit, apply, save, load, summary) with
# meta.options.params.algo naming the algorithm. The parameter names and
# output columns follow the Splunk Machine Learning Toolkit; docs/fit.md
# lists them. scikit-learn and pandas come from the container's Python
# (Debian: python3-sklearn, python3-pandas).
import os
import pickle
import sys

MODEL_DIRECTORY = "/srv/app/model/data/"


def _need(module, package):
    try:
        return __import__(module)
    except ImportError as e:
        raise RuntimeError(
            "the MLTK algorithms need %s, which the container's Python %s cannot import (%s): "
            "install Debian's %s in the image (apt-get install %s), or run the agent with a Python that has it "
            "(--python /usr/bin/python3)" % (module, sys.executable, e, package, package)
        )


def _bool(v):
    s = str(v).strip().lower()
    if s in ("true", "t", "1", "yes", "y"):
        return True
    if s in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError("expected true or false, got %r" % v)


def _int_or_none(v):
    return None if str(v).lower() == "none" else int(v)


def _num_or_str(v):
    s = str(v)
    if s.lower() == "none":
        return None
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def _range(v):
    lo, _, hi = str(v).partition("-")
    return (float(lo), float(hi))


_FOREST = {
    "n_estimators": int, "max_depth": _int_or_none, "max_features": _num_or_str, "min_samples_split": _num_or_str,
    "max_leaf_nodes": _int_or_none, "criterion": str, "random_state": int,
}

# name -> (kind, {MLTK parameter: converter}, {MLTK parameter: sklearn parameter})
ALGOS = {
    "StandardScaler": ("scaler", {"with_mean": _bool, "with_std": _bool}, {}),
    "RobustScaler": ("scaler", {"with_centering": _bool, "with_scaling": _bool, "quantile_range": _range}, {}),
    "MinMaxScaler": ("scaler", {"feature_range": _range, "copy": _bool}, {}),
    "PCA": ("pca", {"k": int, "variance": float}, {"k": "n_components", "variance": "n_components"}),
    "KMeans": ("cluster", {"k": int, "random_state": int}, {"k": "n_clusters"}),
    "LinearRegression": ("supervised", {"fit_intercept": _bool}, {}),
    "LogisticRegression": ("supervised", {"fit_intercept": _bool, "probabilities": _bool}, {}),
    "RandomForestClassifier": ("supervised", _FOREST, {}),
    "RandomForestRegressor": ("supervised", _FOREST, {}),
    "IsolationForest": ("outlier", {"n_estimators": int, "max_samples": _num_or_str, "contamination": _num_or_str,
                                    "max_features": _num_or_str, "random_state": int}, {}),
}
PREFIX = {"StandardScaler": "SS_", "RobustScaler": "RS_", "MinMaxScaler": "MMS_"}
# Parameters Dockyard itself passes that are not the algorithm's.
_OWN = {"algo", "mode", "container"}


def _estimator(name, params):
    sk = _need("sklearn", "python3-sklearn")
    import sklearn.cluster, sklearn.decomposition, sklearn.ensemble, sklearn.linear_model, sklearn.preprocessing  # noqa
    conv, rename = ALGOS[name][1], ALGOS[name][2]
    kw = {}
    for k, v in params.items():
        if k in _OWN:
            continue
        if k not in conv:
            raise ValueError("%s has no parameter %r: it takes %s" % (name, k, ", ".join(sorted(conv)) or "none"))
        try:
            kw[rename.get(k, k)] = conv[k](v)
        except ValueError as e:
            raise ValueError("%s: parameter %s=%s: %s" % (name, k, v, e))
    kw.pop("probabilities", None)
    kw.pop("copy", None)
    cls = {
        "StandardScaler": sk.preprocessing.StandardScaler, "RobustScaler": sk.preprocessing.RobustScaler,
        "MinMaxScaler": sk.preprocessing.MinMaxScaler, "PCA": sk.decomposition.PCA, "KMeans": sk.cluster.KMeans,
        "LinearRegression": sk.linear_model.LinearRegression, "LogisticRegression": sk.linear_model.LogisticRegression,
        "RandomForestClassifier": sk.ensemble.RandomForestClassifier,
        "RandomForestRegressor": sk.ensemble.RandomForestRegressor, "IsolationForest": sk.ensemble.IsolationForest,
    }[name]
    return cls(**kw)


def _opts(param):
    return (param or {}).get("options", {})


def _matrix(model, df):
    pd = _need("pandas", "python3-pandas")
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    X = df[model["features"]]
    num = X.apply(pd.to_numeric, errors="coerce")
    cats = [c for c in X.columns if num[c].isna().any() and X[c].notna().all()]
    if cats:  # MLTK one-hot encodes categorical (non-numeric) fields
        X = pd.get_dummies(X.astype({c: str for c in cats}), columns=cats, prefix_sep="=")
        X = X.apply(pd.to_numeric, errors="coerce")
    else:
        X = num
    if model.get("columns") is None:
        model["columns"] = list(X.columns)
    return X.reindex(columns=model["columns"], fill_value=0).astype(float)


def init(df, param):
    o = _opts(param)
    params = dict(o.get("params") or {})
    name = params.get("algo", "")
    if name not in ALGOS:
        raise ValueError("unknown MLTK algorithm %r: Dockyard ships %s" % (name, ", ".join(sorted(ALGOS))))
    target = list(o.get("target_variable") or [])
    kind = ALGOS[name][0]
    if kind == "supervised" and not target:
        raise ValueError("%s predicts a field: write fit %s TARGET from FEATURES" % (name, name))
    if kind != "supervised" and target:
        raise ValueError("%s takes no target field: write fit %s FIELDS, without from" % (name, name))
    return {"algo": name, "params": params, "features": list(o.get("feature_variables") or []),
            "target": target[0] if target else "", "columns": None,
            "estimator": _estimator(name, params)}


def fit(model, df, param):
    X = _matrix(model, df)
    est = model["estimator"]
    if model["target"]:
        est.fit(X, df[model["target"]])
    else:
        est.fit(X)
    return {"algorithm": model["algo"], "rows": len(X)}


def apply(model, df, param):
    pd = _need("pandas", "python3-pandas")
    X = _matrix(model, df)
    est, name, kind = model["estimator"], model["algo"], ALGOS[model["algo"]][0]
    out = pd.DataFrame(index=X.index)
    if kind == "scaler":
        for f, col in zip(X.columns, est.transform(X).T):
            out[PREFIX[name] + f] = col
    elif kind == "pca":
        for i, col in enumerate(est.transform(X).T):
            out["PC_%d" % (i + 1)] = col
    elif kind == "cluster":
        out["cluster"] = est.predict(X)
        out["cluster_distance"] = est.transform(X).min(axis=1)
    elif kind == "outlier":
        out["isOutlier"] = est.predict(X)
    else:
        t = model["target"]
        out["predicted(%s)" % t] = est.predict(X)
        if name == "LogisticRegression" and _bool(model["params"].get("probabilities", "false")):
            for cls, col in zip(est.classes_, est.predict_proba(X).T):
                out["probability(%s=%s)" % (t, cls)] = col
    return out


def save(model, name):
    with open(os.path.join(MODEL_DIRECTORY, name + ".pkl"), "wb") as f:
        pickle.dump(model, f)


def load(name):
    _need("sklearn", "python3-sklearn")
    with open(os.path.join(MODEL_DIRECTORY, name + ".pkl"), "rb") as f:
        return pickle.load(f)


def _list(a):
    return [float(x) for x in a]


def summary(model=None):
    if model is None:
        return {"algorithms": sorted(ALGOS)}
    est = model["estimator"]
    out = {"algorithm": model["algo"], "features": model["columns"], "target": model["target"]}
    for attr in ("mean_", "scale_", "center_", "data_min_", "data_max_", "explained_variance_ratio_",
                 "feature_importances_"):
        if getattr(est, attr, None) is not None:
            out[attr.rstrip("_")] = _list(getattr(est, attr))
    if hasattr(est, "coef_"):
        out["coefficients"] = [_list(r) for r in est.coef_] if getattr(est.coef_, "ndim", 1) > 1 else _list(est.coef_)
        out["intercept"] = _list(est.intercept_) if hasattr(est.intercept_, "__len__") else float(est.intercept_)
    if hasattr(est, "cluster_centers_"):
        out["cluster_centers"] = [_list(r) for r in est.cluster_centers_]
    if hasattr(est, "classes_"):
        out["classes"] = [str(c) for c in est.classes_]
    return out
