"""Debian's nginx running the shipped site, deploy/nginx/payments.conf, on free loopback ports in front
of a real gunicorn, with its configuration, certificate, temporary files and logs in a directory of
the test's."""

import datetime
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config.devstack.embedded import free_port
from config.devstack.stack import spawn, stop
from tests.waiting import wait_for

NGINX = os.environ.get("NGINX_PATH") or shutil.which("nginx") or "/usr/sbin/nginx"
SITE = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "payments.conf"


def nginx_available() -> bool:
    return Path(NGINX).exists()


def render_site(*, web_port: int, http_port: int, https_port: int, certificate: Path, key: Path) -> str:
    """The shipped site with this test's addresses in place of the operator's; each value it replaces
    must be in the file exactly once, so the site tested is the site shipped."""
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{web_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/ssl/certs/payments.example.com.pem": str(certificate),
        "/etc/ssl/private/payments.example.com.key": str(key),
    }
    site = SITE.read_text()
    for shipped, tested in replacements.items():
        assert site.count(shipped) == 1, f"{SITE} should hold {shipped!r} once"
        site = site.replace(shipped, tested)
    return site


def main_configuration(directory: Path) -> str:
    """What /etc/nginx/nginx.conf gives the site, with every file under `directory`."""
    temp_paths = "\n".join(f"    {kind}_temp_path {directory / kind};" for kind in
                           ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, nginx's workers would switch to `nobody`, who may not write to this test's directory.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""{user}
daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp_paths}
    include {directory / "payments.conf"};
}}
"""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    certificate_path, key_path = directory / "site.pem", directory / "site.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_path, key_path


def run_nginx(directory: Path, web_port: int) -> tuple[subprocess.Popen, str]:
    """nginx serving the site on free loopback ports in front of gunicorn on `web_port`; the HTTPS
    base URL. The caller stops it."""
    certificate, key = self_signed_certificate(directory)
    https_port = free_port()
    site = render_site(web_port=web_port, http_port=free_port(), https_port=https_port, certificate=certificate, key=key)
    (directory / "payments.conf").write_text(site)
    (directory / "nginx.conf").write_text(main_configuration(directory))
    server = spawn([NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", str(directory / "error.log")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{https_port}"
    if not wait_for(lambda: server.poll() is None and _serves(f"{base}/healthz"), timeout=30):
        stop(server, "nginx")
        raise RuntimeError(f"nginx did not serve the site:\n{(directory / 'error.log').read_text()[-3000:]}")
    return server, base


def _serves(url: str) -> bool:
    try:
        return httpx.get(url, verify=False, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def client_from(source_address: str, base: str) -> httpx.Client:
    """An HTTPS client of nginx whose connections leave from `source_address` (any of 127.0.0.0/8
    reaches nginx on 127.0.0.1), so nginx sees a client address of the test's choosing."""
    transport = httpx.HTTPTransport(verify=False, local_address=source_address)
    return httpx.Client(base_url=base, transport=transport, timeout=30)
