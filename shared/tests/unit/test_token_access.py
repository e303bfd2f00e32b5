"""A revoked token is refused (401 token_revoked) by the shared verifier; a token issued after the change works,
also within the same second (iat carries microseconds)."""

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baocao_shared.auth import AUDIENCE, ISSUER, JwtVerifier
from baocao_shared.http.errors import status_of
from baocao_shared.token_access import Access, TokenAccess, TokenRevoked

KEY = Ed25519PrivateKey.generate()
CHANGED = datetime.fromtimestamp(int(time.time()) - 10, UTC) + timedelta(microseconds=700_000)  # x.7 s


def token(sub: str, iat: float) -> str:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "role": "national_operator", "iat": iat, "exp": iat + 600}
    return jwt.encode(claims, KEY, algorithm="EdDSA")


@pytest.fixture
def verifier() -> JwtVerifier:
    access = TokenAccess([("changed", Access(True, CHANGED)), ("off", Access(False, CHANGED))])
    return JwtVerifier.from_public_key(KEY.public_key()).checking(access)


async def test_a_token_issued_before_the_change_is_refused_one_issued_after_works_even_in_the_same_second(verifier):
    before, after = CHANGED.timestamp() - 0.4, CHANGED.timestamp() + 0.2  # both in the second of the change
    assert int(before) == int(after) == int(CHANGED.timestamp())
    with pytest.raises(TokenRevoked) as refused:
        await verifier.verify(token("changed", before))
    assert status_of(refused.value) == 401 and refused.value.code == "token_revoked"
    assert (await verifier.verify(token("changed", after))).subject == "changed"
    assert (await verifier.verify(token("someone-else", before))).subject == "someone-else"  # no change: untouched


async def test_every_token_of_an_inactive_account_is_refused(verifier):
    with pytest.raises(TokenRevoked, match="deactivated"):
        await verifier.verify(token("off", CHANGED.timestamp() + 5))


async def test_the_verifier_it_was_made_from_is_left_as_it_was():
    plain = JwtVerifier.from_public_key(KEY.public_key())
    plain.checking(TokenAccess([("off", Access(False, CHANGED))]))
    assert (await plain.verify(token("off", CHANGED.timestamp()))).subject == "off"
