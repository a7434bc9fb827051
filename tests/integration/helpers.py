"""Shared helpers for integration tests that run the built binary."""
import os
import subprocess

AZCONJUR = os.environ.get("AZCONJUR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "azconjur")


def azconjur(*args, env=None, input=None, timeout=60, extra_env=None):
    """Run the binary; return CompletedProcess with bytes stdout/stderr."""
    run_env = dict(os.environ if env is None else env)
    run_env.update(extra_env or {})
    return subprocess.run([AZCONJUR, *args], env=run_env, input=input,
                          capture_output=True, timeout=timeout)


def clean_env(**extra):
    """An environment with no Azure or Conjur variables from the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONJUR_", "AZURE_", "IDENTITY_", "MSI_",
                                "IMDS_", "AZCONJUR_"))}
    env.update(extra)
    return env
