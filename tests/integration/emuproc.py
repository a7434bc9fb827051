"""The emulators for the delivery, exec and provider tests.

A thin layer over tests.emulators.client.Emulators: `emu.conjur_env(base)`
gives a clean environment pointed at the emulators, with back-off scaled
down, so azconjur runs the whole flow (IMDS token, authn-azure, reads).
"""
import os

from tests.emulators.client import Emulators as _Emulators

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Emulators(_Emulators):
    def conjur_env(self, base):
        """base (a clean environment) plus everything to reach Conjur."""
        env = dict(base)
        env.update(self.env)
        env["AZCONJUR_RETRY_SCALE"] = "0.01"
        return env

    def counts(self):
        """Requests per kind, leaving out the control API's own calls."""
        return {k: v for k, v in super().counts().items() if v and k != "other"}
