"""Validates an ID token the way an authlib relying party does.

Usage: authlib-check.py ISSUER CLIENT_ID NONCE ACCESS_TOKEN < id_token

Finds the JWKS through the issuer's OpenID Connect discovery document,
checks the signature (RS256 only) and the claims with authlib's
CodeIDToken (iss, aud, exp, iat, nonce, at_hash), and prints the claims
as JSON. Exits 1 with the reason on stderr when the token is refused.
"""

import json
import sys
import urllib.request

from authlib.jose import JsonWebToken
from authlib.jose.errors import JoseError
from authlib.oidc.core import CodeIDToken


def fetch_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def main():
    issuer, client_id, nonce, access_token = sys.argv[1:5]
    id_token = sys.stdin.read().strip()
    discovery = fetch_json(issuer + "/.well-known/openid-configuration")
    if discovery["issuer"] != issuer:
        raise SystemExit("the discovery document names another issuer: " + discovery["issuer"])
    jwks = fetch_json(discovery["jwks_uri"])
    claims = JsonWebToken(["RS256"]).decode(
        id_token,
        jwks,
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "nonce": {"essential": True},
            "at_hash": {"essential": True},
        },
        claims_params={"nonce": nonce, "access_token": access_token},
    )
    claims.validate()
    print(json.dumps(dict(claims)))


if __name__ == "__main__":
    try:
        main()
    except JoseError as err:
        print("authlib refused the ID token: " + str(err), file=sys.stderr)
        sys.exit(1)
