"""E-mail through Amazon SES (alert targets of method EMAIL, and e-mail addresses an alert
names directly). Locally, moto's SES answers (make run serves it from the embedded moto,
where the sent mail can be read: docs/notifications.md).

The client is made on first use from the process's botocore session (store/aws.py).
SES's refusals (an unverified sender, a bad address) leave as MailRefused: permanent;
throttling and outages as Unavailable (store/failures.py): worth a retry.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.errors import OpsplaneError
from chalicelib.store import aws
from chalicelib.store.failures import guarded

_client = aws.Client("ses")


class MailRefused(OpsplaneError):
    """SES refused the message (sender not verified, recipient rejected, message too big)."""


def bind(*, endpoint: str | None, region: str) -> None:
    """Point SES at an endpoint and region (and forget the client)."""
    _client.bind(endpoint=endpoint, region=region)


@guarded
def send(sender: str, to: Sequence[str], subject: str, body: str, *, html: bool) -> str:
    """Send one message to every address; the SES message id."""
    from botocore.exceptions import ClientError

    content = {"Html" if html else "Text": {"Data": body, "Charset": "UTF-8"}}
    try:
        answer = _client().send_email(
            Source=sender,
            Destination={"ToAddresses": list(to)},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": content},
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue"):
            raise MailRefused(f"SES refused the message: {code}", code=code) from exc
        raise
    return str(answer["MessageId"])


@guarded
def verify_sender(address: str) -> None:
    """Verify a sender identity (local runs and tests, where moto's SES wants one)."""
    _client().verify_email_identity(EmailAddress=address)
