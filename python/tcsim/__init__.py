"""tcsim from Python: the same simulator and the same results as the command line.

Each function runs one tcsim command in this process and returns what its --json
prints, as Python dicts and lists:

    import tcsim
    r = tcsim.run()                                   # DeepSeek-V3 on 2048 H800
    r["step"]["time_s"], r["cost"]["final_run_usd"]
    tcsim.run(set={"hardware.gpu": "h100"})           # a what-if
    tcsim.run({"extends": "builtin:deepseek-v3", "parallelism": {"pp": 8, "stage_layers": [8] * 7 + [5]}})
    rows = tcsim.sweep(vary={"parallelism.pp": [8, 16]})  # a pandas DataFrame when pandas is installed

A scenario is a file path, "builtin:NAME", a dict (the YAML as Python data) or None
(the built-in DeepSeek-V3). `set` overrides fields as --set does: {"path": value}.
Bad input raises ScenarioError with the file, line, column and key path.
"""

import json
import os
import tempfile

from . import _tcsim

__all__ = ["ScenarioError", "run", "compare", "collective", "plan", "sweep", "report", "validate", "init",
           "version"]


class ScenarioError(ValueError):
    """Bad input: a scenario, a --set value or a flag. `file`, `line`, `column` (0 when
    unknown) and `key` (the key path, "" when none) say where; `message` what."""

    def __init__(self, text, file="", line=0, column=0, key="", message=""):
        super().__init__(text)
        self.file, self.line, self.column, self.key = file, line, column, key
        self.message = message or text


def _value_text(value):
    # --set takes YAML; JSON is YAML, so numbers, lists and maps keep their types.
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _sets(flag, overrides):
    args = []
    for path, value in (overrides or {}).items():
        args += [flag, f"{path}={_value_text(value)}"]
    return args


class _Scenario:
    """A scenario argument as a path for the command line: a dict is written to a
    temporary file (JSON, which the loader reads as YAML) for the call's duration."""

    def __init__(self, scenario):
        self.scenario, self.path = scenario, None

    def __enter__(self):
        if self.scenario is None:
            return []
        if isinstance(self.scenario, dict):
            fd, self.path = tempfile.mkstemp(prefix="tcsim-", suffix=".yaml")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.scenario, f)
            return [self.path]
        return [os.fspath(self.scenario)]

    def __exit__(self, *exc):
        if self.path:
            os.unlink(self.path)


def _call(args):
    try:
        code, out = _tcsim.call([str(a) for a in args])
    except _tcsim.ConfigError as e:
        raise ScenarioError(*e.args) from None
    if code != 0:
        raise RuntimeError(f"tcsim {args[0]} exited with code {code}")
    return out.decode("utf-8")


def _json(args):
    return json.loads(_call(args))


def _flag(name, value):
    return [] if value is None else [name, value]


def run(scenario=None, set=None, *, fidelity=None, seed=None, step_only=False, collectives=None):
    """`tcsim run --json`: model accounting, memory, the simulated step, the run and its cost."""
    with _Scenario(scenario) as s:
        return _json(["run", "--json", *s, *_sets("--set", set), *_flag("--fidelity", fidelity),
                      *_flag("--seed", seed), *_flag("--collectives", collectives),
                      *(["--step-only"] if step_only else [])])


def compare(a, b, set=None, *, set_a=None, set_b=None, seed=None):
    """`tcsim compare --json`: two scenarios side by side, the differences attributed."""
    with _Scenario(a) as sa, _Scenario(b) as sb:
        return _json(["compare", "--json", *sa, *sb, *_sets("--set", set), *_sets("--set-a", set_a),
                      *_sets("--set-b", set_b), *_flag("--seed", seed)])


def collective(scenario=None, set=None, *, op="all-reduce", size=None, minbytes=None, maxbytes=None,
               stepfactor=None, gpus=None, algo=None, datatype=None):
    """`tcsim collective --json`: one collective, or a range of sizes as nccl-tests runs them."""
    with _Scenario(scenario) as s:
        return _json(["collective", "--json", *s, *_sets("--set", set), "--op", op, *_flag("--size", size),
                      *_flag("--minbytes", minbytes), *_flag("--maxbytes", maxbytes),
                      *_flag("--stepfactor", stepfactor), *_flag("--gpus", gpus), *_flag("--algo", algo),
                      *_flag("--datatype", datatype)])


def plan(scenario=None, set=None, *, gpus=None, objective=None, top=None, jobs=None, max_candidates=None):
    """`tcsim plan --json`: the best parallel plans, the Pareto front, where the scenario's own plan ranks."""
    if isinstance(gpus, (list, tuple)):
        gpus = ",".join(str(g) for g in gpus)
    with _Scenario(scenario) as s:
        return _json(["plan", "--json", *s, *_sets("--set", set), *_flag("--gpus", gpus),
                      *_flag("--objective", objective), *_flag("--top", top), *_flag("--jobs", jobs),
                      *_flag("--max-candidates", max_candidates)])


def validate(case=None):
    """`tcsim validate --json`: every validation case (or one), predicted against published."""
    return _json(["validate", "--json", *_flag("--case", case)])


def sweep(scenario=None, vary=None, set=None, *, depth=None, jobs=None, out=None):
    """`tcsim sweep`: every combination of `vary` ({path: [values]}), one row each. Returns a pandas
    DataFrame when pandas is installed, else a list of dicts. `out` keeps the table (.csv or .jsonl)."""
    if not vary:
        raise ScenarioError("sweep: vary is required, e.g. {'parallelism.pp': [8, 16]}")
    args = []
    for path, values in vary.items():
        args += ["--vary", f"{path}=" + ",".join(_value_text(v) for v in values)]
    with tempfile.TemporaryDirectory(prefix="tcsim-sweep-") as tmp:
        table = out or os.path.join(tmp, "sweep.jsonl")
        with _Scenario(scenario) as s:
            _call(["sweep", *s, *args, *_sets("--set", set), "--out", table, *_flag("--depth", depth),
                   *_flag("--jobs", jobs)])
        if table.endswith(".csv"):
            import csv
            with open(table, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        else:
            with open(table, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
    rows.sort(key=lambda r: int(r["id"]))
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def report(scenario=None, out=None, set=None, *, compare=None, set_b=None, seed=None, trials=None, samples=None):
    """`tcsim report --out DIR`: writes the report (md, html, json, resolved.yaml) and returns report.json."""
    if out is None:
        raise ScenarioError("report: out (a directory) is required")
    with _Scenario(scenario) as s, _Scenario(compare) as c:
        _call(["report", *s, "--out", out, *_sets("--set", set), *(["--compare", *c] if c else []),
               *_sets("--set-b", set_b), *_flag("--seed", seed), *_flag("--trials", trials),
               *_flag("--samples", samples)])
    with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
        return json.load(f)


def init(model, gpu, gpus, *, seq_len=None, tokens=None):
    """`tcsim init`: a complete scenario for a model on `gpus` GPUs, as YAML text."""
    return _call(["init", "--model", model, "--gpu", gpu, "--gpus", gpus, *_flag("--seq-len", seq_len),
                  *_flag("--tokens", tokens)])


def version():
    return _call(["--version"]).split()[-1]
