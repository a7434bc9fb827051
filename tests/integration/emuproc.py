"""The emulators for the delivery, exec and provider tests.

A thin layer over tests.emulators.client.Emulators: `emu.conjur_env(base)`
gives a clean environment pointed at the emulators, with back-off scaled
down, so azconjur runs the whole flow (IMDS token, authn-azure, reads).
EmulatorTestCase starts one instance per class, a class temporary
directory (`cls.tmp`), and before each test resets the counters and sets
`self.env`.
"""
import os
import tempfile
import unittest

from tests.emulators.client import Emulators as _Emulators
from tests.integration.helpers import clean_env

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


class EmulatorTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators().__enter__()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.emu.__exit__(None, None, None)
        cls.tmp.cleanup()

    def setUp(self):
        self.emu.reset()
        self.env = self.emu.conjur_env(clean_env())
