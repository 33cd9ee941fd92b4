# A do-nothing notebook for the benchmarks: it fits nothing, saves nothing,
# and apply answers the first column (one value per row, as a model would).


def init(df, param):
    return {}


def fit(model, df, param):
    return {"rows": len(df)}


def apply(model, df, param):
    if hasattr(df, "iloc"):
        return df.iloc[:, :1]
    return [{"a": row["a"]} for row in df]


def save(model, name):
    return model


def load(name):
    return {}
