"""Webhook delivery of the generated app's notifications (expenses example, webhooks.py): the sender.

The SSRF guard over many spellings of private and loopback addresses (refused without an
allow-list entry, accepted with one), non-HTTP schemes and bad settings (refused at start),
names that resolve to refused addresses at delivery time (DNS rebinding), the address pinned
under the name's Host header and TLS certificate, redirects, slow and huge answers. The
dispatcher end to end is in test_generated_webhooks_dispatch.py.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import os
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.generated_app import import_package_module
from tests.test_generated_auth import render_app
from tests.webhook_receiver import SECRET, Receiver, fake_dns, receiver  # noqa: F401


@pytest.fixture(scope="module")
def app_out(tmp_path_factory) -> Path:
    return render_app("expenses", tmp_path_factory.mktemp("webhooks"))


@pytest.fixture
def hooks(app_out):
    """The generated webhooks module (with its settings module as .settings_module)."""
    module = import_package_module(app_out, "expenses.webhooks")
    module.settings_module = import_package_module(app_out, "expenses.settings", fresh=False)
    return module


def config(hooks: Any, production: bool = False, **env: str) -> Any:
    environ = {"APP_WEBHOOK_SECRET": SECRET, **env}
    settings = hooks.settings_module.load_settings({"APP_ENV": "production" if production else "development"})
    return hooks.load_webhook_config(settings, environ)


def delivery(hooks: Any, attempt: int = 1) -> Any:
    return hooks.Delivery(str(uuid.uuid4()), str(uuid.uuid4()), "decided", "ExpenseReport", "r1",
                          "Your report Oslo was approved",
                          datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc), attempt)


def send(hooks: Any, cfg: Any, item: Any) -> None:
    async def run() -> None:
        async with hooks.WebhookSender(cfg) as sender:
            await sender(item)

    asyncio.run(run())


# --- configuration --------------------------------------------------------------------------------

REFUSED = [  # (spelling in a URL, the allow-list entry that lets it through)
    ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"),
    ("017700000001", "127.0.0.0/8"), ("[::1]", "::1"), ("[::ffff:127.0.0.1]", "127.0.0.1"),
    ("[::ffff:7f00:1]", "::ffff:7f00:1"), ("169.254.169.254", "169.254.0.0/16"), ("10.1.2.3", "10.0.0.0/8"),
    ("172.16.0.9", "172.16.0.0/12"), ("192.168.1.1", "192.168.0.0/16"), ("100.64.0.1", "100.64.0.0/10"),
    ("[fc00::1]", "fc00::/7"), ("[fe80::1]", "fe80::/10"), ("0.0.0.0", "0.0.0.0"), ("localhost", "localhost"),
    ("api.localhost", "api.localhost"), ("224.0.0.1", "224.0.0.0/4"), ("[64:ff9b::a9fe:a9fe]", "64:ff9b::/96"),
    ("[2002:7f00:1::1]", "2002::/16"), ("[::7f00:1]", "::/96"), ("127.0.0.1.", "127.0.0.1"),
    ("0X7F.000.0.1", "127.0.0.1"), ("LocalHost.", "localhost"),
]


@pytest.mark.parametrize("host,allow", REFUSED)
def test_private_and_loopback_addresses_in_any_spelling_need_the_allow_list(hooks, host, allow):
    url = f"http://{host}:8080/in"
    with pytest.raises(hooks.SenderConfigError, match="APP_WEBHOOK_ALLOW"):
        config(hooks, APP_WEBHOOK_URLS=url)
    with pytest.raises(hooks.SenderConfigError):
        config(hooks, APP_WEBHOOK_URLS=url, APP_WEBHOOK_ALLOW="192.0.2.1,other.example")  # unrelated entries
    [target] = config(hooks, APP_WEBHOOK_URLS=url, APP_WEBHOOK_ALLOW=allow).targets
    assert target.port == 8080


@pytest.mark.parametrize("host", ["8.8.8.8", "[2606:4700::1111]", "[64:ff9b::808:808]", "hooks.example.com"])
def test_public_addresses_and_names_need_no_allow_list(hooks, host):
    [target] = config(hooks, APP_WEBHOOK_URLS=f"https://{host}/in").targets
    assert (target.port, str(target)) == (443, f"https://{host}/in")


@pytest.mark.parametrize("url,error", [
    ("file:///etc/passwd", "only http and https"), ("ftp://example.com/x", "only http and https"),
    ("gopher://example.com:70/_x", "only http and https"), ("hooks.example.com/in", "only http and https"),
    ("https://user:pw@hooks.example.com/", "credentials"), ("http:///in", "host"),
    ("http://example.com:99999/", "out of range"), ("http://exa mple.com/", "not a valid host name"),
    ("http://[fe80::1%25eth0]/", "not a valid host name"),
])
def test_bad_urls_stop_the_dispatcher(hooks, url, error):
    with pytest.raises(hooks.SenderConfigError, match=error):
        config(hooks, APP_WEBHOOK_URLS=url, APP_WEBHOOK_ALLOW="fe80::/10")


def test_settings_are_checked_at_start(hooks):
    url = "https://hooks.example.com/in"
    assert config(hooks) is None  # no URLs: not webhooks
    with pytest.raises(hooks.SenderConfigError, match="APP_WEBHOOK_SECRET is not set"):
        config(hooks, APP_WEBHOOK_URLS=url, APP_WEBHOOK_SECRET="")
    with pytest.raises(hooks.SenderConfigError, match="shorter than 32 bytes"):
        config(hooks, production=True, APP_WEBHOOK_URLS=url, APP_WEBHOOK_SECRET="short")
    assert config(hooks, APP_WEBHOOK_URLS=url, APP_WEBHOOK_SECRET="short").secret == b"short"  # development
    key = os.urandom(24)
    whsec = config(hooks, production=True, APP_WEBHOOK_URLS=url,
                   APP_WEBHOOK_SECRET="whsec_" + base64.b64encode(key).decode())
    assert whsec.secret == key and SECRET not in repr(whsec) and "short" not in repr(whsec)
    for name, value in (("APP_WEBHOOK_TIMEOUT_SECONDS", "soon"), ("APP_WEBHOOK_TIMEOUT_SECONDS", "0"),
                        ("APP_WEBHOOK_TIMEOUT_SECONDS", "600"), ("APP_WEBHOOK_MAX_RESPONSE_BYTES", "-1")):
        with pytest.raises(hooks.SenderConfigError, match=name):
            config(hooks, APP_WEBHOOK_URLS=url, **{name: value})
    with pytest.raises(hooks.SenderConfigError, match="APP_WEBHOOK_ALLOW"):
        config(hooks, APP_WEBHOOK_URLS=url, APP_WEBHOOK_ALLOW="*")
    defaults = config(hooks, APP_WEBHOOK_URLS=f"{url}, {url},http://hooks.example.com:8080/b")
    assert (len(defaults.targets), defaults.timeout, defaults.max_response_bytes) == (2, 5.0, 65536)
    notifications = sys.modules["expenses.notifications"]
    settings = hooks.settings_module.load_settings({})
    with pytest.raises(hooks.SenderConfigError, match="not both"):
        notifications.configured_sender(settings, {"APP_WEBHOOK_URLS": url, "APP_WEBHOOK_SECRET": SECRET,
                                                   "APP_NOTIFICATION_SENDER": "x.y:z"})
    assert isinstance(notifications.configured_sender(settings, {"APP_WEBHOOK_URLS": url,
                                                                 "APP_WEBHOOK_SECRET": SECRET}), hooks.WebhookSender)

    async def chosen(env: dict[str, str]) -> Any:
        async with notifications.configured_sender(settings, env) as sender:
            return sender

    assert asyncio.run(chosen({})) is notifications.log_sender  # the default
    custom = {"APP_NOTIFICATION_SENDER": "expenses.webhooks:payload"}  # any importable function
    assert asyncio.run(chosen(custom)) is hooks.payload
    with pytest.raises(hooks.SenderConfigError, match="package.module:function"):
        notifications.configured_sender(settings, {"APP_NOTIFICATION_SENDER": "nonsense"})


# --- delivery-time checks -------------------------------------------------------------------------

def test_a_name_is_resolved_at_every_delivery_and_its_address_pinned(hooks, receiver, monkeypatch):
    """DNS rebinding: the first answer is allowed, the second (the same name) is not."""
    port = receiver.server.server_address[1]
    asked = fake_dns(monkeypatch, hooks, ["127.0.0.1"], ["169.254.169.254"], ["8.8.8.8", "10.0.0.7"])
    cfg = config(hooks, APP_WEBHOOK_URLS=f"http://hooks.example.test:{port}/in", APP_WEBHOOK_ALLOW="127.0.0.1")
    send(hooks, cfg, delivery(hooks))
    # hooks.example.test does not exist: the request went to the checked address, with the name as Host.
    [request] = receiver.requests
    assert (request["path"], request["headers"]["host"]) == ("/in", f"hooks.example.test:{port}")
    with pytest.raises(hooks.WebhookFailed, match=r"169\.254\.169\.254 \(link-local\)"):
        send(hooks, cfg, delivery(hooks))
    with pytest.raises(hooks.WebhookFailed, match=r"10\.0\.0\.7 \(private\)"):  # any refused address refuses
        send(hooks, cfg, delivery(hooks))
    assert asked == ["hooks.example.test"] * 3 and len(receiver.requests) == 1


@pytest.mark.parametrize("host", ["localhost", "0x7f.1", "2130706433"])
def test_the_system_resolver_is_checked_too(hooks, host):
    """A target whose name the system resolves to loopback is refused when delivering."""
    cfg = config(hooks, APP_WEBHOOK_URLS="https://hooks.example.com/in")
    target = hooks.Target(hooks.httpx2.URL(f"http://{host}:9/"), host, 9, None)

    async def vet() -> None:
        async with hooks.WebhookSender(cfg) as sender:
            await sender.vet(target)

    with pytest.raises(hooks.WebhookRefused, match="loopback"):
        asyncio.run(vet())


@pytest.fixture
def tls_receiver(tmp_path):
    """A receiver speaking HTTPS with a certificate for hooks.example.test, and a context trusting it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Keel test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
            "-subj", "/CN=hooks.example.test")
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:hooks.example.test\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "leaf.pem", "-days", "2", "-extfile", "ext.cnf")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    r = Receiver(tls=server)
    yield r, ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    r.close()


