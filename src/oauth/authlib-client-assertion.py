"""Asks for a client_credentials token the way an authlib client does.

Usage: authlib-client-assertion.py METHOD TOKEN_ENDPOINT CLIENT_ID < key

METHOD is private_key_jwt (the key is a PEM private key) or
client_secret_jwt (the key is the client secret). authlib's RFC 7523
client authentication (PrivateKeyJWT, ClientSecretJWT) signs the
assertion and adds it to the request body; the request is posted as it
is, and the status and JSON answer are printed. authlib's assertions live
an hour unless told; Gatehouse takes at most five minutes, so exp is set
as an integrator would set it.
"""

import json
import sys
import time
import urllib.error
import urllib.request

from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT


class Credentials:
    def __init__(self, client_id, client_secret):
        self.client_id = client_id
        self.client_secret = client_secret


def main():
    method, token_endpoint, client_id = sys.argv[1:4]
    key = sys.stdin.read()
    claims = {"exp": int(time.time()) + 300}
    auth = PrivateKeyJWT(token_endpoint, claims=claims) if method == "private_key_jwt" else ClientSecretJWT(token_endpoint, claims=claims)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _, headers, body = auth(Credentials(client_id, key), "POST", token_endpoint, headers, "grant_type=client_credentials&scope=read")
    request = urllib.request.Request(token_endpoint, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, answer = response.status, json.load(response)
    except urllib.error.HTTPError as error:
        status, answer = error.code, json.load(error)
    print(json.dumps({"status": status, "body": answer}))


main()
