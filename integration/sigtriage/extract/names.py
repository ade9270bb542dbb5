"""Distinguished names as analysts read them: 'CN=…, O=…, C=…', most specific first."""

from __future__ import annotations

from asn1crypto import x509 as asn1x509

from sigtriage.model import Name

_NAME_KEYS = {
    "common_name": "CN",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "country_name": "C",
    "street_address": "STREET",
    "postal_code": "postalCode",
    "email_address": "E",
    "serial_number": "serialNumber",
    "domain_component": "DC",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+").replace('"', '\\"')


def name_of(name: asn1x509.Name) -> Name:
    """DN in the order of the certificate, most specific first (CN=…, O=…, C=…), as Windows and signify show it."""
    parts: list[str] = []
    cn = o = None
    for rdn in reversed(list(name.chosen)):
        for attr in rdn:
            key = attr["type"].native
            value = attr["value"].native
            text = value if isinstance(value, str) else str(value)
            label = _NAME_KEYS.get(key, attr["type"].dotted if key == attr["type"].dotted else key)
            parts.append(f"{label}={_escape(text)}")
            if key == "common_name" and cn is None:
                cn = text
            elif key == "organization_name" and o is None:
                o = text
    return Name(dn=", ".join(parts), cn=cn, o=o)
