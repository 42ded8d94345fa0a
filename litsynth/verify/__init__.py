"""Claim verification: independent evidence retrieval, grounding, verifiers and their evaluation.

``evidence`` finds passages for a claim in *other* papers and checks the claim against its own
source; ``verifiers`` labels (claim, evidence) pairs; ``train`` fits the trained verifier;
``scifact_eval`` scores a verifier on SciFact with open retrieval.
"""
