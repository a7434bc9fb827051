"""Test CA and server certificates for the Conjur emulator's HTTPS listeners.

Everything is generated at start-up into the state directory: a CA, a valid
server certificate for 127.0.0.1, ::1 and localhost, an expired one, and one
whose only name is wrong, so TLS failures can be tested against one instance.
"""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_NAMES = ["localhost"]
LOOPBACK_IPS = ["127.0.0.1", "::1"]


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azconjur emulators"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _write_private(path, data):
    """Write key material readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TestCA:
    """A throw-away certificate authority that signs the emulator's server certs."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("azconjur emulator test CA"))
            .issuer_name(_name("azconjur emulator test CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, common_name, dns_names, ip_names, not_before, not_after):
        """Return (cert_pem, key_pem) for a TLS server certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        alt_names = [x509.DNSName(n) for n in dns_names]
        alt_names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_names]
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def server_context(cert_path, key_path):
    """A server-side TLS context that refuses anything older than TLS 1.2."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context


def prepare(state_dir):
    """Create the CA and the three server certificates; return paths and contexts.

    Returns a dict with `ca_file` and, for each variant (`valid`, `expired`,
    `wrong_name`), an `ssl.SSLContext`.
    """
    tls_dir = os.path.join(state_dir, "tls")
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    ca = TestCA()
    ca_file = os.path.join(tls_dir, "ca.pem")
    with open(ca_file, "wb") as handle:
        handle.write(ca.pem())
    now = _now()
    variants = {
        "valid": ("127.0.0.1", LOOPBACK_NAMES, LOOPBACK_IPS,
                  now - datetime.timedelta(days=1), now + datetime.timedelta(days=7)),
        "expired": ("127.0.0.1", LOOPBACK_NAMES, LOOPBACK_IPS,
                    now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)),
        "wrong_name": ("wrong-name.invalid", ["wrong-name.invalid"], [],
                       now - datetime.timedelta(days=1), now + datetime.timedelta(days=7)),
    }
    contexts = {}
    for variant, (common_name, dns, ips, start, end) in variants.items():
        cert_pem, key_pem = ca.issue(common_name, dns, ips, start, end)
        cert_path = os.path.join(tls_dir, "server-%s.pem" % variant)
        key_path = os.path.join(tls_dir, "server-%s.key" % variant)
        with open(cert_path, "wb") as handle:
            handle.write(cert_pem)
        _write_private(key_path, key_pem)
        contexts[variant] = server_context(cert_path, key_path)
    return {"ca_file": ca_file, "contexts": contexts}
