"""The command line of the foundation: run, help, version, options, exit codes."""
import json
import os
import tempfile
import unittest

from tests.integration.helpers import azconjur, clean_env


class ScriptDir:
    """A temporary directory to write test scripts into."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()

    def write(self, name, text, mode="w"):
        path = os.path.join(self.tmp.name, name)
        with open(path, mode) as f:
            f.write(text)
        return path


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = ScriptDir()
        self.env = clean_env()

    def tearDown(self):
        self.dir.tmp.cleanup()

    def run_script(self, text, *args, **kw):
        path = self.dir.write("script.lua", text)
        return azconjur("run", path, *args, env=self.env, **kw), path

    def test_help_lists_only_real_commands(self):
        r = azconjur("help", env=self.env)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"run SCRIPT", r.stdout)
        self.assertIn(b"doctor [--json] [ID]", r.stdout)

    def test_every_command_explains_itself(self):
        for command in ("run", "exec", "get", "token", "identity", "doctor", "provider",
                        "help", "version"):
            for argv in ((command, "--help"), (command, "-h"), ("help", command)):
                r = azconjur(*argv, env=self.env)
                self.assertEqual(r.returncode, 0, (argv, r.stderr))
                self.assertTrue(r.stdout.startswith(b"usage: azconjur " + command.encode()),
                                (argv, r.stdout[:80]))
                self.assertEqual(r.stderr, b"", argv)
        r = azconjur("help", "frobnicate", env=self.env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"help: unknown command 'frobnicate'", r.stderr)

    def test_help_after_a_script_belongs_to_the_script(self):
        r, _ = self.run_script("print(...)", "--help")
        self.assertEqual((r.returncode, r.stdout), (0, b"--help\n"))

    def test_version(self):
        for flag in ("version", "--version"):
            r = azconjur(flag, env=self.env)
            self.assertEqual(r.returncode, 0)
            self.assertRegex(r.stdout, rb"^azconjur \d+\.\d+\.\d+ \(Lua 5\.4")

    def test_unknown_command_is_usage_error(self):
        r = azconjur("frobnicate", env=self.env)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.count(b"\n"), 1)
        self.assertIn(b"unknown command 'frobnicate'", r.stderr)

    def test_no_command_prints_usage(self):
        r = azconjur(env=self.env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"usage: azconjur", r.stderr)

    def test_run_without_script_is_usage_error(self):
        r = azconjur("run", env=self.env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"run needs a script", r.stderr)

    def test_missing_script_file(self):
        r = azconjur("run", "/nonexistent/x.lua", env=self.env)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count(b"\n"), 1)
        self.assertIn(b"cannot open /nonexistent/x.lua", r.stderr)

    def test_unreadable_script_file(self):
        path = self.dir.write("secret.lua", "print(1)")
        os.chmod(path, 0)
        if os.geteuid() == 0:
            # root reads anything: use a directory, which no one can run
            path = self.dir.tmp.name
        r = azconjur("run", path, env=self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot", r.stderr)
        self.assertEqual(r.stderr.count(b"\n"), 1)

    def test_binary_chunk_refused(self):
        path = self.dir.write("bin.luac", b"\x1bLua\x54\x00junk", mode="wb")
        r = azconjur("run", path, env=self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"attempt to load a binary chunk", r.stderr)

    def test_error_has_traceback_with_file_and_line(self):
        r, path = self.run_script("local x = 1\nlocal function f()\n  error('boom')\nend\nf()\n")
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertIn(f"{path}:3: boom", err)
        self.assertIn("stack traceback:", err)
        self.assertIn(f"{path}:5: in main chunk", err)

    def test_error_table_is_reported_through_tostring(self):
        r, _ = self.run_script(
            "error(setmetatable({}, {__tostring = function() return 'custom failure' end}))")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"custom failure", r.stderr)

    def test_memory_cap_gives_clear_error(self):
        r, _ = self.run_script("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end",
                               extra_env={"AZCONJUR_MEMORY_LIMIT": "16M"})
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"script ran out of memory", r.stderr)
        self.assertIn(b"16 MiB", r.stderr)

    def test_arg_and_varargs(self):
        r, path = self.run_script("print(arg[0], arg[1], arg[2], select('#', ...), ...)",
                                  "one", "two")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.decode(), f"{path}\tone\ttwo\t2\tone\ttwo\n")

    def test_script_from_stdin(self):
        r = azconjur("run", "-", env=self.env, input=b"io.write('from stdin')")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"from stdin")

    def test_require_finds_modules_beside_the_script(self):
        self.dir.write("helper.lua", "return { answer = 42 }")
        r, _ = self.run_script("print(require('helper').answer)")
        self.assertEqual(r.stdout, b"42\n")

    def test_log_levels_and_global_options_anywhere(self):
        script = "require('log').info('info line') require('log').debug('debug line')"
        r, _ = self.run_script(script)
        self.assertIn(b"info line", r.stderr)
        self.assertNotIn(b"debug line", r.stderr)

        path = self.dir.write("s2.lua", script)
        r = azconjur("run", "-v", path, env=self.env)
        self.assertIn(b"debug line", r.stderr)
        r = azconjur("-q", "run", path, env=self.env)
        self.assertEqual(r.stderr, b"")

    def test_options_after_script_belong_to_the_script(self):
        r, _ = self.run_script("print(...)", "-q", "-v")
        self.assertEqual(r.stdout, b"-q\t-v\n")

    def test_json_log_format(self):
        r, path = self.run_script("require('log').warn('careful %d', 3)")
        r = azconjur("--log-format", "json", "run", path, env=self.env)
        line = json.loads(r.stderr.decode().strip())
        self.assertEqual(line["level"], "warn")
        self.assertEqual(line["msg"], "careful 3")
        self.assertIn("time", line)

    def test_bad_log_format_is_usage_error(self):
        r = azconjur("--log-format", "xml", "version", env=self.env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--log-format", r.stderr)

    def test_core_dumps_disabled(self):
        r, _ = self.run_script(
            "for l in io.lines('/proc/self/limits') do "
            "if l:find('Max core file size') then print(l) end end")
        self.assertRegex(r.stdout, rb"Max core file size\s+0\s+0")

    def test_os_exit_code(self):
        r, _ = self.run_script("os.exit(7)")
        self.assertEqual(r.returncode, 7)


if __name__ == "__main__":
    unittest.main()
