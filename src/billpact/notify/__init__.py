"""Mail through an outbox: a message is written in the same transaction as the change it
announces (an invoice's move to `sent`), and a worker delivers it over SMTP afterwards, so an
SMTP outage delays mail but never loses it, and never rolls back the change."""
