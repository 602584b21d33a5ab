"""Runs a real nginx from Debian's package with one of the configs shipped
in deploy/nginx, rewritten only where a test must differ: the ports it
listens on and proxies to, and the paths of its pid, logs and temp files
(all in a temp dir). Everything else is the file operators use."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "nginx")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self, conf_name, upstreams):
        """upstreams maps the port a shipped config names (19002, ...) to
        the port the test's qgate listens on."""
        self.dir = tempfile.mkdtemp(prefix="qgate-nginx-")
        self.port = free_port()
        with open(os.path.join(DEPLOY, conf_name)) as f:
            text = f.read()
        text = re.sub(r"listen 80;", "listen 127.0.0.1:%d;" % self.port, text)
        for shipped, actual in upstreams.items():
            text = text.replace("127.0.0.1:%d" % shipped, "127.0.0.1:%d" % actual)
        with open(os.path.join(self.dir, "qgate.conf"), "w") as f:
            f.write(text)
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = """%sdaemon off;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log info;
events { worker_connections 1024; }
http {
    access_log %s/access.log;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
    include %s/qgate.conf;
}
""" % ((user,) + (self.dir,) * 9)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(main)
        self.proc = None

    def start(self):
        check = subprocess.run([NGINX, "-t", "-p", self.dir, "-c", self.conf],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr)
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start:\n" + self.error_log())

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
