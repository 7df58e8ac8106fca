"""Referrals between agencies: create, answer, close, read, and the expiry sweep.

`create.create_referral`, `lifecycle.act` (accept, reject, complete, cancel),
`lifecycle.expire_due` (the worker's periodic sweep), `read.get_referral`,
`read.list_referrals`, `read.list_disclosures`; `access.visible_referrals` is the
access-filtered statement every referral query starts from.
"""
