"""The billing issue log: disputes, discrepancies, missing data and rate questions, tracked to an end."""