def test_https_connects_to_the_checked_address_and_checks_the_certificate_of_the_name(hooks, tls_receiver,
                                                                                      monkeypatch):
    receiver, trust = tls_receiver
    port = receiver.server.server_address[1]
    fake_dns(monkeypatch, hooks, ["127.0.0.1"], ["127.0.0.1"])

    def deliver(name: str) -> None:
        cfg = config(hooks, APP_WEBHOOK_URLS=f"https://{name}:{port}/in", APP_WEBHOOK_ALLOW="127.0.0.1")

        async def run() -> None:
            async with hooks.WebhookSender(cfg, verify=trust) as sender:  # trusting the test CA
                await sender(delivery(hooks))

        asyncio.run(run())

    deliver("hooks.example.test")
    [request] = receiver.requests
    assert request["headers"]["host"] == f"hooks.example.test:{port}"
    # The certificate is for hooks.example.test: another name on the same address fails the TLS check.
    with pytest.raises(hooks.WebhookFailed, match="(?i)certificate"):
        deliver("other.example.test")
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed(hooks, receiver):
    receiver.answers = [{"status": 302, "headers": {"location": "http://169.254.169.254/latest/meta-data"}}]
    cfg = config(hooks, APP_WEBHOOK_URLS=receiver.url, APP_WEBHOOK_ALLOW="127.0.0.1")
    with pytest.raises(hooks.WebhookFailed, match="302 to 'http://169.254.169.254/.*not followed"):
        send(hooks, cfg, delivery(hooks))
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("answer", [{"delay": 3.0}, {"drip": 0.2, "size": 100}])
def test_a_slow_receiver_hits_the_timeout(hooks, receiver, answer):
    receiver.answers = [answer]
    cfg = config(hooks, APP_WEBHOOK_URLS=receiver.url, APP_WEBHOOK_ALLOW="127.0.0.1",
                 APP_WEBHOOK_TIMEOUT_SECONDS="1")
    started = time.monotonic()
    with pytest.raises(hooks.WebhookFailed, match="no answer within 1 s|Timeout"):
        send(hooks, cfg, delivery(hooks))
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("status", [200, 500])
def test_a_huge_answer_is_cut_at_the_cap(hooks, receiver, status):
    size = 512 * 1024 * 1024
    receiver.answers = [{"status": status, "size": size}]
    cfg = config(hooks, APP_WEBHOOK_URLS=receiver.url, APP_WEBHOOK_ALLOW="127.0.0.1",
                 APP_WEBHOOK_MAX_RESPONSE_BYTES="1000")
    started = time.monotonic()
    if status == 200:
        send(hooks, cfg, delivery(hooks))  # delivered: the rest of the answer is never read
    else:
        with pytest.raises(hooks.WebhookFailed, match=r"answered 500: y{200}$"):
            send(hooks, cfg, delivery(hooks))
    assert time.monotonic() - started < 5
    assert receiver.done.wait(10)  # the receiver sees the hang-up once the socket buffers are full
    assert receiver.sent < size // 8

