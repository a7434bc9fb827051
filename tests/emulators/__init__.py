"""Local emulators of the Azure managed-identity endpoints and of Conjur.

They back the demo and the integration tests; see README.md in this folder.
"""
