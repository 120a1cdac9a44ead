"""One pricing method per term kind: the items of one billing date -> invoice lines (spec §4)."""
