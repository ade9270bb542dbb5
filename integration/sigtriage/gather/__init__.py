"""Evidence from outside the binary (revocation; threat intel and prevalence later).

Facts only: what a CRL or OCSP responder said, or why it could not say. Judging what an unknown answer means
under a policy happens in assessment. Every network call goes through sigtriage.net.
"""
