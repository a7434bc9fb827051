"""Small JWT helpers: base64url, RS256 signing keys, JWKS building and checking.

Written against `cryptography` only, so the emulators need no JWT library.
"""

import base64
import datetime
import hashlib
import json

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


class JwtError(Exception):
    """A token could not be decoded or verified; `reason` says which step failed."""


def b64url(data, pad=False):
    """URL-safe base64 text of `data`, unpadded as JWTs want unless `pad`."""
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if pad else text.rstrip("=")


def b64url_decode(text):
    """Decode URL-safe or standard base64, with or without padding."""
    if isinstance(text, str):
        text = text.encode("ascii")
    text = text.replace(b"+", b"-").replace(b"/", b"_")
    text += b"=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text)


def int_to_b64url(number):
    """Big-endian unsigned bytes of `number` in base64url, the JWK way."""
    length = max(1, (number.bit_length() + 7) // 8)
    return b64url(number.to_bytes(length, "big"))


def b64url_to_int(text):
    return int.from_bytes(b64url_decode(text), "big")


class SigningKey:
    """An RSA key with a self-signed certificate, used like Entra ID's token keys.

    `kid` and `x5t` are both the base64url SHA-1 thumbprint of the certificate,
    which is how v1 access tokens name their key.
    """

    def __init__(self, common_name="emulated token signing key"):
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert_der = self._self_signed_cert(common_name)
        self.kid = b64url(hashlib.sha1(self.cert_der).digest())

    def _self_signed_cert(self, common_name):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(self.private_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.DER)

    def sign(self, message):
        return self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def encode_jwt(self, claims, header=None):
        """A compact RS256 JWT; `header` entries override or (as None) remove defaults."""
        head = {"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        for name, value in (header or {}).items():
            if value is None:
                head.pop(name, None)
            else:
                head[name] = value
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (head, claims)
        )
        if head.get("alg") == "none":
            return signing_input + "."
        return signing_input + "." + b64url(self.sign(signing_input.encode("ascii")))

    def jwk(self):
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": int_to_b64url(numbers.n),
            "e": int_to_b64url(numbers.e),
            "x5c": [base64.b64encode(self.cert_der).decode("ascii")],
        }


def split_jwt(token):
    """Return (header, claims, signing_input, signature) or raise JwtError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("not three segments")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as err:
        raise JwtError("undecodable segment: %s" % err.__class__.__name__) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError("segments are not JSON objects")
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), signature


def verify_rs256(token, jwks, allowed_algorithms):
    """Check the signature of `token` against a JWKS document; return its claims.

    Mirrors what a JWT library does with a key set: the header's `alg` must be
    allowed (and be RS256, the only one we implement), and the key is chosen
    by `kid`.
    """
    header, claims, signing_input, signature = split_jwt(token)
    alg = header.get("alg")
    if alg not in allowed_algorithms or alg != "RS256":
        raise JwtError("algorithm not allowed: %r" % (alg,))
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kty") == "RSA"]
    if header.get("kid") is not None:
        keys = [k for k in keys if k.get("kid") == header["kid"]]
    if not keys:
        raise JwtError("no key with that kid")
    for key in keys:
        try:
            public = rsa.RSAPublicNumbers(b64url_to_int(key["e"]), b64url_to_int(key["n"]))
            public.public_key().verify(signature, signing_input, padding.PKCS1v15(),
                                       hashes.SHA256())
            return claims
        except (InvalidSignature, KeyError, ValueError):
            continue
    raise JwtError("signature does not verify")
