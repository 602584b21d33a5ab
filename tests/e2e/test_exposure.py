"""What qgate tells an operator who exposes it: a port others can reach with
nobody asked for a token, a secret on the command line (which every user of
the machine sees in ps, so qgate overwrites it once read)."""

import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, SLOW, Qgate, auth_file, main

WARNING = "reachable from other machines and --auth-file is not set"


class Exposure(unittest.TestCase):
    def test_loopback_is_quiet(self):
        for extra in ((), ("--auth-file", auth_file({"a": "t"}))):
            q = Qgate(extra).start()
            try:
                self.assertNotIn(WARNING, q.log())
                self.assertEqual(q.stop(), 0)
            finally:
                q.cleanup()

    def run_listen(self, listen, *extra):
        """Starts qgate on an address of no interface here: the bind fails,
        so nothing listens, but the start-up checks have run."""
        d = tempfile.mkdtemp(prefix="qgate-expose-")
        try:
            p = subprocess.run([BIN, "--listen", listen, "--data", d] + list(extra),
                               capture_output=True, text=True, timeout=60 * SLOW)
            self.assertNotEqual(p.returncode, 0, p.stderr)  # the bind failed
            return p.stderr
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_a_reachable_port_without_auth_is_warned_about(self):
        err = self.run_listen("192.0.2.1:0")
        self.assertIn("WARNING: --listen 192.0.2.1:0 is " + WARNING, err)
        err = self.run_listen("192.0.2.1:0", "--auth-file", auth_file({"a": "t"}))
        self.assertNotIn(WARNING, err)

    def test_a_secret_on_the_command_line_leaves_ps(self):
        secret = "cmdline-secret-4711"
        q = Qgate(("--callback-secret", secret, "--callback-allow", "127.0.0.1:*")).start()
        try:
            with open("/proc/%d/cmdline" % q.proc.pid, "rb") as f:
                cmdline = f.read()
            self.assertNotIn(secret.encode(), cmdline)
            self.assertIn(b"--callback-secret", cmdline)
            self.assertIn("use --callback-secret-file", q.log())
            self.assertEqual(q.stop(), 0)
        finally:
            q.cleanup()


if __name__ == "__main__":
    main()
