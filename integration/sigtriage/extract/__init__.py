"""File bytes -> facts. The only package that imports pefile, signify and asn1crypto."""

from sigtriage.extract import oscrypto_compat

oscrypto_compat.install()
