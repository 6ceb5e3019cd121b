# %% [markdown]
# # tcsim in a notebook
# Each cell runs as it is in Jupyter (the `# %%` markers) or as a script:
# `PYTHONPATH=build/python python3 docs/examples/notebook.py` after the README's two commands.

# %%
import tcsim

# DeepSeek-V3 on 2048 H800, the built-in scenario: the same dict `tcsim run --json` prints.
r = tcsim.run()
print(f"{r['model']['params_total'] / 1e9:.0f}B parameters, {r['model']['params_active'] / 1e9:.0f}B active")
print(f"step {r['step']['time_s']:.2f} s, {r['run']['gpu_hours_total'] / 1e6:.3f}M GPU-hours")

# %% [markdown]
# ## The cost, by what is counted
# Five views, each saying what it counts; a distribution has p10/p50/p90.

# %%
for view in r["cost"]["views"]:
    if not view["given"]:
        print(f"{view['number']} {view['name']}: not given ({view['missing']})")
        continue
    usd = view["usd"]
    figure = f"${usd['p50'] / 1e6:.1f}M (p10 ${usd['p10'] / 1e6:.1f}M, p90 ${usd['p90'] / 1e6:.1f}M)" \
        if isinstance(usd, dict) else f"${usd / 1e6:.2f}M"
    print(f"{view['number']} {view['name']}: {figure}")

# %% [markdown]
# ## What if: H100 instead of H800, with a scenario written as a dict

# %%
h100 = tcsim.run({"extends": "builtin:deepseek-v3", "hardware": {"gpu": "h100"}}, step_only=True)
print(f"H800 step {r['step']['time_s']:.2f} s, H100 step {h100['step']['time_s']:.2f} s")

# %% [markdown]
# ## A sweep as a table (a pandas DataFrame when pandas is installed)

# %%
rows = tcsim.sweep(vary={"hardware.network.nic_bandwidth": ["200 Gb/s", "400 Gb/s"], "hardware.gpu": ["h800", "h100"]},
                   depth="step")
for row in (rows.to_dict("records") if hasattr(rows, "to_dict") else rows):
    print(row["hardware.network.nic_bandwidth_bytes_per_s"], row["hardware.gpu"], row["status"], row["step_s"])

# %% [markdown]
# ## Collectives as nccl-tests reports them

# %%
c = tcsim.collective(op="all_reduce", minbytes="8", maxbytes="64M", stepfactor=8, gpus=16)
for row in c["rows"]:
    print(f"{row['size_bytes']:>10.0f} B  {row['time_s'] * 1e6:9.2f} us  {row['algo']}")

# %% [markdown]
# ## Errors say where

# %%
try:
    tcsim.run({"extends": "builtin:deepseek-v3", "parallelism": {"tp": "eight"}})
except tcsim.ScenarioError as e:
    print(f"{e.key} at line {e.line}, column {e.column}: {e.message}")
