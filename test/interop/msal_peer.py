"""MSAL Python as a peer of the interop suite (test/interop/peers.ts drives it).

Reads one JSON command per line on stdin, answers one JSON line on stdout. Entra's host names are
mapped onto the dev OP's https front on loopback (the http_client below); the front's self-signed
CA is trusted through REQUESTS_CA_BUNDLE. Answers carry a hash of the access token, never a token.
"""
import hashlib
import json
import os
import sys
from urllib.parse import urlsplit, urlunsplit

import msal
import requests

FRONT_PORT = int(os.environ["INTEROP_FRONT_PORT"])
MAPPED = set(json.loads(os.environ["INTEROP_MAPPED_HOSTS"]))


class MappedSession(requests.Session):
    """Sends requests for Entra's hosts to the front, with the original Host header."""

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname in MAPPED:
            headers = dict(kwargs.pop("headers", None) or {})
            headers["Host"] = parts.netloc
            url = urlunsplit(("https", "127.0.0.1:%d" % FRONT_PORT, parts.path, parts.query, parts.fragment))
            kwargs["headers"] = headers
        else:
            raise RuntimeError("MSAL Python asked for an unmapped host: %s" % parts.hostname)
        return super().request(method, url, *args, **kwargs)


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None


def outcome(result):
    if result is None:
        return {"ok": False, "error": "no_cache_entry"}
    if "error" in result:
        return {"ok": False, "error": result.get("error"), "error_description": (result.get("error_description") or "")[:300]}
    return {"ok": True, "token": digest(result.get("access_token")), "scope": result.get("scope")}


cache = msal.SerializableTokenCache()
app = None


def account_of(username):
    accounts = app.get_accounts(username=username)
    return accounts[0] if accounts else None


def handle(command):
    global app
    name = command["cmd"]
    if name == "init":
        app = msal.ConfidentialClientApplication(
            command["client_id"], client_credential=command["secret"], authority=command["authority"],
            token_cache=cache, http_client=MappedSession())
        return {"ok": True}
    if name == "load":
        cache.deserialize(command["cache"])
        return {"ok": True}
    if name == "dump":
        return {"ok": True, "cache": cache.serialize()}
    if name == "initiate":
        flow = app.initiate_auth_code_flow(command["scopes"], redirect_uri=command["redirect_uri"])
        return {"ok": True, "flow": flow}
    if name == "redeem":
        return outcome(app.acquire_token_by_auth_code_flow(command["flow"], command["params"], scopes=command["scopes"]))
    if name == "accounts":
        return {"ok": True, "accounts": [{"home_account_id": a["home_account_id"], "environment": a["environment"], "username": a["username"]} for a in app.get_accounts()]}
    if name == "silent":
        account = account_of(command.get("username")) if command.get("username") else None
        if command.get("username") and account is None:
            return {"ok": False, "error": "no_account"}
        return outcome(app.acquire_token_silent_with_error(command["scopes"], account, force_refresh=command.get("force_refresh", False)))
    if name == "client_credentials":
        return outcome(app.acquire_token_for_client(command["scopes"]))
    if name == "obo":
        return outcome(app.acquire_token_on_behalf_of(command["assertion"], command["scopes"]))
    raise ValueError("unknown command %s" % name)


for line in sys.stdin:
    try:
        answer = handle(json.loads(line))
    except Exception as err:  # reported to the test, which fails with it
        answer = {"ok": False, "error": "exception", "error_description": "%s: %s" % (type(err).__name__, str(err)[:500])}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
