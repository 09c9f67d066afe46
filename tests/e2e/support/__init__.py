"""Support code for the iotspot-helper end-to-end tests.

Modules:
  pki          -- throw-away CA and server certificates made with the openssl CLI
  token_server -- a TLS stand-in for Amazon Cognito's /oauth2/token endpoint
                  plus a protected API endpoint (/v1/ping)
  harness      -- HelperTestCase, the unittest base class for tests of the
                  built iotspot-helper binary

Standard library only; everything listens on 127.0.0.1.
"""
