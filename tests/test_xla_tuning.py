"""The AVX-512 code-generation hint: added only where it can take effect, never overriding."""
import json
import os
import subprocess
import sys

from jaxfne_workflows import xla_tuning

SNIPPET = ("import os, json; from jaxfne_workflows.xla_tuning import use_wide_vectors; "
           "on = use_wide_vectors(); import jax.numpy as jnp; jnp.ones(2).block_until_ready(); "
           "print(json.dumps([on, os.environ.get('XLA_FLAGS', '')]))")


def run_fresh(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAXFNE_XLA_TUNING")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_fresh_process_gets_the_hint_exactly_where_the_cpu_has_avx512():
    on, flags = run_fresh({})
    assert on == xla_tuning.cpu_has_avx512()
    assert (xla_tuning.WIDE_VECTORS in flags) == on


def test_a_width_already_given_or_an_opt_out_is_respected():
    on, flags = run_fresh({"XLA_FLAGS": "--xla_cpu_prefer_vector_width=256"})
    assert (on, flags) == (False, "--xla_cpu_prefer_vector_width=256")
    on, flags = run_fresh({"JAXFNE_XLA_TUNING": "0"})
    assert (on, flags) == (False, "")


def test_nothing_changes_once_the_backend_runs(monkeypatch):
    import jax.numpy as jnp
    jnp.ones(1).block_until_ready()
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.delenv("JAXFNE_XLA_TUNING", raising=False)
    assert xla_tuning.use_wide_vectors() is False
    assert "XLA_FLAGS" not in os.environ


def test_receipts_record_the_flags(monkeypatch):
    from jaxfne_core.receipts import environment_info
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_prefer_vector_width=512")
    assert environment_info()["xla_flags"] == "--xla_cpu_prefer_vector_width=512"
