"""billpact: contract & project billing — contracts in, correct invoices out, every number explained."""

__version__ = "0.1.0"
