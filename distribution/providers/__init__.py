"""The providers a program sends cards through, one folder each (its settings, consent field,
adapter, error classification, webhook); `registry` lists them."""
